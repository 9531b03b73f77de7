// tests/support/ws_client.hpp: a blocking WebSocket client for tests (plain ws:// on loopback),
// on its own io_context; every operation has a timeout, so a test that waits for a message that
// never comes fails instead of hanging.
#pragma once

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace apigw::testing {

namespace ws_client_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

// run_until: runs `io` until `done` is set or `timeout` passes; on a timeout, cancels `stream`'s
// socket and lets the cancelled operations finish, so nothing is left pending on `io`. Whether
// `done` was set.
template <class Stream>
bool run_until(asio::io_context& io, Stream& stream, bool& done, std::chrono::milliseconds timeout) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(deadline - std::chrono::steady_clock::now());
  if (!done) {
    beast::get_lowest_layer(stream).cancel();
    io.restart();
    io.run_for(1s);
  }
  return done;
}

// ws_client: connects to 127.0.0.1:`port` and upgrades `target` with `headers`.
class ws_client {
 public:
  ws_client(std::uint16_t port, const std::string& target, std::vector<std::pair<std::string, std::string>> headers)
      : ws_(io_) {
    beast::get_lowest_layer(ws_).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [n, v] : headers) req.set(n, v);
    }));
    bool done = false;
    ws_.async_handshake(response_, fmt::format("127.0.0.1:{}", port), target, [&](beast::error_code ec) {
      error_ = ec;
      done = true;
    });
    run_until(done, 10s);
  }
  // status: the handshake's HTTP status (101 when accepted).
  unsigned status() const { return response_.result_int(); }
  bool ok() const { return !error_ && status() == 101; }

  void send(const std::string& text) {
    bool done = false;
    ws_.async_write(asio::buffer(text), [&](beast::error_code ec, std::size_t) {
      error_ = ec;
      done = true;
    });
    run_until(done, 10s);
  }
  // read: the next message, or nullopt on timeout or error.
  std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
    beast::flat_buffer buf;
    bool done = false;
    beast::error_code err;
    ws_.async_read(buf, [&](beast::error_code ec, std::size_t) {
      err = ec;
      done = true;
    });
    if (!run_until(done, timeout) || err) return std::nullopt;
    return beast::buffers_to_string(buf.data());
  }
  void close() {
    bool done = false;
    ws_.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    run_until(done, 5s);
  }

 private:
  bool run_until(bool& done, std::chrono::milliseconds timeout) {
    return ws_client_detail::run_until(io_, ws_, done, timeout);
  }
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::error_code error_;
};

}  // namespace ws_client_detail

using ws_client_detail::run_until;
using ws_client_detail::ws_client;

}  // namespace apigw::testing
