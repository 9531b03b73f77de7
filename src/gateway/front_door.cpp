#include "gateway/front_door.hpp"

#include "apigw/core/text.hpp"
#include "apigw/gateway/connections_path.hpp"
#include "apigw/gateway/error.hpp"
#include "apigw/net/http_server.hpp"
#include "gateway/access_log.hpp"
#include "gateway/aws_errors.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace apigw::gateway::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
// A handshake being refused is written through a stream with timeouts (the connection's own
// stream has none: the watchdog owns its deadlines).
using http_stream = beast::basic_stream<tcp, strand_t>;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Requests may carry a PostToConnection body a little over the limit (so it gets 413
// PayloadTooLargeException rather than a dropped connection); beyond this, 413 and close.
constexpr std::size_t k_max_http_body = 4 * 1024 * 1024;
constexpr std::size_t k_max_http_header = 16 * 1024;
// After that 413 the client may still be writing its body: this much, for this long, is read and
// dropped, so that it reads the answer instead of a reset.
constexpr std::size_t k_max_drain_bytes = 64 * 1024 * 1024;
constexpr auto k_drain_time = std::chrono::seconds(5);

// response_decorator: the 101's decorator: no Server header, plus the headers the $connect
// integration answered with that go to the client.
struct response_decorator {
  net::http_headers extra;
  void operator()(websocket::response_type& res) const {
    res.erase(http::field::server);
    for (const auto& h : extra) res.insert(h.name, h.value);
  }
};

response_decorator make_decorator(net::http_headers extra) {
  response_decorator d;
  d.extra = std::move(extra);
  return d;
}

// address_of: the IP address in "address:port" (IPv6 addresses have colons of their own).
std::string address_of(std::string_view remote) {
  const auto colon = remote.rfind(':');
  return std::string(colon == std::string_view::npos ? remote : remote.substr(0, colon));
}

// upgrade_request: the handshake request as Beast's accept wants it (always HTTP/1.1: the
// listener hands over only requests that can be upgrades).
http::request<http::empty_body> upgrade_request(const net::incoming_request& req) {
  http::request<http::empty_body> up;
  up.method_string(req.method);
  up.target(req.target);
  up.version(11);
  for (const auto& h : req.headers) up.insert(h.name, h.value);
  return up;
}

// server_errors: the listener's own answers, in AWS's form (413 PayloadTooLargeException).
net::http_response server_error(unsigned status) {
  if (status == 413) {
    return with_request_id(aws_error(413, "PayloadTooLargeException", R"({"message":"Request Entity Too Large"})"));
  }
  return text_response(status, "text/plain", status == 400 ? "Bad Request\n" : "Request Header Fields Too Large\n");
}

}  // namespace

struct front_door::doors : std::enable_shared_from_this<doors> {
  doors(std::shared_ptr<context> c, std::shared_ptr<sessions> s, std::shared_ptr<management_api> m)
      : ctx(std::move(c)),
        conns(std::move(s)),
        mgmt(std::move(m)),
        new_connections(ctx->opts.limits.new_connections_per_second, ctx->opts.limits.new_connections_burst) {}

  // -- HTTP requests (not upgrades) --

  asio::awaitable<std::optional<net::http_response>> request([[maybe_unused]] std::shared_ptr<doors> self,
                                                             net::incoming_request req) {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (path == "/metrics" && req.method == "GET") {
      co_return text_response(200, "text/plain; version=0.0.4", ctx->counters.render());
    }
    if (path.starts_with("/v2/")) co_return control_plane(req);
    auto parsed = parse_connections_path(req.target);
    if (!parsed && parsed.error() == error::not_connections_path) {
      // A plain GET of a served stage is a WebSocket endpoint hit without upgrading.
      if (req.method == "GET" && path.size() > 1 &&
          ctx->served.current()->stages.contains(std::string(path.substr(1)))) {
        co_return with_header(text_response(426, "text/plain", "Upgrade Required\n"), "Upgrade", "websocket");
      }
      co_return with_request_id(forbidden());
    }
    auto resp = co_await mgmt->handle(req, parsed);
    ctx->counters.management_call(req.method, resp.status);
    ctx->log.info("management call", "method", req.method, "target", req.target, "status", resp.status, "remote",
                  address_of(req.remote_address));
    co_return with_request_id(std::move(resp));
  }

