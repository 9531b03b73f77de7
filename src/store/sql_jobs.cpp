// The delivery jobs slice of the SQL store: jobs, their pages and leases (docs/design/jobs.md).
// Claiming and finishing a page are each one short transaction. On PostgreSQL the rows a claim
// reads are locked FOR UPDATE SKIP LOCKED, so concurrent workers in several processes each take a
// different page (or a different job) and never wait for one another; SQLite runs one writer at a
// time, which serialises claims the same way within its one process.
#include "store/sql_store.hpp"

#include "store/session_sql.hpp"
#include "store/sql_common.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

namespace apigw::store {

std::string_view to_string(job_state s) noexcept {
  switch (s) {
    case job_state::running:
      return "running";
    case job_state::done:
      return "done";
    case job_state::cancelled:
      return "cancelled";
    case job_state::failed:
      return "failed";
  }
  return "running";
}

std::optional<job_state> parse_job_state(std::string_view s) noexcept {
  for (auto st : {job_state::running, job_state::done, job_state::cancelled, job_state::failed}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

session_query job_target::query() const {
  const auto q = session_query{}.connected_only();
  switch (what) {
    case kind::channel:
      return q.in_channel(channel);
    case kind::user:
      return q.for_user(user);
    case kind::everyone:
      break;
  }
  return q;
}

std::string job_target::describe() const {
  switch (what) {
    case kind::channel:
      return fmt::format("channel '{}'", channel);
    case kind::user:
      return fmt::format("user {}", user);
    case kind::everyone:
      break;
  }
  return "everyone";
}

}  // namespace apigw::store

namespace apigw::store::detail {
namespace {

namespace sql_jobs {

inline constexpr std::string_view job_columns =
    "id, target_kind, target_channel, target_user, message, message_id, state, page_size, pages, pages_done, "
    "exhausted, finished_through, delivered, gone, failed, too_large, retries, failures, error, created_by, "
    "created_at, updated_at";

// insert_job: $1 kind, $2 channel, $3 user, $4 message, $5 message id, $6 page size, $7 created by, $8 now.
inline constexpr std::string_view insert_job =
    "INSERT INTO delivery_jobs (target_kind, target_channel, target_user, message, message_id, state, page_size, "
    "created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $8) RETURNING id";
// cancel_job: $1 id, $2 now.
inline constexpr std::string_view cancel_job =
    "UPDATE delivery_jobs SET state = 'cancelled', updated_at = $2 WHERE id = $1 AND state = 'running'";

// delete_finished: $1 cutoff; the pages go with their job (ON DELETE CASCADE).
inline constexpr std::string_view delete_finished =
    "DELETE FROM delivery_jobs WHERE state <> 'running' AND updated_at < $1";

// Abandoned pages: claimed, lease expired ($1 now), job still running; the oldest expiry first.
inline constexpr std::string_view expired_page_pg =
    "SELECT p.job_id, p.page, p.after_id, p.last_id, p.attempt FROM delivery_job_pages p JOIN delivery_jobs j ON "
    "j.id = p.job_id WHERE p.state = 'claimed' AND p.lease_expires_at < $1 AND j.state = 'running' ORDER BY "
    "p.lease_expires_at LIMIT 1 FOR UPDATE OF p SKIP LOCKED";
inline constexpr std::string_view expired_page_sqlite =
    "SELECT p.job_id, p.page, p.after_id, p.last_id, p.attempt FROM delivery_job_pages p JOIN delivery_jobs j ON "
    "j.id = p.job_id WHERE p.state = 'claimed' AND p.lease_expires_at < $1 AND j.state = 'running' ORDER BY "
    "p.lease_expires_at LIMIT 1";
// reclaim_page: $1 job, $2 page, $3 owner, $4 lease expiry, $5 now.
inline constexpr std::string_view reclaim_page =
    "UPDATE delivery_job_pages SET owner = $3, attempt = attempt + 1, lease_expires_at = $4, claimed_at = $5 WHERE "
    "job_id = $1 AND page = $2 RETURNING attempt";
// The running job that still has recipients to cut pages from, oldest first.
inline constexpr std::string_view open_job_pg =
    "SELECT id, target_kind, target_channel, target_user, page_size, next_after, pages FROM delivery_jobs WHERE "
    "state = 'running' AND exhausted = FALSE ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
inline constexpr std::string_view open_job_sqlite =
    "SELECT id, target_kind, target_channel, target_user, page_size, next_after, pages FROM delivery_jobs WHERE "
    "state = 'running' AND exhausted = FALSE ORDER BY id LIMIT 1";
// job_message: $1 id.
inline constexpr std::string_view job_message = "SELECT message FROM delivery_jobs WHERE id = $1";
// insert_page: $1 job, $2 page, $3 after, $4 last, $5 owner, $6 lease expiry, $7 now.
inline constexpr std::string_view insert_page =
    "INSERT INTO delivery_job_pages (job_id, page, after_id, last_id, state, owner, attempt, lease_expires_at, "
    "claimed_at) VALUES ($1, $2, $3, $4, 'claimed', $5, 1, $6, $7)";
// advance_job: $1 job, $2 next_after, $3 exhausted, $4 now.
inline constexpr std::string_view advance_job =
    "UPDATE delivery_jobs SET next_after = $2, pages = pages + 1, exhausted = $3, updated_at = $4 WHERE id = $1";
// exhaust_job: $1 job, $2 now. No recipients left: done at once when no page is outstanding.
inline constexpr std::string_view exhaust_job =
    "UPDATE delivery_jobs SET exhausted = TRUE, updated_at = $2, state = CASE WHEN pages_done = pages THEN 'done' "
    "ELSE state END, finished_through = CASE WHEN pages_done = pages THEN next_after ELSE finished_through END "
    "WHERE id = $1";
// fail_job: $1 job, $2 error, $3 now.
inline constexpr std::string_view fail_job =
    "UPDATE delivery_jobs SET state = 'failed', error = $2, updated_at = $3 WHERE id = $1 AND state = 'running'";
// renew_lease: $1 job, $2 page, $3 owner, $4 attempt, $5 lease expiry.
inline constexpr std::string_view renew_lease =
    "UPDATE delivery_job_pages SET lease_expires_at = $5 WHERE job_id = $1 AND page = $2 AND owner = $3 AND "
    "attempt = $4 AND state = 'claimed'";
// finish_page: $1 job, $2 page, $3 owner, $4 attempt, $5 delivered, $6 gone, $7 failed, $8 now. Only the
// current holder of the claim can finish it, once.
inline constexpr std::string_view finish_page =
    "UPDATE delivery_job_pages SET state = 'done', delivered = $5, gone = $6, failed = $7, finished_at = $8 WHERE "
    "job_id = $1 AND page = $2 AND owner = $3 AND attempt = $4 AND state = 'claimed'";
// job_failures_pg / _sqlite: $1 job; the PostgreSQL form locks the row until commit.
inline constexpr std::string_view job_failures_pg = "SELECT failures FROM delivery_jobs WHERE id = $1 FOR UPDATE";
inline constexpr std::string_view job_failures_sqlite = "SELECT failures FROM delivery_jobs WHERE id = $1";
// add_page_report: $1 job, $2 delivered, $3 gone, $4 failed, $5 too large, $6 retries, $7 failures, $8 now.
// finished_through: below the lowest page still claimed, or everything cut so far.
inline constexpr std::string_view add_page_report =
    "UPDATE delivery_jobs SET pages_done = pages_done + 1, delivered = delivered + $2, gone = gone + $3, failed = "
    "failed + $4, too_large = too_large + $5, retries = retries + $6, failures = $7, updated_at = $8, "
    "finished_through = COALESCE((SELECT MIN(after_id) FROM delivery_job_pages WHERE job_id = $1 AND state = "
    "'claimed'), next_after), state = CASE WHEN state = 'running' AND exhausted AND pages_done + 1 = pages THEN "
    "'done' ELSE state END WHERE id = $1";

}  // namespace sql_jobs

std::string_view kind_name(job_target::kind k) noexcept {
  switch (k) {
    case job_target::kind::channel:
      return "channel";
    case job_target::kind::user:
      return "user";
    case job_target::kind::everyone:
      break;
  }
  return "everyone";
}

job_target read_target(const rows& r, std::size_t i, std::size_t first) {
  job_target t;
  const auto kind = cell_text(r, i, first);
  if (kind == "channel") {
    t.what = job_target::kind::channel;
    t.channel = cell_text(r, i, first + 1);
  } else if (kind == "user") {
    t.what = job_target::kind::user;
    t.user = cell_int(r, i, first + 2);
  }
  return t;
}

std::vector<job_failure> parse_failures(std::string_view text) {
  std::vector<job_failure> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    job_failure f;
    f.connection_id = get_string(o, "connection_id").value_or("");
    f.reason = get_string(o, "reason").value_or("");
    out.push_back(std::move(f));
  }
  return out;
}

std::string encode_failures(const std::vector<job_failure>& failures) {
  boost::json::array a;
  for (const auto& f : failures)
    a.push_back(boost::json::object{{"connection_id", f.connection_id}, {"reason", f.reason}});
  return boost::json::serialize(a);
}

delivery_job read_job(const rows& r, std::size_t i) {
  delivery_job j;
  j.id = cell_int(r, i, 0);
  j.target = read_target(r, i, 1);
  j.message = cell_text(r, i, 4);
  j.message_id = cell_text(r, i, 5);
  j.state = parse_job_state(cell_text(r, i, 6)).value_or(job_state::failed);
  j.page_size = static_cast<std::size_t>(cell_int(r, i, 7));
  j.pages = cell_int(r, i, 8);
  j.pages_done = cell_int(r, i, 9);
  j.exhausted = cell_bool(r, i, 10);
  j.finished_through = cell_int(r, i, 11);
  j.counts.delivered = cell_int(r, i, 12);
  j.counts.gone = cell_int(r, i, 13);
  j.counts.failed = cell_int(r, i, 14);
  j.counts.too_large = cell_int(r, i, 15);
  j.counts.retries = cell_int(r, i, 16);
  j.failures = parse_failures(cell_text(r, i, 17));
  j.error = cell_text(r, i, 18);
  j.created_by = cell_text(r, i, 19);
  j.created_at = from_unix_millis(cell_int(r, i, 20));
  j.updated_at = from_unix_millis(cell_int(r, i, 21));
  return j;
}

failure job_not_found(job_id id) {
  return {error::not_found, fmt::format("no delivery job with id {}", id)};
}

// page_recipients: the connected sessions of `target` with after_id < id <= last_id (at most
// page_size: a page never held more).
result<std::vector<session>> page_recipients(connection& c, const job_target& target, session_id after_id,
                                             session_id last_id, std::size_t page_size) {
  const auto st = page_statement(target.query(), after_id, page_size);
  auto r = c.exec(st.sql, st.params);
  if (!r) return r.error();
  std::vector<session> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    auto s = read_session(*r, i);
    if (s.id > last_id) break;
    out.push_back(std::move(s));
  }
  return out;
}

// page_job: what sending a page of a job needs from the job's row.
struct page_job {
  job_target target;
  std::size_t page_size = 0;
  std::string message;
};

result<page_job> read_page_job(connection& c, job_id job) {
  const param p[] = {job};
  auto r =
      c.exec("SELECT target_kind, target_channel, target_user, page_size, message FROM delivery_jobs WHERE id = $1", p);
  if (!r) return r.error();
  if (r->empty()) return job_not_found(job);
  return page_job{read_target(*r, 0, 0), static_cast<std::size_t>(cell_int(*r, 0, 3)), cell_text(*r, 0, 4)};
}

}  // namespace

result<delivery_job> sql_store::create_job(const new_job& job) {
  if (job.message.empty() || !is_valid_utf8(job.message)) {
    return failure{error::invalid_argument, "a delivery job needs a message of UTF-8 text"};
  }
  if (job.page_size == 0 || job.page_size > k_max_job_page_size) {
    return failure{error::invalid_argument,
                   fmt::format("page size {} is out of range: expected 1-{}", job.page_size, k_max_job_page_size)};
  }
  if (job.target.what == job_target::kind::channel) {
    if (auto r = check_channel(job.target.channel); !r) return r.error();
  }
  const auto now = unix_millis(clock_.now());
  auto id = with_connection(*db_, [&](connection& c) -> result<job_id> {
    const param params[] = {std::string{kind_name(job.target.what)},
                            job.target.channel,
                            std::int64_t{job.target.user},
                            job.message,
                            job.message_id,
                            static_cast<std::int64_t>(job.page_size),
                            job.created_by,
                            now};
    auto r = c.exec(sql_jobs::insert_job, params);
    if (!r) return r.error();
    return cell_int(*r, 0, 0);
  });
  if (!id) return id.error();
  return get_job(*id);
}

result<delivery_job> sql_store::get_job(job_id id) {
  const auto text = fmt::format("SELECT {} FROM delivery_jobs WHERE id = $1", sql_jobs::job_columns);
  return with_connection(*db_, [&](connection& c) -> result<delivery_job> {
    const param params[] = {id};
    auto r = c.exec(text, params);
    if (!r) return r.error();
    if (r->empty()) return job_not_found(id);
    return read_job(*r, 0);
  });
}

result<std::vector<delivery_job>> sql_store::list_jobs(std::size_t limit) {
  if (limit == 0 || limit > k_max_page_size) {
    return failure{error::invalid_argument,
                   fmt::format("limit {} is out of range: expected 1-{}", limit, k_max_page_size)};
  }
  const auto text = fmt::format("SELECT {} FROM delivery_jobs ORDER BY id DESC LIMIT $1", sql_jobs::job_columns);
  return with_connection(*db_, [&](connection& c) -> result<std::vector<delivery_job>> {
    const param params[] = {static_cast<std::int64_t>(limit)};
    auto r = c.exec(text, params);
    if (!r) return r.error();
    std::vector<delivery_job> out;
    for (std::size_t i = 0; i < r->size(); ++i) out.push_back(read_job(*r, i));
    return out;
  });
}

result<std::vector<job_page>> sql_store::job_pages(job_id id) {
  auto pages = with_connection(*db_, [&](connection& c) -> result<std::vector<job_page>> {
    const param params[] = {id};
    auto r = c.exec(
        "SELECT page, after_id, last_id, state, owner, attempt, lease_expires_at, delivered, gone, failed FROM "
        "delivery_job_pages WHERE job_id = $1 ORDER BY page",
        params);
    if (!r) return r.error();
    std::vector<job_page> out;
    out.reserve(r->size());
    for (std::size_t i = 0; i < r->size(); ++i) {
      job_page p;
      p.page = cell_int(*r, i, 0);
      p.after_id = cell_int(*r, i, 1);
      p.last_id = cell_int(*r, i, 2);
      p.finished = cell_text(*r, i, 3) == "done";
      p.owner = cell_text(*r, i, 4);
      p.attempt = cell_int(*r, i, 5);
      p.lease_expires_at = from_unix_millis(cell_int(*r, i, 6));
      p.delivered = cell_int(*r, i, 7);
      p.gone = cell_int(*r, i, 8);
      p.failed = cell_int(*r, i, 9);
      out.push_back(std::move(p));
    }
    return out;
  });
  if (!pages) return pages.error();
  if (pages->empty()) {
    if (auto j = get_job(id); !j) return j.error();
  }
  return pages;
}

result<std::size_t> sql_store::delete_finished_jobs(clock::time_point cutoff) {
  return delete_older_than(*db_, sql_jobs::delete_finished, cutoff);
}

result<bool> sql_store::cancel_job(job_id id) {
  const auto now = unix_millis(clock_.now());
  auto changed = with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {id, now};
    auto r = c.exec(sql_jobs::cancel_job, params);
    if (!r) return r.error();
    return r->affected > 0;
  });
  if (!changed) return changed.error();
  if (*changed) return true;
  if (auto j = get_job(id); !j) return j.error();
  return false;
}

