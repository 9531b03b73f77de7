// The WebSocket session: reader, message handling, writer, watchdog, close, and the sweeper that
// drives every connection's watchdog (see session.hpp).
#include "gateway/session.hpp"

#include "apigw/core/json.hpp"
#include "gateway/access_log.hpp"
#include "gateway/aws_errors.hpp"
#include "gateway/deadline.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <utility>

namespace apigw::gateway::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Strands shared by the connections, in turn (see sessions::next_strand).
constexpr std::size_t k_connection_strands = 512;
// Bytes asked for per WebSocket read once a message has begun. A read for a new message asks for
// one byte, so an idle connection holds no read buffer at all (Beast's own frame buffer holds the
// rest of what arrived).
constexpr std::size_t k_read_chunk = 4096;

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

// lower_due: brings the connection's next look forward to `t` (never later).
void lower_due(connection& conn, steady::time_point t) {
  const auto want = ticks(t);
  auto cur = conn.due.load();
  while (want < cur && !conn.due.compare_exchange_weak(cur, want)) {
  }
}

// plain_allocator: std::allocator under a type of its own. Asio takes handler memory from a
// per-thread recycling cache that hands out any cached block big enough, so a small operation
// that stays pending for minutes (an idle connection's socket wait) can sit in a much bigger
// block. Bound to those handlers, this allocator gives them exactly their size.
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

std::string error_frame(std::string_view message, std::string_view connection_id, std::string_view request_id) {
  // The exact bytes AWS sends, odd spacing included (spec §1.4).
  return fmt::format(R"({{"message": "{}", "connectionId":"{}", "requestId":"{}"}})", message, connection_id,
                     request_id);
}

disconnect_details details_of(const close_cause& cause) {
  disconnect_details d;
  d.code = cause.code;
  d.reason = cause.reason;
  return d;
}

// read_error_cause: why a failed read ended the connection.
close_cause read_error_cause(ws_stream& ws, const boost::system::error_code& ec) {
  if (ec == websocket::error::closed) {
    const auto& r = ws.reason();
    const auto code = r.code == websocket::close_code::none ? std::uint16_t{1005} : static_cast<std::uint16_t>(r.code);
    return close_cause("client", code, std::string(r.reason.c_str()));
  }
  if (ec == websocket::error::message_too_big) return close_cause("protocol", 1009, "Message too big");
  if (ec == websocket::error::bad_frame_payload) return close_cause("protocol", 1007, "Invalid UTF-8");
  if (ec.category() == websocket::make_error_code(websocket::error::closed).category())
    return close_cause("protocol", 1002, ec.message());
  return close_cause("client", 1006, "");
}

}  // namespace

std::string connection_json(const connection& c) {
  json::object identity{{"sourceIp", c.handshake.source_ip}, {"userAgent", c.handshake.user_agent}};
  json::object body{{"connectedAt", format_iso8601(c.connected_at)},
                    {"identity", std::move(identity)},
                    {"lastActiveAt", format_iso8601(from_unix_millis(c.last_active_ms.load()))}};
  return json::serialize(body);
}

sessions::sessions(std::shared_ptr<context> ctx, const std::vector<io_executor>& shards)
    : ctx_(std::move(ctx)),
      opts_(ctx_->opts),
      sweep_strand_(asio::make_strand(shards.front())),
      sweep_timer_(sweep_strand_) {
  // Strand i is on shard i mod N: taking strands in turn spreads connections evenly.
  slots_.reserve(k_connection_strands);
  for (std::size_t i = 0; i < k_connection_strands; ++i) {
    const std::size_t shard = i % shards.size();
    slots_.push_back(slot{asio::make_strand(shards[shard]), shard});
  }
}

// -- the registry ---------------------------------------------------------------------------------

sessions::slot sessions::next_slot() {
  return slots_[next_slot_.fetch_add(1) % slots_.size()];
}

void sessions::add(const connection_ptr& conn) {
  std::lock_guard lock(mu_);
  registry_.emplace(conn->id, conn);
}

bool sessions::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  return registry_.erase(id) > 0;
}

