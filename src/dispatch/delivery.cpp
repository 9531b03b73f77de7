// Sending from the backend: send handles and session sets (the sender adapters are in
// sender_delivery.cpp).
#include "apigw/dispatch/delivery.hpp"

#include "apigw/dispatch/history.hpp"

#include <condition_variable>
#include <mutex>

namespace apigw::dispatch {

struct send_handle::completer::state {
  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  std::optional<result<delivery_report>> outcome;
};

void send_handle::completer::complete(result<delivery_report> outcome) const {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->outcome) return;  // completed already: keep the first outcome
    state_->outcome = std::move(outcome);
  }
  state_->cv.notify_all();
}

std::pair<send_handle, send_handle::completer> send_handle::make() {
  auto st = std::make_shared<completer::state>();
  send_handle h;
  h.state_ = st;
  completer c;
  c.state_ = std::move(st);
  return {std::move(h), std::move(c)};
}

send_handle send_handle::failed(failure f) {
  auto [h, c] = make();
  c.complete(std::move(f));
  return h;
}

send_handle send_handle::done(delivery_report report) {
  auto [h, c] = make();
  c.complete(std::move(report));
  return h;
}

result<delivery_report> send_handle::wait() const {
  std::unique_lock lock(state_->mutex);
  state_->cv.wait(lock, [&] { return state_->outcome.has_value(); });
  return *state_->outcome;
}

result<delivery_report> send_handle::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  if (!state_->cv.wait_for(lock, timeout, [&] { return state_->outcome.has_value(); })) {
    return failure{make_error_code(boost::system::errc::timed_out), "the send has not finished yet"};
  }
  return *state_->outcome;
}

bool send_handle::ready() const {
  std::lock_guard lock(state_->mutex);
  return state_->outcome.has_value();
}

session_set session_set::in_channel(std::string_view channel) const {
  return {*delivery_, *store_, query_.in_channel(channel), history_};
}
session_set session_set::for_user(store::user_id user) const {
  return {*delivery_, *store_, query_.for_user(user), history_};
}
session_set session_set::connection(std::string_view connection_id) const {
  return {*delivery_, *store_, query_.by_connection_id(connection_id), history_};
}
session_set session_set::for_gateway(store::gateway_id gateway) const {
  return {*delivery_, *store_, query_.for_gateway(gateway), history_};
}

result<bool> delivery::disconnect(const store::session& s) {
  return failure{core::error::invalid_argument,
                 "this delivery cannot close connection " + s.connection_id + " (no Management API)"};
}

result<store::job_id> delivery::send_durable(const store::session_query& q, const json::value& message,
                                             const job_options& options) {
  (void)q;
  (void)message;
  (void)options;
  return failure{core::error::invalid_argument, "this delivery keeps no delivery jobs (it has no job store)"};
}

result<store::job_id> session_set::send_durable(const json::value& message, const job_options& options) const {
  return delivery_->send_durable(query_, message, options);
}

send_handle session_set::send_message(const json::value& message) const {
  return delivery_->send(query_, message);
}

publish_handle session_set::publish(const json::value& message) const {
  if (history_ != nullptr) return history_->publish(*delivery_, query_, message);
  // No history anywhere: the same checks, then a plain send.
  if (auto ok = check_publishable(query_, message); !ok) return send_handle::failed(ok.error());
  return delivery_->send(query_, message);
}

result<std::int64_t> session_set::count() const {
  return store_->count(query_.connected_only());
}

}  // namespace apigw::dispatch
