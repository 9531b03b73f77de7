// Clocks and the time formats AWS uses.
#include "apigw/core/clock.hpp"

#include <cstdio>
#include <ctime>

namespace apigw {

system_clock_source& system_clock_source::instance() noexcept {
  static system_clock_source instance;
  return instance;
}

namespace {
std::tm utc_parts(clock::time_point t, int& millis) {
  const auto ms = unix_millis(t);
  auto secs = static_cast<std::time_t>(ms / 1000);
  millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}
}  // namespace

std::string format_iso8601(clock::time_point t) {
  int ms = 0;
  const std::tm tm = utc_parts(t, ms);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string format_amz_date(clock::time_point t) {
  int ms = 0;
  const std::tm tm = utc_parts(t, ms);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace apigw
