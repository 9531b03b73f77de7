// tests/integration/dispatch/dev_process.hpp: `apigw-ws dev` as a child process for the tests of
// this folder: free ports, a data folder of its own under `dir`, stdout and stderr to files there,
// stopped with SIGTERM. With --tls among the arguments it serves https:// and wss://.
#pragma once

#include "support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace apigw::testing {

class dev_process {
 public:
  explicit dev_process(const std::filesystem::path& dir, const std::vector<std::string>& extra = {}) : dir_(dir) {
    const char* source = std::getenv("APIGW_SOURCE_DIR");
    std::vector<std::string> argv_s{APIGW_CLI_PATH,   "dev",
                                    "--port",         "0",
                                    "--gateway-port", "0",
                                    "--data-dir",     (dir / "data").string(),
                                    "--source-dir",   source != nullptr ? source : "."};
    argv_s.insert(argv_s.end(), extra.begin(), extra.end());
    auto argv = c_strings(argv_s);
    auto env_s = environment_strings({{"PATH", "/usr/bin:/bin"}});  // (and TSAN_OPTIONS under tsan)
    auto envp = c_strings(env_s);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (dir / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~dev_process() { stop(); }
  dev_process(const dev_process&) = delete;
  dev_process& operator=(const dev_process&) = delete;

  // stop: SIGTERM, and waits for the process to exit.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }
  void signal(int sig) const { ::kill(pid_, sig); }

  // wait_ready: true once the process printed its ready line (http/ws, or https/wss with --tls);
  // the backend and gateway ports are then set.
  bool wait_ready() {
    using namespace std::chrono_literals;
    const std::regex ready(R"(ready url=https?://127\.0\.0\.1:(\d+)/ gateway=wss?://127\.0\.0\.1:(\d+)/dev)");
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
      const auto out = read_file(dir_ / "stdout");
      std::smatch m;
      if (std::regex_search(out, m, ready)) {
        backend_port = static_cast<std::uint16_t>(std::stoi(m[1]));
        gateway_port = static_cast<std::uint16_t>(std::stoi(m[2]));
        return true;
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::string stdout_text() const { return read_file(dir_ / "stdout"); }
  std::string output() const { return stdout_text() + read_file(dir_ / "stderr"); }

  std::uint16_t backend_port = 0;
  std::uint16_t gateway_port = 0;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = 0;
};

}  // namespace apigw::testing
