// tests/support/child_process.hpp: runs a program in a child process with exactly the given
// environment, stdin from /dev/null, and stdout/stderr captured through files in `scratch_dir`.
// The CLI end-to-end tests run the real apigw-ws binary through it; background_process runs a
// server (the gateway, a backend) until the test stops it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace apigw::testing {

// run_result: how the child ended and what it printed.
struct run_result {
  int exit_code = -1;  // -1 when it could not be started or did not exit normally
  std::string out;
  std::string err;
};

// read_file: a whole file as bytes ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// c_strings: null-terminated pointers to `strings`, as posix_spawn takes argv and envp (valid
// while `strings` lives and is not changed).
inline std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// environment_strings: `env` as NAME=value strings, plus TSAN_OPTIONS when this process has it
// and `env` does not: under the tsan preset a child must read the same suppressions as the test
// (Asio's ref_count_down false positive), or its report lands in the output the test parses.
inline std::vector<std::string> environment_strings(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  out.reserve(env.size() + 1);
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  if (const char* tsan = std::getenv("TSAN_OPTIONS"); tsan != nullptr && !env.contains("TSAN_OPTIONS"))
    out.push_back(std::string("TSAN_OPTIONS=") + tsan);
  return out;
}

// run_process: runs argv[0] with `argv` and only `env` as its environment, waits for it, and
// returns its exit code and output.
inline run_result run_process(std::vector<std::string> argv_s, const std::map<std::string, std::string>& env,
                              const std::filesystem::path& scratch_dir) {
  auto argv = c_strings(argv_s);
  auto env_s = environment_strings(env);
  auto envp = c_strings(env_s);

  const auto out_path = scratch_dir / "stdout";
  const auto err_path = scratch_dir / "stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  run_result r;
  if (rc != 0) {
    r.err = "posix_spawn failed";
    return r;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

// background_process: argv[0] started with `argv`, only `env` and the working directory `dir`,
// stdout and stderr to dir/<name>.out and dir/<name>.err; stop() (and the destructor) sends
// SIGTERM and waits for it to exit.
class background_process {
 public:
  background_process(std::vector<std::string> argv_s, const std::map<std::string, std::string>& env,
                     const std::filesystem::path& dir, const std::string& name)
      : out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
    auto argv = c_strings(argv_s);
    auto env_s = environment_strings(env);
    auto envp = c_strings(env_s);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~background_process() { stop(); }
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  bool started() const { return pid_ > 0; }
  // running: false once the process has exited (its status is then `exit_code`).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      pid_ = 0;
      return false;
    }
    return true;
  }
  int exit_code() const { return exit_code_; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = 0;
  }
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  std::filesystem::path out_;
  std::filesystem::path err_;
  pid_t pid_ = 0;
  int exit_code_ = -1;
};

}  // namespace apigw::testing
