// bench/processes.hpp: the benchmarks' child processes and what /proc says of them (CPU time,
// resident memory), for apigw-bench-gateway's three processes.
#pragma once

#include <fmt/format.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace apigw::bench {

// raise_open_files: 10,000 clients need more descriptors than the usual soft limit of 1,024;
// the children (gateway, backend) inherit the raised limit.
inline void raise_open_files() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// cpu_time: a process's CPU time so far, user and system apart (/proc/PID/stat; 0 when unreadable).
struct cpu_time {
  double user = 0;
  double sys = 0;
  double total() const { return user + sys; }
  cpu_time operator-(const cpu_time& o) const { return {user - o.user, sys - o.sys}; }
  cpu_time& operator+=(const cpu_time& o) {
    user += o.user;
    sys += o.sys;
    return *this;
  }
};

inline cpu_time cpu_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt: fields 3 to 13
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  fields >> utime >> stime;
  const auto tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return {static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

// cpu_sample: the CPU time of the three processes (gateway, backend, this load client) so far, or
// summed over a phase's slices.
struct cpu_sample {
  cpu_time gateway;
  cpu_time backend;
  cpu_time client;
  static cpu_sample of(pid_t gateway_pid, pid_t backend_pid) {
    return {cpu_of(gateway_pid), cpu_of(backend_pid), cpu_of(::getpid())};
  }
  double total() const { return gateway.total() + backend.total() + client.total(); }
  cpu_sample operator-(const cpu_sample& o) const {
    return {gateway - o.gateway, backend - o.backend, client - o.client};
  }
  cpu_sample& operator+=(const cpu_sample& o) {
    gateway += o.gateway;
    backend += o.backend;
    client += o.client;
    return *this;
  }
};

// rss_kib: a process's resident set (VmRSS) in KiB, or -1.
inline long rss_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// spawn: runs `args` (args[0] a path) as a child process; its pid.
inline pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s\n", argv[0]);
    std::_Exit(127);
  }
  return pid;
}

// wait_for: polls `ready` every 10 ms until it holds or `limit` passes; false on timeout.
template <class Pred>
bool wait_for(Pred ready, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// children: the gateway and backend processes, stopped (gateway first, so its $disconnect calls
// reach the backend) by stop() or at the latest on destruction.
struct children {
  pid_t backend = -1;
  pid_t gateway = -1;
  children() = default;
  children(const children&) = delete;
  children& operator=(const children&) = delete;
  ~children() { stop(); }
  void stop() {
    for (pid_t& p : {std::ref(gateway), std::ref(backend)}) {
      if (p <= 0) continue;
      ::kill(p, SIGTERM);
      int status = 0;
      for (int i = 0; i < 300 && ::waitpid(p, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (::waitpid(p, &status, WNOHANG) == 0) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &status, 0);
      }
      p = -1;
    }
  }
};

}  // namespace apigw::bench
