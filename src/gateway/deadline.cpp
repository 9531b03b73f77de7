// The watchdog's pure decision: see deadline.hpp.
#include "gateway/deadline.hpp"

#include <algorithm>

namespace apigw::gateway::detail {

deadline_decision next_deadline(const deadline_times& t, const deadline_limits& l, steady_time now) noexcept {
  deadline_decision d;
  steady_time next;
  if (t.closing) {
    const steady_time close_by = t.close_by.value_or(now + l.close_wait);
    if (now >= close_by) {
      d.verdict = deadline_verdict::cut_close_stall;
      return d;
    }
    next = close_by;
  } else {
    const steady_time idle_at = t.last_activity + l.idle;
    const steady_time max_at = t.started + l.max_duration;
    if (now >= idle_at) {
      d.verdict = deadline_verdict::close_idle;
      return d;
    }
    if (now >= max_at) {
      d.verdict = deadline_verdict::close_max_duration;
      return d;
    }
    next = std::min(idle_at, max_at);
  }
  if (t.write_started) {
    const steady_time stall_at = *t.write_started + l.write_stall;
    if (now >= stall_at) {
      d.verdict = deadline_verdict::cut_write_stall;
      return d;
    }
    next = std::min(next, stall_at);
  }
  d.next = next;
  return d;
}

}  // namespace apigw::gateway::detail
