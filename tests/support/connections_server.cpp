// The fake @connections server: records, counts, and answers as scripted.
#include "support/connections_server.hpp"

#include "apigw/core/text.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace apigw::testing {

namespace asio = boost::asio;

namespace {

net::http_response aws_error(unsigned status, std::string_view type, std::string_view body) {
  net::http_response r;
  r.status = status;
  r.headers.push_back({"x-amzn-RequestId", "00000000-0000-4000-8000-000000000000"});
  r.headers.push_back({"x-amzn-ErrorType", std::string(type)});
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::string(body);
  return r;
}

}  // namespace

struct connections_server::state {
  std::mutex mu;
  std::map<std::string, std::vector<reply>, std::less<>> scripts;
  std::map<std::string, std::size_t, std::less<>> served;  // per id
  reply default_reply;
  bool record_bodies = true;
  std::vector<recorded_request> records;
  std::size_t in_flight = 0;
  std::size_t max_in_flight = 0;

  reply next_reply(const std::string& id) {
    const std::size_t n = served[id]++;
    auto it = scripts.find(id);
    if (it == scripts.end() || it->second.empty()) return default_reply;
    return it->second[std::min(n, it->second.size() - 1)];
  }

  asio::awaitable<std::optional<net::http_response>> handle(net::incoming_request req) {
    recorded_request rec;
    rec.method = req.method;
    rec.target = req.target;
    std::string_view target = req.target;
    std::size_t at = target.find("/@connections/");
    std::size_t marker = 14;
    if (at == std::string_view::npos) {
      at = target.find("/%40connections/");
      marker = 16;
    }
    const bool matched = at != std::string_view::npos;
    if (matched) {
      rec.base_path = std::string(target.substr(0, at));
      rec.connection_id = percent_decode_lenient(target.substr(at + marker));
    }
    rec.headers = req.headers;
    const std::size_t body_size = req.body.size();
    reply r;
    {
      std::lock_guard lock(mu);
      if (record_bodies) rec.body = std::move(req.body);
      const std::string id = rec.connection_id;
      records.push_back(std::move(rec));
      r = next_reply(id);
      max_in_flight = std::max(max_in_flight, ++in_flight);
    }
    if (r.delay.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, r.delay);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    {
      std::lock_guard lock(mu);
      --in_flight;
    }
    if (r.drop) co_return std::nullopt;
    if (!matched) co_return aws_error(403, "ForbiddenException", R"({"message":"Forbidden"})");
    if (body_size > 131072) r.status = 413;
    switch (r.status) {
      case 200:
        break;
      case 403:
        co_return aws_error(403, "ForbiddenException", R"({"message":"Forbidden"})");
      case 410:
        co_return aws_error(410, "GoneException", "");
      case 413:
        co_return aws_error(413, "PayloadTooLargeException", R"({"message":"Message too long"})");
      case 429:
        co_return aws_error(429, "LimitExceededException", R"({"message":"Rate exceeded"})");
      case 500:
        co_return aws_error(500, "InternalServerErrorException", R"({"message":"Internal server error"})");
      default:
        co_return net::http_response{r.status, {{"x-amzn-RequestId", "1"}}, ""};
    }
    net::http_response ok;
    ok.headers.push_back({"x-amzn-RequestId", "00000000-0000-4000-8000-000000000001"});
    if (req.method == "GET") {
      ok.headers.push_back({"Content-Type", "application/json"});
      ok.body =
          R"json({"connectedAt":"2025-03-05T10:00:00.120Z","identity":{"sourceIp":"203.0.113.7","userAgent":"Mozilla/5.0 (test)"},"lastActiveAt":"2025-03-05T10:00:05.456Z"})json";
    } else if (req.method == "DELETE") {
      ok.status = 204;
    }
    co_return ok;
  }
};

connections_server::connections_server(std::size_t threads) : state_(std::make_shared<state>()) {
  auto st = state_;
  net::http_server_options opts;
  opts.max_body_bytes = 1024 * 1024;
  server_ = std::make_unique<net::http_server>(
      io_.get_executor(), [st](net::incoming_request req) { return st->handle(std::move(req)); }, opts);
  if (auto r = server_->start(); !r) throw std::runtime_error(r.error().message);
  for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i) threads_.emplace_back([this] { io_.run(); });
}

connections_server::~connections_server() {
  server_->stop();
  io_.stop();
  for (auto& t : threads_) t.join();
}

std::uint16_t connections_server::port() const {
  return server_->port();
}

std::string connections_server::endpoint(std::string_view base_path) const {
  return fmt::format("http://127.0.0.1:{}{}", port(), base_path);
}

void connections_server::script(const std::string& connection_id, std::vector<reply> replies) {
  std::lock_guard lock(state_->mu);
  state_->scripts[connection_id] = std::move(replies);
}

void connections_server::set_default(reply r) {
  std::lock_guard lock(state_->mu);
  state_->default_reply = r;
}

void connections_server::set_record_bodies(bool on) {
  std::lock_guard lock(state_->mu);
  state_->record_bodies = on;
}

std::vector<recorded_request> connections_server::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->records;
}

std::size_t connections_server::request_count() const {
  std::lock_guard lock(state_->mu);
  return state_->records.size();
}

std::size_t connections_server::count_for(std::string_view connection_id) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->served.find(connection_id);
  return it == state_->served.end() ? 0 : it->second;
}

std::size_t connections_server::max_in_flight() const {
  std::lock_guard lock(state_->mu);
  return state_->max_in_flight;
}

std::uint64_t connections_server::connections_accepted() const {
  return server_->connections_accepted();
}

}  // namespace apigw::testing
