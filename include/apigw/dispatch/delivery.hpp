// apigw/dispatch/delivery.hpp: sending from the backend: which sessions (`session_set`), how
// (`delivery`, an interface), and the outcome (`send_handle`, waited on only when needed).
//
//   ctx.sessions().in_channel("general").send_message(msg);          // fire and forget
//   auto report = app.sessions().for_user(7).send_message(msg).wait();  // block for the report
//   auto job = app.sessions().send_durable(msg);  // recorded first, survives a crash (jobs.hpp)
//
// A send never holds a handler's worker thread for the network round trip: `delivery::send` hands
// the message to the fan-out sender and returns a handle at once. The handle completes with a
// `delivery_report` (delivered, gone, failed with reasons, retries). The framework reaches the
// Management API only through `delivery`; `sender_delivery` (sender_delivery.hpp, included only by
// wiring code) is the production implementation over mgmt::sender, `recording_delivery`
// (testing.hpp) an in-memory @connections for tests. This header carries no I/O types: the report
// comes from mgmt/delivery_report.hpp, not from the sender.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"
#include "apigw/dispatch/jobs.hpp"
#include "apigw/mgmt/delivery_report.hpp"
#include "apigw/store/session_query.hpp"
#include "apigw/store/session_repository.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace apigw::dispatch {

class backend_metrics;

using mgmt::delivery_report;

