// The keep-alive HTTP/1.1 client pool: per-origin bookkeeping under one mutex; each request's
// exchange runs in the caller's coroutine, with one step timer per connection
// (net/client_connection.hpp).
#include "apigw/net/http_client_pool.hpp"

#include "net/beast_convert.hpp"
#include "net/client_connection.hpp"

#include <fmt/format.h>
#include <openssl/x509.h>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace apigw::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace detail {
bool is_timeout(const boost::system::error_code& ec) noexcept {
  return ec == beast::error::timeout || ec == asio::error::timed_out;
}
}  // namespace detail

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using detail::connection;
using connection_ptr = std::shared_ptr<connection>;
using acquire_handler = asio::any_completion_handler<void(boost::system::error_code, connection_ptr)>;

// waiter: a request waiting for a connection of an origin at its limit. (Handlers are moved with
// swap(): Asio 1.81's any_completion_handler move-assignment recurses.)
struct waiter {
  waiter(const asio::any_io_executor& ex, acquire_handler h) : timer(ex), handler(std::move(h)) {}
  asio::steady_timer timer;
  acquire_handler handler;
  bool done = false;  // guarded by the pool mutex; whoever sets it completes `handler`
};

struct origin_state {
  std::vector<connection_ptr> idle;  // most recently used last
  std::size_t open = 0;              // idle + busy + being opened
  std::deque<std::shared_ptr<waiter>> waiters;
};

// exchange_outcome: what one attempt on one connection produced.
struct exchange_outcome {
  result<http_response> response = failure{error::read_failed};
  bool written = false;   // at least one byte of the request went out
  bool reusable = false;  // the connection may carry another request
};

// complete: finishes an acquire outside the pool lock, resuming the waiting coroutine through its
// own executor (the pool executor `ex` only carries the hand-over).
void complete(const asio::any_io_executor& ex, acquire_handler h, boost::system::error_code ec, connection_ptr c) {
  auto handler_ex = asio::get_associated_executor(h);
  asio::post(ex, asio::bind_executor(handler_ex, [h = std::move(h), ec, c = std::move(c)]() mutable {
               std::move(h)(ec, std::move(c));
             }));
}

}  // namespace

