// The HTTP/1.1 server helper: an accept loop on its own strand, and per connection one coroutine
// on a strand of its own that reads a request, awaits the handler, writes the response, and loops
// while the connection is kept alive. Every read and write has a deadline (Beast tcp_stream; for TLS
// connections a timer of their own, see tls_io).
#include "apigw/net/http_server.hpp"

#include "net/beast_convert.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace apigw::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// session_control: what stop() needs to reach a live connection: its strand and its socket
// (the pointer is set and cleared on that strand only).
struct session_control {
  explicit session_control(asio::strand<asio::any_io_executor> s) : strand(std::move(s)) {}
  asio::strand<asio::any_io_executor> strand;
  tcp::socket* socket = nullptr;
};

http::response<http::string_body> to_beast(http_response&& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> out;
  out.result(r.status);
  out.version(version);
  for (auto& h : r.headers) out.insert(h.name, h.value);
  out.body() = std::move(r.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

http_response plain_error(unsigned status, std::string_view text) {
  return http_response{status, {{"Content-Type", "text/plain"}}, std::string(text)};
}

// plain_io: a plain connection; Beast's tcp_stream keeps the deadlines.
class plain_io {
 public:
  explicit plain_io(tcp::socket s) : stream_(std::move(s)) {}
  beast::tcp_stream& io() { return stream_; }
  tcp::socket& socket() { return stream_.socket(); }
  void expires_after(std::chrono::milliseconds d) { stream_.expires_after(d); }
  void expires_never() { stream_.expires_never(); }
  auto read_raw(asio::mutable_buffer b) { return stream_.async_read_some(b, use_tuple); }
  upgraded_stream release() { return stream_.release_socket(); }

 private:
  beast::tcp_stream stream_;
};

// tls_io: a TLS connection (Asio's ssl::stream on the bare socket, so that it can be handed over
// as it is) and a timer that closes the socket when a step's deadline passes. Used on the
// connection's strand only; a wake-up acts only if no later deadline was set since (generation).
class tls_io {
 public:
  tls_io(std::unique_ptr<tls_connection> c, const asio::strand<asio::any_io_executor>& strand)
      : conn_(std::move(c)), timer_(strand), guard_(std::make_shared<guard>()) {
    guard_->socket = &conn_->stream.next_layer();
  }
  ~tls_io() { guard_->socket = nullptr; }
  tls_io(const tls_io&) = delete;
  tls_io& operator=(const tls_io&) = delete;

  tls_stream& io() { return conn_->stream; }
  tcp::socket& socket() { return conn_->stream.next_layer(); }
  void expires_after(std::chrono::milliseconds d) {
    const std::uint64_t gen = ++guard_->generation;
    timer_.expires_after(d);
    timer_.async_wait([g = guard_, gen](const boost::system::error_code& ec) {
      if (ec || g->socket == nullptr || g->generation != gen) return;
      boost::system::error_code ignored;
      g->socket->close(ignored);
    });
  }
  void expires_never() {
    ++guard_->generation;
    timer_.cancel();
  }
  auto read_raw(asio::mutable_buffer b) { return socket().async_read_some(b, use_tuple); }
  upgraded_stream release() {
    expires_never();
    guard_->socket = nullptr;
    return std::move(conn_);
  }

 private:
  struct guard {
    tcp::socket* socket = nullptr;
    std::uint64_t generation = 0;
  };
  std::unique_ptr<tls_connection> conn_;
  asio::steady_timer timer_;
  std::shared_ptr<guard> guard_;
};

// plain_http_on_tls: the TLS handshake failed because the client sent a plain HTTP request.
bool plain_http_on_tls(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST;
}

}  // namespace

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor e, request_handler h, http_server_options o)
      : ex(std::move(e)),
        handler(std::move(h)),
        opts(std::move(o)),
        accept_strand(asio::make_strand(ex)),
        acceptor(accept_strand) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    try {
      for (;;) {
        auto conn_strand = asio::make_strand(ex);
        auto [ec, socket] = co_await acceptor.async_accept(conn_strand, use_tuple);
        if (ec) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
          // Out of descriptors or a connection reset before accept: back off a little.
          asio::steady_timer pause(accept_strand, std::chrono::milliseconds(10));
          co_await pause.async_wait(use_tuple);
          continue;
        }
        if (active.load() >= opts.max_connections) {
          boost::system::error_code ignored;
          socket.close(ignored);
          continue;
        }
        active.fetch_add(1);
        accepted.fetch_add(1);
        // The completion handler frees the connection's slot however the session ended.
        asio::co_spawn(conn_strand, run_session(self, std::move(socket), conn_strand),
                       [self](const std::exception_ptr&) { self->active.fetch_sub(1); });
      }
    } catch (const std::exception&) {
      // The accept loop ends; the server stays up for connections already open.
    }
  }

  // run_session: one connection from accept to close. Never throws.
  asio::awaitable<void> run_session([[maybe_unused]] std::shared_ptr<impl> keep_alive, tcp::socket socket,
                                    asio::strand<asio::any_io_executor> strand) {
    auto control = std::make_shared<session_control>(strand);
    const std::uint64_t id = register_session(control);
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }
    try {
      if (opts.tls) {
        tls_io conn(std::make_unique<tls_connection>(opts.tls->current(), std::move(socket)), strand);
        control->socket = &conn.socket();
        if (!stopped.load()) {
          conn.expires_after(opts.handshake_timeout);
          auto [hec] = co_await conn.io().async_handshake(ssl::stream_base::server, use_tuple);
          conn.expires_never();
          if (!hec) {
            if (!co_await serve(conn, remote)) {
              conn.expires_after(std::chrono::seconds(1));
              co_await conn.io().async_shutdown(use_tuple);
              conn.expires_never();
            }
          } else if (plain_http_on_tls(hec)) {
            co_await answer_plain_http(conn);
          }
        }
        control->socket = nullptr;
      } else {
        plain_io conn(std::move(socket));
        control->socket = &conn.socket();
        const bool handed_off = !stopped.load() && co_await serve(conn, remote);
        control->socket = nullptr;
        if (!handed_off) {
          boost::system::error_code ignored;
          conn.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
      }
    } catch (const std::exception&) {
      control->socket = nullptr;
    }
    unregister_session(id);
  }

  // answer_plain_http: a plain HTTP request arrived where a TLS handshake was expected: a 400 in
  // clear text says so (what curl and browsers then show), then the connection ends.
  asio::awaitable<void> answer_plain_http(tls_io& conn) {
    static constexpr std::string_view body = "This port speaks TLS: use https:// (or wss://).\n";
    const std::string answer = fmt::format(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: "
        "{}\r\n\r\n{}",
        body.size(), body);
    conn.expires_after(opts.write_timeout);
    auto [ec, n] = co_await asio::async_write(conn.socket(), asio::buffer(answer), use_tuple);
    conn.expires_never();
    // The rest of the request may still be unread: drop it for a moment, so that closing does
    // not reset the connection before the client has read the answer.
    if (!ec) co_await drain(conn);
  }

  // serve: requests on one connection until it ends; true when the stream was handed to
  // on_upgrade (then the caller must leave it alone).
  template <class Conn>
  asio::awaitable<bool> serve(Conn& conn, const std::string& remote) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(opts.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
      parser.body_limit(opts.max_body_bytes);
      // Waiting for the request to start and reading all of it share the read_timeout (a slow
      // sender gets no more time than an idle one).
      conn.expires_after(opts.read_timeout);
      const auto ec = co_await read_request(conn.io(), buffer, parser);
      if (ec) {
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
          // A named local, not a temporary inside the co_await (GCC 12).
          auto answer = error_answer(ec == http::error::body_limit ? 413 : 431);
          const bool sent = co_await respond(conn, std::move(answer), 11, false);
          if (sent) co_await drain(conn);
        } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
          co_await respond(conn, error_answer(400), 11, false);
        }
        co_return false;
      }
      conn.expires_never();
      auto& msg = parser.get();
      const bool keep_alive = msg.keep_alive() && accepting.load();
      const unsigned version = msg.version();
      const bool head = msg.method() == http::verb::head;
      const bool upgrade = opts.on_upgrade && beast::websocket::is_upgrade(msg);
      incoming_request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.headers = detail::to_headers(msg.base());
      req.body = std::move(msg.body());
      req.remote_address = remote;
      if (upgrade) {
        if (stopped.load()) co_return false;
        opts.on_upgrade(conn.release(), std::move(req));
        co_return true;
      }

      std::optional<http_response> resp;
      try {
        resp = co_await handler(std::move(req));
      } catch (const std::exception&) {
        resp = plain_error(500, "internal error\n");
      }
      if (!resp || stopped.load()) co_return false;
      if (!co_await respond(conn, std::move(*resp), version, keep_alive, head)) co_return false;
      if (!keep_alive) co_return false;
    }
  }

  // error_answer: the server's own answer with `status` (see http_server_options::error_response).
  http_response error_answer(unsigned status) const {
    if (opts.error_response) return opts.error_response(status);
    switch (status) {
      case 413:
        return plain_error(413, "request body too large\n");
      case 431:
        return plain_error(431, "request header fields too large\n");
      default:
        return plain_error(status, "bad request\n");
    }
  }

  // read_request: reads one request into `parser`: the header (at most max_header_bytes in all),
  // then the body. Beast 1.81's header_limit bounds only the part of the header not parsed yet:
  // fields that arrive in several reads are consumed one by one and the total is never checked,
  // so the total is counted here (async_read_some reports the bytes the parser consumed).
  template <class Stream>
  asio::awaitable<boost::system::error_code> read_request(Stream& stream, beast::flat_buffer& buffer,
                                                          http::request_parser<http::string_body>& parser) {
    parser.eager(false);  // stop at the end of the header (async_read below reads the body)
    std::size_t header_bytes = 0;
    while (!parser.is_header_done()) {
      auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
      if (ec) co_return ec;
      header_bytes += n;
      if (header_bytes > opts.max_header_bytes) co_return http::error::header_limit;
    }
    if (parser.is_done()) co_return boost::system::error_code{};
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    co_return ec;
  }

  // respond: writes one response; for a HEAD request only its header (with the Content-Length
  // the body would have), since the client reads no body after it.
  template <class Conn>
  asio::awaitable<bool> respond(Conn& conn, http_response&& r, unsigned version, bool keep_alive, bool head = false) {
    auto msg = to_beast(std::move(r), version, keep_alive);
    conn.expires_after(opts.write_timeout);
    boost::system::error_code ec;
    if (head) {
      http::response_serializer<http::string_body> sr(msg);
      std::tie(ec, std::ignore) = co_await http::async_write_header(conn.io(), sr, use_tuple);
    } else {
      std::tie(ec, std::ignore) = co_await http::async_write(conn.io(), msg, use_tuple);
    }
    conn.expires_never();
    co_return !ec;
  }

  // drain: after an error response to a request that was not read to its end, stop sending and
  // read (and drop) what the client still sends, for a moment (drain_bytes, drain_time): closing a socket with unread
  // data sends a reset, which can destroy the response before the client reads it.
  template <class Conn>
  asio::awaitable<void> drain(Conn& conn) {
    boost::system::error_code ignored;
    conn.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn.expires_after(opts.drain_time);
    std::vector<char> sink(16 * 1024);
    for (std::size_t total = 0; total < opts.drain_bytes;) {
      auto [ec, n] = co_await conn.read_raw(asio::buffer(sink));
      if (ec) break;
      total += n;
    }
    conn.expires_never();
  }

  std::uint64_t register_session(const std::shared_ptr<session_control>& c) {
    std::lock_guard lock(mu);
    const std::uint64_t id = next_session_id++;
    sessions.emplace(id, c);
    return id;
  }

  void unregister_session(std::uint64_t id) {
    std::lock_guard lock(mu);
    sessions.erase(id);
  }

  void stop_accepting() {
    accepting.store(false);
    asio::post(accept_strand, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor.close(ignored);
    });
  }

  void stop() {
    std::vector<std::shared_ptr<session_control>> live;
    {
      std::lock_guard lock(mu);
      stopped.store(true);
      accepting.store(false);
      for (auto& [id, weak] : sessions) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    asio::post(accept_strand, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor.close(ignored);
    });
    for (auto& c : live) {
      asio::post(c->strand, [c] {
        boost::system::error_code ignored;
        if (c->socket != nullptr) c->socket->close(ignored);
      });
    }
  }

  asio::any_io_executor ex;
  request_handler handler;
  http_server_options opts;
  asio::strand<asio::any_io_executor> accept_strand;
  tcp::acceptor acceptor;
  std::atomic<std::uint16_t> port{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::size_t> active{0};
  std::atomic<bool> stopped{false};
  std::atomic<bool> accepting{true};  // false after stop_accepting(): no more keep-alive either
  std::mutex mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<session_control>> sessions;
  std::uint64_t next_session_id = 1;
};

http_server::http_server(asio::any_io_executor ex, request_handler handler, http_server_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(handler), std::move(options))) {}

http_server::~http_server() {
  impl_->stop();
}

result<void> http_server::start() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->opts.address, ec);
  if (ec) {
    return failure{error::invalid_url, fmt::format("listen address \"{}\" is not an IP address", impl_->opts.address)};
  }
  const tcp::endpoint endpoint(address, impl_->opts.port);
  auto& acceptor = impl_->acceptor;
  const auto fail = [&](std::string_view step) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return failure{error::bind_failed,
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
  auto self = impl_;
  asio::co_spawn(impl_->accept_strand, self->accept_loop(), [](const std::exception_ptr&) {});
  return ok();
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port.load();
}

void http_server::stop_accepting() {
  impl_->stop_accepting();
}

void http_server::stop() {
  impl_->stop();
}

std::uint64_t http_server::connections_accepted() const noexcept {
  return impl_->accepted.load();
}

}  // namespace apigw::net