connection_ptr sessions::find(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = registry_.find(id);
  return it == registry_.end() || it->second->deleted.load() ? nullptr : it->second;
}

std::vector<connection_ptr> sessions::snapshot() {
  std::lock_guard lock(mu_);
  std::vector<connection_ptr> out;
  out.reserve(registry_.size());
  for (auto& [id, c] : registry_) out.push_back(c);
  return out;
}

// -- the reader -----------------------------------------------------------------------------------

// start: from here on the session is driven by completion handlers, not a coroutine: an idle
// connection is one pending socket wait, no coroutine frames.
void sessions::start(const connection_ptr& conn) {
  active_.fetch_add(1);  // before anything else, so shutdown waits for this one too
  ctx_->counters.connections_open.fetch_add(1);
  ctx_->counters.connections_total.fetch_add(1);
  conn->started = steady::now();
  conn->touch(true);
  ctx_->log.info("connected", "connection_id", conn->id, "api", conn->at_connect.api->id, "stage",
                 conn->at_connect.stage->name, "remote", conn->handshake.source_ip);
  std::weak_ptr<connection> weak = conn;
  const bool ping_resets_idle = opts_.choices.ping_resets_idle;
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
  if (ctx_->stopping.load())
    request_close(conn, close_cause("shutdown", opts_.choices.shutdown_close_code, "Going away"));
  start_read(conn);
}

// start_read: the next read. Between messages, when Beast holds no unread byte, the connection
// waits for the socket to become readable: a small pending wait instead of Beast's read
// operation, which is most of what an idle connection would otherwise cost.
void sessions::start_read(const connection_ptr& conn) {
  if (conn->closing) return;  // the close handshake reads from here on (see read_now)
  if (!conn->message && nothing_buffered(*conn)) {
    beast::get_lowest_layer(conn->ws).async_wait(
        socket_t::wait_read,
        exact([self = shared_from_this(), conn](const boost::system::error_code&) { self->read_now(conn); }));
    return;
  }
  read_now(conn);
}

// nothing_buffered: Beast has consumed every byte it read from the socket: what was read ends at
// a frame boundary, and every complete frame (the messages handed over, the control frames
// processed) is accounted for.
bool sessions::nothing_buffered(const connection& conn) {
  // A TLS stream may hold decrypted bytes (or whole records) its socket no longer shows: a wss://
  // connection always keeps a Beast read pending instead.
  if (conn.ws.next_layer().next_layer().is_tls()) return false;
  const auto& sc = conn.ws.next_layer().scanner();
  return sc.at_boundary() && sc.open_fragments() == 0 && sc.messages() == conn.delivered &&
         sc.controls() == conn.controls_consumed;
}

// read_now: a Beast read. Waiting for a new message asks for one byte, so no read buffer is
// allocated until it arrives. (A failed socket wait lands here too, and this read reports it.)
// Once the connection is closing, no read starts: Beast's close handshake reads and drops what
// the client still sends until its close frame, and a read started after it would work on the
// frame state the close left behind (Beast asserts on it); the close's end ends the session.
void sessions::read_now(const connection_ptr& conn) {
  if (conn->closing) return;
  if (!conn->message) conn->message = std::make_unique<beast::flat_buffer>();
  const std::size_t limit = conn->message->size() == 0 ? 1 : k_read_chunk;
  conn->ws.async_read_some(*conn->message, limit,
                           exact([self = shared_from_this(), conn](const boost::system::error_code& ec, std::size_t) {
                             self->on_read(conn, ec);
                           }));
}

