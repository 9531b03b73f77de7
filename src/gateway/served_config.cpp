#include "gateway/served_config.hpp"

#include "apigw/gateway/error.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <system_error>

namespace apigw::gateway::detail {

namespace {

state_ptr make_state(gateway_config c) {
  auto st = std::make_shared<served_state>();
  st->config = std::move(c);
  for (const auto& api : st->config.apis) {
    for (const auto& [name, stage] : api.stages) st->stages.emplace(name, std::make_pair(&api, &stage));
  }
  return st;
}

}  // namespace

served_config::served_config(gateway_config initial, std::filesystem::path state_file, const logging::logger& log)
    : log_(log),
      state_file_(std::move(state_file)),
      control_(initial, system_clock_source::instance().now()),
      state_(make_state(std::move(initial))) {}

state_ptr served_config::current() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::optional<api_view> served_config::stage(std::string_view name) const {
  auto st = current();
  auto it = st->stages.find(std::string(name));
  if (it == st->stages.end()) return std::nullopt;
  return api_view{st, it->second.first, it->second.second};
}

api_view served_config::latest(const api_view& at_connect) const {
  auto st = current();
  if (auto it = st->stages.find(at_connect.stage->name);
      it != st->stages.end() && it->second.first->id == at_connect.api->id) {
    return api_view{st, it->second.first, it->second.second};
  }
  return at_connect;
}

void served_config::serve(gateway_config c) {
  auto next = make_state(std::move(c));
  std::lock_guard lock(mu_);
  state_ = std::move(next);
}

net::http_response served_config::control_plane_call(std::string_view method, std::string_view target,
                                                     std::string_view body, clock::time_point now) {
  auto a = control_.handle(method, target, body, now);
  if (a.changed) serve(control_.build());
  if (method != "GET" && a.response.status < 300) save_state();
  return std::move(a.response);
}

// save_state: rewrites the state file (a temporary file renamed over it, so a crash leaves the old
// or the new one). Failures are logged; the change stays in memory.
void served_config::save_state() {
  if (state_file_.empty()) return;
  std::lock_guard lock(save_mu_);
  const auto tmp = std::filesystem::path(state_file_.string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << control_.save();
    out.flush();
    if (!out) {
      log_.error("cannot write the state file", "file", tmp.string());
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, state_file_, ec);
  if (ec) log_.error("cannot replace the state file", "file", state_file_.string(), "error", ec.message());
}

result<void> served_config::load_state() {
  if (state_file_.empty()) return ok();
  std::error_code ec;
  if (!std::filesystem::exists(state_file_, ec)) {
    save_state();
    log_.info("state file created", "file", state_file_.string());
    return ok();
  }
  std::ifstream in(state_file_, std::ios::binary);
  if (!in) return failure{error::invalid_config, fmt::format("state file {} cannot be read", state_file_.string())};
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  if (auto r = control_.load(text); !r) {
    return failure{error::invalid_config,
                   fmt::format("state file {} is not usable: {} (it was left unchanged; fix it or move it away)",
                               state_file_.string(), r.error().message)};
  }
  serve(control_.build());
  log_.info("state file loaded", "file", state_file_.string(), "apis", current()->config.apis.size());
  return ok();
}

}  // namespace apigw::gateway::detail
