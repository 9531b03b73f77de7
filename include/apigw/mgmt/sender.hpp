// apigw/mgmt/sender.hpp: the fan-out sender: one message to many connections through the
// Management API, concurrently, with retries, an optional rate cap and a per-recipient report.
//
// One send: the message is serialized and size-checked once (nothing is sent when it is over
// 131072 bytes); recipients are read page by page from a `recipient_source` (a database query,
// typically ~1000 rows a page); each recipient's endpoint is parsed and its signing settings
// looked up once per send; up to `max_in_flight` PostToConnection requests run at a time over the
// keep-alive pool; throttling (429), 5xx, network errors and timeouts are retried with
// exponential backoff and full jitter; a failure never stops the other recipients. Connections
// that turned out to be gone (410) are handed to a `gone_sink` in one batched call at the end.
//
// Blocking calls (recipient_source::next_page, gone_sink::mark_disconnected) run on a small
// thread pool of the sender's own, never on the I/O threads.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"
#include "apigw/mgmt/backoff.hpp"
#include "apigw/mgmt/management_client.hpp"
#include "apigw/net/http_client_pool.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::mgmt {

namespace detail {
struct sender_impl;
}

// recipient: one connection to deliver to, and the Management API endpoint that owns it
// ("https://abc123.execute-api.eu-west-1.amazonaws.com/dev", "http://127.0.0.1:4510/dev").
struct recipient {
  std::string connection_id;
  std::string endpoint;
};

// recipient_source: recipients streamed page by page. next_page returns the next page, an empty
// vector when there are no more, or a failure. A failure must not move the source on: asked again,
// it returns the page it failed to return, so the sender can wait out a failure that may pass (a
// database restarting between two pages, see source_retry_policy) without skipping or repeating
// anyone; a failure it gives up on ends the reading, reported in delivery_report::source_error.
// May block: it is called on the sender's blocking pool, one call at a time.
class recipient_source {
 public:
  virtual ~recipient_source() = default;
  // next_page: the next recipients; empty when done.
  virtual result<std::vector<recipient>> next_page() = 0;
};

// vector_source: a recipient_source over a vector (one page).
class vector_source final : public recipient_source {
 public:
  explicit vector_source(std::vector<recipient> recipients) : recipients_(std::move(recipients)) {}
  // next_page: the whole vector once, then empty.
  result<std::vector<recipient>> next_page() override;

 private:
  std::vector<recipient> recipients_;
  bool done_ = false;
};

// gone_sink: told which connections are gone, so the store can mark them disconnected in one
// batched update. Marking must be idempotent: a failure that may pass is waited out like a
// source's (source_retry_policy) and the same ids handed over again. May block: it is called on
// the sender's blocking pool. A failure it gives up on is reported in
// delivery_report::gone_sink_error (the ids are still in delivery_report::gone).
class gone_sink {
 public:
  virtual ~gone_sink() = default;
  // mark_disconnected: marks these connections disconnected.
  virtual result<void> mark_disconnected(std::span<const std::string> connection_ids) = 0;
};

// delivery_failure: a recipient that could not be delivered to, and why (the last attempt's
// failure; its code compares equal to the shared conditions).
struct delivery_failure {
  std::string connection_id;
  std::string endpoint;
  failure reason;
  std::size_t attempts = 0;
};

// delivery_report: the outcome of one send. Every recipient read from the source is counted in
// exactly one of delivered, gone and failed.
struct delivery_report {
  std::size_t delivered = 0;
  std::vector<std::string> gone;         // connection ids that answered 410
  std::vector<delivery_failure> failed;  // everything else that did not succeed
  std::size_t retries = 0;               // extra attempts over all recipients
  std::size_t source_retries = 0;        // pages asked for again after the source failed
  std::size_t gone_sink_retries = 0;     // gone batches handed over again after the sink failed
  std::chrono::nanoseconds elapsed{0};
  std::optional<failure> source_error;     // the source failed for good; later pages were not read
  std::optional<failure> gone_sink_error;  // mark_disconnected failed
  // recipients: delivered + gone + failed.
  std::size_t recipients() const noexcept { return delivered + gone.size() + failed.size(); }
};

