// src/net/client_connection.hpp (internal): one kept-alive connection of net::http_client_pool,
// plain or TLS, with the step timer that bounds each step of a request on it.
#pragma once

#include "apigw/net/url.hpp"

#include <sys/socket.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace apigw::net::detail {

// connection: one TCP (and maybe TLS) connection to an origin. Used by one request at a time;
// between requests it sits in its origin's idle list.
//
// Its socket runs on the pool's plain executor, and a request's write and read run inline in the
// caller's coroutine: no hop to another strand and back per request. What makes that safe without
// a strand is how a step's timeout cancels: the timer's handler never touches the socket object;
// under `guard` it only shuts the socket down (a syscall on a descriptor that `close` cannot take
// away meanwhile, as it takes `guard` too), which completes the pending operation with an error
// the request then reports as the timeout. Opening a connection (resolve, connect, TLS handshake)
// runs on the connection's strand, where its timer may cancel the resolver and close the socket.
struct connection {
  using executor = boost::asio::any_io_executor;
  using tcp = boost::asio::ip::tcp;
  using steady = std::chrono::steady_clock;

  connection(executor ex, boost::asio::ssl::context& tls_ctx, const origin& o, std::string k)
      : strand(boost::asio::make_strand(ex)), org(o), key(std::move(k)), timer(ex) {
    if (org.scheme == scheme::https) {
      tls.emplace(ex, tls_ctx);
    } else {
      plain.emplace(ex);
    }
  }

  tcp::socket& lowest() { return tls ? tls->next_layer() : *plain; }

  // peer_is_done: true when an idle connection can no longer be used: the peer closed it (a
  // zero-byte peek), sent unsolicited bytes, or the socket reports an error.
  bool peer_is_done() {
    if (buffer.size() != 0) return true;
    char byte = 0;
    const ssize_t n = ::recv(lowest().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    return true;
  }

  void close() {
    std::lock_guard lock(guard);
    closed = true;
    boost::system::error_code ignored;
    lowest().close(ignored);
  }

  boost::asio::strand<executor> strand;  // opening the connection only
  origin org;
  std::string key;
  std::optional<tcp::socket> plain;
  std::optional<boost::asio::ssl::stream<tcp::socket>> tls;
  boost::beast::flat_buffer buffer;
  bool connected = false;
  steady::time_point idle_since{};
  // deadline: the running request's overall deadline (steady::time_point::max() when it has
  // none); every step's expiry is capped by it. Set before the exchange starts.
  steady::time_point deadline = steady::time_point::max();

  // The step timer of an exchange (see the struct comment). `guard` orders the timer handler
  // against the exchange re-arming it, ending it, and `close`.
  std::mutex guard;
  boost::asio::steady_timer timer;  // guarded
  steady::time_point step_due{};    // guarded: when the current step times out
  std::uint64_t exchange_id = 0;    // guarded: bumped when an exchange ends; stale handlers see it
  bool timer_armed = false;         // guarded: a wait is pending
  bool timed_out = false;           // guarded: the timer shut the socket down in this exchange
  bool closed = false;              // guarded

  steady::time_point cap(std::chrono::milliseconds step) const {
    const auto now = steady::now();
    return deadline - now < step ? deadline : now + step;
  }

  // past_deadline: the request's own deadline (not a step timeout) has passed.
  bool past_deadline() const { return steady::now() >= deadline; }

  // begin_step: the current step may take `step` (capped by the deadline). The timer is armed
  // only when it is not already armed for an earlier time: a later expiry is picked up by the
  // handler when the earlier one fires, so a normal request arms it once and cancels it once.
  void begin_step(const std::shared_ptr<connection>& self, std::chrono::milliseconds step) {
    std::lock_guard lock(guard);
    step_due = cap(step);
    if (timer_armed && timer.expiry() <= step_due) return;
    arm_locked(self);
  }

  // reopen: closes the socket if open and opens it for `protocol`; false (with `ec`) on failure.
  bool reopen(const tcp& protocol, boost::system::error_code& ec) {
    std::lock_guard lock(guard);
    boost::system::error_code ignored;
    if (lowest().is_open()) lowest().close(ignored);
    lowest().open(protocol, ec);
    return !ec;
  }

  // fired: the step timer shut the socket down during this exchange.
  bool fired() {
    std::lock_guard lock(guard);
    return timed_out;
  }

  // end_exchange: the exchange is over: pending timer waits become stale. Returns whether the
  // timer shut the socket down during it.
  bool end_exchange() {
    std::lock_guard lock(guard);
    ++exchange_id;
    if (timer_armed) {
      timer_armed = false;
      timer.cancel();
    }
    const bool fired = timed_out;
    timed_out = false;
    return fired;
  }

 private:
  void arm_locked(const std::shared_ptr<connection>& self) {
    timer.expires_at(step_due);
    timer_armed = true;
    timer.async_wait([weak = std::weak_ptr<connection>(self), id = exchange_id](boost::system::error_code ec) {
      if (ec) return;
      if (auto c = weak.lock()) c->on_timer(c, id);
    });
  }

  void on_timer(const std::shared_ptr<connection>& self, std::uint64_t id) {
    std::lock_guard lock(guard);
    if (id != exchange_id || closed || !lowest().is_open()) return;
    if (steady::now() < step_due) {  // a later step moved the expiry: wait for it
      arm_locked(self);
      return;
    }
    timer_armed = false;
    timed_out = true;
    ::shutdown(lowest().native_handle(), SHUT_RDWR);
  }
};

}  // namespace apigw::net::detail
