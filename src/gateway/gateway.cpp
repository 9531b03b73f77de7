// The local API Gateway: listener, HTTP dispatch (@connections, /metrics, 426), the WebSocket
// session (reader, writer, watchdog and the sweeper that drives it), integration calls and the
// connection registry.
//
// Threading: every TCP connection runs on a strand of its own. A WebSocket connection's state
// (queue, closing flags, stream) is touched only on its strand; @connections handlers reach it by
// co_spawn-ing onto that strand. The registry and the counters are the only shared state
// (a mutex and atomics).
#include "apigw/gateway/gateway.hpp"

#include "apigw/core/clock.hpp"
#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "apigw/gateway/connections_path.hpp"
#include "apigw/gateway/error.hpp"
#include "apigw/net/error.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/sigv4/error.hpp"
#include "apigw/sigv4/verifier.hpp"
#include "gateway/control_plane.hpp"
#include "gateway/deadline.hpp"
#include "gateway/frame_guard.hpp"
#include "gateway/integration.hpp"
#include "gateway/metrics.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace apigw::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
// Every connection's I/O objects name their strand's type instead of any_io_executor: a strand
// does not fit any_io_executor's small-object buffer, so each type-erased copy (a socket, a
// timer, every pending operation's work guard) would be a heap allocation of its own.
using io_executor = asio::io_context::executor_type;
using strand_t = asio::strand<io_executor>;
using socket_t = asio::basic_stream_socket<tcp, strand_t>;
using http_stream = beast::basic_stream<tcp, strand_t>;
using timer_t = asio::basic_waitable_timer<steady, asio::wait_traits<steady>, strand_t>;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Requests on the HTTP side may carry a PostToConnection body a little over the limit (so it gets
// 413 PayloadTooLargeException rather than a dropped connection); beyond this, 413 and close.
constexpr std::size_t k_max_http_body = 4 * 1024 * 1024;
constexpr std::size_t k_max_http_header = 16 * 1024;
// After that 413 the client may still be writing its body: this much, for this long, is read and
// dropped, so that it reads the answer instead of a reset.
constexpr std::size_t k_max_drain_bytes = 64 * 1024 * 1024;
constexpr auto k_drain_time = std::chrono::seconds(5);
// A `due` time that never comes.
constexpr std::int64_t k_never = std::numeric_limits<std::int64_t>::max();

// ticks: a steady time as the integer stored in connection::due.
std::int64_t ticks(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// sweep_period: how often the sweeper looks at the connections' deadlines: an eighth of the
// shortest limit, between 5 ms and 1 s (625 ms with AWS's limits). A deadline is acted on at
// most one period late.
std::chrono::milliseconds sweep_period(const gateway_limits& l) {
  const auto shortest = std::min({l.idle_timeout, l.max_duration, l.write_timeout, l.close_timeout});
  return std::clamp<std::chrono::milliseconds>(shortest / 8, std::chrono::milliseconds(5),
                                               std::chrono::milliseconds(1000));
}

// Strands shared by the TCP connections, in turn (see impl::next_strand).
constexpr std::size_t k_connection_strands = 512;
// Bytes asked for per WebSocket read once a message has begun. A read for a new message asks for
// one byte, so an idle connection holds no read buffer at all (Beast's own frame buffer holds the
// rest of what arrived).
constexpr std::size_t k_read_chunk = 4096;

// logfmt_value: a value quoted when it holds spaces, quotes or '='.
std::string logfmt_value(std::string_view v) {
  if (!v.empty() && v.find_first_of(" \"=\t\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\t') ? ' ' : c;
  }
  return out + "\"";
}

// close_cause: why a connection ended, for $disconnect and the logs.
struct close_cause {
  close_cause(const char* n, std::uint16_t c, std::string r) : name(n), code(c), reason(std::move(r)) {}
  const char* name;  // a literal: client, idle, max_duration, delete, shutdown, protocol, error
  std::uint16_t code = 1005;
  std::string reason;
};

std::string new_id() {
  auto id = new_connection_id();
  return id ? std::move(*id) : std::string("AAAAAAAAAAAAAAA=");
}

std::string error_frame(std::string_view message, std::string_view connection_id, std::string_view request_id) {
  // The exact bytes AWS sends, odd spacing included (spec §1.4).
  return fmt::format(R"({{"message": "{}", "connectionId":"{}", "requestId":"{}"}})", message, connection_id,
                     request_id);
}

net::http_response json_error(unsigned status, std::string_view type, std::string_view body) {
  net::http_response r;
  r.status = status;
  r.headers.push_back({"x-amzn-ErrorType", std::string(type)});
  if (!body.empty()) {
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::string(body);
  }
  return r;
}

// text_response / with_header: response builders. (Kept out of coroutines: GCC 12 miscompiles
// braced initializer lists inside coroutine bodies.)
net::http_response text_response(unsigned status, std::string_view content_type, std::string body) {
  net::http_response r;
  r.status = status;
  if (!content_type.empty()) r.headers.push_back({"Content-Type", std::string(content_type)});
  r.body = std::move(body);
  return r;
}

net::http_response with_header(net::http_response r, std::string_view name, std::string_view value) {
  r.headers.push_back({std::string(name), std::string(value)});
  return r;
}

net::http_response forbidden() {
  return json_error(403, "ForbiddenException", R"({"message":"Forbidden"})");
}

net::http_response gone() {
  return json_error(410, "GoneException", "");
}

// plain_allocator: std::allocator under a type of its own. Asio takes handler memory from a
// per-thread recycling cache that hands out any cached block big enough, so a small operation
// that stays pending for minutes (an idle connection's socket wait or timer wait) can sit in a
// much bigger block. Bound to those handlers, this allocator gives them exactly their size.
template <class T>
struct plain_allocator {
  using value_type = T;
  plain_allocator() = default;
  template <class U>
  plain_allocator(const plain_allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  friend bool operator==(const plain_allocator&, const plain_allocator&) noexcept { return true; }
};

template <class Handler>
auto exact(Handler&& h) {
  return asio::bind_allocator(plain_allocator<void>(), std::forward<Handler>(h));
}

// io_executor_of: the io_context executor inside `ex` (the gateway runs on an io_context).
io_executor io_executor_of(const asio::any_io_executor& ex) {
  if (const auto* p = ex.target<io_executor>()) return *p;
  using tracked = decltype(asio::require(std::declval<io_executor>(), asio::execution::outstanding_work.tracked));
  if (const auto* p = ex.target<tracked>()) return asio::require(*p, asio::execution::outstanding_work.untracked);
  throw std::invalid_argument("apigw::gateway::gateway needs an io_context's executor");
}

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

// integration_outcome: what an integration request produced, or how it failed.
// (Built by the functions below, never by braced temporaries inside coroutines: GCC 12
// mishandles those.)
struct integration_outcome {
  std::optional<net::http_response> response;
  bool timed_out = false;
  std::string error;  // when no response
};

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

}  // namespace

// ---------------------------------------------------------------------------------------------
// served_state: the configuration being served and its stage index. Immutable; replaced as a
// whole when the control plane changes something, so a connection or a request in flight keeps
// the snapshot it holds alive.

struct served_state {
  gateway_config config;
  std::unordered_map<std::string, std::pair<const api_config*, const stage_config*>> stages;
};
using state_ptr = std::shared_ptr<const served_state>;

state_ptr make_state(gateway_config c) {
  auto st = std::make_shared<served_state>();
  st->config = std::move(c);
  for (const auto& api : st->config.apis) {
    for (const auto& [name, stage] : api.stages) st->stages.emplace(name, std::make_pair(&api, &stage));
  }
  return st;
}

// api_view: an API and stage, and the snapshot that keeps them alive.
struct api_view {
  state_ptr keep;
  const api_config* api = nullptr;
  const stage_config* stage = nullptr;
};

// ---------------------------------------------------------------------------------------------
// connection: one accepted WebSocket client.

// The WebSocket stream sits on the bare socket (no beast::tcp_stream: the watchdog owns every
// deadline) without permessage-deflate support compiled in: an idle connection is mostly this.
using ws_stream = websocket::stream<detail::frame_guard_stream<socket_t>, false>;

// connection: what one idle client costs is this object, a share of a strand, Beast's stream
// and one pending wait for its socket to become readable (no coroutine frame, no Beast read, no
// timer: one sweeper watches every connection's deadlines); the writer coroutine runs only while
// there is something to write.
struct connection : std::enable_shared_from_this<connection> {
  connection(strand_t s, std::uint64_t max_frame, socket_t&& socket)
      : strand(std::move(s)), ws(max_frame, std::move(socket)) {}

  // enqueue result for PostToConnection.
  enum class post_status { queued, full, closed };

  strand_t strand;
  ws_stream ws;
  // due: when the watchdog must next look at this connection (steady_clock ticks; the gateway's
  // sweeper reads it). Only ever lowered outside watch(), which sets it exactly.
  std::atomic<std::int64_t> due{k_never};
  std::atomic<bool> deleted{false};             // DeleteConnection was answered; the close is under way
  std::unique_ptr<beast::flat_buffer> message;  // the message being read; none while idle
  std::unique_ptr<std::string> held;            // a message waiting for a slot (the in-flight limit); reads pause

  std::string id;
  state_ptr state;  // keeps `api` and `stage` alive
  const api_config* api = nullptr;
  const stage_config* stage = nullptr;
  detail::handshake_info handshake;
  std::string domain_name;
  clock::time_point connected_at;
  std::atomic<std::int64_t> last_active_ms{0};

  // Strand-only state.
  struct outbound {
    std::string data;
    bool binary = false;
  };
  std::list<outbound> queue;  // (a std::deque allocates even when empty)
  std::size_t queued_bytes = 0;
  bool closing = false;        // a close was started (by us or the peer); nothing more is written
  bool finished = false;       // the session ended; the watchdog stops
  bool open = false;           // the 101 went out; close frames may be sent
  bool writing = false;        // a writer coroutine is draining the queue
  bool close_pending = false;  // `cause` was requested during the handshake
  std::optional<close_cause> cause;
  steady::time_point started{};
  steady::time_point last_activity{};
  std::optional<steady::time_point> write_started;
  std::optional<steady::time_point> close_deadline;  // when the close handshake must be over
  std::size_t inflight = 0;
  std::uint64_t delivered = 0;          // messages Beast has handed over
  std::uint64_t controls_consumed = 0;  // control frames Beast has processed

  void touch(bool data) {
    if (data) last_activity = steady::now();
    last_active_ms.store(unix_millis(system_clock_source::instance().now()));
  }
};

using connection_ptr = std::shared_ptr<connection>;

// connection_json: the GetConnection body (spec §5.1): ISO-8601 times, identity always present.
std::string connection_json(const connection& c) {
  json::object identity{{"sourceIp", c.handshake.source_ip}, {"userAgent", c.handshake.user_agent}};
  json::object body{{"connectedAt", format_iso8601(c.connected_at)},
                    {"identity", std::move(identity)},
                    {"lastActiveAt", format_iso8601(from_unix_millis(c.last_active_ms.load()))}};
  return json::serialize(body);
}

// ---------------------------------------------------------------------------------------------

struct gateway::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor e, gateway_config c, gateway_options o)
      : ex(std::move(e)),
        opts(std::move(o)),
        io_ex(io_executor_of(ex)),
        accept_strand(asio::make_strand(io_ex)),
        acceptor(accept_strand),
        new_connections(opts.limits.new_connections_per_second, opts.limits.new_connections_burst),
        management_calls(opts.limits.management_calls_per_second, opts.limits.management_calls_burst) {
    strands.reserve(k_connection_strands);
    for (std::size_t i = 0; i < k_connection_strands; ++i) strands.push_back(asio::make_strand(io_ex));
    net::client_pool_options po;
    po.timeouts.connect = opts.backend_connect_timeout;
    po.timeouts.read = std::chrono::milliseconds(30000);  // >= the 29 s integration maximum
    po.timeouts.write = std::chrono::milliseconds(30000);
    po.max_response_bytes = 10 * 1024 * 1024;
    po.max_connections_per_origin = opts.limits.integration_connections_per_origin;
    pool = std::make_shared<net::http_client_pool>(ex, po);
    // $connect and $disconnect have a pool of their own: a flood of slow message integrations
    // fills `pool` up to its per-origin cap, and a new client's handshake must not wait behind it.
    lifecycle_pool = std::make_shared<net::http_client_pool>(ex, po);
    control = std::make_unique<detail::control_plane>(c, system_clock_source::instance().now());
    state = make_state(std::move(c));
    req_opts.forwarded_proto = opts.choices.forwarded_proto;
    req_opts.forwarded_port = opts.choices.forwarded_port;
    req_opts.forward_client_headers = opts.choices.forward_client_headers;
    req_opts.json_content_type = opts.choices.json_content_type;
  }

  // -- logging --------------------------------------------------------------------------------

  // log: one logfmt line: ts, level, msg, then the key/value pairs `kv` (string-like, in pairs).
  template <class... KV>
  void log(std::string_view level, std::string_view msg, const KV&... kv) const {
    static_assert(sizeof...(KV) % 2 == 0, "log takes key/value pairs");
    if (!opts.log || (!opts.log_info && level == "info")) return;
    std::string line = fmt::format("ts={} level={} msg={}", format_iso8601(system_clock_source::instance().now()),
                                   level, logfmt_value(msg));
    const std::array<std::string_view, sizeof...(KV)> fields{std::string_view(kv)...};
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
      line += fmt::format(" {}={}", fields[i], logfmt_value(fields[i + 1]));
    opts.log(line);
  }

  // -- accept loop ----------------------------------------------------------------------------

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto conn_strand = next_strand();
      auto [ec, socket] = co_await acceptor.async_accept(conn_strand, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open() || stopping.load()) break;
        timer_t pause(accept_strand, std::chrono::milliseconds(10));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      asio::co_spawn(conn_strand, run_http(self, std::move(socket), conn_strand), [](const std::exception_ptr&) {});
    }
  }

  // run_http: one TCP connection: HTTP requests until one asks for an upgrade. Never throws out.
  asio::awaitable<void> run_http(std::shared_ptr<impl> self, socket_t socket, strand_t strand) {
    try {
      std::string remote_ip;
      {
        boost::system::error_code ec;
        auto ep = socket.remote_endpoint(ec);
        if (!ec) remote_ip = ep.address().to_string();
      }
      http_stream stream(std::move(socket));
      beast::flat_buffer buffer;
      for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(k_max_http_header);
        parser.body_limit(k_max_http_body);
        stream.expires_after(opts.limits.handshake_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (ec) {
          if (ec == http::error::body_limit) {
            co_await write_response(stream,
                                    with_request_id(json_error(413, "PayloadTooLargeException",
                                                               R"({"message":"Request Entity Too Large"})")),
                                    11, false);
            co_await drain(stream);
          } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                     ec.category() == http::make_error_code(http::error::bad_target).category()) {
            co_await write_response(stream, text_response(400, "text/plain", "Bad Request\n"), 11, false);
          }
          break;
        }
        stream.expires_never();
        auto req = parser.release();
        if (websocket::is_upgrade(req)) {
          co_await run_websocket(self, std::move(stream), std::move(req), remote_ip, strand);
          co_return;
        }
        const bool keep_alive = req.keep_alive();
        const bool head = req.method() == http::verb::head;
        auto resp = co_await handle_http(req, remote_ip);
        if (!co_await write_response(stream, std::move(resp), req.version(), keep_alive, head) || !keep_alive) break;
        if (stopping.load()) break;
      }
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } catch (const std::exception& e) {
      log("error", "http connection failed", "error", e.what());
    }
  }

  // drain: ends the sending side, then reads and drops what the client still sends (until it
  // closes, k_max_drain_bytes or k_drain_time). Closing a socket with unread data sends a reset,
  // and a client still writing a refused body would see that instead of the answer.
  asio::awaitable<void> drain(http_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(k_drain_time);
    std::vector<char> scratch(64 * 1024);
    std::size_t total = 0;
    while (total < k_max_drain_bytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
      total += n;
      if (ec) break;
    }
    stream.expires_never();
  }

  // write_response: one response; to a HEAD request only its header (the client reads no body
  // after it, so a body would corrupt the next response on a kept-alive connection).
  asio::awaitable<bool> write_response(http_stream& stream, net::http_response r, unsigned version, bool keep_alive,
                                       bool head = false) {
    http::response<http::string_body> msg;
    msg.result(r.status);
    msg.version(version);
    for (auto& h : r.headers) msg.insert(h.name, h.value);
    msg.body() = std::move(r.body);
    msg.keep_alive(keep_alive);
    msg.prepare_payload();
    stream.expires_after(opts.limits.write_timeout);
    boost::system::error_code ec;
    if (head) {
      http::response_serializer<http::string_body> sr(msg);
      std::tie(ec, std::ignore) = co_await http::async_write_header(stream, sr, use_tuple);
    } else {
      std::tie(ec, std::ignore) = co_await http::async_write(stream, msg, use_tuple);
    }
    stream.expires_never();
    co_return !ec;
  }

  // -- HTTP requests (not upgrades) -------------------------------------------------------------

  asio::awaitable<net::http_response> handle_http(const http::request<http::string_body>& req,
                                                  const std::string& remote_ip) {
    const std::string target(req.target());
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));
    if (path == "/metrics" && req.method() == http::verb::get) {
      co_return text_response(200, "text/plain; version=0.0.4", metrics_.render());
    }
    if (path.starts_with("/v2/")) {
      auto resp = control_plane_call(req);
      log("info", "control plane call", "method", std::string(req.method_string()), "target", target, "status",
          std::to_string(resp.status));
      co_return with_request_id(std::move(resp));
    }
    auto parsed = parse_connections_path(target);
    if (!parsed && parsed.error() == error::not_connections_path) {
      // A plain GET of a served stage is a WebSocket endpoint hit without upgrading.
      if (req.method() == http::verb::get && path.size() > 1 &&
          current()->stages.contains(std::string(path.substr(1)))) {
        co_return with_header(text_response(426, "text/plain", "Upgrade Required\n"), "Upgrade", "websocket");
      }
      co_return with_request_id(forbidden());
    }
    const std::string method(req.method_string());
    auto resp = co_await handle_management(req, parsed);
    metrics_.management_call(method, resp.status);
    log("info", "management call", "method", method, "target", target, "status", std::to_string(resp.status), "remote",
        remote_ip);
    co_return with_request_id(std::move(resp));
  }

  net::http_response with_request_id(net::http_response r) {
    r.headers.push_back({"x-amzn-RequestId", new_id()});
    return r;
  }

  // check_signature: nullopt when the call may proceed; otherwise AWS's 403.
  std::optional<net::http_response> check_signature(const http::request<http::string_body>& req,
                                                    std::string_view service) {
    if (opts.auth != auth_mode::sigv4) return std::nullopt;
    sigv4::request sr;
    sr.method = std::string(req.method_string());
    const std::string target(req.target());
    const auto q = target.find('?');
    sr.path = target.substr(0, q);
    if (q != std::string::npos) sr.query = target.substr(q + 1);
    for (const auto& f : req) sr.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    sr.body = req.body();
    sigv4::verify_params p;
    const auto st = current();
    p.service = std::string(service);
    p.region = st->config.region;
    p.now = system_clock_source::instance().now();
    auto v = sigv4::verify(sr, sigv4::static_keys(st->config.keys), p);
    if (v) return std::nullopt;
    log("warn", "signature rejected", "error", v.error().message);
    if (v.error() == sigv4::error::missing_authorization) {
      return json_error(403, "MissingAuthenticationTokenException", R"({"message":"Missing Authentication Token"})");
    }
    if (v.error() == sigv4::error::unknown_access_key || v.error() == sigv4::error::invalid_security_token ||
        v.error() == sigv4::error::missing_security_token) {
      return json_error(403, "UnrecognizedClientException",
                        R"({"message":"The security token included in the request is invalid."})");
    }
    return json_error(403, "InvalidSignatureException",
                      R"({"message":"The request signature we calculated does not match the signature you provided. )"
                      R"(Check your AWS Secret Access Key and signing method. Consult the service documentation for )"
                      R"(details."})");
  }

  asio::awaitable<net::http_response> handle_management(const http::request<http::string_body>& req,
                                                        const result<connections_target>& parsed) {
    if (auto denied = check_signature(req, "execute-api")) co_return std::move(*denied);
    if (!management_calls.take(steady::now())) co_return json_error(429, "LimitExceededException", "");
    const auto method = req.method();
    if (method != http::verb::post && method != http::verb::get && method != http::verb::delete_) {
      co_return forbidden();
    }
    if (!parsed) co_return gone();  // malformed id (spec §5.2)
    if (parsed->stage.empty() || !current()->stages.contains(parsed->stage)) co_return forbidden();
    if (method == http::verb::post && req.body().size() > opts.limits.max_message_bytes) {
      co_return json_error(413, "PayloadTooLargeException",
                           fmt::format(R"({{"message":"Message payload is {} bytes; the limit is {} bytes"}})",
                                       req.body().size(), opts.limits.max_message_bytes));
    }
    connection_ptr conn = find(parsed->connection_id);
    if (!conn) co_return gone();
    if (opts.choices.cross_stage_gone && conn->stage->name != parsed->stage) co_return gone();

    if (method == http::verb::get) {
      co_return text_response(200, "application/json", connection_json(*conn));
    }
    if (method == http::verb::delete_) {
      // It stays registered (so the sweeper still watches its close) but is gone to callers.
      if (conn->deleted.exchange(true)) co_return gone();
      asio::post(conn->strand, [self = shared_from_this(), conn] {
        self->request_close(conn, close_cause("delete", self->opts.choices.delete_close_code, ""));
      });
      co_return text_response(204, "", "");
    }
    // POST: the body as one frame (text when UTF-8, binary otherwise unless configured).
    std::string data = req.body();
    const bool binary = opts.choices.binary_for_non_utf8_posts && !is_valid_utf8(data);
    const auto status =
        co_await asio::co_spawn(conn->strand, post_on_strand(conn, std::move(data), binary), asio::use_awaitable);
    switch (status) {
      case connection::post_status::queued:
        co_return text_response(200, "", "");
      case connection::post_status::full:
        co_return json_error(429, "LimitExceededException", "");
      case connection::post_status::closed:
        break;
    }
    co_return gone();
  }

  // post_on_strand: queues PostToConnection data; runs on the connection's strand. (A named
  // coroutine, not a capturing lambda: GCC 12 copies lambda temporaries of a coroutine bitwise.)
  asio::awaitable<connection::post_status> post_on_strand(connection_ptr conn, std::string data, bool binary) {
    co_return enqueue(*conn, std::move(data), binary, true);
  }

  // -- served configuration ---------------------------------------------------------------------

  state_ptr current() const {
    std::lock_guard lock(state_mu);
    return state;
  }

  // latest: the connection's API and stage as configured now, or as they were at its connect
  // when the control plane has since deleted them.
  api_view latest(const connection& conn) const {
    auto st = current();
    if (auto it = st->stages.find(conn.stage->name); it != st->stages.end() && it->second.first->id == conn.api->id) {
      return api_view{st, it->second.first, it->second.second};
    }
    return api_view{conn.state, conn.api, conn.stage};
  }

  // control_plane_call: an apigatewayv2 request; a change is served from the next request on.
  net::http_response control_plane_call(const http::request<http::string_body>& req) {
    if (auto denied = check_signature(req, "apigateway")) return std::move(*denied);
    auto a = control->handle(req.method_string(), req.target(), req.body(), system_clock_source::instance().now());
    if (a.changed) {
      auto next = make_state(control->build());
      std::lock_guard lock(state_mu);
      state = std::move(next);
    }
    if (req.method() != http::verb::get && a.response.status < 300) save_state();
    return std::move(a.response);
  }

  // save_state: rewrites the state file (a temporary file renamed over it, so a crash leaves
  // the old or the new one). Failures are logged; the change stays in memory.
  void save_state() {
    if (opts.state_file.empty()) return;
    std::lock_guard lock(save_mu);
    const auto tmp = std::filesystem::path(opts.state_file.string() + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << control->save();
      out.flush();
      if (!out) {
        log("error", "cannot write the state file", "file", tmp.string());
        return;
      }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, opts.state_file, ec);
    if (ec) log("error", "cannot replace the state file", "file", opts.state_file.string(), "error", ec.message());
  }

  // load_state: the state file's APIs replace the configuration's; a new file is written now.
  result<void> load_state() {
    if (opts.state_file.empty()) return ok();
    const auto& path = opts.state_file;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      save_state();
      log("info", "state file created", "file", path.string());
      return ok();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return failure{error::invalid_config, fmt::format("state file {} cannot be read", path.string())};
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    if (auto r = control->load(text); !r) {
      return failure{error::invalid_config,
                     fmt::format("state file {} is not usable: {} (it was left unchanged; fix it or move it away)",
                                 path.string(), r.error().message)};
    }
    auto next = make_state(control->build());
    {
      std::lock_guard lock(state_mu);
      state = std::move(next);
    }
    log("info", "state file loaded", "file", path.string(), "apis", std::to_string(current()->config.apis.size()));
    return ok();
  }

  // -- registry ---------------------------------------------------------------------------------

  connection_ptr find(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = registry.find(id);
    return it == registry.end() || it->second->deleted.load() ? nullptr : it->second;
  }

  // unregister: true when `id` was registered (and now is not).
  bool unregister(const std::string& id) {
    std::lock_guard lock(mu);
    return registry.erase(id) > 0;
  }

  // -- WebSocket --------------------------------------------------------------------------------

  // resolve_stage: the API and stage of a handshake path "/{stage}".
  std::optional<api_view> resolve_stage(std::string_view path) {
    if (path.size() < 2 || path.front() != '/') return std::nullopt;
    auto name = percent_decode(path.substr(1));
    if (!name) return std::nullopt;
    auto st = current();
    auto it = st->stages.find(*name);
    if (it == st->stages.end()) return std::nullopt;
    return api_view{st, it->second.first, it->second.second};
  }

  asio::awaitable<void> reject_handshake(http_stream& stream, net::http_response resp, unsigned version) {
    metrics_.connections_rejected.fetch_add(1);
    co_await write_response(stream, std::move(resp), version, false);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // refuse_connection: answers a handshake the $connect integration refused, through a stream
  // with timeouts again (the connection's own stream has none).
  asio::awaitable<void> refuse_connection(connection& conn, net::http_response resp, unsigned version) {
    http_stream stream(std::move(beast::get_lowest_layer(conn.ws)));
    co_await reject_handshake(stream, std::move(resp), version);
  }

  asio::awaitable<void> run_websocket(std::shared_ptr<impl> self, http_stream stream,
                                      http::request<http::string_body> req, std::string remote_ip, strand_t strand) {
    const std::string target(req.target());
    const auto q = target.find('?');
    const std::string_view path = std::string_view(target).substr(0, q);
    const unsigned version = req.version();

    if (stopping.load()) {
      co_await reject_handshake(stream, text_response(503, "", ""), version);
      co_return;
    }
    auto resolved = resolve_stage(path);
    if (!resolved) {
      log("info", "handshake refused: unknown stage", "path", path, "remote", remote_ip);
      auto resp = forbidden();
      resp.status = opts.choices.unknown_stage_status;
      co_await reject_handshake(stream, std::move(resp), version);
      co_return;
    }
    if (req[http::field::sec_websocket_key].empty()) {
      co_await reject_handshake(stream, text_response(400, "text/plain", "Missing Sec-WebSocket-Key\n"), version);
      co_return;
    }
    if (req[http::field::sec_websocket_version] != "13") {
      co_await reject_handshake(stream, with_header(text_response(426, "", ""), "Sec-WebSocket-Version", "13"),
                                version);
      co_return;
    }
    if (!new_connections.take(steady::now())) {
      co_await reject_handshake(stream, text_response(429, "application/json", R"({"message":"Too Many Requests"})"),
                                version);
      co_return;
    }

    auto conn = std::make_shared<connection>(strand, opts.limits.max_frame_bytes, stream.release_socket());
    conn->id = new_id();
    conn->state = resolved->keep;
    conn->api = resolved->api;
    conn->stage = resolved->stage;
    conn->connected_at = system_clock_source::instance().now();
    conn->domain_name = std::string(req[http::field::host]);
    auto& hs = conn->handshake;
    for (const auto& f : req) hs.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    hs.query = q == std::string::npos ? std::string() : target.substr(q + 1);
    hs.source_ip = remote_ip;
    const auto xff = req["X-Forwarded-For"];
    hs.forwarded_for = xff.empty() ? remote_ip : fmt::format("{}, {}", std::string_view(xff), remote_ip);
    hs.user_agent = std::string(req[http::field::user_agent]);

    // $connect: the handshake waits for the integration (spec §1.2).
    net::http_headers extra;  // copied into the 101
    if (const route_config* route = conn->api->find_route("$connect")) {
      auto outcome = co_await call_integration(*conn, *conn->api, *conn->stage, *route, detail::event_kind::connect,
                                               "$connect", {}, {});
      if (outcome.timed_out) {
        log("warn", "$connect timed out", "conn", conn->id);
        co_await refuse_connection(*conn, text_response(opts.choices.connect_timeout_status, "", ""), version);
        co_return;
      }
      if (!outcome.response) {
        log("warn", "$connect failed", "conn", conn->id, "error", outcome.error);
        co_await refuse_connection(*conn, text_response(opts.choices.connect_failure_status, "", ""), version);
        co_return;
      }
      if (outcome.response->status < 200 || outcome.response->status > 299) {
        log("info", "$connect rejected", "conn", conn->id, "status", std::to_string(outcome.response->status));
        co_await refuse_connection(*conn, text_response(outcome.response->status, "", ""), version);
        co_return;
      }
      for (const auto& h : outcome.response->headers) {
        if (net::iequals(h.name, "Sec-WebSocket-Protocol") || net::iequals(h.name, "Set-Cookie")) extra.push_back(h);
      }
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
    {
      std::lock_guard lock(mu);
      registry.emplace(conn->id, conn);
    }
    auto [aec] = co_await ws.async_accept(req, use_tuple);
    if (aec) {
      unregister(conn->id);
      // The client went away during $connect; it was accepted by the integration, so it gets its
      // $disconnect.
      log("info", "handshake failed after $connect", "conn", conn->id, "error", aec.message());
      co_await fire_disconnect(*conn, close_cause("client", 1006, ""));
      co_return;
    }
    // The client's headers and query mattered for $connect only (spec §3.2-3.3); the session runs
    // as a coroutine of its own, so this frame (the request, the HTTP read buffer) is freed now.
    net::http_headers().swap(conn->handshake.headers);
    std::string().swap(conn->handshake.query);
    ws.set_option(websocket::stream_base::decorator(make_decorator(net::http_headers())));  // drops the copied headers
    active_sessions.fetch_add(1);  // before the session starts, so shutdown() waits for this one too
    start_session(conn);
  }

  // start_session: an accepted connection (on its strand; the caller counted it in
  // active_sessions). From here on the session is driven by completion handlers, not a coroutine:
  // an idle connection is one pending read and one pending timer wait, no coroutine frames.
  void start_session(const connection_ptr& conn) {
    metrics_.connections_open.fetch_add(1);
    metrics_.connections_total.fetch_add(1);
    conn->started = steady::now();
    conn->touch(true);
    log("info", "connected", "conn", conn->id, "api", conn->api->id, "stage", conn->stage->name, "remote",
        conn->handshake.source_ip);
    std::weak_ptr<connection> weak = conn;
    const bool ping_resets_idle = opts.choices.ping_resets_idle;
    conn->ws.control_callback([weak, ping_resets_idle](websocket::frame_type kind, beast::string_view) {
      auto c = weak.lock();
      if (!c) return;
      ++c->controls_consumed;
      if (ping_resets_idle && kind == websocket::frame_type::ping) c->touch(true);
    });
    conn->open = true;
    start_writer(conn);  // for what was posted during the handshake
    watch(conn);
    if (conn->close_pending) {
      close_cause pending = std::move(*conn->cause);
      conn->cause.reset();
      conn->close_pending = false;
      request_close(conn, std::move(pending));
    }
    if (stopping.load()) request_close(conn, close_cause("shutdown", opts.choices.shutdown_close_code, "Going away"));
    start_read(conn);
  }

  // start_read: the next read. Between messages, when Beast holds no unread byte, the
  // connection waits for the socket to become readable: a small pending wait instead of Beast's
  // read operation, which is most of what an idle connection would otherwise cost.
  void start_read(const connection_ptr& conn) {
    if (!conn->message && !conn->closing && nothing_buffered(*conn)) {
      beast::get_lowest_layer(conn->ws).async_wait(
          socket_t::wait_read,
          exact([self = shared_from_this(), conn](const boost::system::error_code&) { self->read_now(conn); }));
      return;
    }
    read_now(conn);
  }

  // nothing_buffered: Beast has consumed every byte it read from the socket: what was read ends
  // at a frame boundary, and every complete frame (the messages handed over, the control frames
  // processed) is accounted for.
  static bool nothing_buffered(const connection& conn) {
    const auto& sc = conn.ws.next_layer().scanner();
    return sc.at_boundary() && sc.open_fragments() == 0 && sc.messages() == conn.delivered &&
           sc.controls() == conn.controls_consumed;
  }

  // read_now: a Beast read. Waiting for a new message asks for one byte, so no read buffer is
  // allocated until it arrives. (A failed socket wait lands here too, and this read reports it.)
  void read_now(const connection_ptr& conn) {
    if (!conn->message) conn->message = std::make_unique<beast::flat_buffer>();
    const std::size_t limit = conn->message->size() == 0 ? 1 : k_read_chunk;
    conn->ws.async_read_some(*conn->message, limit,
                             exact([self = shared_from_this(), conn](const boost::system::error_code& ec, std::size_t) {
                               self->on_read(conn, ec);
                             }));
  }

  // on_read: a read finished (strand only).
  void on_read(const connection_ptr& conn, const boost::system::error_code& ec) {
    auto& ws = conn->ws;
    if (ec) {
      if (!conn->cause) conn->cause = read_error_cause(ws, ec);
      end_session(conn);
      return;
    }
    if (ws.next_layer().scanner().oversize()) {
      request_close(conn, close_cause("protocol", 1009, "Frame too big"));
      conn->message.reset();
    } else if (ws.got_binary()) {
      request_close(conn, close_cause("protocol", 1003, "Binary frames are not supported"));
      conn->message.reset();
    } else if (ws.is_message_done()) {
      ++conn->delivered;
      std::string text = beast::buffers_to_string(conn->message->data());
      conn->message.reset();
      if (!conn->closing) {
        conn->touch(true);
        metrics_.messages_in.fetch_add(1);
        if (conn->inflight >= opts.limits.max_inflight_per_connection) {
          // Back-pressure: no more reads until a message in flight finishes (handle_message
          // resumes reading), so a client sending faster than its integrations answer waits.
          conn->held = std::make_unique<std::string>(std::move(text));
          return;
        }
        dispatch_message(conn, std::move(text));
      }
    }
    start_read(conn);
  }

  // read_error_cause: why a failed read ended the connection.
  static close_cause read_error_cause(ws_stream& ws, const boost::system::error_code& ec) {
    if (ec == websocket::error::closed) {
      const auto& r = ws.reason();
      const auto code =
          r.code == websocket::close_code::none ? std::uint16_t{1005} : static_cast<std::uint16_t>(r.code);
      return close_cause("client", code, std::string(r.reason.c_str()));
    }
    if (ec == websocket::error::message_too_big) return close_cause("protocol", 1009, "Message too big");
    if (ec == websocket::error::bad_frame_payload) return close_cause("protocol", 1007, "Invalid UTF-8");
    if (ec.category() == websocket::make_error_code(websocket::error::closed).category())
      return close_cause("protocol", 1002, ec.message());
    return close_cause("client", 1006, "");
  }

  // dispatch_message: one message to its route, as a coroutine of its own.
  void dispatch_message(const connection_ptr& conn, std::string text) {
    ++conn->inflight;
    asio::co_spawn(conn->strand, handle_message(shared_from_this(), conn, std::move(text)),
                   [](const std::exception_ptr&) {});
  }

  // resume_held: reading resumes once a message held back by the in-flight limit can go (or the
  // connection is closing and it is dropped).
  void resume_held(const connection_ptr& conn) {
    if (!conn->held) return;
    if (conn->closing) {
      conn->held.reset();
    } else if (conn->inflight < opts.limits.max_inflight_per_connection) {
      std::string text = std::move(*conn->held);
      conn->held.reset();
      dispatch_message(conn, std::move(text));
    } else {
      return;
    }
    start_read(conn);
  }

  // end_session: the connection is closed: no more posts, no more writes; then $disconnect
  // exactly once.
  void end_session(const connection_ptr& conn) {
    unregister(conn->id);
    conn->closing = true;
    conn->finished = true;
    conn->held.reset();
    boost::system::error_code ignored;
    beast::get_lowest_layer(conn->ws).close(ignored);
    metrics_.connections_open.fetch_sub(1);
    close_cause cause = conn->cause.value_or(close_cause("client", 1006, ""));
    metrics_.close_cause(cause.name);
    log("info", "closed", "conn", conn->id, "cause", cause.name, "code", std::to_string(cause.code));
    asio::co_spawn(conn->strand, finish_session(shared_from_this(), conn, std::move(cause)),
                   [](const std::exception_ptr&) {});
  }

  asio::awaitable<void> finish_session([[maybe_unused]] std::shared_ptr<impl> self, connection_ptr conn,
                                       close_cause cause) {
    co_await fire_disconnect(*conn, cause);
    active_sessions.fetch_sub(1);
  }

  // handle_message: routes one message and sends what the route produces (spec §2, §1.4).
  asio::awaitable<void> handle_message([[maybe_unused]] std::shared_ptr<impl> self, connection_ptr conn,
                                       std::string text) {
    try {
      // Routes as configured now (the control plane may have changed them since the connect).
      const api_view view = latest(*conn);
      const auto& api = *view.api;
      message_body message(std::move(text));  // parsed at most once, by whichever reader needs it first
      auto choice = select_route(api.route_selection, message,
                                 [&api](std::string_view key) { return api.find_route(key) != nullptr; });
      const std::string request_id = new_id();
      if (!choice.route_key) {
        enqueue(*conn, error_frame("Forbidden", conn->id, request_id), false, false);
      } else {
        const route_config& route = *api.find_route(*choice.route_key);
        auto outcome = co_await call_integration(*conn, api, *view.stage, route, detail::event_kind::message, route.key,
                                                 std::move(message), request_id);
        if (outcome.timed_out) {
          enqueue(*conn, error_frame("Endpoint request timed out", conn->id, request_id), false, false);
        } else if (!outcome.response || (opts.choices.error_frame_on_5xx && outcome.response->status >= 500)) {
          log("warn", "integration failed", "conn", conn->id, "route", route.key, "error",
              outcome.response ? fmt::format("status {}", outcome.response->status) : outcome.error);
          enqueue(*conn, error_frame("Internal server error", conn->id, request_id), false, false);
        } else if (route.two_way && !outcome.response->body.empty()) {
          auto& body = outcome.response->body;
          const bool binary = opts.choices.binary_for_non_utf8_posts && !is_valid_utf8(body);
          enqueue(*conn, std::move(body), binary, false);
        }
      }
    } catch (const std::exception& e) {
      log("error", "message handling failed", "conn", conn->id, "error", e.what());
    }
    --conn->inflight;
    resume_held(conn);
  }

  // call_integration: sends the route's integration request; never throws.
  asio::awaitable<integration_outcome> call_integration(connection& conn, const api_config& api,
                                                        const stage_config& stage, const route_config& route,
                                                        detail::event_kind kind, std::string route_key,
                                                        message_body body, std::string request_id,
                                                        const close_cause* cause = nullptr) {
    const integration_config* integ = api.integration_of(route);
    if (integ == nullptr) co_return outcome_failed("route has no integration", false);
    detail::integration_call call;
    call.api = &api;
    call.stage = &stage;
    call.integration = integ;
    call.kind = kind;
    call.route_key = std::move(route_key);
    call.connection_id = conn.id;
    call.request_id = request_id.empty() ? new_id() : std::move(request_id);
    if (kind == detail::event_kind::message) call.message_id = new_id();
    const auto now = system_clock_source::instance().now();
    call.trace_id = detail::new_trace_id(unix_millis(now) / 1000);
    call.domain_name = conn.domain_name;
    call.connected_at_ms = unix_millis(conn.connected_at);
    call.request_time_ms = unix_millis(now);
    call.handshake = &conn.handshake;
    call.body = std::move(body);
    if (cause != nullptr) {
      call.disconnect_status_code = cause->code;
      call.disconnect_reason = cause->reason;
    }
    auto req = detail::build_integration_request(call, req_opts);
    if (!req) co_return outcome_failed(req.error().message, false);

    // The integration timeout is the request's deadline in the pool: when it passes, the pool
    // closes the connection and its slot goes to the next call at once.
    net::request_options ro;
    ro.timeout = integ->timeout;
    const auto started = steady::now();
    const bool lifecycle = kind != detail::event_kind::message;
    auto answer = co_await (lifecycle ? lifecycle_pool : pool)->request(std::move(*req), ro);
    metrics_.integration_latency(steady::now() - started);
    if (!answer) co_return outcome_failed(answer.error().message, answer.error() == condition::timeout);
    co_return outcome_answered(std::move(*answer));
  }

  asio::awaitable<void> fire_disconnect(connection& conn, const close_cause& cause) {
    metrics_.disconnects_fired.fetch_add(1);
    const api_view view = latest(conn);
    const route_config* route = view.api->find_route("$disconnect");
    if (route == nullptr) co_return;
    auto outcome = co_await call_integration(conn, *view.api, *view.stage, *route, detail::event_kind::disconnect,
                                             "$disconnect", {}, {}, &cause);
    if (!outcome.response) log("warn", "$disconnect failed", "conn", conn.id, "error", outcome.error);
  }

  // enqueue: adds a frame to the connection's outbound queue (strand only), within its budget
  // (limits.max_outbound_bytes, counting the frame being written too, so a client that stops
  // reading fills it). Over the budget, a PostToConnection (`post`) is refused (the caller answers
  // 429) and the connection stays; a frame the gateway owes the client itself (a two-way reply,
  // an error frame) cannot be refused to anyone, so the client is a slow consumer and is closed.
  connection::post_status enqueue(connection& conn, std::string data, bool binary, bool post) {
    if (conn.closing) return connection::post_status::closed;
    if (conn.queued_bytes > 0 && conn.queued_bytes + data.size() > opts.limits.max_outbound_bytes) {
      if (post) return connection::post_status::full;
      close_slow_consumer(conn.shared_from_this());
      return connection::post_status::closed;
    }
    conn.queued_bytes += data.size();
    auto& frame = conn.queue.emplace_back();
    frame.data = std::move(data);
    frame.binary = binary;
    start_writer(conn.shared_from_this());
    return connection::post_status::queued;
  }

  // close_slow_consumer: drops what is queued (the frame being written stays with the writer) and
  // starts the close with 1008 "Slow consumer" (strand only). The close frame waits behind that
  // write; if the client does not take it within close_timeout, the watchdog cuts the socket.
  void close_slow_consumer(const connection_ptr& conn) {
    for (const auto& frame : conn->queue) conn->queued_bytes -= frame.data.size();
    conn->queue.clear();
    log("warn", "slow consumer closed", "conn", conn->id, "budget", std::to_string(opts.limits.max_outbound_bytes));
    request_close(conn, close_cause("slow_consumer", 1008, "Slow consumer"));
  }

  // start_writer: starts the writer unless it runs already or the 101 has not gone out yet
  // (strand only).
  void start_writer(const connection_ptr& conn) {
    if (conn->writing || !conn->open || conn->closing || conn->queue.empty()) return;
    conn->writing = true;
    asio::co_spawn(conn->strand, writer(shared_from_this(), conn), [](const std::exception_ptr&) {});
  }

  // writer: writes the queue out, one frame at a time, and ends when it is empty.
  asio::awaitable<void> writer([[maybe_unused]] std::shared_ptr<impl> self, connection_ptr conn) {
    auto& ws = conn->ws;
    while (!conn->closing && !conn->queue.empty()) {
      // Fields are moved one by one: GCC 12 copies an aggregate local of a coroutine bitwise,
      // which breaks a short (SSO) string.
      std::string data;
      data.swap(conn->queue.front().data);
      const bool binary = conn->queue.front().binary;
      conn->queue.pop_front();
      ws.binary(binary);
      conn->write_started = steady::now();
      lower_due(*conn, *conn->write_started + opts.limits.write_timeout);
      auto [ec, n] = co_await ws.async_write(asio::buffer(data), use_tuple);
      conn->write_started.reset();
      conn->queued_bytes -= data.size();
      if (ec) break;
      metrics_.messages_out.fetch_add(1);
      conn->touch(true);
    }
    conn->writing = false;
  }

  // lower_due: brings the connection's next look forward to `t` (never later).
  static void lower_due(connection& conn, steady::time_point t) {
    const auto want = ticks(t);
    auto cur = conn.due.load();
    while (want < cur && !conn.due.compare_exchange_weak(cur, want)) {
    }
  }

  // watch: the watchdog (strand only). Closes the connection at its idle or maximum-duration
  // deadline, cuts the socket when a write or the close handshake stalls, and otherwise records
  // the nearest deadline in `due`, where the sweeper finds it. Early calls are harmless: it
  // always recomputes from the connection's state.
  void watch(const connection_ptr& conn) {
    const auto& lim = opts.limits;
    detail::deadline_limits limits;
    limits.idle = lim.idle_timeout;
    limits.max_duration = lim.max_duration;
    limits.write_stall = lim.write_timeout;
    limits.close_wait = lim.close_timeout;
    for (;;) {
      if (conn->finished) return;
      const auto now = steady::now();
      if (conn->closing && !conn->close_deadline) conn->close_deadline = now + lim.close_timeout;
      detail::deadline_times times;
      times.started = conn->started;
      times.last_activity = conn->last_activity;
      times.write_started = conn->write_started;
      times.close_by = conn->close_deadline;
      times.closing = conn->closing;
      const auto d = detail::next_deadline(times, limits, now);
      if (d.verdict == detail::deadline_verdict::wait) {
        conn->due.store(ticks(d.next));
        return;
      }
      if (d.verdict == detail::deadline_verdict::close_idle) {
        request_close(conn, close_cause("idle", opts.choices.idle_close_code, opts.choices.timeout_close_reason));
        continue;
      }
      if (d.verdict == detail::deadline_verdict::close_max_duration) {
        request_close(
            conn, close_cause("max_duration", opts.choices.max_duration_close_code, opts.choices.timeout_close_reason));
        continue;
      }
      break;  // a write or the close handshake stalled
    }
    // Stalled: cut the socket; the read loop ends and $disconnect follows.
    if (!conn->cause) conn->cause = close_cause("error", 1006, "stalled");
    cut(*conn);
  }

  // cut: closes the connection's socket at once (strand only).
  static void cut(connection& conn) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(conn.ws).close(ignored);
  }

  // request_close: starts the close handshake with `cause` (strand only; once).
  void request_close(const connection_ptr& conn, close_cause cause) {
    if (conn->closing) return;
    if (!conn->open) {  // still in the handshake: close right after it
      if (!conn->close_pending) {
        conn->close_pending = true;
        conn->cause.emplace(std::move(cause));
      }
      return;
    }
    if (!conn->ws.is_open()) return;
    conn->closing = true;
    conn->cause = std::move(cause);
    conn->close_deadline = steady::now() + opts.limits.close_timeout;
    lower_due(*conn, *conn->close_deadline);
    websocket::close_reason reason;
    reason.code = conn->cause->code;
    reason.reason = conn->cause->reason;
    asio::co_spawn(
        conn->strand,
        [conn, reason]() -> asio::awaitable<void> {
          // Waits for a write in progress; the watchdog cuts the socket if that stalls.
          co_await conn->ws.async_close(reason, use_tuple);
        },
        [](const std::exception_ptr&) {});
    resume_held(conn);  // a read paused by the in-flight limit must see the close
  }

  // -- the sweeper --------------------------------------------------------------------------------

  // sweep_loop: every sweep period, wakes (on its strand) each connection whose `due` time has
  // come. One timer for the whole gateway instead of a pending timer per connection.
  asio::awaitable<void> sweep_loop() {
    auto self = shared_from_this();
    const auto period = sweep_period(opts.limits);
    while (sweeping.load()) {
      sweep_timer.expires_after(period);
      co_await sweep_timer.async_wait(use_tuple);
      if (sweeping.load()) sweep_once();
    }
  }

  void sweep_once() {
    const auto now = ticks(steady::now());
    std::vector<connection_ptr> woken;
    {
      std::lock_guard lock(mu);
      for (auto& [id, c] : registry) {
        if (c->due.load(std::memory_order_relaxed) > now) continue;
        c->due.store(k_never);  // watch() sets the next one
        woken.push_back(c);
      }
    }
    for (auto& c : woken) asio::post(c->strand, [self = shared_from_this(), c] { self->watch(c); });
  }

  void stop_sweeping() {
    sweeping.store(false);
    asio::post(accept_strand, [self = shared_from_this()] { self->sweep_timer.cancel(); });
  }

  // -- shutdown ---------------------------------------------------------------------------------

  void stop_accepting() {
    stopping.store(true);
    asio::post(accept_strand, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor.close(ignored);
    });
  }

  std::vector<connection_ptr> snapshot() {
    std::lock_guard lock(mu);
    std::vector<connection_ptr> out;
    out.reserve(registry.size());
    for (auto& [id, c] : registry) out.push_back(c);
    return out;
  }

  // next_strand: a strand for a new TCP connection, taken in turn from a fixed set. Connections
  // sharing a strand are only serialized with each other (their handlers are short and never
  // block); a strand of its own would cost every connection another allocation.
  strand_t next_strand() { return strands[next_strand_index.fetch_add(1) % strands.size()]; }

  asio::any_io_executor ex;
  io_executor io_ex;  // ex's io_context: connections get strands of it
  std::vector<strand_t> strands;
  std::atomic<std::size_t> next_strand_index{0};
  gateway_options opts;
  detail::request_options req_opts;
  strand_t accept_strand;
  tcp::acceptor acceptor;
  std::shared_ptr<net::http_client_pool> pool;            // message integrations
  std::shared_ptr<net::http_client_pool> lifecycle_pool;  // $connect and $disconnect
  std::unique_ptr<detail::control_plane> control;
  mutable std::mutex state_mu;
  std::mutex save_mu;
  state_ptr state;  // guarded by state_mu
  detail::rate_limit new_connections;
  detail::rate_limit management_calls;
  detail::metrics metrics_;
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active_sessions{0};
  std::mutex mu;
  // Keyed by a view of the connection's own id (the entry keeps the connection, so the key
  // stays valid), which spares each connection a second copy of its id.
  std::unordered_map<std::string_view, connection_ptr> registry;
  timer_t sweep_timer{accept_strand};
  std::atomic<bool> sweeping{true};
};

