// apigw/dispatch/jobs.hpp: durable broadcasts from app code: a send recorded in the store as a
// delivery job before its first request, and worked through by the job workers of every backend
// process sharing the store (job_worker.hpp), so a crash in the middle repeats at most the pages
// in flight instead of losing the rest (docs/design/jobs.md).
//
//   auto id = app.sessions().in_channel("general").send_durable(msg);  // result<store::job_id>
//   auto id = dispatch::start_job(store, store::job_target::all(), msg, {.created_by = "admin"});
//
// The message a recipient gets carries the job's message id under the reserved key "apigw":
// {"type": "toast", ..., "apigw": {"id": "job-5f3a..."}}. The browser client drops a message whose
// id it has seen, so the at-least-once delivery of a resumed job reaches the app exactly once. A
// message that already has "apigw":{"id":...} keeps it. No I/O types here: the worker, which
// needs the sender, is in job_worker.hpp.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"
#include "apigw/store/job_repository.hpp"
#include "apigw/store/session_query.hpp"

#include <cstddef>
#include <string>
#include <utility>

namespace apigw::dispatch {

// job_options: how a job is cut and who started it.
struct job_options {
  std::size_t page_size = 1000;  // recipients per page: the most a crash can repeat per page in flight
  std::string created_by = "app";
};

// job_message: a message as a job sends it: its text (serialized once, with the reserved
// "apigw":{"id":...} added unless present) and that id.
struct job_message {
  std::string text;
  std::string id;
};

// make_job_message: `message` with a new job message id ("job-" and 24 hex digits) added under
// "apigw", or its own id kept. invalid_argument when `message` is not a JSON object or its "apigw"
// is not an object or its id is not a non-empty string; payload_too_large over 131072 bytes.
result<job_message> make_job_message(const json::value& message);

// job_target_of: the job target of a session query: the empty query (everyone), a channel or a
// user, with or without connected_only. invalid_argument for any other query (several filters, a
// connection id, a gateway): jobs are for broadcasts, a single connection is sent to directly.
result<store::job_target> job_target_of(const store::session_query& q);

// start_job: records a running job sending `message` to `target` and returns it; the workers
// pick it up. The failures of make_job_message, or the store's.
result<store::delivery_job> start_job(store::job_repository& jobs, const store::job_target& target,
                                      const json::value& message, const job_options& options = {});

}  // namespace apigw::dispatch