  // control_plane: an apigatewayv2 call, signed with the "apigateway" service when sigv4 is on.
  net::http_response control_plane(const net::incoming_request& req) {
    auto denied = check_signature(*ctx, req, "apigateway");
    net::http_response resp = denied ? std::move(*denied)
                                     : ctx->served.control_plane_call(req.method, req.target, req.body,
                                                                      system_clock_source::instance().now());
    ctx->log.info("control plane call", "method", req.method, "target", req.target, "status", resp.status);
    return with_request_id(std::move(resp));
  }

  // -- WebSocket upgrades --

  // upgrade: takes over the stream of an upgrade request (on the listener's strand): the
  // handshake runs on the strand the connection will live on. A plain socket moves onto that
  // strand; a TLS stream stays on the listener's executor and is driven from the strand (see
  // gateway/client_stream.hpp).
  void upgrade(net::upgraded_stream stream, net::incoming_request req) {
    auto [strand, shard] = conns->next_slot();
    std::optional<client_stream> own;
    if (auto* socket = std::get_if<tcp::socket>(&stream)) {
      boost::system::error_code ec;
      const auto protocol = socket->local_endpoint(ec).protocol();
      if (ec) return;
      const auto native = socket->release(ec);
      if (ec) return;
      socket_t moved(strand);
      moved.assign(protocol, native, ec);
      if (ec) return;
      own.emplace(std::move(moved));
    } else {
      own.emplace(socket_t(strand), std::move(std::get<std::unique_ptr<net::tls_connection>>(stream)));
    }
    asio::co_spawn(strand, handshake(shared_from_this(), std::move(*own), std::move(req), strand, shard),
                   [](const std::exception_ptr&) {});
  }

