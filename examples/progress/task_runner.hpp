// examples/progress/task_runner.hpp: long-running tasks with live progress. Each task does real
// work on a background thread (generates a file of pseudo-random bytes and hashes it with SHA-256
// in 256 KiB chunks), on its own channel "task-<id>", which the starting connection joins:
//
//   {"handler":"task_start","megabytes":16}
//     -> task_started {"task_id","channel"} to the sender, then on the channel:
//        task_progress {"task_id","percent","message"} 0..100, task_complete {"task_id","result_url"}
//   GET /api/tasks/<id> -> {"task_id","bytes","sha256","state"}
//
// Several tasks run at once (at most k_max_running); the destructor stops and joins them all. A
// finished task's thread is joined by the next start (so at most k_max_running threads exist,
// running or finished), and only the newest k_max_kept finished results are kept for
// GET /api/tasks/<id>: a server that runs tasks for weeks holds a bounded number of both.
#pragma once

#include "site_context.hpp"

#include "apigw/dispatch/view.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace examples {

class task_runner {
 public:
  static constexpr std::size_t k_max_running = 8;
  static constexpr std::int64_t k_max_megabytes = 256;
  static constexpr std::size_t k_max_kept = 64;

  explicit task_runner(site_context& site);
  ~task_runner();
  task_runner(const task_runner&) = delete;
  task_runner& operator=(const task_runner&) = delete;

  // install: registers task_start on `v`.
  void install(apigw::view& v);
  // result: GET /api/tasks/<id>.
  apigw::response result(const apigw::dispatch::request& req);

  // threads: the worker threads not joined yet (running, or finished and waiting for the next
  // start to join them). tasks: the tasks known (running, and the kept finished ones). running: the
  // tasks whose thread has not returned yet (what k_max_running limits). For tests and monitoring.
  std::size_t threads() const;
  std::size_t tasks() const;
  std::size_t running() const;

 private:
  struct task {
    std::int64_t bytes = 0;
    std::string state = "running";  // running | done | stopped
    std::string sha256;
  };
  // reap: joins the threads of finished tasks and drops the oldest finished results beyond
  // k_max_kept. Called with mu_ held.
  void reap();
  apigw::response start(apigw::request_context& ctx);
  void run(std::stop_token stop, std::string id, std::int64_t bytes);
  void finish(const std::string& id, std::string state, std::string sha256);

  site_context& site_;
  mutable std::mutex mu_;
  std::map<std::string, task, std::less<>> tasks_;
  std::deque<std::string> finished_order_;  // finished task ids, oldest first
  std::size_t running_ = 0;
  std::map<std::string, std::jthread, std::less<>> workers_;  // by task id
  std::vector<std::string> exited_;                           // tasks whose thread has returned and may be joined
};

}  // namespace examples
