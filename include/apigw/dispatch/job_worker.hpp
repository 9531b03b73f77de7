// apigw/dispatch/job_worker.hpp: the delivery job worker every backend process runs: it claims
// pages of running jobs from the store under a lease, sends each page through the fan-out sender
// (concurrent, 429/5xx retried, 410 reported gone and marked disconnected), renews the lease while
// the page is in flight, and records the page's report (docs/design/jobs.md).
//
//   dispatch::job_worker worker(sender, store, {.owner = "backend-1"});
//   worker.start();   // threads that claim pages until stop()
//   ...
//   worker.stop();    // finishes the pages in flight, claims no more
//
// Several workers, in one process or many sharing a PostgreSQL store, share the pages of one job.
// A worker that dies leaves its page claimed until the lease expires; then any live worker sends
// that page again (at-least-once) and goes on. Only wiring code includes this header: it pulls in
// the sender.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/store/job_repository.hpp"
#include "apigw/store/session_store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace apigw::dispatch {

// job_worker_options: who the worker is and how it paces itself.
struct job_worker_options {
  // owner: the name recorded on the pages this worker claims (logs, `apigw-ws jobs show`); each
  // worker in the system needs its own. Empty: "<hostname>:<pid>".
  std::string owner;
  // lease: how long a claimed page is this worker's without a renewal. A dead worker's page waits
  // this long before another takes it; the worker renews every lease / 3 while sending.
  std::chrono::milliseconds lease{30'000};
  // poll: how long a worker with nothing to claim waits before asking the store again.
  std::chrono::milliseconds poll{500};
  // threads: pages this worker sends at the same time (each is itself a concurrent fan-out).
  std::size_t threads = 1;
  // max_attempts: a page abandoned this many times fails its job instead of being sent again.
  std::int64_t max_attempts = 5;
  // endpoint_override / connect_window: as sender_delivery_options.
  std::optional<std::string> endpoint_override;
  std::chrono::milliseconds connect_window = k_connect_window;
  // on_page: called after each page is recorded (tests, logs); `recorded` false when the claim had
  // been lost. Called on a worker thread.
  std::function<void(const store::job_page_claim&, const store::job_page_report&, bool recorded)> on_page;
  // on_error: a store failure the worker will retry after `poll`.
  std::function<void(const failure&)> on_error;
};

// job_worker: see the file comment. `sender` and `store` must outlive it.
class job_worker {
 public:
  job_worker(mgmt::sender& sender, store::session_store& store, job_worker_options options = {});
  ~job_worker();
  job_worker(const job_worker&) = delete;
  job_worker& operator=(const job_worker&) = delete;

  // start: starts the threads. Idempotent.
  void start();
  // stop: claims no more pages, lets the pages in flight finish and be recorded, joins the
  // threads. Idempotent; the destructor calls it.
  void stop();
  // run_once: claims and sends one page on the calling thread. true when a page was sent, false
  // when there was nothing to claim; the store's failure otherwise.
  result<bool> run_once();
  // pages: pages this worker sent and recorded so far.
  std::size_t pages() const noexcept { return pages_.load(); }
  const std::string& owner() const noexcept { return options_.owner; }

 private:
  void loop();
  result<std::string> endpoint_of(const store::session& s);

  mgmt::sender& sender_;
  store::session_store& store_;
  job_worker_options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> pages_{0};
  std::mutex endpoints_mu_;
  std::map<store::gateway_id, std::string> endpoints_;  // guarded by endpoints_mu_
};

}  // namespace apigw::dispatch
