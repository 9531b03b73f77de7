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
// thread pool of the sender's own, never on the I/O threads. The recipient, source, sink and report
// types are in delivery_report.hpp, which carries no I/O types, for code that only reads reports.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"
#include "apigw/mgmt/backoff.hpp"
#include "apigw/mgmt/delivery_report.hpp"
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
  // signing: empty: loopback endpoints (the local gateway) unsigned, every other endpoint signed
  // through the default credentials chain (provider_signing, credentials_provider.hpp), or failed
  // with signing_failed saying where it looked; never an unsigned request to AWS.
  signing_lookup signing;
  std::function<double()> random;  // uniform in [0, 1) for jitter; empty: a seeded PRNG
  const clock* clk = nullptr;      // signature times; null: the system clock
  // on_outcome: called after each recipient's outcome (delivered, gone or failed) is recorded, with
  // the report so far, on the send's strand: it must not block, and what it throws is ignored. For
  // progress displays that count deliveries rather than recipients read.
  std::function<void(const delivery_report&)> on_outcome;
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

  // delete_connection: one DeleteConnection of `connection_id` through `endpoint_url`, signed as
  // sends to that endpoint are (operators kick a connection this way). Errors as
  // management_client::delete_connection; connection_gone when it was already closed.
  boost::asio::awaitable<result<void>> delete_connection(std::string endpoint_url, std::string connection_id);

  // executor: where the sender's I/O runs.
  boost::asio::any_io_executor executor() const;

  // pool: the connection pool (for stats, or to share with a management_client).
  net::http_client_pool& pool();

 private:
  std::shared_ptr<detail::sender_impl> impl_;
};

}  // namespace apigw::mgmt
