// A throwaway PostgreSQL server for tests: initdb + pg_ctl on a free loopback port, torn down after.
#include "support/pg_server.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace apigw::test {
namespace {

const char* k_default_bindir = "/usr/lib/postgresql/15/bin";

// free_port: a port on 127.0.0.1 that was free a moment ago (the kernel picks it).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// tail: the last `n` bytes of a file, for failure messages.
std::string tail(const std::filesystem::path& file, std::size_t n = 3000) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  return text.size() > n ? text.substr(text.size() - n) : text;
}

// runner: runs commands as the user that may run PostgreSQL (`postgres` when we are root).
struct runner {
  bool as_postgres = false;
  std::string runuser;

  // run: runs `argv` in `cwd` with stdout and stderr appended to `log`; returns the exit status.
  result<int> run(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                  const std::filesystem::path& log) const {
    std::vector<std::string> full;
    if (as_postgres) full = {runuser, "-u", "postgres", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      return failure{error_code(rc, boost::system::generic_category()), fmt::format("cannot run {}", full[0])};
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return failure{error_code(errno, boost::system::generic_category()), "waitpid failed"};
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

runner make_runner() {
  runner r;
  if (::geteuid() == 0) {
    r.as_postgres = true;
    for (const char* candidate : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
      if (::access(candidate, X_OK) == 0) {
        r.runuser = candidate;
        break;
      }
    }
  }
  return r;
}

}  // namespace

std::string pg_server::url(std::string_view database) const {
  return fmt::format("postgresql://postgres@127.0.0.1:{}/{}", port_, database);
}

std::string pg_server::unused_port_url() {
  // A port that was just free; nothing listens there, so connections are refused at once.
  return fmt::format("postgresql://postgres@127.0.0.1:{}/postgres", free_port());
}

result<std::unique_ptr<pg_server>> pg_server::start() {
  const char* env_bindir = std::getenv("APIGW_PG_BINDIR");
  const std::filesystem::path bindir = env_bindir != nullptr && *env_bindir != '\0' ? env_bindir : k_default_bindir;
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (::access((bindir / tool).c_str(), X_OK) != 0) {
      return failure{error_code(ENOENT, boost::system::generic_category()),
                     fmt::format("PostgreSQL server binaries not found: {} is missing. Install the Debian package "
                                 "postgresql-15 (CI does), or set APIGW_PG_BINDIR to the directory holding initdb "
                                 "and pg_ctl.",
                                 (bindir / tool).string())};
    }
  }
  const auto run = make_runner();
  uid_t uid = 0;
  gid_t gid = 0;
  if (run.as_postgres) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || run.runuser.empty()) {
      return failure{error_code(EPERM, boost::system::generic_category()),
                     "running as root, but PostgreSQL refuses to run as root and there is no `postgres` user or "
                     "no runuser to switch to it (install postgresql, which creates the user)"};
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }

  std::unique_ptr<pg_server> server{new pg_server};
  server->bindir_ = bindir;
  // Under /tmp (not $TMPDIR): the unix socket path must stay short, and the postgres user must be
  // able to reach the directory.
  std::string dir_template = "/tmp/apigw-pg-XXXXXX";
  if (::mkdtemp(dir_template.data()) == nullptr) {
    return failure{error_code(errno, boost::system::generic_category()), "cannot create a temporary directory"};
  }
  server->dir_ = dir_template;
  if (run.as_postgres && ::chown(server->dir_.c_str(), uid, gid) != 0) {
    return failure{error_code(errno, boost::system::generic_category()),
                   fmt::format("cannot hand {} to the postgres user", server->dir_.string())};
  }
  const auto data = server->dir_ / "data";
  const auto log = server->dir_ / "commands.log";

  auto initdb = run.run({(bindir / "initdb").string(), "-D", data.string(), "-U", "postgres", "-A", "trust", "-E",
                         "UTF8", "--locale=C", "--no-sync"},
                        server->dir_, log);
  if (!initdb || *initdb != 0) {
    return failure{error_code(ECHILD, boost::system::generic_category()),
                   fmt::format("initdb failed; its output:\n{}", tail(log))};
  }

  // The port is free when picked but may be taken before the server binds it: try a few.
  result<void> launched = ok();
  for (int attempt = 0; attempt < 3 && !server->running_; ++attempt) {
    server->port_ = free_port();
    launched = server->launch();
  }
  if (!launched) return launched.error();
  return server;
}

