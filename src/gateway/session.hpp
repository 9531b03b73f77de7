// Private to the gateway: the WebSocket session and the connection registry.
//
// A connection's state (queue, closing flags, stream) is touched only on its strand; other
// threads reach it by posting to that strand. The registry and the counters are the only shared
// state (a mutex and atomics).
//
// What one idle client costs is its `connection`, a share of a strand, Beast's stream and one
// pending wait for its socket to become readable: no coroutine frame, no Beast read, no timer.
// One sweeper per gateway watches every connection's idle, maximum-duration, write-stall and
// close deadlines (gateway/deadline.hpp decides); the writer coroutine runs only while there is
// something to write.
#pragma once

#include "apigw/core/clock.hpp"
#include "gateway/client_stream.hpp"
#include "gateway/context.hpp"
#include "gateway/frame_guard.hpp"
#include "gateway/integration_client.hpp"
#include "gateway/served_config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace apigw::gateway::detail {

using steady = std::chrono::steady_clock;
// Every connection's I/O objects name their strand's type instead of any_io_executor: a strand
// does not fit any_io_executor's small-object buffer, so each type-erased copy (a socket, a
// timer, every pending operation's work guard) would be a heap allocation of its own.
using io_executor = boost::asio::io_context::executor_type;
using strand_t = boost::asio::strand<io_executor>;
using socket_t = boost::asio::basic_stream_socket<boost::asio::ip::tcp, strand_t>;
using timer_t = boost::asio::basic_waitable_timer<steady, boost::asio::wait_traits<steady>, strand_t>;
// The WebSocket stream sits on the bare socket or a TLS stream (gateway/client_stream.hpp; no
// beast::tcp_stream: the watchdog owns every deadline) without permessage-deflate support compiled
// in: an idle connection is mostly this.
using client_stream = basic_client_stream<socket_t>;
using ws_stream = boost::beast::websocket::stream<frame_guard_stream<client_stream>, false>;

// A `due` time that never comes.
inline constexpr std::int64_t k_never = std::numeric_limits<std::int64_t>::max();

// close_cause: why a connection ended, for $disconnect and the logs.
struct close_cause {
  close_cause(const char* n, std::uint16_t c, std::string r) : name(n), code(c), reason(std::move(r)) {}
  const char* name;  // a literal: client, idle, max_duration, delete, shutdown, protocol, error, slow_consumer
  std::uint16_t code = 1005;
  std::string reason;
};

// connection: one accepted WebSocket client (see the file comment).
struct connection : connection_identity, std::enable_shared_from_this<connection> {
  connection(strand_t s, std::size_t shard_index, std::uint64_t max_frame, client_stream&& stream)
      : strand(std::move(s)), shard(shard_index), ws(max_frame, std::move(stream)) {}

  // enqueue result for PostToConnection.
  enum class post_status { queued, full, closed };

  strand_t strand;
  std::size_t shard;  // the io_context its strand is on; its integration calls use that shard's pools
  ws_stream ws;
  // due: when the watchdog must next look at this connection (steady_clock ticks; the sweeper
  // reads it). Only ever lowered outside watch(), which sets it exactly.
  std::atomic<std::int64_t> due{k_never};
  std::atomic<bool> deleted{false};                    // DeleteConnection was answered; the close is under way
  std::unique_ptr<boost::beast::flat_buffer> message;  // the message being read; none while idle
  std::unique_ptr<std::string> held;  // a message waiting for a slot (the in-flight limit); reads pause

  api_view at_connect;  // the API and stage it connected to (the snapshot keeps them alive)
  std::atomic<std::int64_t> last_active_ms{0};

  // Strand-only state.
  struct outbound {
    std::string data;
    bool binary = false;
  };
  std::list<outbound> queue;  // (a std::deque allocates even when empty)
  std::size_t queued_bytes = 0;
  bool closing = false;        // a close was started (by us or the peer); nothing more is written or read
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
std::string connection_json(const connection& c);

// sessions: the registry of connections and the sessions running on them. Thread-safe where
// said; the rest runs on the connection's strand.
class sessions : public std::enable_shared_from_this<sessions> {
 public:
  // slot: where a new connection runs: a strand and the shard (index into `shards`) it is on.
  struct slot {
    strand_t strand;
    std::size_t shard;
  };

