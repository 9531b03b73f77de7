// dispatch/worker_pool.hpp (private): a fixed number of threads taking tasks from a bounded
// queue. A full queue refuses the task (the caller answers 503) instead of growing without bound.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace apigw::dispatch::detail {

class worker_pool {
 public:
  enum class outcome { queued, full, stopped };

  worker_pool(std::size_t threads, std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
    if (threads == 0) threads = 1;
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~worker_pool() { stop(); }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // post: queues `task`; refused when the queue holds `capacity` tasks or after stop().
  outcome post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return outcome::stopped;
      if (queue_.size() >= capacity_) return outcome::full;
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return outcome::queued;
  }

  // queued: tasks waiting for a thread now; capacity: how many may wait.
  std::size_t queued() {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }
  std::size_t capacity() const noexcept { return capacity_; }

  // stop: refuses new tasks, runs the queued ones, joins the threads. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard lock(mutex_);
    threads_.clear();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace apigw::dispatch::detail
