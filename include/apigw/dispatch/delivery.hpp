// apigw/dispatch/delivery.hpp: sending from the backend: which sessions (`session_set`), how
// (`delivery`, an interface), and the outcome (`send_handle`, waited on only when needed).
//
//   ctx.sessions().in_channel("general").send_message(msg);          // fire and forget
//   auto report = app.sessions().for_user(7).send_message(msg).wait();  // block for the report
//
// A send never holds a handler's worker thread for the network round trip: `delivery::send` hands
// the message to the fan-out sender and returns a handle at once. The handle completes with a
// `delivery_report` (delivered, gone, failed with reasons, retries). The framework reaches the
// Management API only through `delivery`; `sender_delivery` is the production implementation
// over mgmt::sender, `recording_delivery` (testing.hpp) an in-memory @connections for tests.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/store/session_query.hpp"
#include "apigw/store/session_store.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace apigw::dispatch {

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
};

// session_set: a set of sessions to send to; each refinement returns a narrower copy.
class session_set {
 public:
  session_set(delivery& d, store::session_store& store, store::session_query q = {}) noexcept
      : delivery_(&d), store_(&store), query_(std::move(q)) {}

  // in_channel / for_user / connection / for_gateway: narrow the set.
  [[nodiscard]] session_set in_channel(std::string_view channel) const;
  [[nodiscard]] session_set for_user(store::user_id user) const;
  [[nodiscard]] session_set connection(std::string_view connection_id) const;
  [[nodiscard]] session_set for_gateway(store::gateway_id gateway) const;

  // send_message: sends `message` to the connected sessions of the set; see delivery::send.
  send_handle send_message(const json::value& message) const;
  // count: how many connected sessions the set has now; the store's failure otherwise.
  result<std::int64_t> count() const;

  const store::session_query& query() const noexcept { return query_; }

 private:
  delivery* delivery_;
  store::session_store* store_;
  store::session_query query_;
};

// store_recipients: a sender recipient_source over the connected sessions of a query, page by page
// (keyset pagination, one page in memory), each with the Management API endpoint of its gateway
// (looked up once per gateway) or `endpoint_override`. A session with neither gets an empty
// endpoint, which the sender reports as a failed delivery with the reason: nothing is skipped
// silently.
class store_recipients final : public mgmt::recipient_source {
 public:
  store_recipients(store::session_store& store, const store::session_query& q,
                   std::optional<std::string> endpoint_override = std::nullopt, std::size_t page_size = 1000);
  // next_page: the next page of recipients; empty when done; the store's failure otherwise.
  result<std::vector<mgmt::recipient>> next_page() override;
  // handed_out: how many recipients the pages so far held.
  std::size_t handed_out() const noexcept { return handed_out_; }

 private:
  result<std::string> endpoint_of(const store::session& s);
  store::session_store& store_;
  store::session_query query_;
  std::optional<std::string> override_;
  std::size_t page_size_;
  store::session_id after_ = 0;
  std::size_t handed_out_ = 0;
  bool done_ = false;
  std::map<store::gateway_id, std::string> endpoints_;
};

// store_gone_sink: marks the connections one send found gone (410) disconnected, one statement
// per batch, sparing sessions that may still be inside their $connect. Make one per send, just
// before it starts: the sink fixes its cutoff, (the store's now) - `connect_window`, when it is
// constructed, so every 410 of the send was answered after that instant and a session created
// before the cutoff had its $connect over (returned or timed out) by then.
class store_gone_sink final : public mgmt::gone_sink {
 public:
  explicit store_gone_sink(store::session_store& store, std::chrono::milliseconds connect_window = k_connect_window)
      : store_(store), created_before_(store.time().now() - connect_window) {}
  // mark_disconnected: one store.mark_gone(ids, created_before()) call; the store's failure
  // otherwise.
  result<void> mark_disconnected(std::span<const std::string> connection_ids) override;
  // marked: how many sessions changed from connected to disconnected so far.
  std::size_t marked() const noexcept { return marked_; }
  // created_before: only sessions created before this instant are marked.
  clock::time_point created_before() const noexcept { return created_before_; }

 private:
  store::session_store& store_;
  clock::time_point created_before_;
  std::size_t marked_ = 0;
};

// sender_delivery_options: where recipients' messages go and how gone ones are marked.
struct sender_delivery_options {
  // endpoint_override: every message goes through this Management API endpoint instead of the
  // one of the session's gateway.
  std::optional<std::string> endpoint_override;
  std::size_t page_size = 1000;  // sessions read from the store per page
  // connect_window: see k_connect_window. Raise it by the clock skew between backend hosts when
  // several share one PostgreSQL store (each stamps created_at with its own clock).
  std::chrono::milliseconds connect_window = k_connect_window;
};

// sender_delivery: delivery over the fan-out sender. Recipients are read from the store page by
// page (on the sender's blocking pool), each with its gateway's Management API endpoint (or
// `endpoint_override`), and gone connections are marked disconnected in one batched update
// (store_gone_sink: not those still inside their connect window).
class sender_delivery final : public delivery {
 public:
  // sender_delivery: `sender` and `store` must outlive every send.
  sender_delivery(mgmt::sender& sender, store::session_store& store, sender_delivery_options options);
  sender_delivery(mgmt::sender& sender, store::session_store& store,
                  std::optional<std::string> endpoint_override = std::nullopt, std::size_t page_size = 1000);
  send_handle send(const store::session_query& q, const json::value& message) override;
  // send_to: one PostToConnection through the sender (endpoint_override wins over `endpoint`).
  send_handle send_to(const std::string& connection_id, const std::string& endpoint,
                      const json::value& message) override;

 private:
  mgmt::sender& sender_;
  store::session_store& store_;
  sender_delivery_options options_;
};

}  // namespace apigw::dispatch
