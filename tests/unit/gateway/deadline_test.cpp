// Unit tests of the watchdog's pure decision (idle, maximum duration, write stall, close wait):
// one table of cases, times relative to a fixed origin.
#include "gateway/deadline.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace apigw::gateway::detail {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

constexpr steady_time t0{};

struct row {
  std::string name;
  ms now;
  ms last_activity;
  std::optional<ms> write_started;
  std::optional<ms> close_by;
  bool closing;
  deadline_verdict verdict;
  ms next;  // for `wait`
};

// Limits: idle 10 min, maximum 2 h, write stall 30 s, close wait 5 s (AWS's and the gateway's).
const deadline_limits k_limits{};

TEST(GatewayDeadline, Table) {
  const std::vector<row> rows = {
      {"fresh connection waits for idle", 0ms, 0ms, {}, {}, false, deadline_verdict::wait, ms(10min)},
      {"activity pushes idle out", ms(5min), ms(4min), {}, {}, false, deadline_verdict::wait, ms(14min)},
      {"idle exactly at the limit closes", ms(10min), 0ms, {}, {}, false, deadline_verdict::close_idle, 0ms},
      {"just before idle waits", ms(10min) - 1ms, 0ms, {}, {}, false, deadline_verdict::wait, ms(10min)},
      {"active but two hours old closes",
       ms(2h),
       ms(2h) - 1s,
       {},
       {},
       false,
       deadline_verdict::close_max_duration,
       0ms},
      {"max duration is next when nearer than idle",
       ms(2h) - 1min,
       ms(2h) - 2min,
       {},
       {},
       false,
       deadline_verdict::wait,
       ms(2h)},
      {"idle wins over max duration when both passed", ms(3h), 0ms, {}, {}, false, deadline_verdict::close_idle, 0ms},
      {"a write in progress is watched",
       ms(1min),
       ms(1min),
       ms(1min),
       {},
       false,
       deadline_verdict::wait,
       ms(1min) + 30s},
      {"a stalled write cuts", ms(2min), ms(1min) + 40s, ms(1min), {}, false, deadline_verdict::cut_write_stall, 0ms},
      {"closing waits for close_by",
       ms(1min),
       ms(1min),
       {},
       ms(1min) + 5s,
       true,
       deadline_verdict::wait,
       ms(1min) + 5s},
      {"closing without close_by counts from now", ms(1min), 0ms, {}, {}, true, deadline_verdict::wait, ms(1min) + 5s},
      {"close stalled cuts", ms(1min) + 5s, 0ms, {}, ms(1min) + 5s, true, deadline_verdict::cut_close_stall, 0ms},
      {"closing ignores idle and max duration",
       ms(3h),
       0ms,
       {},
       ms(3h) + 1s,
       true,
       deadline_verdict::wait,
       ms(3h) + 1s},
      {"closing with a stalled write cuts", ms(3min), 0ms, ms(1min), ms(3min) + 5s, true,
       deadline_verdict::cut_write_stall, 0ms},
      {"the earlier of close_by and write stall is next", ms(1min), 0ms, ms(1min) - 28s, ms(1min) + 5s, true,
       deadline_verdict::wait, ms(1min) + 2s},
  };
  for (const auto& r : rows) {
    deadline_times t;
    t.started = t0;
    t.last_activity = t0 + r.last_activity;
    if (r.write_started) t.write_started = t0 + *r.write_started;
    if (r.close_by) t.close_by = t0 + *r.close_by;
    t.closing = r.closing;
    const auto d = next_deadline(t, k_limits, t0 + r.now);
    EXPECT_EQ(d.verdict, r.verdict) << r.name;
    if (r.verdict == deadline_verdict::wait) {
      EXPECT_EQ(d.next, t0 + r.next) << r.name;
    }
  }
}

}  // namespace
}  // namespace apigw::gateway::detail
