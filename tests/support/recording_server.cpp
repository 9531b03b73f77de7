// The recording server of tests/support/recording_server.hpp.
#include "support/recording_server.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace apigw::testing {

recording_server::recording_server(answer_fn answer) : answer_(std::move(answer)) {
  server_ = std::make_unique<net::http_server>(io_.get_executor(),
                                               [this](net::incoming_request req) { return handle(std::move(req)); });
  if (auto r = server_->start(); !r) throw std::runtime_error(r.error().message);
  thread_ = std::thread([this] { io_.run(); });
}

recording_server::~recording_server() {
  server_->stop();
  io_.stop();
  thread_.join();
}

std::string recording_server::url() const {
  return fmt::format("http://127.0.0.1:{}", server_->port());
}

std::vector<seen_request> recording_server::requests() const {
  std::lock_guard lock(mu_);
  return seen_;
}

void recording_server::forget() {
  std::lock_guard lock(mu_);
  seen_.clear();
}

boost::asio::awaitable<std::optional<net::http_response>> recording_server::handle(net::incoming_request req) {
  seen_request s;
  s.method = req.method;
  s.path = req.target;
  if (auto q = s.path.find('?'); q != std::string::npos) {
    s.query = s.path.substr(q + 1);
    s.path.resize(q);
  }
  s.body = req.body;
  s.at = std::chrono::steady_clock::now();
  std::size_t index = 0;
  {
    std::lock_guard lock(mu_);
    index = seen_.size();
    seen_.push_back(s);
  }
  co_return answer_(s, index);
}

}  // namespace apigw::testing