result<std::optional<job_page_claim>> sql_store::claim_page(std::string_view owner, std::chrono::milliseconds lease,
                                                            std::int64_t max_attempts) {
  if (owner.empty()) return failure{error::invalid_argument, "a page claim needs an owner"};
  const bool pg = db_->kind() == dialect::postgresql;
  const auto now = unix_millis(clock_.now());
  const auto expires = now + lease.count();
  using claim_result = result<std::optional<job_page_claim>>;
  return with_connection(*db_, [&](connection& c) -> claim_result {
    return in_transaction(c, [&]() -> claim_result {
      // A few rounds: an abandoned page that fails its job, or a job found empty, lets the same
      // call go on to the next candidate instead of making the worker wait a poll interval.
      for (int round = 0; round < 8; ++round) {
        const param now_p[] = {now};
        auto expired = c.exec(pg ? sql_jobs::expired_page_pg : sql_jobs::expired_page_sqlite, now_p);
        if (!expired) return expired.error();
        if (!expired->empty()) {
          job_page_claim claim;
          claim.job = cell_int(*expired, 0, 0);
          claim.page = cell_int(*expired, 0, 1);
          claim.after_id = cell_int(*expired, 0, 2);
          claim.last_id = cell_int(*expired, 0, 3);
          if (cell_int(*expired, 0, 4) >= max_attempts) {
            const param fail_p[] = {claim.job,
                                    fmt::format("page {} was abandoned {} times (its workers stopped before finishing "
                                                "it); the job was given up",
                                                claim.page, cell_int(*expired, 0, 4)),
                                    now};
            if (auto f = c.exec(sql_jobs::fail_job, fail_p); !f) return f.error();
            continue;
          }
          const param re_p[] = {claim.job, claim.page, std::string{owner}, expires, now};
          auto re = c.exec(sql_jobs::reclaim_page, re_p);
          if (!re) return re.error();
          claim.attempt = cell_int(*re, 0, 0);
          auto job = read_page_job(c, claim.job);
          if (!job) return job.error();
          claim.message = std::move(job->message);
          auto recipients = page_recipients(c, job->target, claim.after_id, claim.last_id, job->page_size);
          if (!recipients) return recipients.error();
          claim.recipients = std::move(*recipients);
          claim.owner = std::string{owner};
          claim.lease_expires_at = from_unix_millis(expires);
          return claim;
        }

        auto open = c.exec(pg ? sql_jobs::open_job_pg : sql_jobs::open_job_sqlite, {});
        if (!open) return open.error();
        if (open->empty()) return std::optional<job_page_claim>{};
        const auto job = cell_int(*open, 0, 0);
        const auto target = read_target(*open, 0, 1);
        const auto page_size = static_cast<std::size_t>(cell_int(*open, 0, 4));
        const auto after = cell_int(*open, 0, 5);
        const auto pages = cell_int(*open, 0, 6);
        const auto st = page_statement(target.query(), after, page_size);
        auto sessions = c.exec(st.sql, st.params);
        if (!sessions) return sessions.error();
        if (sessions->empty()) {
          const param ex_p[] = {job, now};
          if (auto e = c.exec(sql_jobs::exhaust_job, ex_p); !e) return e.error();
          continue;
        }
        job_page_claim claim;
        claim.job = job;
        claim.page = pages + 1;
        claim.attempt = 1;
        claim.owner = std::string{owner};
        claim.after_id = after;
        for (std::size_t i = 0; i < sessions->size(); ++i) claim.recipients.push_back(read_session(*sessions, i));
        claim.last_id = claim.recipients.back().id;
        claim.lease_expires_at = from_unix_millis(expires);
        const param page_p[] = {job, claim.page, after, claim.last_id, std::string{owner}, expires, now};
        if (auto ins = c.exec(sql_jobs::insert_page, page_p); !ins) return ins.error();
        const param adv_p[] = {job, claim.last_id, sessions->size() < page_size, now};
        if (auto adv = c.exec(sql_jobs::advance_job, adv_p); !adv) return adv.error();
        const param msg_p[] = {job};
        auto msg = c.exec(sql_jobs::job_message, msg_p);
        if (!msg) return msg.error();
        claim.message = cell_text(*msg, 0, 0);
        return claim;
      }
      return std::optional<job_page_claim>{};
    });
  });
}