// ---------------------------------------------------------------------------------------------

gateway::gateway(asio::any_io_executor ex, gateway_config config, gateway_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(config), std::move(options))) {}

gateway::~gateway() {
  impl_->stop_accepting();
  impl_->stop_sweeping();
  for (auto& c : impl_->snapshot()) {
    asio::post(c->strand, [c] {
      boost::system::error_code ignored;
      beast::get_lowest_layer(c->ws).close(ignored);
    });
  }
}

result<void> gateway::start() {
  if (auto r = impl_->load_state(); !r) return r;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->opts.address, ec);
  if (ec) {
    return failure{net::error::invalid_url,
                   fmt::format("listen address \"{}\" is not an IP address", impl_->opts.address)};
  }
  const tcp::endpoint endpoint(address, impl_->opts.port);
  auto& acceptor = impl_->acceptor;
  const auto fail = [&](std::string_view step) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return failure{net::error::bind_failed,
                   fmt::format("cannot {} {}:{}: {}", step, impl_->opts.address, impl_->opts.port, ec.message())};
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  impl_->port.store(acceptor.local_endpoint(ec).port());
  impl_->log("info", "listening", "address", impl_->opts.address, "port", std::to_string(impl_->port.load()), "auth",
             impl_->opts.auth == auth_mode::sigv4 ? "sigv4" : "none");
  auto self = impl_;
  asio::co_spawn(impl_->accept_strand, self->accept_loop(), [](const std::exception_ptr&) {});
  asio::co_spawn(impl_->accept_strand, self->sweep_loop(), [](const std::exception_ptr&) {});
  return ok();
}