result<void> pg_server::launch() {
  const auto run = make_runner();
  const auto log = dir_ / "commands.log";
  const auto options = fmt::format(
      "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port_,
      dir_.string());
  auto started = run.run({(bindir_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-l",
                          (dir_ / "server.log").string(), "-o", options, "-w", "-t", "60", "start"},
                         dir_, log);
  running_ = started && *started == 0;
  if (!running_) {
    return failure{
        error_code(ECHILD, boost::system::generic_category()),
        fmt::format("pg_ctl start failed; its output:\n{}\nserver log:\n{}", tail(log), tail(dir_ / "server.log"))};
  }
  return ok();
}

namespace {

// postmaster_pid: the first line of the data directory's postmaster.pid.
int postmaster_pid(const std::filesystem::path& data) {
  std::ifstream in(data / "postmaster.pid");
  int pid = 0;
  in >> pid;
  return pid;
}

// children_of: the processes whose parent is `parent` (from /proc/<pid>/stat).
std::vector<int> children_of(int parent) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) == 0) continue;
    std::ifstream in(entry.path() / "stat");
    std::string line;
    std::getline(in, line);
    // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

failure signal_failure(const char* what) {
  return failure{error_code(errno, boost::system::generic_category()), what};
}

}  // namespace

result<void> pg_server::freeze() {
  if (!running_) return failure{error_code(ESRCH, boost::system::generic_category()), "the server is not running"};
  if (!frozen_.empty()) return ok();
  const int postmaster = postmaster_pid(dir_ / "data");
  if (postmaster <= 0) return failure{error_code(ESRCH, boost::system::generic_category()), "no postmaster.pid"};
  // The postmaster first, so it starts no process that would escape the freeze.
  if (::kill(postmaster, SIGSTOP) != 0) return signal_failure("cannot stop the postmaster");
  frozen_.push_back(postmaster);
  for (const int child : children_of(postmaster)) {
    if (::kill(child, SIGSTOP) == 0) frozen_.push_back(child);
  }
  return ok();
}

result<void> pg_server::thaw() {
  for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it) (void)::kill(*it, SIGCONT);
  frozen_.clear();
  return ok();
}

result<void> pg_server::stop() {
  (void)thaw();
  if (!running_) return ok();
  const auto run = make_runner();
  const auto log = dir_ / "commands.log";
  auto stopped =
      run.run({(bindir_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "fast", "-w", "-t", "60", "stop"},
              dir_, log);
  if (!stopped || *stopped != 0) {
    return failure{error_code(ECHILD, boost::system::generic_category()),
                   fmt::format("pg_ctl stop failed; its output:\n{}", tail(log))};
  }
  running_ = false;
  return ok();
}

result<void> pg_server::restart() {
  if (auto stopped = stop(); !stopped) return stopped;
  return launch();
}

pg_server::~pg_server() {
  (void)thaw();
  if (running_) {
    const auto run = make_runner();
    (void)run.run({(bindir_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "immediate", "-w", "stop"},
                  dir_, dir_ / "commands.log");
  }
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

result<std::string> pg_server::create_database(std::string_view name) {
  std::string safe;
  for (const char ch : name) {
    safe += (std::isalnum(static_cast<unsigned char>(ch)) != 0) ? static_cast<char>(std::tolower(ch)) : '_';
  }
  safe = safe.substr(0, 60);
  PGconn* conn = PQconnectdb(url().c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, fmt::format("CREATE DATABASE \"{}\"", safe).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  if (!error.empty()) {
    return failure{error_code(EIO, boost::system::generic_category()),
                   fmt::format("cannot create database {}: {}", safe, error)};
  }
  return url(safe);
}

namespace {
std::unique_ptr<pg_server>& shared_server() {
  static std::unique_ptr<pg_server> server;
  return server;
}
}  // namespace

void pg_environment::SetUp() {
  auto started = pg_server::start();
  if (!started) GTEST_FAIL() << "cannot start the test PostgreSQL server: " << started.error().message;
  shared_server() = std::move(*started);
}

void pg_environment::TearDown() {
  shared_server().reset();
}

pg_server& pg_environment::server() {
  return *shared_server();
}

}  // namespace apigw::test
