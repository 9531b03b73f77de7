// Private to the gateway: the watchdog's decision for one WebSocket connection, as a pure
// function of its times and the limits (no clock, no I/O), so every case is a row in a table test.
#pragma once

#include <chrono>
#include <optional>

namespace apigw::gateway::detail {

using steady_time = std::chrono::steady_clock::time_point;

// deadline_limits: the limits the watchdog enforces (gateway_limits' values).
struct deadline_limits {
  std::chrono::milliseconds idle{std::chrono::minutes(10)};         // no data frame in either direction
  std::chrono::milliseconds max_duration{std::chrono::hours(2)};    // since the connection opened
  std::chrono::milliseconds write_stall{std::chrono::seconds(30)};  // one frame's write not finishing
  std::chrono::milliseconds close_wait{std::chrono::seconds(5)};    // the client answering our close frame
};

// deadline_times: what the connection knows about itself.
struct deadline_times {
  steady_time started{};                     // the 101 went out
  steady_time last_activity{};               // the last data frame either way
  std::optional<steady_time> write_started;  // a frame is being written since then
  std::optional<steady_time> close_by;       // a close was started; it must be over by then
  bool closing = false;                      // a close was started (by us or the peer)
};

// deadline_verdict: what the watchdog must do now.
enum class deadline_verdict {
  wait,                // nothing yet; look again at `next`
  close_idle,          // start the close handshake: idle too long
  close_max_duration,  // start the close handshake: open too long
  cut_write_stall,     // cut the socket: the client stopped reading
  cut_close_stall,     // cut the socket: the close handshake did not finish
};

// deadline_decision: the verdict and, for `wait`, when to look again.
struct deadline_decision {
  deadline_verdict verdict = deadline_verdict::wait;
  steady_time next{};
};

// next_deadline: the watchdog's decision at `now`. While closing, only the close wait (from
// `close_by`, or `now + close_wait` when it is not set yet) and a write stall count; otherwise the
// idle limit comes before the maximum duration, and both before a write stall (a close frame is
// still tried). `next` is the earliest of the deadlines that apply.
deadline_decision next_deadline(const deadline_times& t, const deadline_limits& l, steady_time now) noexcept;

}  // namespace apigw::gateway::detail
