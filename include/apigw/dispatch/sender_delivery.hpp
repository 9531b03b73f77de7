// apigw/dispatch/sender_delivery.hpp: the adapters that join the store to the fan-out sender:
// `store_recipients` (a recipient_source over a session query), `store_gone_sink` (410s marked
// disconnected) and `sender_delivery` (the production `delivery`).
//
// Only wiring code includes this header (main programs, the CLI, examples' mains, integration
// tests): it pulls in mgmt/sender.hpp and with it Asio and the HTTP client. Views and handlers see
// `delivery` (delivery.hpp) and never the sender.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/mgmt/delivery_report.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/store/gateway_repository.hpp"
#include "apigw/store/session_query.hpp"
#include "apigw/store/session_repository.hpp"
#include "apigw/store/session_store.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace apigw::dispatch {

// store_recipients: a sender recipient_source over the connected sessions of a query, page by page
// (keyset pagination, one page in memory), each with the Management API endpoint of its gateway
// (looked up once per gateway) or `endpoint_override`. A session with neither gets an empty
// endpoint, which the sender reports as a failed delivery with the reason: nothing is skipped
// silently.
class store_recipients final : public mgmt::recipient_source {
 public:
  // store_recipients: pages of `sessions`, endpoints from `gateways`; both must outlive it.
  store_recipients(store::session_repository& sessions, store::gateway_repository& gateways,
                   const store::session_query& q, std::optional<std::string> endpoint_override = std::nullopt,
                   std::size_t page_size = 1000);
  // store_recipients: the same over both slices of one store.
  store_recipients(store::session_store& store, const store::session_query& q,
                   std::optional<std::string> endpoint_override = std::nullopt, std::size_t page_size = 1000)
      : store_recipients(store, store, q, std::move(endpoint_override), page_size) {}
  // next_page: the next page of recipients; empty when done; the store's failure otherwise.
  result<std::vector<mgmt::recipient>> next_page() override;
  // handed_out: how many recipients the pages so far held.
  std::size_t handed_out() const noexcept { return handed_out_; }

 private:
  result<std::string> endpoint_of(const store::session& s);
  store::session_repository& sessions_;
  store::gateway_repository& gateways_;
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
  explicit store_gone_sink(store::session_repository& store,
                           std::chrono::milliseconds connect_window = k_connect_window)
      : store_(store), created_before_(store.time().now() - connect_window) {}
  // mark_disconnected: one store.mark_gone(ids, created_before()) call; the store's failure
  // otherwise.
  result<void> mark_disconnected(std::span<const std::string> connection_ids) override;
  // marked: how many sessions changed from connected to disconnected so far.
  std::size_t marked() const noexcept { return marked_; }
  // created_before: only sessions created before this instant are marked.
  clock::time_point created_before() const noexcept { return created_before_; }

 private:
  store::session_repository& store_;
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
  // sender_delivery: `sender` and `store` must outlive every send. It takes the whole store, as
  // wiring code has it: recipients need the sessions and gateways slices, gone ones the sessions.
  sender_delivery(mgmt::sender& sender, store::session_store& store, sender_delivery_options options);
  sender_delivery(mgmt::sender& sender, store::session_store& store,
                  std::optional<std::string> endpoint_override = std::nullopt, std::size_t page_size = 1000);
  send_handle send(const store::session_query& q, const json::value& message) override;
  // send_to: one PostToConnection through the sender (endpoint_override wins over `endpoint`).
  send_handle send_to(const std::string& connection_id, const std::string& endpoint,
                      const json::value& message) override;
  // observe: each send's report is added to `m` when the send ends.
  void observe(std::shared_ptr<backend_metrics> m) override;
  // disconnect: DeleteConnection through the session's gateway endpoint (or endpoint_override),
  // then the session marked; see delivery::disconnect.
  result<bool> disconnect(const store::session& s) override;
  // send_durable: a delivery job in the store (dispatch::start_job); a job_worker sends it.
  result<store::job_id> send_durable(const store::session_query& q, const json::value& message,
                                     const job_options& options = {}) override;

 private:
  std::shared_ptr<backend_metrics> metrics();

  mgmt::sender& sender_;
  store::session_store& store_;
  sender_delivery_options options_;
  std::mutex metrics_mu_;
  std::shared_ptr<backend_metrics> metrics_;  // guarded by metrics_mu_
};

}  // namespace apigw::dispatch