  // sessions: connections spread over `shards` in turn; the sweeper runs on the first. (Only
  // shard strands: the registry never outlives the shards' io_contexts.)
  sessions(std::shared_ptr<context> ctx, const std::vector<io_executor>& shards);

  // -- the registry (any thread) --

  // next_slot: a strand for a new connection, taken in turn from a fixed set spread over the
  // shards. Connections sharing a strand are only serialized with each other (their handlers are
  // short and never block); a strand of its own would cost every connection another allocation.
  slot next_slot();
  // add: registers `conn` under its id (before its 101 goes out, so a backend that posts as soon
  // as the client sees the 101 finds it).
  void add(const connection_ptr& conn);
  // remove: true when `id` was registered (and now is not).
  bool remove(const std::string& id);
  // find: the connection `id`, unless unknown or already deleted.
  connection_ptr find(const std::string& id);
  // snapshot: every registered connection.
  std::vector<connection_ptr> snapshot();
  // active: sessions started and not yet through their $disconnect.
  std::size_t active() const noexcept { return active_.load(); }

  // -- one session (on the connection's strand) --

  // start: runs the session of a connection whose 101 went out (and counts it in active()).
  void start(const connection_ptr& conn);
  // enqueue: adds a frame to the connection's outbound queue within its budget
  // (limits.max_outbound_bytes, counting the frame being written too, so a client that stops
  // reading fills it). Over the budget, a PostToConnection (`post`) is refused (the caller answers
  // 429) and the connection stays; a frame the gateway owes the client itself (a two-way reply,
  // an error frame) cannot be refused to anyone, so the client is a slow consumer and is closed.
  connection::post_status enqueue(connection& conn, std::string data, bool binary, bool post);
  // request_close: starts the close handshake with `cause` (once).
  void request_close(const connection_ptr& conn, close_cause cause);
  // cut: closes the connection's socket at once; the session ends and $disconnect follows.
  static void cut(connection& conn);
  // fire_disconnect: the $disconnect integration call for `conn`.
  boost::asio::awaitable<void> fire_disconnect(connection& conn, const close_cause& cause);

  // -- the sweeper --

  // start_sweeper / stop_sweeper: every sweep period, wakes (on its strand) each connection whose
  // `due` time has come. One timer for the whole gateway instead of a pending timer per connection.
  void start_sweeper();
  void stop_sweeper();

 private:
  void start_read(const connection_ptr& conn);
  void read_now(const connection_ptr& conn);
  void on_read(const connection_ptr& conn, const boost::system::error_code& ec);
  static bool nothing_buffered(const connection& conn);
  void dispatch_message(const connection_ptr& conn, std::string text);
  void resume_held(const connection_ptr& conn);
  void end_session(const connection_ptr& conn);
  boost::asio::awaitable<void> finish_session(std::shared_ptr<sessions> self, connection_ptr conn, close_cause cause);
  boost::asio::awaitable<void> handle_message(std::shared_ptr<sessions> self, connection_ptr conn, std::string text);
  void close_slow_consumer(const connection_ptr& conn);
  void start_writer(const connection_ptr& conn);
  boost::asio::awaitable<void> writer(std::shared_ptr<sessions> self, connection_ptr conn);
  void watch(const connection_ptr& conn);
  boost::asio::awaitable<void> sweep_loop();
  void sweep_once();

  std::shared_ptr<context> ctx_;
  const gateway_options& opts_;
  std::vector<slot> slots_;
  std::atomic<std::size_t> next_slot_{0};
  std::atomic<std::size_t> active_{0};
  std::mutex mu_;
  // Keyed by a view of the connection's own id (the entry keeps the connection, so the key stays
  // valid), which spares each connection a second copy of its id.
  std::unordered_map<std::string_view, connection_ptr> registry_;
  strand_t sweep_strand_;
  timer_t sweep_timer_;
  std::atomic<bool> sweeping_{true};
};

}  // namespace apigw::gateway::detail
