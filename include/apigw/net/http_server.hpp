// apigw/net/http_server.hpp: a small HTTP/1.1 server: one listener, one coroutine per
// connection (on its own strand), keep-alive, a timeout on every read and write, and a handler
// coroutine per request. Tests build fake peers on it (the @connections server); the embedded
// backend server and the local gateway build on it too.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/net/http_message.hpp"
#include "apigw/net/tls.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace apigw::net {

// request_handler: answers one request. Returning std::nullopt closes the connection without an
// answer (a peer that drops the connection). An exception thrown by the handler becomes a 500.
using request_handler = std::function<boost::asio::awaitable<std::optional<http_response>>(incoming_request)>;

// upgraded_stream: the connection an upgrade handler takes over: the socket of a plain
// connection, or a TLS connection (handshake done) with the context it was made with.
using upgraded_stream = std::variant<boost::asio::ip::tcp::socket, std::unique_ptr<tls_connection>>;

// upgrade_handler: takes over a connection whose request asks for a protocol upgrade (a
// WebSocket handshake: `Connection: upgrade` with an `Upgrade` header). It receives the stream,
// positioned right after the request, and the request itself; the server no longer touches
// either. Called on the connection's strand; it must not block (start the owner's own work and
// return). Bytes the client sent after the upgrade request, before any answer, are dropped (a
// WebSocket client waits for the 101 before sending frames). The socket's executor is the
// server's; the owner may move a plain socket's descriptor onto an executor of its own, while a
// TLS connection's stream stays on it (completion handlers run on the executor associated with
// them, so an owner binds its strand to every operation it starts).
using upgrade_handler = std::function<void(upgraded_stream, incoming_request)>;

// http_server_options: where to listen and the limits.
struct http_server_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;                         // 0: the kernel picks a free port; see http_server::port()
  std::chrono::milliseconds read_timeout{30000};  // waiting for and reading one request (also the keep-alive idle time)
  std::chrono::milliseconds write_timeout{30000};  // writing one response
  std::size_t max_body_bytes = 1024 * 1024;        // larger requests get 413 and the connection is closed
  std::size_t max_header_bytes = 64 * 1024;        // request line + headers; larger: 431 and the connection is closed
  std::size_t max_connections = 4096;              // further connections are accepted and closed at once
  // tls: when set, every connection is TLS (https/wss) with the holder's current context at accept
  // time (net/tls.hpp: replace or reload it while the server runs). A connection whose TLS
  // handshake is not done within handshake_timeout is closed; a plain HTTP request gets a 400
  // saying the port speaks TLS.
  std::shared_ptr<server_tls> tls;
  std::chrono::milliseconds handshake_timeout{10000};
  // error_response: shapes the answers the server gives by itself: 400 to a request it cannot
  // parse, 413 to a body over max_body_bytes, 431 to a header over max_header_bytes. Unset: a
  // short text/plain answer.
  std::function<http_response(unsigned status)> error_response;
  // After a 413 or 431 the client may still be sending its request: up to drain_bytes of it, for
  // up to drain_time, is read and dropped, so that the client reads the answer instead of a reset.
  std::size_t drain_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds drain_time{500};
  // on_upgrade: when set, upgrade requests are handed to it instead of the request handler.
  upgrade_handler on_upgrade;
};

// A HEAD request is answered with the handler's status and headers (Content-Length included) and
// no body, so the next response on a kept-alive connection starts where the client expects it.
//
// http_server: see the file comment. Destroying it stops it; the handler must stay valid until
// the executor's io_context has stopped running or every connection has ended.
class http_server {
 public:
  // http_server: a server whose connections run on `ex`. Nothing is bound until start().
  http_server(boost::asio::any_io_executor ex, request_handler handler, http_server_options options = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // start: binds, listens and begins accepting. Fails with net::error::bind_failed (condition
  // unavailable) naming the address, or invalid_url when the address is not an IP literal.
  result<void> start();

  // port: the bound port (after start).
  std::uint16_t port() const noexcept;

  // stop_accepting: closes the listening socket; connections already open carry on (kept-alive
  // ones are closed after their next response). For a graceful shutdown: stop_accepting() first,
  // let the owner finish its work, then stop().
  void stop_accepting();

  // stop: stops accepting and closes every open connection (responses being written are cut).
  void stop();

  // connections_accepted: how many connections were accepted since start.
  std::uint64_t connections_accepted() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace apigw::net
