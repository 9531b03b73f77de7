// tests/support/io_runner.hpp: an io_context run by background threads, and `run(awaitable)` to
// drive a coroutine to completion from a test body (GoogleTest's thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

namespace apigw::testing {

// io_runner: owns an io_context and `threads` threads running it until destruction.
class io_runner {
 public:
  explicit io_runner(std::size_t threads = 2) : work_(io_.get_executor()) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~io_runner() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  io_runner(const io_runner&) = delete;
  io_runner& operator=(const io_runner&) = delete;

  boost::asio::io_context& context() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  // run: runs `a` on the io_context and waits for its value (rethrows its exception).
  template <class T>
  T run(boost::asio::awaitable<T> a) {
    return boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace apigw::testing