struct http_client_pool::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor e, client_pool_options o) : ex(std::move(e)), opts(std::move(o)) {
    tls_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (opts.max_connections_per_origin == 0) opts.max_connections_per_origin = 1;
  }

  // load_trust_store: loads the system CAs (and extra_ca_pem) on the first https connection, so
  // pools that only speak http never parse the CA bundle. Returns the setup error, if any.
  const std::string& load_trust_store() {
    std::call_once(tls_once, [this] {
      boost::system::error_code ec;
      tls_ctx.set_default_verify_paths(ec);
      if (ec) tls_setup_error = "cannot load the system CA certificates: " + ec.message();
      if (!opts.extra_ca_pem.empty()) {
        tls_ctx.add_certificate_authority(asio::buffer(opts.extra_ca_pem), ec);
        if (ec) tls_setup_error = "cannot load extra_ca_pem: " + ec.message();
      }
    });
    return tls_setup_error;
  }

  connection_ptr new_connection(const origin& o, const std::string& key) {
    return std::make_shared<connection>(ex, tls_ctx, o, key);
  }

  // acquire: an idle connection, a new (unconnected) one, or a place in line.
  // A place in line lasts until `wait_until` at most.
  template <class Token>
  auto async_acquire(const origin& o, const std::string& key, steady::time_point wait_until, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, connection_ptr)>(
        [self = shared_from_this(), &o, &key, wait_until](auto handler) {
          self->start_acquire(o, key, wait_until, acquire_handler(std::move(handler)));
        },
        token);
  }

  // take_locked: an idle connection that is still usable, or a new (unconnected) one while the
  // origin is below its limit; null when the origin is at its limit. Called with `mu` held;
  // connections found dead are moved to `to_close`.
  connection_ptr take_locked(origin_state& st, const origin& o, const std::string& key,
                             std::vector<connection_ptr>& to_close) {
    const auto now = steady::now();
    while (!st.idle.empty()) {
      connection_ptr c = std::move(st.idle.back());
      st.idle.pop_back();
      if (now - c->idle_since < opts.timeouts.idle && !c->peer_is_done()) return c;
      --st.open;
      stale_replaced.fetch_add(1, std::memory_order_relaxed);
      to_close.push_back(std::move(c));
    }
    if (st.open < opts.max_connections_per_origin) {
      ++st.open;
      return new_connection(o, key);
    }
    return nullptr;
  }

  // try_acquire: the fast path of acquire, without waiting or posting: a connection, or null
  // with `closed_pool` telling whether the pool was closed or the origin is at its limit.
  connection_ptr try_acquire(const origin& o, const std::string& key, bool& closed_pool) {
    std::vector<connection_ptr> to_close;
    connection_ptr got;
    {
      std::lock_guard lock(mu);
      closed_pool = closed;
      if (!closed) got = take_locked(origins[key], o, key, to_close);
    }
    for (auto& c : to_close) c->close();
    return got;
  }

  void start_acquire(const origin& o, const std::string& key, steady::time_point wait_until, acquire_handler handler) {
    std::vector<connection_ptr> to_close;
    connection_ptr got;
    {
      std::lock_guard lock(mu);
      if (closed) {
        complete(ex, std::move(handler), error::pool_closed, nullptr);
        return;
      }
      origin_state& st = origins[key];
      got = take_locked(st, o, key, to_close);
      if (!got) {
        auto w = std::make_shared<waiter>(ex, std::move(handler));
        w->timer.expires_at(wait_until);
        w->timer.async_wait([self = shared_from_this(), w, key](boost::system::error_code ec) {
          if (!ec) self->expire_waiter(key, w);
        });
        st.waiters.push_back(std::move(w));
      }
    }
    for (auto& c : to_close) c->close();
    if (got) complete(ex, std::move(handler), {}, std::move(got));
  }

  void expire_waiter(const std::string& key, const std::shared_ptr<waiter>& w) {
    acquire_handler h;
    {
      std::lock_guard lock(mu);
      if (w->done) return;
      w->done = true;
      auto& q = origins[key].waiters;
      std::erase(q, w);
      h.swap(w->handler);
    }
    complete(ex, std::move(h), error::timeout, nullptr);
  }

  // release: gives a connection back after a request. A reusable one goes to the first waiter
  // or the idle list; otherwise it is closed and its slot passes to the first waiter.
  void release(const connection_ptr& c, bool reusable) {
    std::shared_ptr<waiter> w;
    acquire_handler h;
    connection_ptr handed;
    {
      std::lock_guard lock(mu);
      origin_state& st = origins[c->key];
      if (closed) reusable = false;
      if (!st.waiters.empty()) {
        w = std::move(st.waiters.front());
        st.waiters.pop_front();
        w->done = true;
        h.swap(w->handler);
        handed = reusable ? c : new_connection(c->org, c->key);
      } else if (reusable) {
        c->idle_since = steady::now();
        st.idle.push_back(c);
      } else {
        --st.open;
      }
    }
    if (!reusable) c->close();
    if (w) {
      w->timer.cancel();
      complete(ex, std::move(h), {}, std::move(handed));
    }
  }

  void close_all() {
    std::vector<connection_ptr> idle;
    std::vector<std::shared_ptr<waiter>> waiting;
    {
      std::lock_guard lock(mu);
      closed = true;
      for (auto& [key, st] : origins) {
        for (auto& c : st.idle) idle.push_back(std::move(c));
        st.open -= st.idle.size();
        st.idle.clear();
        for (auto& w : st.waiters) {
          w->done = true;
          waiting.push_back(std::move(w));
        }
        st.waiters.clear();
      }
    }
    for (auto& c : idle) c->close();
    for (auto& w : waiting) {
      w->timer.cancel();
      complete(ex, std::move(w->handler), error::pool_closed, nullptr);
    }
  }

  asio::awaitable<result<void>> connect(const connection_ptr& cp) {
    connection& c = *cp;
    const origin& o = c.org;
    const auto fail = [&](error e, std::string_view what, const boost::system::error_code& ec) {
      return failure{e, fmt::format("{} {}: {}", what, o.key(), ec.message())};
    };
    tcp::resolver::results_type endpoints;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(o.host, ec);
    if (!ec) {
      endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, o.port), o.host, std::to_string(o.port));
    } else {
      // The resolver has no timeout of its own: a timer on the connection's strand cancels it (the
      // resolver is shared, so the handler never cancels a destroyed one).
      auto resolver = std::make_shared<tcp::resolver>(c.strand);
      asio::steady_timer timer(c.strand);
      timer.expires_at(c.cap(opts.timeouts.connect));
      timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code wec) {
        if (auto r = weak.lock(); r && !wec) r->cancel();
      });
      auto [rec, results] = co_await resolver->async_resolve(o.host, std::to_string(o.port), use_tuple);
      timer.cancel();
      if (rec == asio::error::operation_aborted) {
        if (c.past_deadline()) co_return deadline_passed(c, "resolving the host");
        co_return failure{error::timeout,
                          fmt::format("resolving {} timed out after {} ms", o.host, opts.timeouts.connect.count())};
      }
      if (rec) co_return fail(error::resolve_failed, "cannot resolve", rec);
      endpoints = std::move(results);
    }

    tcp::socket& socket = c.lowest();
    c.begin_step(cp, opts.timeouts.connect);
    boost::system::error_code cec = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
      // The socket is (re)opened under the guard: the step timer reads its descriptor.
      if (!c.reopen(entry.endpoint().protocol(), cec)) break;
      std::tie(cec) = co_await socket.async_connect(entry.endpoint(), use_tuple);
      if (!cec || c.fired()) break;
    }
    if (cec) {
      if (c.fired() && c.past_deadline()) co_return deadline_passed(c, "connecting");
      if (c.fired()) {
        co_return failure{error::timeout,
                          fmt::format("connect to {} timed out after {} ms", o.key(), opts.timeouts.connect.count())};
      }
      co_return fail(error::connect_failed, "cannot connect to", cec);
    }
    socket.set_option(tcp::no_delay(true), ec);

    if (c.tls) {
      if (const auto& setup_error = load_trust_store(); !setup_error.empty()) {
        co_return failure{error::tls_failed, setup_error};
      }
      if (!is_ip_literal(o.host) && SSL_set_tlsext_host_name(c.tls->native_handle(), o.host.c_str()) != 1) {
        co_return failure{error::tls_failed, "cannot set SNI host name " + o.host};
      }
      if (opts.verify_peer) {
        c.tls->set_verify_mode(ssl::verify_peer, ec);
        c.tls->set_verify_callback(ssl::host_name_verification(o.host), ec);
      } else {
        c.tls->set_verify_mode(ssl::verify_none, ec);
      }
      c.begin_step(cp, opts.timeouts.connect);
      auto [hec] = co_await c.tls->async_handshake(ssl::stream_base::client, use_tuple);
      if (hec) {
        if (c.fired() && c.past_deadline()) co_return deadline_passed(c, "the TLS handshake");
        if (c.fired()) {
          co_return failure{error::timeout, fmt::format("TLS handshake with {} timed out after {} ms", o.key(),
                                                        opts.timeouts.connect.count())};
        }
        std::string why = hec.message();
        const long verify = SSL_get_verify_result(c.tls->native_handle());
        if (verify != X509_V_OK) why = fmt::format("certificate rejected: {}", X509_verify_cert_error_string(verify));
        co_return failure{error::tls_failed, fmt::format("TLS handshake with {} failed: {}", o.key(), why)};
      }
    }
    c.connected = true;
    connections_opened.fetch_add(1, std::memory_order_relaxed);
    co_return ok();
  }

  template <class Stream>
  asio::awaitable<void> write_and_read(const connection_ptr& cp, Stream& stream, http::request<http::string_body>& req,
                                       exchange_outcome& out) {
    connection& c = *cp;
    const origin& o = c.org;
    c.begin_step(cp, opts.timeouts.write);
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    out.written = written > 0;
    if (wec) {
      if (c.fired() && c.past_deadline()) {
        out.response = deadline_passed(c, "writing the request");
      } else if (c.fired()) {
        out.response = failure{error::timeout, fmt::format("writing the request to {} timed out after {} ms", o.key(),
                                                           opts.timeouts.write.count())};
      } else {
        out.response = failure{error::write_failed, fmt::format("writing to {} failed: {}", o.key(), wec.message())};
      }
      co_return;
    }
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(opts.max_response_bytes);
    if (req.method() == http::verb::head) parser.skip(true);
    c.begin_step(cp, opts.timeouts.read);
    auto [rec, n] = co_await http::async_read(stream, c.buffer, parser, use_tuple);
    if (rec) {
      if (c.fired() && c.past_deadline()) {
        out.response = deadline_passed(c, "waiting for the response");
      } else if (c.fired()) {
        out.response = failure{error::timeout, fmt::format("waiting for the response from {} timed out after {} ms",
                                                           o.key(), opts.timeouts.read.count())};
      } else if (rec.category() == http::make_error_code(http::error::body_limit).category() &&
                 rec != http::error::end_of_stream && rec != http::error::partial_message) {
        out.response = failure{error::bad_response, fmt::format("bad response from {}: {}", o.key(), rec.message())};
      } else {
        out.response = failure{error::read_failed,
                               fmt::format("connection to {} failed before the response: {}", o.key(), rec.message())};
      }
      co_return;
    }
    auto& msg = parser.get();
    out.reusable = msg.keep_alive() && !msg.need_eof();
    http_response resp;
    resp.status = msg.result_int();
    resp.headers = detail::to_headers(msg.base());
    resp.body = std::move(msg.body());
    out.response = std::move(resp);
  }

  // deadline_passed: the failure of a request whose own deadline passed during `step`.
  static failure deadline_passed(const connection& c, std::string_view step) {
    return failure{error::timeout,
                   fmt::format("request to {} passed its deadline while {} (connection closed)", c.org.key(), step)};
  }

  // exchange: one attempt of one request on one connection, in the caller's coroutine; never
  // throws. A connection whose step timer fired is not reused, even if the response was complete.
  asio::awaitable<exchange_outcome> exchange(const connection_ptr& c, http::request<http::string_body>& req) {
    exchange_outcome out = co_await attempt(c, req);
    if (c->end_exchange()) out.reusable = false;
    co_return out;
  }

  asio::awaitable<exchange_outcome> attempt(const connection_ptr& c, http::request<http::string_body>& req) {
    exchange_outcome out;
    try {
      if (!c->connected) {
        auto r = co_await connect(c);
        if (!r) {
          out.response = r.error();
          co_return out;
        }
      }
      if (c->tls) {
        co_await write_and_read(c, *c->tls, req, out);
      } else {
        co_await write_and_read(c, *c->plain, req, out);
      }
    } catch (const std::exception& e) {
      out.response = failure{error::read_failed, fmt::format("request to {} failed: {}", c->org.key(), e.what())};
      out.reusable = false;
    }
    co_return out;
  }

  asio::any_io_executor ex;
  client_pool_options opts;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::once_flag tls_once;
  std::string tls_setup_error;  // written once under tls_once
  mutable std::mutex mu;
  std::unordered_map<std::string, origin_state> origins;
  bool closed = false;
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> reused{0};
  std::atomic<std::uint64_t> stale_replaced{0};
};