std::uint16_t gateway::port() const noexcept {
  return impl_->port.load();
}

asio::awaitable<void> gateway::shutdown(std::chrono::milliseconds grace) {
  auto self = impl_;
  self->log("info", "shutting down", "connections", std::to_string(self->active_sessions.load()));
  self->stop_accepting();
  for (auto& c : self->snapshot()) {
    asio::post(c->strand, [self, c] {
      self->request_close(c, close_cause("shutdown", self->opts.choices.shutdown_close_code, "Going away"));
    });
  }
  // Clients get `close_timeout` (at most half the grace) to answer the close; the rest are cut,
  // which ends their sessions and sends their $disconnect within the remaining grace.
  const auto start = steady::now();
  const auto soft = start + std::min<steady::duration>(self->opts.limits.close_timeout, grace / 2);
  const auto hard = start + grace;
  asio::steady_timer tick(co_await asio::this_coro::executor);
  bool cut_done = false;
  while (self->active_sessions.load() > 0 && steady::now() < hard) {
    if (!cut_done && steady::now() >= soft) {
      cut_done = true;
      for (auto& c : self->snapshot()) asio::post(c->strand, [c] { impl::cut(*c); });
    }
    tick.expires_after(std::chrono::milliseconds(10));
    co_await tick.async_wait(use_tuple);
  }
  self->stop_sweeping();
  self->pool->close();
  self->lifecycle_pool->close();
  self->log("info", "stopped", "left", std::to_string(self->active_sessions.load()));
}

gateway_stats gateway::stats() const {
  const auto& m = impl_->metrics_;
  return gateway_stats{m.connections_open.load(), m.connections_total.load(), m.messages_in.load(),
                       m.messages_out.load(), m.disconnects_fired.load()};
}

std::string gateway::metrics_text() const {
  return impl_->metrics_.render();
}

}  // namespace apigw::gateway