// k_connect_window: how long after its session was created a connection may still be inside its
// $connect: API Gateway's integration timeout (29 s; the gateway gives up on a slower $connect).
// API Gateway answers PostToConnection with 410 Gone for a connection whose $connect has not
// returned yet, so a 410 marks a session disconnected only when the session was created at least
// this long before the send started (docs/design/dispatch.md, "Gone connections").
inline constexpr std::chrono::milliseconds k_connect_window{29'000};

// send_handle: the pending outcome of one send. Copyable; every copy sees the same outcome.
class send_handle {
 public:
  // completer: the producing side; call complete() exactly once.
  class completer {
   public:
    // complete: stores the outcome and wakes every waiter.
    void complete(result<delivery_report> outcome) const;

   private:
    friend class send_handle;
    struct state;
    std::shared_ptr<state> state_;
  };

  // make: a pending handle and the completer that finishes it.
  static std::pair<send_handle, completer> make();
  // failed: a handle already completed with `f` (e.g. payload_too_large before anything was sent).
  static send_handle failed(failure f);
  // done: a handle already completed with `report`.
  static send_handle done(delivery_report report);

  // wait: blocks until the send finished; the report, or the failure that stopped the send before
  // anything was sent (payload_too_large, the store unavailable).
  result<delivery_report> wait() const;
  // wait_for: like wait, giving up after `timeout` (timeout condition).
  result<delivery_report> wait_for(std::chrono::milliseconds timeout) const;
  // ready: whether the outcome is known.
  bool ready() const;

 private:
  std::shared_ptr<completer::state> state_;
};

// publish_handle: the pending outcome of session_set::publish: the send's handle plus where the
// message stands in its channel's history (offset 0 and an empty epoch when the channel keeps no
// history, or when the publish failed before anything was stored).
class publish_handle : public send_handle {
 public:
  publish_handle(send_handle sent, std::string epoch = {}, std::int64_t offset = 0,
                 std::optional<store::job_id> job = std::nullopt)
      : send_handle(std::move(sent)), epoch_(std::move(epoch)), offset_(offset), job_(job) {}
  const std::string& epoch() const noexcept { return epoch_; }
  std::int64_t offset() const noexcept { return offset_; }
  // job: the delivery job that sends it, when the backend publishes durably
  // (history_options::durable); the handle's own report is then empty, and the job's report
  // (`apigw-ws jobs show`) counts the deliveries.
  const std::optional<store::job_id>& job() const noexcept { return job_; }

 private:
  std::string epoch_;
  std::int64_t offset_;
  std::optional<store::job_id> job_;
};

class channel_history;

// delivery: sends one message to the connected sessions matching a query.
class delivery {
 public:
  virtual ~delivery() = default;
  // send: starts sending `message` (serialized once, at most 131072 bytes) to every connected
  // session matching `q`, and returns at once. An oversize message fails the handle with
  // payload_too_large and nothing is sent. Sessions found gone are reported and marked
  // disconnected, except those created less than k_connect_window before the send started
  // (they may still be inside their $connect; see k_connect_window).
  virtual send_handle send(const store::session_query& q, const json::value& message) = 0;
  // send_to: sends `message` to one known connection through `endpoint` (its gateway's Management
  // API endpoint) without reading the store: what a reply to the current request needs. Same
  // size rule and gone handling as send.
  virtual send_handle send_to(const std::string& connection_id, const std::string& endpoint,
                              const json::value& message) = 0;
  // observe: from now on every send is counted in `m` (null: no more); a send in flight keeps the
  // metrics it started with alive. The backend calls it with its metrics; a delivery that cannot
  // tell when a send ends ignores it.
  virtual void observe(std::shared_ptr<backend_metrics> m) { (void)m; }
  // disconnect: closes `s`'s connection server-side (DeleteConnection through its gateway's
  // Management API, as `apigw-ws sessions kick` does) and marks the session disconnected. true:
  // closed now; false: it was already gone (then marked only by the connect-window rule). Blocks
  // until the gateway answered, so call it from a blocking thread. The default fails with
  // invalid_argument: a delivery that cannot reach @connections cannot close one either.
  virtual result<bool> disconnect(const store::session& s);
  // send_durable: records a delivery job sending `message` to the sessions of `q` (a channel, a
  // user or everyone: job_target_of) and returns its id at once; the job workers of the processes
  // sharing the store send it (jobs.hpp). The default fails with invalid_argument: a delivery
  // without a job store cannot keep a job.
  virtual result<store::job_id> send_durable(const store::session_query& q, const json::value& message,
                                             const job_options& options = {});
};

// session_set: a set of sessions to send to; each refinement returns a narrower copy.
class session_set {
 public:
  // session_set: `count()` reads `store`; sends go through `d`; publish() appends to `history`
  // (null: no channel keeps history).
  session_set(delivery& d, store::session_repository& store, store::session_query q = {},
              const channel_history* history = nullptr) noexcept
      : delivery_(&d), store_(&store), query_(std::move(q)), history_(history) {}

  // in_channel / for_user / connection / for_gateway: narrow the set.
  [[nodiscard]] session_set in_channel(std::string_view channel) const;
  [[nodiscard]] session_set for_user(store::user_id user) const;
  [[nodiscard]] session_set connection(std::string_view connection_id) const;
  [[nodiscard]] session_set for_gateway(store::gateway_id gateway) const;

  // send_message: sends `message` to the connected sessions of the set; see delivery::send.
  send_handle send_message(const json::value& message) const;
  // publish: like send_message for a set narrowed to a channel (in_channel), but the message (a
  // JSON object) is first appended to the channel's history when the backend keeps it (history.hpp)
  // and carries the envelope {"apigw": {"channel", "epoch", "offset"}}, so clients that reconnect
  // recover what they missed. The handle also tells the offset. Fails the handle with
  // invalid_argument for a set without a channel or a message with an "apigw" key.
  publish_handle publish(const json::value& message) const;
  // send_durable: sends `message` to the set as a delivery job (delivery::send_durable): recorded
  // before the first request, resumed by another process after a crash. The job's id, or why it
  // could not be recorded (a set narrowed to a connection or a gateway: invalid_argument).
  result<store::job_id> send_durable(const json::value& message, const job_options& options = {}) const;
  // count: how many connected sessions the set has now; the store's failure otherwise.
  result<std::int64_t> count() const;

  const store::session_query& query() const noexcept { return query_; }

 private:
  delivery* delivery_;
  store::session_repository* store_;
  store::session_query query_;
  const channel_history* history_;
};

}  // namespace apigw::dispatch