http_client_pool::http_client_pool(asio::any_io_executor ex, client_pool_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(options))) {}

http_client_pool::~http_client_pool() {
  impl_->close_all();
}

void http_client_pool::close() {
  impl_->close_all();
}

client_pool_stats http_client_pool::stats() const {
  client_pool_stats s;
  s.connections_opened = impl_->connections_opened.load();
  s.requests = impl_->requests.load();
  s.reused = impl_->reused.load();
  s.stale_replaced = impl_->stale_replaced.load();
  return s;
}

asio::any_io_executor http_client_pool::executor() const {
  return impl_->ex;
}

asio::awaitable<result<http_response>> http_client_pool::request(http_request req) {
  co_return co_await request(std::move(req), request_options{});
}

asio::awaitable<result<http_response>> http_client_pool::request(http_request req, request_options options) {
  std::shared_ptr<impl> self = impl_;
  const auto started = steady::now();
  const auto deadline = options.timeout.count() > 0 ? started + options.timeout : steady::time_point::max();
  http::request<http::string_body> breq;
  detail::set_method(breq, req.method);
  breq.target(req.target);
  breq.version(11);
  for (const auto& h : req.headers) breq.insert(h.name, h.value);
  if (!find_header(req.headers, "Host")) breq.set(http::field::host, req.origin.host_header());
  if (!find_header(req.headers, "User-Agent") && !self->opts.user_agent.empty()) {
    breq.set(http::field::user_agent, self->opts.user_agent);
  }
  breq.keep_alive(true);
  breq.body() = std::move(req.body);
  breq.prepare_payload();
  const std::string key = req.origin.key();

  for (int attempt = 0;; ++attempt) {
    bool closed_pool = false;
    connection_ptr conn = self->try_acquire(req.origin, key, closed_pool);
    boost::system::error_code ec;
    if (closed_pool) {
      ec = error::pool_closed;
    } else if (!conn) {
      const auto queue_end = std::min(deadline, steady::now() + self->opts.timeouts.queue);
      std::tie(ec, conn) = co_await self->async_acquire(req.origin, key, queue_end, use_tuple);
    }
    if (ec) {
      if (ec == error::timeout && steady::now() >= deadline) {
        co_return failure{ec, fmt::format("request to {} passed its {} ms deadline waiting for a connection", key,
                                          options.timeout.count())};
      }
      if (ec == error::timeout) {
        co_return failure{
            ec, fmt::format("no connection to {} became free within {} ms", key, self->opts.timeouts.queue.count())};
      }
      co_return failure{ec, fmt::format("request to {}: {}", key, ec.message())};
    }
    const bool was_used = conn->connected;
    conn->deadline = deadline;
    exchange_outcome out = co_await self->exchange(conn, breq);
    self->release(conn, out.reusable);
    if (!out.response && was_used && !out.written && attempt == 0 && out.response.error() != condition::timeout) {
      self->stale_replaced.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (out.response) {
      self->requests.fetch_add(1, std::memory_order_relaxed);
      if (was_used) self->reused.fetch_add(1, std::memory_order_relaxed);
    }
    co_return std::move(out.response);
  }
}

}  // namespace apigw::net
