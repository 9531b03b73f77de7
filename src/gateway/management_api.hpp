// Private to the gateway: the Management API, `{stage}/@connections/{connectionId}` (spec §5):
// PostToConnection (POST), GetConnection (GET) and DeleteConnection (DELETE), with the SigV4
// check every AWS API call gets and AWS's error answers.
#pragma once

#include "apigw/gateway/connections_path.hpp"
#include "apigw/net/http_message.hpp"
#include "gateway/context.hpp"
#include "gateway/metrics.hpp"
#include "gateway/session.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace apigw::gateway::detail {

// check_signature: nullopt when `req` may proceed (auth_mode::none, or a valid SigV4 signature
// for `service` with one of the configured keys); otherwise AWS's 403 for what is wrong.
std::optional<net::http_response> check_signature(const context& ctx, const net::incoming_request& req,
                                                  std::string_view service);

// management_api: see the file comment. Thread-safe.
class management_api {
 public:
  management_api(std::shared_ptr<context> ctx, std::shared_ptr<sessions> conns);

  // handle: one @connections call (`parsed`: its target parsed; connection_gone when the id is
  // malformed), answered as AWS does.
  boost::asio::awaitable<net::http_response> handle(const net::incoming_request& req,
                                                    const result<connections_target>& parsed);

 private:
  std::shared_ptr<context> ctx_;
  std::shared_ptr<sessions> sessions_;
  rate_limit calls_;
};

}  // namespace apigw::gateway::detail
