// Private to the gateway: the stream a WebSocket client is connected by, under the frame guard:
// the bare socket of a ws:// client, or the TLS stream of a wss:// one (handed over by the
// listener after the TLS handshake and the upgrade request). Plain connections pay one null
// pointer for TLS being possible.
//
// For Beast it is the lowest layer (get_lowest_layer stops here): close(), async_wait() and
// beast_close_socket() act on the TCP socket underneath either way. A TLS stream runs its socket
// on the listener's executor; every operation the session starts carries the connection's strand
// as its associated executor (Beast binds the websocket stream's executor, which is ours), so
// completions run on the strand as for plain connections.
#pragma once

#include "apigw/net/tls.hpp"

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <memory>
#include <utility>

namespace apigw::gateway::detail {

template <class Socket>
class basic_client_stream {
 public:
  using executor_type = typename Socket::executor_type;

  explicit basic_client_stream(Socket&& socket) : socket_(std::move(socket)) {}
  // TLS: `placeholder` is an unopened socket on the connection's strand (its executor is the
  // stream's executor); the connection's bytes go through `tls`.
  basic_client_stream(Socket&& placeholder, std::unique_ptr<net::tls_connection> tls)
      : socket_(std::move(placeholder)), tls_(std::move(tls)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  bool is_tls() const noexcept { return tls_ != nullptr; }
  Socket& plain_socket() noexcept { return socket_; }
  net::tls_stream& tls_stream() noexcept { return tls_->stream; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->stream.async_read_some(buffers, std::forward<Token>(token));
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) return tls_->stream.async_write_some(buffers, std::forward<Token>(token));
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  // async_wait: waits until the TCP socket is readable. A TLS stream may hold decrypted bytes its
  // socket no longer shows, so the session never waits this way on one (see nothing_buffered).
  template <class Handler>
  void async_wait(boost::asio::socket_base::wait_type w, Handler&& handler) {
    if (tls_) {
      tls_->stream.next_layer().async_wait(w, std::forward<Handler>(handler));
    } else {
      socket_.async_wait(w, std::forward<Handler>(handler));
    }
  }

  void close(boost::system::error_code& ec) {
    if (tls_) {
      tls_->stream.next_layer().close(ec);
    } else {
      socket_.close(ec);
    }
  }

  bool is_open() const { return tls_ ? tls_->stream.next_layer().is_open() : socket_.is_open(); }

 private:
  Socket socket_;
  std::unique_ptr<net::tls_connection> tls_;
};

// beast_close_socket: what Beast's websocket timeouts call on the lowest layer.
template <class Socket>
void beast_close_socket(basic_client_stream<Socket>& s) {
  boost::system::error_code ignored;
  s.close(ignored);
}

// teardown / async_teardown: closing the WebSocket ends the TLS session (close_notify) or the TCP
// connection below.
template <class Socket>
void teardown(boost::beast::role_type role, basic_client_stream<Socket>& s, boost::system::error_code& ec) {
  if (s.is_tls()) {
    boost::beast::teardown(role, s.tls_stream(), ec);
  } else {
    boost::beast::websocket::teardown(role, s.plain_socket(), ec);
  }
}

template <class Socket, class Handler>
void async_teardown(boost::beast::role_type role, basic_client_stream<Socket>& s, Handler&& handler) {
  if (s.is_tls()) {
    boost::beast::async_teardown(role, s.tls_stream(), std::forward<Handler>(handler));
  } else {
    boost::beast::websocket::async_teardown(role, s.plain_socket(), std::forward<Handler>(handler));
  }
}

}  // namespace apigw::gateway::detail
