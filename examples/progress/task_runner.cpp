// examples/progress/task_runner.cpp: see task_runner.hpp.
#include "task_runner.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/message/builders.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <vector>

namespace examples {
namespace {

constexpr std::size_t k_chunk = 256 * 1024;

// fill_chunk: the next `out.size()` bytes of the task's "file" (xorshift64, so the file is the same
// for the same size and needs no disk).
void fill_chunk(std::uint64_t& state, std::span<unsigned char> out) {
  for (auto& b : out) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    b = static_cast<unsigned char>(state);
  }
}

}  // namespace

task_runner::task_runner(site_context& site) : site_(site) {}

task_runner::~task_runner() {
  std::map<std::string, std::jthread, std::less<>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [id, w] : workers) w.request_stop();
  workers.clear();  // joins, without mu_: a stopping task still takes it to record its end
}

void task_runner::install(apigw::view& v) {
  v.handle("task_start", [this](apigw::request_context& ctx) { return start(ctx); });
}

apigw::response task_runner::start(apigw::request_context& ctx) {
  const auto mb = std::clamp<std::int64_t>(apigw::get_int(ctx.body(), "megabytes").value_or(16), 1, k_max_megabytes);
  std::array<std::byte, 6> raw{};
  if (!apigw::random_bytes(raw)) return apigw::response::text(503, "Service Unavailable");
  const auto id = apigw::to_hex(raw);
  const auto channel = "task-" + id;
  {
    std::lock_guard lock(mu_);
    reap();
    if (running_ >= k_max_running) {
      (void)ctx.reply(
          apigw::json::object{{"type", "task_error"}, {"message", "Too many tasks running, wait a moment"}});
      return apigw::response::text(429, "Too many tasks");
    }
    ++running_;
    tasks_[id] = task{.bytes = mb * 1024 * 1024};
  }
  // The starting tab listens on the task's own channel; others could join it to watch.
  (void)ctx.app().store().join_channel(ctx.connection_id(), channel);
  (void)ctx.reply(
      apigw::json::object{{"type", "task_started"}, {"task_id", id}, {"channel", channel}, {"megabytes", mb}});
  std::lock_guard lock(mu_);
  workers_.emplace(id, std::jthread([this, id, bytes = mb * 1024 * 1024](std::stop_token stop) {
                     run(stop, id, bytes);
                     // Last: the thread is about to return, so joining it later does not wait, and
                     // it counts as running until here, so running threads never pass the limit.
                     std::lock_guard done(mu_);
                     exited_.push_back(id);
                     --running_;
                   }));
  return apigw::response::ok();
}

void task_runner::reap() {
  for (const auto& id : exited_) {
    if (auto it = workers_.find(id); it != workers_.end()) {
      it->second.join();  // returns at once: the thread has recorded its exit and holds no lock
      workers_.erase(it);
    }
  }
  exited_.clear();
  while (finished_order_.size() > k_max_kept) {
    tasks_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

std::size_t task_runner::threads() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

std::size_t task_runner::tasks() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

std::size_t task_runner::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void task_runner::run(std::stop_token stop, std::string id, std::int64_t bytes) {
  const auto to = site_.app.sessions().in_channel("task-" + id);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return finish(id, "stopped", "");
  std::vector<unsigned char> chunk(k_chunk);
  std::uint64_t state = 0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(bytes);
  std::int64_t done = 0;
  std::int64_t last_percent = -1;
  while (done < bytes) {
    if (stop.stop_requested()) return finish(id, "stopped", "");
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(k_chunk, bytes - done));
    fill_chunk(state, std::span(chunk.data(), n));
    EVP_DigestUpdate(md.get(), chunk.data(), n);
    done += static_cast<std::int64_t>(n);
    const auto percent = done * 100 / bytes;
    if (percent != last_percent) {
      last_percent = percent;
      auto msg = apigw::task_progress(
          id, percent, fmt::format("Hashed {:.1f} of {} MiB", static_cast<double>(done) / (1 << 20), bytes >> 20));
      // Published (kept in the task channel's history) so a page that reconnects catches up.
      // Separate sends may arrive in any order; waiting for each keeps the bar moving forward (this
      // is the task's own thread, not a handler worker, so it may wait).
      (void)to.publish(*msg).wait();
    }
    // A demo runs slowly enough to watch: about 40 ms per chunk.
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned len = 0;
  EVP_DigestFinal_ex(md.get(), digest.data(), &len);
  finish(id, "done", apigw::to_hex(std::as_bytes(std::span(digest.data(), len))));
  (void)to.publish(*apigw::task_complete(id, "/api/tasks/" + id));
}

void task_runner::finish(const std::string& id, std::string state, std::string sha256) {
  std::lock_guard lock(mu_);
  auto& t = tasks_[id];
  t.state = std::move(state);
  t.sha256 = std::move(sha256);
  finished_order_.push_back(id);
}

apigw::response task_runner::result(const apigw::dispatch::request& req) {
  if (!logged_in(site_, req)) return error_json(401, "Log in first");
  const auto id = std::string_view{req.path}.substr(req.path.rfind('/') + 1);
  std::lock_guard lock(mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return error_json(404, "No such task");
  return apigw::response::json(200, apigw::json::object{{"task_id", it->first},
                                                        {"bytes", it->second.bytes},
                                                        {"state", it->second.state},
                                                        {"sha256", it->second.sha256}});
}

}  // namespace examples
