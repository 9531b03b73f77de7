#include "gateway/management_api.hpp"

#include "apigw/core/json.hpp"
#include "apigw/sigv4/error.hpp"
#include "apigw/sigv4/verifier.hpp"
#include "gateway/aws_errors.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace apigw::gateway::detail {

namespace asio = boost::asio;

namespace {

// post_on_strand: queues PostToConnection data; runs on the connection's strand. (A named
// coroutine, not a capturing lambda: GCC 12 copies lambda temporaries of a coroutine bitwise.)
asio::awaitable<connection::post_status> post_on_strand(std::shared_ptr<sessions> conns, connection_ptr conn,
                                                        std::string data, bool binary) {
  co_return conns->enqueue(*conn, std::move(data), binary, true);
}

}  // namespace

std::optional<net::http_response> check_signature(const context& ctx, const net::incoming_request& req,
                                                  std::string_view service) {
  if (ctx.opts.auth != auth_mode::sigv4) return std::nullopt;
  sigv4::request sr;
  sr.method = req.method;
  const auto q = req.target.find('?');
  sr.path = req.target.substr(0, q);
  if (q != std::string::npos) sr.query = req.target.substr(q + 1);
  for (const auto& h : req.headers) sr.headers.push_back({h.name, h.value});
  sr.body = req.body;
  sigv4::verify_params p;
  const auto st = ctx.served.current();
  p.service = std::string(service);
  p.region = st->config.region;
  p.now = system_clock_source::instance().now();
  auto v = sigv4::verify(sr, sigv4::static_keys(st->config.keys), p);
  if (v) return std::nullopt;
  ctx.log.warn("signature rejected", "error", v.error().message);
  if (v.error() == sigv4::error::missing_authorization) {
    return aws_error(403, "MissingAuthenticationTokenException", R"({"message":"Missing Authentication Token"})");
  }
  if (v.error() == sigv4::error::unknown_access_key || v.error() == sigv4::error::invalid_security_token ||
      v.error() == sigv4::error::missing_security_token) {
    return aws_error(403, "UnrecognizedClientException",
                     R"({"message":"The security token included in the request is invalid."})");
  }
  return aws_error(403, "InvalidSignatureException",
                   R"({"message":"The request signature we calculated does not match the signature you provided. )"
                   R"(Check your AWS Secret Access Key and signing method. Consult the service documentation for )"
                   R"(details."})");
}

management_api::management_api(std::shared_ptr<context> ctx, std::shared_ptr<sessions> conns)
    : ctx_(std::move(ctx)),
      sessions_(std::move(conns)),
      calls_(ctx_->opts.limits.management_calls_per_second, ctx_->opts.limits.management_calls_burst) {}

asio::awaitable<net::http_response> management_api::handle(const net::incoming_request& req,
                                                           const result<connections_target>& parsed) {
  if (auto denied = check_signature(*ctx_, req, "execute-api")) co_return std::move(*denied);
  if (!calls_.take(std::chrono::steady_clock::now())) co_return too_many_requests();
  const std::string& method = req.method;
  if (method != "POST" && method != "GET" && method != "DELETE") co_return forbidden();
  if (!parsed) co_return gone();  // malformed id (spec §5.2)
  const connections_target& target = *parsed;
  if (target.stage.empty() || !ctx_->served.current()->stages.contains(target.stage)) co_return forbidden();
  const auto& opts = ctx_->opts;
  if (method == "POST" && req.body.size() > opts.limits.max_message_bytes) {
    co_return aws_error(413, "PayloadTooLargeException",
                        fmt::format(R"({{"message":"Message payload is {} bytes; the limit is {} bytes"}})",
                                    req.body.size(), opts.limits.max_message_bytes));
  }
  connection_ptr conn = sessions_->find(target.connection_id);
  if (!conn) co_return gone();
  if (opts.choices.cross_stage_gone && conn->at_connect.stage->name != target.stage) co_return gone();

  if (method == "GET") co_return text_response(200, "application/json", connection_json(*conn));
  if (method == "DELETE") {
    // It stays registered (so the sweeper still watches its close) but is gone to callers.
    if (conn->deleted.exchange(true)) co_return gone();
    asio::post(conn->strand, [conns = sessions_, conn, code = opts.choices.delete_close_code] {
      conns->request_close(conn, close_cause("delete", code, ""));
    });
    co_return text_response(204, "", "");
  }
  // POST: the body as one frame (text when UTF-8, binary otherwise unless configured).
  std::string data = req.body;
  const bool binary = opts.choices.binary_for_non_utf8_posts && !is_valid_utf8(data);
  const auto status = co_await asio::co_spawn(conn->strand, post_on_strand(sessions_, conn, std::move(data), binary),
                                              asio::use_awaitable);
  switch (status) {
    case connection::post_status::queued:
      co_return text_response(200, "", "");
    case connection::post_status::full:
      co_return too_many_requests();
    case connection::post_status::closed:
      break;
  }
  co_return gone();
}

}  // namespace apigw::gateway::detail