  // refuse: answers a handshake with `resp` and ends the connection.
  asio::awaitable<void> refuse(client_stream stream, net::http_response resp) {
    ctx->counters.connections_rejected.fetch_add(1);
    http::response<http::string_body> msg;
    msg.result(resp.status);
    msg.version(11);
    for (auto& h : resp.headers) msg.insert(h.name, h.value);
    msg.body() = std::move(resp.body);
    msg.keep_alive(false);
    msg.prepare_payload();
    boost::system::error_code ignored;
    if (!stream.is_tls()) {
      http_stream plain(std::move(stream.plain_socket()));
      plain.expires_after(ctx->opts.limits.write_timeout);
      co_await http::async_write(plain, msg, use_tuple);
      plain.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    // TLS: written through the TLS stream; a timer on this strand cuts a write that stalls.
    auto& tls = stream.tls_stream();
    auto done = std::make_shared<bool>(false);
    asio::steady_timer stall(co_await asio::this_coro::executor, ctx->opts.limits.write_timeout);
    stall.async_wait([done, socket = &tls.next_layer()](const boost::system::error_code& ec) {
      boost::system::error_code ignored_close;
      if (!ec && !*done) socket->close(ignored_close);
    });
    co_await http::async_write(tls, msg, use_tuple);
    *done = true;
    stall.cancel();
    tls.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // handshake: checks the upgrade, runs $connect (the handshake waits for it, spec §1.2), sends
  // the 101 and starts the session.
  asio::awaitable<void> handshake([[maybe_unused]] std::shared_ptr<doors> self, client_stream socket,
                                  net::incoming_request req, strand_t strand, std::size_t shard) {
    const auto q = req.target.find('?');
    const std::string_view path = std::string_view(req.target).substr(0, q);
    const std::string remote_ip = address_of(req.remote_address);
    const auto& opts = ctx->opts;

    if (ctx->stopping.load()) {
      co_await refuse(std::move(socket), text_response(503, "", ""));
      co_return;
    }
    std::optional<api_view> resolved;
    if (path.size() >= 2 && path.front() == '/') {
      if (auto name = percent_decode(path.substr(1))) resolved = ctx->served.stage(*name);
    }
    if (!resolved) {
      ctx->log.info("handshake refused: unknown stage", "path", path, "remote", remote_ip);
      auto resp = forbidden();
      resp.status = opts.choices.unknown_stage_status;
      co_await refuse(std::move(socket), std::move(resp));
      co_return;
    }
    if (net::find_header(req.headers, "Sec-WebSocket-Key").value_or("").empty()) {
      co_await refuse(std::move(socket), text_response(400, "text/plain", "Missing Sec-WebSocket-Key\n"));
      co_return;
    }
    if (net::find_header(req.headers, "Sec-WebSocket-Version").value_or("") != "13") {
      co_await refuse(std::move(socket), with_header(text_response(426, "", ""), "Sec-WebSocket-Version", "13"));
      co_return;
    }
    if (!new_connections.take(std::chrono::steady_clock::now())) {
      co_await refuse(std::move(socket), text_response(429, "application/json", R"({"message":"Too Many Requests"})"));
      co_return;
    }

    auto conn = std::make_shared<connection>(strand, shard, opts.limits.max_frame_bytes, std::move(socket));
    conn->id = new_request_id();
    conn->at_connect = std::move(*resolved);
    conn->connected_at = system_clock_source::instance().now();
    conn->domain_name = std::string(net::find_header(req.headers, "Host").value_or(""));
    auto& hs = conn->handshake;
    hs.headers = req.headers;
    hs.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
    hs.source_ip = remote_ip;
    const auto xff = net::find_header(req.headers, "X-Forwarded-For").value_or("");
    hs.forwarded_for = xff.empty() ? remote_ip : fmt::format("{}, {}", xff, remote_ip);
    hs.user_agent = std::string(net::find_header(req.headers, "User-Agent").value_or(""));

    net::http_headers extra;  // copied into the 101
    const api_config& api = *conn->at_connect.api;
    // The stage's access log: one CONNECT line with what the client was answered.
    const std::string request_id = new_request_id();
    const auto request_time = system_clock_source::instance().now();
    const auto access_log = [&](int status, int integration_status, std::string_view error) {
      const stage_config& stage = *conn->at_connect.stage;
      if (stage.access_log_format.empty()) return;
      auto e = access_event(*conn, api, stage, "CONNECT", request_time);
      e.request_id = request_id;
      e.route_key = "$connect";
      e.status = status;
      e.integration_status = integration_status;
      e.error = error;
      write_access_log(opts, stage.access_log_format, e);
    };
    if (const route_config* route = api.find_route("$connect")) {
      auto outcome =
          co_await ctx->integrations(conn->shard)
              .call(*conn, api, *conn->at_connect.stage, *route, event_kind::connect, "$connect", {}, request_id);
      if (outcome.timed_out) {
        ctx->log.warn("$connect timed out", "connection_id", conn->id);
        access_log(opts.choices.connect_timeout_status, 0, "Endpoint request timed out");
        co_await refuse_connection(*conn, text_response(opts.choices.connect_timeout_status, "", ""));
        co_return;
      }
      if (!outcome.response) {
        ctx->log.warn("$connect failed", "connection_id", conn->id, "error", outcome.error);
        access_log(opts.choices.connect_failure_status, 0, "Internal server error");
        co_await refuse_connection(*conn, text_response(opts.choices.connect_failure_status, "", ""));
        co_return;
      }
      if (outcome.response->status < 200 || outcome.response->status > 299) {
        ctx->log.info("$connect rejected", "connection_id", conn->id, "status", outcome.response->status);
        access_log(outcome.response->status, outcome.response->status, "");
        co_await refuse_connection(*conn, text_response(outcome.response->status, "", ""));
        co_return;
      }
      access_log(200, outcome.response->status, "");
      for (const auto& h : outcome.response->headers) {
        if (net::iequals(h.name, "Sec-WebSocket-Protocol") || net::iequals(h.name, "Set-Cookie")) extra.push_back(h);
      }
    } else {
      access_log(200, 0, "");
    }

    // Accept: no extensions (permessage-deflate stays off), masking required (Beast's server role).
    auto& ws = conn->ws;
    websocket::stream_base::timeout to{};
    to.handshake_timeout = opts.limits.handshake_timeout;
    to.idle_timeout = websocket::stream_base::none();
    to.keep_alive_pings = false;
    ws.set_option(to);
    ws.set_option(websocket::stream_base::decorator(make_decorator(std::move(extra))));
    ws.read_message_max(opts.limits.max_message_bytes);
    ws.auto_fragment(false);
    // Registered before the 101 goes out, so a backend that posts as soon as the client sees the
    // 101 finds the connection (the data waits in the queue until the writer starts).
    conns->add(conn);
    auto [aec] = co_await ws.async_accept(upgrade_request(req), use_tuple);
    if (aec) {
      conns->remove(conn->id);
      // The client went away during $connect; it was accepted by the integration, so it gets its
      // $disconnect.
      ctx->log.info("handshake failed after $connect", "connection_id", conn->id, "error", aec.message());
      co_await conns->fire_disconnect(*conn, close_cause("client", 1006, ""));
      co_return;
    }
    // The client's headers and query mattered for $connect only (spec §3.2-3.3); the session runs
    // on completion handlers of its own, so this frame (the request) ends now.
    net::http_headers().swap(conn->handshake.headers);
    std::string().swap(conn->handshake.query);
    ws.set_option(websocket::stream_base::decorator(make_decorator(net::http_headers())));  // drops the copied headers
    conns->start(conn);
  }

  // refuse_connection: answers a handshake the $connect integration refused.
  asio::awaitable<void> refuse_connection(connection& conn, net::http_response resp) {
    co_await refuse(std::move(beast::get_lowest_layer(conn.ws)), std::move(resp));
  }

  std::shared_ptr<context> ctx;
  std::shared_ptr<sessions> conns;
  std::shared_ptr<management_api> mgmt;
  rate_limit new_connections;
};

front_door::front_door(asio::any_io_executor ex, std::shared_ptr<context> ctx, std::shared_ptr<sessions> conns,
                       std::shared_ptr<management_api> mgmt)
    : doors_(std::make_shared<doors>(ctx, std::move(conns), std::move(mgmt))) {
  const auto& opts = ctx->opts;
  net::http_server_options so;
  so.address = opts.address;
  so.port = opts.port;
  so.read_timeout = opts.limits.handshake_timeout;
  so.write_timeout = opts.limits.write_timeout;
  so.max_body_bytes = k_max_http_body;
  so.max_header_bytes = k_max_http_header;
  so.max_connections = std::numeric_limits<std::size_t>::max();  // WebSocket connections leave the listener's count
  so.error_response = server_error;
  so.drain_bytes = k_max_drain_bytes;
  so.drain_time = k_drain_time;
  so.on_upgrade = [d = doors_](net::upgraded_stream stream, net::incoming_request req) {
    d->upgrade(std::move(stream), std::move(req));
  };
  ex_ = std::move(ex);
  options_ = std::move(so);
}

front_door::~front_door() = default;

result<void> front_door::start(std::shared_ptr<net::server_tls> tls) {
  auto so = options_;
  so.tls = std::move(tls);
  server_ = std::make_unique<net::http_server>(
      ex_, [d = doors_](net::incoming_request req) { return d->request(d, std::move(req)); }, std::move(so));
  return server_->start();
}

std::uint16_t front_door::port() const noexcept {
  return server_ ? server_->port() : 0;
}

void front_door::stop_accepting() {
  if (server_) server_->stop_accepting();
}

}  // namespace apigw::gateway::detail
