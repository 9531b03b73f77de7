// Private to the gateway: calling a route's integration. Builds the request (integration.hpp),
// sends it through a connection pool whose per-request deadline is the integration timeout (when
// it passes, the pool closes that connection and its slot goes to the next call at once), and
// reports the answer, the timeout or the failure. $connect and $disconnect use a pool of their
// own: a flood of slow message integrations fills the message pool up to its per-origin cap, and
// a new client's handshake must not wait behind it.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/log.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/gateway/gateway.hpp"
#include "apigw/gateway/route_selection.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/http_message.hpp"
#include "gateway/integration.hpp"
#include "gateway/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace apigw::gateway::detail {

// connection_identity: what an integration request says about the client's connection.
struct connection_identity {
  std::string id;
  std::string domain_name;  // the Host the client connected to
  clock::time_point connected_at;
  handshake_info handshake;
};

// disconnect_details: the close code and reason a $disconnect request reports.
struct disconnect_details {
  std::uint16_t code = 1005;
  std::string reason;
};

// integration_outcome: what an integration request produced, or how it failed.
struct integration_outcome {
  std::optional<net::http_response> response;
  bool timed_out = false;
  std::string error;  // when no response
};

// integration_client: see the file comment. Thread-safe.
class integration_client {
 public:
  integration_client(boost::asio::any_io_executor ex, const gateway_options& opts, metrics& m);

  // call: sends `route`'s integration request for `who`; never throws. `request_id` empty: a
  // new one. `disconnect` is set for $disconnect only.
  boost::asio::awaitable<integration_outcome> call(const connection_identity& who, const api_config& api,
                                                   const stage_config& stage, const route_config& route,
                                                   event_kind kind, std::string route_key, message_body body,
                                                   std::string request_id,
                                                   const disconnect_details* disconnect = nullptr);

  // close: closes every pooled connection (shutdown).
  void close();

 private:
  request_options req_opts_;
  metrics& metrics_;
  logging::logger log_;                               // one line per integration request
  std::shared_ptr<net::http_client_pool> messages_;   // message integrations
  std::shared_ptr<net::http_client_pool> lifecycle_;  // $connect and $disconnect
};

}  // namespace apigw::gateway::detail