result<bool> sql_store::renew_lease(const job_page_claim& claim, std::chrono::milliseconds lease) {
  const auto expires = unix_millis(clock_.now()) + lease.count();
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    const param params[] = {claim.job, claim.page, claim.owner, claim.attempt, expires};
    auto r = c.exec(sql_jobs::renew_lease, params);
    if (!r) return r.error();
    return r->affected > 0;
  });
}

result<bool> sql_store::finish_page(const job_page_claim& claim, const job_page_report& report) {
  const bool pg = db_->kind() == dialect::postgresql;
  const auto now = unix_millis(clock_.now());
  return with_connection(*db_, [&](connection& c) -> result<bool> {
    return in_transaction(c, [&]() -> result<bool> {
      const param page_p[] = {
          claim.job,          claim.page,           claim.owner, claim.attempt, report.counts.delivered,
          report.counts.gone, report.counts.failed, now};
      auto done = c.exec(sql_jobs::finish_page, page_p);
      if (!done) return done.error();
      if (done->affected == 0) return false;
      const param job_p[] = {claim.job};
      auto current = c.exec(pg ? sql_jobs::job_failures_pg : sql_jobs::job_failures_sqlite, job_p);
      if (!current) return current.error();
      if (current->empty()) return job_not_found(claim.job);
      auto failures = parse_failures(cell_text(*current, 0, 0));
      for (const auto& f : report.failures) {
        if (failures.size() >= k_max_job_failures) break;
        failures.push_back(f);
      }
      const param add_p[] = {claim.job,
                             report.counts.delivered,
                             report.counts.gone,
                             report.counts.failed,
                             report.counts.too_large,
                             report.counts.retries,
                             encode_failures(failures),
                             now};
      if (auto add = c.exec(sql_jobs::add_page_report, add_p); !add) return add.error();
      return true;
    });
  });
}

}  // namespace apigw::store::detail
