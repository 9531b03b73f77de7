// apigw/store/job_repository.hpp: the delivery jobs slice of the store: durable broadcasts
// (tables delivery_jobs and delivery_job_pages), worked through page by page under leases.
//
// A job is recorded before its first request: the target (a channel, a user, everyone), the
// message as sent, and a state. Workers (any backend process sharing the database) claim one page
// of recipients at a time with claim_page, send it, and record the page's report with
// finish_page. A page's recipients are fixed by the claim: the connected sessions with ids in
// (after_id, last_id], the next `page_size` after the previous page at the moment it was first
// claimed. A claim carries a lease; a page whose lease expired (its worker died) is claimed again
// by the next caller, with the same bounds, so a crash repeats at most the pages in flight. The
// job's counters only ever include finished pages, each once. docs/design/jobs.md has the whole
// protocol.
//
// Part of session_store (session_store.hpp). Thread-safe and blocking; members return a failure
// instead of throwing (not_found, invalid_argument, unavailable).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/store/error.hpp"
#include "apigw/store/records.hpp"
#include "apigw/store/session_query.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::store {

using job_id = std::int64_t;

// Most failures a job keeps with their reasons; later ones are only counted.
inline constexpr std::size_t k_max_job_failures = 20;
// Largest page a job may be cut into (the largest session page, k_max_page_size).
inline constexpr std::size_t k_max_job_page_size = 10'000;

// job_state: running (pages left to claim or finish), done (every page finished), cancelled (by
// cancel_job; pages in flight still report), failed (a page was abandoned max_attempts times).
enum class job_state { running, done, cancelled, failed };

// to_string / parse_job_state: the names stored and shown ("running", "done"...).
std::string_view to_string(job_state s) noexcept;
std::optional<job_state> parse_job_state(std::string_view s) noexcept;

// job_target: whom a job sends to: the connected sessions of a channel, of a user, or all of them.
struct job_target {
  enum class kind { everyone, channel, user };
  kind what = kind::everyone;
  std::string channel;  // kind::channel
  user_id user = 0;     // kind::user

  static job_target all() { return {}; }
  static job_target in_channel(std::string_view c) { return {kind::channel, std::string{c}, 0}; }
  static job_target for_user(user_id u) { return {kind::user, {}, u}; }
  // query: the sessions this target means (connected only).
  session_query query() const;
  // describe: "everyone", "channel 'general'", "user 7".
  std::string describe() const;

  friend bool operator==(const job_target&, const job_target&) = default;
};

// job_counts: how the recipients of finished pages ended (each recipient in exactly one of
// delivered, gone, failed; too_large is the part of failed refused as too large).
struct job_counts {
  std::int64_t delivered = 0;
  std::int64_t gone = 0;
  std::int64_t failed = 0;
  std::int64_t too_large = 0;
  std::int64_t retries = 0;
  // recipients: delivered + gone + failed.
  std::int64_t recipients() const noexcept { return delivered + gone + failed; }
  friend bool operator==(const job_counts&, const job_counts&) = default;
};

// job_failure: one recipient that could not be delivered to, and why.
struct job_failure {
  std::string connection_id;
  std::string reason;
  friend bool operator==(const job_failure&, const job_failure&) = default;
};

// new_job: what create_job records.
struct new_job {
  job_target target;
  std::string message;     // the bytes every recipient gets (already carrying "apigw":{"id":...})
  std::string message_id;  // the id inside `message`, for listings
  std::size_t page_size = 1000;
  std::string created_by;  // free text: "cli", "user 7", "app"
};

// delivery_job: one job as stored.
struct delivery_job {
  job_id id = 0;
  job_target target;
  std::string message;
  std::string message_id;
  job_state state = job_state::running;
  std::size_t page_size = 0;
  std::int64_t pages = 0;       // pages claimed so far (numbered 1..pages)
  std::int64_t pages_done = 0;  // pages finished
  bool exhausted = false;       // no recipients left to cut pages from
  // finished_through: every recipient with a session id <= this is in a finished page.
  session_id finished_through = 0;
  job_counts counts;
  std::vector<job_failure> failures;  // the first k_max_job_failures
  std::string error;                  // why the job failed
  std::string created_by;
  clock::time_point created_at{};
  clock::time_point updated_at{};
};

