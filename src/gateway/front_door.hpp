// Private to the gateway: the front door. One listener (net::http_server) for everything a client
// or a backend sends: a WebSocket upgrade to a served stage becomes a connection (after the
// $connect integration accepted it); `{stage}/@connections/...` goes to the Management API,
// `/v2/...` to the control plane, `GET /metrics` to the counters; a plain GET of a stage gets 426,
// anything else AWS's 403.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/net/tls.hpp"
#include "gateway/context.hpp"
#include "gateway/management_api.hpp"
#include "gateway/session.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>

namespace apigw::gateway::detail {

class front_door {
 public:
  front_door(boost::asio::any_io_executor ex, std::shared_ptr<context> ctx, std::shared_ptr<sessions> conns,
             std::shared_ptr<management_api> mgmt);
  ~front_door();
  front_door(const front_door&) = delete;
  front_door& operator=(const front_door&) = delete;

  // start: binds and listens (net::error::bind_failed / invalid_url as net::http_server says);
  // with `tls`, every connection is TLS (wss://, https://).
  result<void> start(std::shared_ptr<net::server_tls> tls = nullptr);
  // port: the bound port.
  std::uint16_t port() const noexcept;
  // stop_accepting: no new connections; kept-alive HTTP connections close after their next answer.
  void stop_accepting();

 private:
  struct doors;  // what the listener's callbacks run (shared with them)
  std::shared_ptr<doors> doors_;
  boost::asio::any_io_executor ex_;
  net::http_server_options options_;  // the listener's, but for TLS (see start)
  std::unique_ptr<net::http_server> server_;
};

}  // namespace apigw::gateway::detail