// on_read: a read finished (strand only).
void sessions::on_read(const connection_ptr& conn, const boost::system::error_code& ec) {
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
      ctx_->counters.messages_in.fetch_add(1);
      if (conn->inflight >= opts_.limits.max_inflight_per_connection) {
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

void sessions::dispatch_message(const connection_ptr& conn, std::string text) {
  ++conn->inflight;
  asio::co_spawn(conn->strand, handle_message(shared_from_this(), conn, std::move(text)),
                 [](const std::exception_ptr&) {});
}

// resume_held: reading resumes once a message held back by the in-flight limit can go (or the
// connection is closing and it is dropped).
void sessions::resume_held(const connection_ptr& conn) {
  if (!conn->held) return;
  if (conn->closing) {
    conn->held.reset();
    return;
  }
  if (conn->inflight >= opts_.limits.max_inflight_per_connection) return;
  std::string text = std::move(*conn->held);
  conn->held.reset();
  dispatch_message(conn, std::move(text));
  start_read(conn);
}

// end_session: the connection is closed: no more posts, no more writes; then $disconnect exactly
// once (the reader and the close handshake may both get here).
void sessions::end_session(const connection_ptr& conn) {
  if (conn->finished) return;
  remove(conn->id);
  conn->closing = true;
  conn->finished = true;
  conn->held.reset();
  boost::system::error_code ignored;
  beast::get_lowest_layer(conn->ws).close(ignored);
  ctx_->counters.connections_open.fetch_sub(1);
  close_cause cause = conn->cause.value_or(close_cause("client", 1006, ""));
  ctx_->counters.close_cause(cause.name);
  ctx_->log.info("closed", "connection_id", conn->id, "cause", cause.name, "code", cause.code);
  asio::co_spawn(conn->strand, finish_session(shared_from_this(), conn, std::move(cause)),
                 [](const std::exception_ptr&) {});
}

asio::awaitable<void> sessions::finish_session([[maybe_unused]] std::shared_ptr<sessions> self, connection_ptr conn,
                                               close_cause cause) {
  co_await fire_disconnect(*conn, cause);
  active_.fetch_sub(1);
}

asio::awaitable<void> sessions::fire_disconnect(connection& conn, const close_cause& cause) {
  ctx_->counters.disconnects_fired.fetch_add(1);
  const api_view view = ctx_->served.latest(conn.at_connect);
  const route_config* route = view.api->find_route("$disconnect");
  if (route == nullptr) co_return;
  const disconnect_details details = details_of(cause);
  const std::string request_id = new_request_id();
  const auto request_time = system_clock_source::instance().now();
  auto outcome =
      co_await ctx_->integrations(conn.shard)
          .call(conn, *view.api, *view.stage, *route, event_kind::disconnect, "$disconnect", {}, request_id, &details);
  if (!outcome.response) ctx_->log.warn("$disconnect failed", "connection_id", conn.id, "error", outcome.error);
  if (!view.stage->access_log_format.empty()) {
    auto e = access_event(conn, *view.api, *view.stage, "DISCONNECT", request_time);
    e.request_id = request_id;
    e.route_key = "$disconnect";
    e.integration_status = outcome.response ? outcome.response->status : 0;
    e.status = outcome.response ? outcome.response->status : (outcome.timed_out ? 504 : 500);
    e.error = outcome.response ? "" : (outcome.timed_out ? "Endpoint request timed out" : "Internal server error");
    write_access_log(opts_, view.stage->access_log_format, e);
  }
}

// -- messages -------------------------------------------------------------------------------------

// handle_message: routes one message and sends what the route produces (spec §2, §1.4).
asio::awaitable<void> sessions::handle_message([[maybe_unused]] std::shared_ptr<sessions> self, connection_ptr conn,
                                               std::string text) {
  try {
    // Routes as configured now (the control plane may have changed them since the connect).
    const api_view view = ctx_->served.latest(conn->at_connect);
    const auto& api = *view.api;
    message_body message(std::move(text));  // parsed at most once, by whichever reader needs it first
    auto choice = select_route(api.route_selection, message,
                               [&api](std::string_view key) { return api.find_route(key) != nullptr; });
    const std::string request_id = new_request_id();
    // For the stage's access log (one MESSAGE line, written once the outcome is known; plain
    // locals across the co_await, as apply.cpp explains for GCC 12).
    const auto request_time = system_clock_source::instance().now();
    int status = 0;
    int integration_status = 0;
    std::string_view error;
    if (!choice.route_key) {
      enqueue(*conn, error_frame("Forbidden", conn->id, request_id), false, false);
      status = 403;
      error = "Forbidden";
    } else {
      const route_config& route = *api.find_route(*choice.route_key);
      auto outcome =
          co_await ctx_->integrations(conn->shard)
              .call(*conn, api, *view.stage, route, event_kind::message, route.key, std::move(message), request_id);
      integration_status = outcome.response ? outcome.response->status : 0;
      status = integration_status;
      if (outcome.timed_out) {
        enqueue(*conn, error_frame("Endpoint request timed out", conn->id, request_id), false, false);
        status = 504;
        error = "Endpoint request timed out";
      } else if (!outcome.response || (opts_.choices.error_frame_on_5xx && outcome.response->status >= 500)) {
        ctx_->log.warn("integration failed", "connection_id", conn->id, "request_id", request_id, "route", route.key,
                       "error", outcome.response ? fmt::format("status {}", outcome.response->status) : outcome.error);
        enqueue(*conn, error_frame("Internal server error", conn->id, request_id), false, false);
        status = outcome.response ? outcome.response->status : 500;
        error = "Internal server error";
      } else if (route.two_way && !outcome.response->body.empty()) {
        auto& body = outcome.response->body;
        const bool binary = opts_.choices.binary_for_non_utf8_posts && !is_valid_utf8(body);
        enqueue(*conn, std::move(body), binary, false);
      }
    }
    if (!view.stage->access_log_format.empty()) {
      auto e = access_event(*conn, api, *view.stage, "MESSAGE", request_time);
      e.request_id = request_id;
      e.route_key = choice.route_key ? std::string_view(*choice.route_key) : std::string_view{};
      e.status = status;
      e.integration_status = integration_status;
      e.error = error;
      write_access_log(opts_, view.stage->access_log_format, e);
    }
  } catch (const std::exception& e) {
    ctx_->log.error("message handling failed", "connection_id", conn->id, "error", e.what());
  }
  --conn->inflight;
  resume_held(conn);
}

// -- the writer -----------------------------------------------------------------------------------

connection::post_status sessions::enqueue(connection& conn, std::string data, bool binary, bool post) {
  if (conn.closing) return connection::post_status::closed;
  if (conn.queued_bytes > 0 && conn.queued_bytes + data.size() > opts_.limits.max_outbound_bytes) {
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
// starts the close with 1008 "Slow consumer". The close frame waits behind that write; if the
// client does not take it within close_timeout, the watchdog cuts the socket.
void sessions::close_slow_consumer(const connection_ptr& conn) {
  for (const auto& frame : conn->queue) conn->queued_bytes -= frame.data.size();
  conn->queue.clear();
  ctx_->log.warn("slow consumer closed", "connection_id", conn->id, "budget", opts_.limits.max_outbound_bytes);
  request_close(conn, close_cause("slow_consumer", 1008, "Slow consumer"));
}

// start_writer: starts the writer unless it runs already or the 101 has not gone out yet.
void sessions::start_writer(const connection_ptr& conn) {
  if (conn->writing || !conn->open || conn->closing || conn->queue.empty()) return;
  conn->writing = true;
  asio::co_spawn(conn->strand, writer(shared_from_this(), conn), [](const std::exception_ptr&) {});
}

// writer: writes the queue out, one frame at a time, and ends when it is empty.
asio::awaitable<void> sessions::writer([[maybe_unused]] std::shared_ptr<sessions> self, connection_ptr conn) {
  auto& ws = conn->ws;
  while (!conn->closing && !conn->queue.empty()) {
    // Fields are moved one by one: GCC 12 copies an aggregate local of a coroutine bitwise, which
    // breaks a short (SSO) string.
    std::string data;
    data.swap(conn->queue.front().data);
    const bool binary = conn->queue.front().binary;
    conn->queue.pop_front();
    ws.binary(binary);
    conn->write_started = steady::now();
    lower_due(*conn, *conn->write_started + opts_.limits.write_timeout);
    auto [ec, n] = co_await ws.async_write(asio::buffer(data), use_tuple);
    conn->write_started.reset();
    conn->queued_bytes -= data.size();
    if (ec) break;
    ctx_->counters.messages_out.fetch_add(1);
    conn->touch(true);
  }
  conn->writing = false;
}

// -- the watchdog and the close ---------------------------------------------------------------------

// watch: closes the connection at its idle or maximum-duration deadline, cuts the socket when a
// write or the close handshake stalls, and otherwise records the nearest deadline in `due`, where
// the sweeper finds it. Early calls are harmless: it always recomputes from the connection's state.
void sessions::watch(const connection_ptr& conn) {
  const auto& lim = opts_.limits;
  deadline_limits limits;
  limits.idle = lim.idle_timeout;
  limits.max_duration = lim.max_duration;
  limits.write_stall = lim.write_timeout;
  limits.close_wait = lim.close_timeout;
  for (;;) {
    if (conn->finished) return;
    const auto now = steady::now();
    if (conn->closing && !conn->close_deadline) conn->close_deadline = now + lim.close_timeout;
    deadline_times times;
    times.started = conn->started;
    times.last_activity = conn->last_activity;
    times.write_started = conn->write_started;
    times.close_by = conn->close_deadline;
    times.closing = conn->closing;
    const auto d = next_deadline(times, limits, now);
    if (d.verdict == deadline_verdict::wait) {
      conn->due.store(ticks(d.next));
      return;
    }
    if (d.verdict == deadline_verdict::close_idle) {
      request_close(conn, close_cause("idle", opts_.choices.idle_close_code, opts_.choices.timeout_close_reason));
      continue;
    }
    if (d.verdict == deadline_verdict::close_max_duration) {
      request_close(
          conn, close_cause("max_duration", opts_.choices.max_duration_close_code, opts_.choices.timeout_close_reason));
      continue;
    }
    break;  // a write or the close handshake stalled
  }
  // Stalled: cut the socket; the session ends and $disconnect follows.
  if (!conn->cause) conn->cause = close_cause("error", 1006, "stalled");
  cut(*conn);
}

void sessions::cut(connection& conn) {
  boost::system::error_code ignored;
  beast::get_lowest_layer(conn.ws).close(ignored);
}

void sessions::request_close(const connection_ptr& conn, close_cause cause) {
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
  conn->close_deadline = steady::now() + opts_.limits.close_timeout;
  lower_due(*conn, *conn->close_deadline);
  websocket::close_reason reason;
  reason.code = conn->cause->code;
  reason.reason = conn->cause->reason;
  // The close waits for a write in progress (the watchdog cuts the socket if that stalls), then
  // reads until the client's close frame. Whether it ends well or not, the session ends with it;
  // a read pending meanwhile ends too, and whichever comes first ends the session.
  asio::co_spawn(
      conn->strand,
      [self = shared_from_this(), conn, reason]() -> asio::awaitable<void> {
        co_await conn->ws.async_close(reason, use_tuple);
        self->end_session(conn);
      },
      [](const std::exception_ptr&) {});
  resume_held(conn);  // a message held by the in-flight limit is dropped
}

// -- the sweeper ----------------------------------------------------------------------------------

void sessions::start_sweeper() {
  asio::co_spawn(sweep_strand_, sweep_loop(), [](const std::exception_ptr&) {});
}

asio::awaitable<void> sessions::sweep_loop() {
  auto self = shared_from_this();
  const auto period = sweep_period(opts_.limits);
  while (sweeping_.load()) {
    sweep_timer_.expires_after(period);
    co_await sweep_timer_.async_wait(use_tuple);
    if (sweeping_.load()) sweep_once();
  }
}

void sessions::sweep_once() {
  const auto now = ticks(steady::now());
  std::vector<connection_ptr> woken;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, c] : registry_) {
      if (c->due.load(std::memory_order_relaxed) > now) continue;
      c->due.store(k_never);  // watch() sets the next one
      woken.push_back(c);
    }
  }
  for (auto& c : woken) asio::post(c->strand, [self = shared_from_this(), c] { self->watch(c); });
}

void sessions::stop_sweeper() {
  sweeping_.store(false);
  asio::post(sweep_strand_, [self = shared_from_this()] { self->sweep_timer_.cancel(); });
}

}  // namespace apigw::gateway::detail
