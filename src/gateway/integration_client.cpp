#include "gateway/integration_client.hpp"

#include "apigw/core/error.hpp"
#include "gateway/aws_errors.hpp"
#include "gateway/integration_log.hpp"
#include "gateway/mock.hpp"

#include <chrono>
#include <utility>

namespace apigw::gateway::detail {

namespace asio = boost::asio;

namespace {

// (Outcomes are built by these functions, never by braced temporaries inside coroutines: GCC 12
// mishandles those.)
integration_outcome outcome_failed(std::string error, bool timed_out) {
  integration_outcome o;
  o.timed_out = timed_out;
  o.error = std::move(error);
  return o;
}

integration_outcome outcome_answered(net::http_response r) {
  integration_outcome o;
  o.response = std::move(r);
  return o;
}

std::string_view event_type_name(event_kind k) {
  return k == event_kind::connect ? "CONNECT" : (k == event_kind::disconnect ? "DISCONNECT" : "MESSAGE");
}

// mock_outcome: a MOCK integration's answer, made here with no backend call: the status the
// request template chose and the response template's body, as if a backend had answered them.
integration_outcome mock_outcome(const integration_config& integ, const integration_call& call,
                                 const connection_identity& who) {
  mock_context ctx;
  ctx.connection_id = call.connection_id;
  ctx.request_id = call.request_id;
  ctx.message_id = call.message_id;
  ctx.route_key = call.route_key;
  ctx.event_type = event_type_name(call.kind);
  ctx.api_id = call.api->id;
  ctx.stage = call.stage->name;
  ctx.domain_name = call.domain_name;
  ctx.source_ip = who.handshake.source_ip;
  ctx.connected_at_ms = call.connected_at_ms;
  ctx.request_time_ms = call.request_time_ms;
  auto answer = answer_mock(integ, call.body, ctx);
  if (!answer.error.empty()) return outcome_failed(std::move(answer.error), false);
  net::http_response r;
  r.status = answer.status;
  r.body = std::move(answer.body);
  return outcome_answered(std::move(r));
}

net::client_pool_options pool_options(const gateway_options& opts) {
  net::client_pool_options po;
  po.timeouts.connect = opts.backend_connect_timeout;
  po.timeouts.read = std::chrono::milliseconds(30000);  // >= the 29 s integration maximum
  po.timeouts.write = std::chrono::milliseconds(30000);
  po.max_response_bytes = 10 * 1024 * 1024;
  po.max_connections_per_origin = opts.limits.integration_connections_per_origin;
  po.extra_ca_pem = opts.integration_ca_pem;  // https:// endpoints: the system store plus these
  return po;
}

}  // namespace

integration_client::integration_client(asio::any_io_executor ex, const gateway_options& opts, metrics& m)
    : metrics_(m),
      log_(opts.log),
      messages_(std::make_shared<net::http_client_pool>(ex, pool_options(opts))),
      lifecycle_(std::make_shared<net::http_client_pool>(ex, pool_options(opts))) {
  req_opts_.forwarded_proto = opts.choices.forwarded_proto;
  req_opts_.forwarded_port = opts.choices.forwarded_port;
  req_opts_.forward_client_headers = opts.choices.forward_client_headers;
  req_opts_.json_content_type = opts.choices.json_content_type;
}

asio::awaitable<integration_outcome> integration_client::call(const connection_identity& who, const api_config& api,
                                                              const stage_config& stage, const route_config& route,
                                                              event_kind kind, std::string route_key, message_body body,
                                                              std::string request_id,
                                                              const disconnect_details* disconnect) {
  const integration_config* integ = api.integration_of(route);
  if (integ == nullptr) co_return outcome_failed("route has no integration", false);
  integration_call call;
  call.api = &api;
  call.stage = &stage;
  call.integration = integ;
  call.kind = kind;
  call.route_key = std::move(route_key);
  call.connection_id = who.id;
  call.request_id = request_id.empty() ? new_request_id() : std::move(request_id);
  if (kind == event_kind::message) call.message_id = new_request_id();
  const auto now = system_clock_source::instance().now();
  call.trace_id = new_trace_id(unix_millis(now) / 1000);
  call.domain_name = who.domain_name;
  call.connected_at_ms = unix_millis(who.connected_at);
  call.request_time_ms = unix_millis(now);
  call.handshake = &who.handshake;
  call.body = std::move(body);
  if (disconnect != nullptr) {
    call.disconnect_status_code = disconnect->code;
    call.disconnect_reason = disconnect->reason;
  }
  if (integ->is_mock()) co_return mock_outcome(*integ, call, who);
  auto req = build_integration_request(call, req_opts_);
  if (!req) co_return outcome_failed(req.error().message, false);

  net::request_options ro;
  ro.timeout = integ->timeout;
  const auto started = std::chrono::steady_clock::now();
  const bool lifecycle = kind != event_kind::message;
  auto answer = co_await (lifecycle ? lifecycle_ : messages_)->request(std::move(*req), ro);
  const auto took = std::chrono::steady_clock::now() - started;
  metrics_.integration_latency(took);
  log_integration(log_, call, answer, took);
  if (!answer) co_return outcome_failed(answer.error().message, answer.error() == condition::timeout);
  co_return outcome_answered(std::move(*answer));
}

void integration_client::close() {
  messages_->close();
  lifecycle_->close();
}

}  // namespace apigw::gateway::detail