// signing_lookup: signing settings (credentials, region) for an endpoint URL. Called once per
// endpoint per send, on an I/O thread: it must not block. A failure fails that endpoint's
// recipients.
using signing_lookup = std::function<result<signing_config>(std::string_view endpoint)>;

// same_signing_for_all: a signing_lookup giving `config` for every endpoint.
signing_lookup same_signing_for_all(signing_config config);

// source_retry_policy: how long a send waits for a recipient source that failed with a failure
// that may pass (conditions unavailable, timeout, network_error, server_error, throttled: a
// database restarting, locked or unreachable for a while). It asks for the same page again after
// first_delay, doubling up to max_delay, while no more than give_up_after has passed since that
// page first failed; then the send stops reading and reports the last failure in source_error.
// Other failures end the reading at once; give_up_after 0 never retries. The gone sink's failures
// are waited out the same way.
struct source_retry_policy {
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{5000};
  std::chrono::milliseconds give_up_after{60000};
};

// sender_options: limits and injections. Defaults suit AWS from one process.
struct sender_options {
  std::size_t max_in_flight = 128;      // concurrent requests per send (>= 1)
  retry_policy retry;                   // attempts and backoff for retryable failures
  source_retry_policy source_retry;     // waiting out a failing recipient source
  double max_requests_per_second = 0;   // 0: no cap; AWS's account quota is 10,000/s
  double burst = 0;                     // bucket size; 0: max_requests_per_second / 2 (AWS: 5,000)
  std::size_t gone_batch_size = 10000;  // gone ids are flushed early only past this many
  std::size_t io_threads = 1;           // threads of the sender's own io_context (owning constructor)
  std::size_t blocking_threads = 1;     // threads for recipient_source / gone_sink calls
  net::client_pool_options pool;        // per-origin connections, timeouts, TLS
  signing_lookup signing;               // empty: requests are not signed
  std::function<double()> random;       // uniform in [0, 1) for jitter; empty: a seeded PRNG
  const clock* clk = nullptr;           // signature times; null: the system clock
};

// sender: see the file comment. Thread-safe: several sends may run at once (each bounded by
// max_in_flight; the connection pool bounds connections per origin across all of them; the rate
// cap is shared). A sender must outlive every send it started.
class sender {
 public:
  // sender: a sender with its own io_context run by `options.io_threads` threads.
  explicit sender(sender_options options = {});
  // sender: a sender whose I/O runs on `ex` (an io_context the application runs).
  sender(boost::asio::any_io_executor ex, sender_options options = {});
  ~sender();
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;

  // send: delivers `message` (the bytes as sent; at most 131072) to every recipient of `source`.
  // `source` and `gone` (may be null) must outlive the returned awaitable. Fails only before
  // anything is sent: payload_too_large for an oversize message. Everything after that, per
  // recipient or not, is in the report.
  boost::asio::awaitable<result<delivery_report>> send(recipient_source& source, std::string message,
                                                       gone_sink* gone = nullptr);
  // send: the same for a JSON message (what the message builders return), serialized once with
  // serialize_message. An object rather than a json::value, so `send(source, "text")` is not
  // ambiguous.
  boost::asio::awaitable<result<delivery_report>> send(recipient_source& source, json::object message,
                                                       gone_sink* gone = nullptr);
  // send: the same for recipients already in memory (one recipient is the same path).
  boost::asio::awaitable<result<delivery_report>> send(std::vector<recipient> recipients, std::string message,
                                                       gone_sink* gone = nullptr);

  // send_sync: runs send on the sender's I/O threads and waits for the report; for CLIs and
  // synchronous handlers. Must not be called from one of those I/O threads (it would wait on
  // itself): that is refused with invalid_argument. With the executor constructor, the
  // application must be running that io_context on other threads.
  result<delivery_report> send_sync(recipient_source& source, std::string message, gone_sink* gone = nullptr);
  result<delivery_report> send_sync(std::vector<recipient> recipients, std::string message, gone_sink* gone = nullptr);

  // executor: where the sender's I/O runs.
  boost::asio::any_io_executor executor() const;

  // pool: the connection pool (for stats, or to share with a management_client).
  net::http_client_pool& pool();

 private:
  std::shared_ptr<detail::sender_impl> impl_;
};

}  // namespace apigw::mgmt
