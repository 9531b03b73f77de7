// credential_process: the command of a profile run without a shell (its words split as Python's
// shlex.split does, as botocore does), its stdout read as the JSON Version 1 document.
#include "mgmt/credentials_sources.hpp"

#include "apigw/core/json.hpp"
#include "apigw/sigv4/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

extern char** environ;  // NOLINT: POSIX; the process inherits this environment, as under botocore

namespace apigw::mgmt {
namespace {

using detail::credentials_from_json;
using detail::cut;
using detail::fetch_failed;
using sigv4::credential_kind;
using sigv4::resolved_credentials;

constexpr std::size_t k_max_process_output = 1 << 20;

// shell_split: POSIX shell word splitting without expansion, as Python's shlex.split (which
// botocore uses): whitespace separates words; '...' is literal; "..." keeps \" \\ \$ \` escapes;
// a backslash outside quotes escapes the next character.
result<std::vector<std::string>> shell_split(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (ch == ' ' || ch == '\t' || ch == '\n') {
      if (in_word) words.push_back(std::exchange(cur, {}));
      in_word = false;
      continue;
    }
    in_word = true;
    if (ch == '\\') {
      if (i + 1 < s.size()) cur.push_back(s[++i]);
      continue;
    }
    if (ch == '\'' || ch == '"') {
      const char quote = ch;
      bool closed = false;
      for (++i; i < s.size(); ++i) {
        if (s[i] == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && s[i] == '\\' && i + 1 < s.size() && std::strchr("\"\\$`", s[i + 1]) != nullptr) ++i;
        cur.push_back(s[i]);
      }
      if (!closed) return failure{sigv4::error::invalid_profile, "credential_process has an unclosed quote"};
      continue;
    }
    cur.push_back(ch);
  }
  if (in_word) words.push_back(std::move(cur));
  if (words.empty()) return failure{sigv4::error::invalid_profile, "credential_process is empty"};
  return words;
}

struct process_output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

result<process_output> run_process(const std::vector<std::string>& words) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fetch_failed(fmt::format("pipe: {}", std::strerror(errno)));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return fetch_failed(fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<char*> argv;
  std::vector<std::string> copy = words;
  for (auto& w : copy) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return fetch_failed(fmt::format("cannot run {}: {}", words[0], std::strerror(rc)));
  }
  process_output po;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&po.out, &po.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      if (sinks[i]->size() < k_max_process_output) sinks[i]->append(buf, static_cast<std::size_t>(n));
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  po.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return po;
}

}  // namespace

result<resolved_credentials> detail::fetch_process(const std::string& command, const std::string& profile) {
  const std::string source = fmt::format("credential_process of profile {}", profile);
  auto words = shell_split(command);
  if (!words) return failure{words.error().code, fmt::format("{}: {}", source, words.error().message)};
  auto ran = run_process(*words);
  if (!ran) return failure{ran.error().code, fmt::format("{}: {}", source, ran.error().message)};
  if (ran->exit_code != 0) {
    return fetch_failed(
        fmt::format("{}: {} exited with status {}: {}", source, (*words)[0], ran->exit_code, cut(ran->err)));
  }
  auto doc = parse_json_object(ran->out);
  if (!doc) return fetch_failed(fmt::format("{}: the output is not a JSON object: {}", source, doc.error().message));
  auto version = get_int(*doc, "Version");
  if (!version || *version != 1) {
    return fetch_failed(fmt::format("{}: unsupported Version (only 1 is supported)", source));
  }
  return credentials_from_json(*doc, "SessionToken", false, credential_kind::credential_process, source);
}

}  // namespace apigw::mgmt
