// apigw/core/clock.hpp: the clock interface. Code that reasons about time (token lifetimes, rate
// limits, signature skew, retry backoff) takes a `clock&` so tests can drive it with `manual_clock`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace apigw {

// clock: a source of wall-clock time (system_clock's epoch, so times can be stored and shown).
class clock {
 public:
  using duration = std::chrono::system_clock::duration;
  using time_point = std::chrono::system_clock::time_point;
  virtual ~clock() = default;
  // now: the current time.
  virtual time_point now() const noexcept = 0;
};

// system_clock_source: the real clock.
class system_clock_source final : public clock {
 public:
  time_point now() const noexcept override { return std::chrono::system_clock::now(); }
  // instance: a process-wide shared instance.
  static system_clock_source& instance() noexcept;
};

// manual_clock: a clock that moves only when told to; thread-safe.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = time_point{std::chrono::seconds{1'700'000'000}}) noexcept
      : now_(start.time_since_epoch().count()) {}
  time_point now() const noexcept override { return time_point{duration{now_.load()}}; }
  void set(time_point t) noexcept { now_.store(t.time_since_epoch().count()); }
  void advance(duration d) noexcept { now_.fetch_add(d.count()); }

 private:
  std::atomic<duration::rep> now_;
};

// format_iso8601: "2025-03-05T10:00:00.120Z" (UTC, milliseconds), the form AWS uses for times.
std::string format_iso8601(clock::time_point t);

// format_amz_date: "20150830T123600Z", the X-Amz-Date form.
std::string format_amz_date(clock::time_point t);

// unix_millis: milliseconds since the epoch.
inline std::int64_t unix_millis(clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline clock::time_point from_unix_millis(std::int64_t ms) noexcept {
  return clock::time_point{std::chrono::milliseconds{ms}};
}

}  // namespace apigw