// job_page_claim: one page a worker holds under a lease.
struct job_page_claim {
  job_id job = 0;
  std::int64_t page = 0;
  std::int64_t attempt = 0;  // 1 for the first claim, +1 for each claim after a lease expired
  std::string owner;
  std::string message;
  session_id after_id = 0;  // recipients: connected sessions with after_id < id <= last_id
  session_id last_id = 0;
  std::vector<session> recipients;
  clock::time_point lease_expires_at{};
};

// job_page: one page of a job as stored (for listings and tests).
struct job_page {
  std::int64_t page = 0;
  session_id after_id = 0;
  session_id last_id = 0;
  bool finished = false;
  std::string owner;  // the worker that holds (or finished) it
  std::int64_t attempt = 0;
  clock::time_point lease_expires_at{};
  std::int64_t delivered = 0;
  std::int64_t gone = 0;
  std::int64_t failed = 0;
};

// job_page_report: the outcome of sending one claimed page.
struct job_page_report {
  job_counts counts;
  std::vector<job_failure> failures;
};

// job_repository: delivery_jobs and delivery_job_pages (see the file comment).
class job_repository {
 public:
  virtual ~job_repository() = default;

  // create_job: records a running job with no pages yet. invalid_argument for an empty or
  // non-UTF-8 message, a bad channel name or a page size outside 1-k_max_job_page_size.
  virtual result<delivery_job> create_job(const new_job& job) = 0;
  // get_job: the job with this id, or not_found.
  virtual result<delivery_job> get_job(job_id id) = 0;
  // list_jobs: the newest `limit` jobs, newest first (all states).
  virtual result<std::vector<delivery_job>> list_jobs(std::size_t limit) = 0;
  // job_pages: the pages of a job cut so far, in page order; not_found for an unknown job.
  virtual result<std::vector<job_page>> job_pages(job_id id) = 0;
  // cancel_job: stops a running job: no more pages are claimed; pages in flight still report.
  // true when it was running, false when it had already ended; not_found for an unknown id.
  virtual result<bool> cancel_job(job_id id) = 0;
  // delete_finished_jobs: deletes the jobs that ended (done, cancelled or failed) before `cutoff`
  // (by their last change), with their pages; a running job is never deleted, however old. How many
  // jobs went. Jobs are kept until then so `apigw-ws jobs show` can report on them.
  virtual result<std::size_t> delete_finished_jobs(clock::time_point cutoff) = 0;

  // claim_page: the next page of work for `owner`, leased until now + `lease`: first a page of a
  // running job whose lease expired (the same bounds, attempt + 1), else a new page cut from the
  // running job with the lowest id. A page already abandoned `max_attempts` times fails its job
  // instead. nullopt when there is nothing to do. On PostgreSQL concurrent callers never wait for
  // each other's rows (FOR UPDATE SKIP LOCKED).
  virtual result<std::optional<job_page_claim>> claim_page(std::string_view owner, std::chrono::milliseconds lease,
                                                           std::int64_t max_attempts = 5) = 0;
  // renew_lease: moves the claim's lease to now + `lease`. false when the claim was lost (its
  // lease expired and another worker took the page).
  virtual result<bool> renew_lease(const job_page_claim& claim, std::chrono::milliseconds lease) = 0;
  // finish_page: records the page finished with `report`, adds it to the job's counters and ends
  // the job (done) when it was the last. false when the claim was lost: nothing is recorded, the
  // page is counted by the worker that holds it now.
  virtual result<bool> finish_page(const job_page_claim& claim, const job_page_report& report) = 0;
};

}  // namespace apigw::store
