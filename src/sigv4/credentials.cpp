// The AWS credentials chain and region resolution, with a small INI reader that follows Python's
// configparser (which botocore uses) closely enough that files valid there are valid here.
#include "apigw/sigv4/credentials.hpp"

#include "apigw/sigv4/error.hpp"
#include "sigv4/canonical.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <system_error>
#include <utility>
#include <vector>

namespace apigw::sigv4 {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_max_file_bytes = 1 << 20;  // credentials files are a few hundred bytes

using section = std::map<std::string, std::string, std::less<>>;

// ini_file: section name -> key (lower-case) -> value. Later keys and sections override earlier ones.
using ini_file = std::map<std::string, section, std::less<>>;

std::optional<std::string> getenv_nonempty(const chain_options& opts, const std::string& name) {
  if (!opts.env) return std::nullopt;
  auto v = opts.env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

fs::path expand_home(const std::string& p, const fs::path& home) {
  if (!home.empty() && (p == "~" || p.rfind("~/", 0) == 0)) return home / p.substr(p.size() > 1 ? 2 : 1);
  return fs::path(p);
}

result<ini_file> parse_ini(std::string_view text, const fs::path& file) {
  const auto bad = [&](std::size_t line, std::string_view why) {
    return failure{error::credentials_file_malformed, fmt::format("{}:{}: {}", file.string(), line, why)};
  };
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  ini_file ini;
  section* current = nullptr;
  std::string* last_value = nullptr;
  std::size_t line_no = 0;
  for (std::string_view line : detail::split(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view content = detail::trim(line);
    if (content.empty() || content.front() == '#' || content.front() == ';') continue;
    if (line.front() == ' ' || line.front() == '\t') {
      // An indented line continues the previous value (botocore reads nested settings this way).
      if (last_value != nullptr) {
        last_value->append("\n").append(content);
        continue;
      }
    }
    if (content.front() == '[') {
      const std::size_t close = content.rfind(']');
      if (close == std::string_view::npos) return bad(line_no, "section header without a closing ']'");
      const std::string_view name = detail::trim(content.substr(1, close - 1));
      if (name.empty()) return bad(line_no, "empty section name");
      current = &ini[std::string(name)];
      last_value = nullptr;
      continue;
    }
    if (current == nullptr) return bad(line_no, "a setting before any [section] header");
    const std::size_t delimiter = content.find_first_of("=:");
    if (delimiter == std::string_view::npos) return bad(line_no, "expected 'key = value', '[section]' or a comment");
    const std::string key = detail::to_lower(detail::trim(content.substr(0, delimiter)));
    if (key.empty()) return bad(line_no, "a setting without a name");
    std::string& value = (*current)[key];
    value = std::string(detail::trim(content.substr(delimiter + 1)));
    last_value = &value;
  }
  return ini;
}

// load_ini: the parsed file, or nullopt when it does not exist.
result<std::optional<ini_file>> load_ini(const fs::path& file) {
  std::error_code ec;
  const fs::file_status st = fs::status(file, ec);
  if (st.type() == fs::file_type::not_found) return std::optional<ini_file>{};
  if (ec) {
    return failure{error::credentials_file_unreadable,
                   fmt::format("{} cannot be examined: {}", file.string(), ec.message())};
  }
  if (!fs::is_regular_file(st)) {
    return failure{error::credentials_file_unreadable, fmt::format("{} is not a regular file", file.string())};
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return failure{error::credentials_file_unreadable,
                   fmt::format("{} cannot be read: {}", file.string(), std::strerror(errno))};
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return failure{error::credentials_file_unreadable,
                     fmt::format("{} cannot be read: {}", file.string(), std::strerror(err))};
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > k_max_file_bytes) {
      ::close(fd);
      return failure{error::credentials_file_unreadable,
                     fmt::format("{} is larger than {} bytes", file.string(), k_max_file_bytes)};
    }
  }
  ::close(fd);
  auto ini = parse_ini(text, file);
  if (!ini) return ini.error();
  return std::optional<ini_file>{std::move(*ini)};
}

// The section of `profile` in a config file: [default] or [profile default] for "default",
// [profile NAME] otherwise (the name may be quoted), as botocore's build_profile_map reads it.
const section* config_profile(const ini_file& ini, std::string_view profile) {
  const section* found = nullptr;
  for (const auto& [name, values] : ini) {
    std::string_view n = name;
    std::string_view candidate;
    if (n == "default") {
      candidate = n;
    } else if (n.substr(0, 7) == "profile" && n.size() > 7 && (n[7] == ' ' || n[7] == '\t')) {
      candidate = detail::trim(n.substr(8));
      if (candidate.size() >= 2 && candidate.front() == '"' && candidate.back() == '"') {
        candidate = candidate.substr(1, candidate.size() - 2);
      }
    }
    if (candidate == profile) found = &values;
  }
  return found;
}

std::optional<std::string> value_of(const section& s, std::string_view key) {
  auto it = s.find(key);
  if (it == s.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// The shared credentials file or the config file, searched for the profile.
enum class file_kind { credentials, config };

struct file_source {
  file_kind kind;
  std::optional<fs::path> path;
  std::string label;  // "shared credentials file" / "config file"
};

file_source source_of(file_kind kind, const chain_options& opts) {
  if (kind == file_kind::credentials) return {kind, shared_credentials_file(opts), "shared credentials file"};
  return {kind, config_file(opts), "config file"};
}

// The profile's section in the file: found, or nullopt with `note` saying why not.
result<std::optional<section>> profile_section(const file_source& src, const std::string& profile, std::string& note) {
  if (!src.path) {
    note = fmt::format("{}: no path (no home directory known)", src.label);
    return std::optional<section>{};
  }
  auto ini = load_ini(*src.path);
  if (!ini) return ini.error();
  if (!*ini) {
    note = fmt::format("{} {}: does not exist", src.label, src.path->string());
    return std::optional<section>{};
  }
  const section* s = nullptr;
  std::string header;
  if (src.kind == file_kind::credentials) {
    auto it = (*ini)->find(profile);
    if (it != (*ini)->end()) s = &it->second;
    header = fmt::format("[{}]", profile);
  } else {
    s = config_profile(**ini, profile);
    header = profile == "default" ? "[default]" : fmt::format("[profile {}]", profile);
  }
  if (s == nullptr) {
    note = fmt::format("{} {}: no {} section", src.label, src.path->string(), header);
    return std::optional<section>{};
  }
  return std::optional<section>{*s};
}

std::string home_from_password_database() {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr ||
      found->pw_dir == nullptr) {
    return {};
  }
  return found->pw_dir;
}

}  // namespace

std::string_view credential_kind_name(credential_kind k) noexcept {
  switch (k) {
    case credential_kind::explicit_keys:
      return "explicit";
    case credential_kind::environment:
      return "env";
    case credential_kind::shared_credentials_file:
      return "shared-credentials-file";
    case credential_kind::config_file:
      return "config-file";
    case credential_kind::credential_process:
      return "custom-process";
    case credential_kind::assume_role:
      return "assume-role";
    case credential_kind::web_identity:
      return "assume-role-with-web-identity";
    case credential_kind::sso:
      return "sso";
    case credential_kind::container:
      return "container-role";
    case credential_kind::instance_metadata:
      return "iam-role";
  }
  return "unknown";
}

std::optional<std::string> setting(const profile_settings& s, std::string_view key) {
  return value_of(s, key);
}

result<std::optional<credentials>> static_credentials(const profile_settings& s, std::string_view where) {
  auto id = value_of(s, "aws_access_key_id");
  auto secret = value_of(s, "aws_secret_access_key");
  if (id && secret) {
    auto token = value_of(s, "aws_session_token");
    if (!token) token = value_of(s, "aws_security_token");
    return std::optional<credentials>{credentials{*id, *secret, token.value_or("")}};
  }
  if (id || secret) {
    return failure{error::incomplete_credentials,
                   fmt::format("{} has {} but no {}", where, id ? "aws_access_key_id" : "aws_secret_access_key",
                               id ? "aws_secret_access_key" : "aws_access_key_id")};
  }
  return std::optional<credentials>{};
}

std::optional<profile_settings> shared_files::merged(std::string_view profile) const {
  std::optional<profile_settings> out;
  if (auto it = config.find(profile); it != config.end()) out = it->second;
  if (auto it = credentials.find(profile); it != credentials.end()) {
    if (!out) out.emplace();
    for (const auto& [k, v] : it->second) (*out)[k] = v;
  }
  return out;
}

result<shared_files> load_shared_files(const chain_options& opts) {
  shared_files files;
  files.credentials_path = shared_credentials_file(opts);
  files.config_path = config_file(opts);
  if (files.credentials_path) {
    auto ini = load_ini(*files.credentials_path);
    if (!ini) return ini.error();
    if (*ini) files.credentials = std::move(**ini);
  }
  if (files.config_path) {
    auto ini = load_ini(*files.config_path);
    if (!ini) return ini.error();
    if (*ini) {
      // Profile names as config_profile() reads them ("[profile x]" -> "x", quotes removed).
      for (const auto& entry : **ini) {
        std::string_view n = entry.first;
        std::string profile;
        if (n == "default") {
          profile = "default";
        } else if (n.substr(0, 7) == "profile" && n.size() > 7 && (n[7] == ' ' || n[7] == '\t')) {
          std::string_view candidate = detail::trim(n.substr(8));
          if (candidate.size() >= 2 && candidate.front() == '"' && candidate.back() == '"') {
            candidate = candidate.substr(1, candidate.size() - 2);
          }
          profile = std::string(candidate);
        } else if (n.substr(0, 11) == "sso-session" && n.size() > 11 && (n[11] == ' ' || n[11] == '\t')) {
          files.sso_sessions[std::string(detail::trim(n.substr(12)))] = entry.second;
          continue;
        } else {
          continue;
        }
        if (const section* s = config_profile(**ini, profile)) files.config[profile] = *s;
      }
    }
  }
  return files;
}

chain_options process_chain_options() {
  chain_options opts;
  opts.env = process_environment();
  auto home = opts.env("HOME");
  opts.home = (home && !home->empty()) ? fs::path(*home) : fs::path(home_from_password_database());
  return opts;
}

std::string profile_name(const chain_options& opts) {
  if (opts.profile && !opts.profile->empty()) return *opts.profile;
  return getenv_nonempty(opts, "AWS_PROFILE").value_or("default");
}

std::optional<fs::path> shared_credentials_file(const chain_options& opts) {
  if (auto p = getenv_nonempty(opts, "AWS_SHARED_CREDENTIALS_FILE")) return expand_home(*p, opts.home);
  if (opts.home.empty()) return std::nullopt;
  return opts.home / ".aws" / "credentials";
}

std::optional<fs::path> config_file(const chain_options& opts) {
  if (auto p = getenv_nonempty(opts, "AWS_CONFIG_FILE")) return expand_home(*p, opts.home);
  if (opts.home.empty()) return std::nullopt;
  return opts.home / ".aws" / "config";
}

result<resolved_region> resolve_region(const chain_options& opts) {
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto r = getenv_nonempty(opts, var)) {
      return resolved_region{*r, fmt::format("environment variable {}", var)};
    }
  }
  std::vector<std::string> looked{"environment: AWS_REGION and AWS_DEFAULT_REGION not set"};
  const std::string profile = profile_name(opts);
  const file_source src = source_of(file_kind::config, opts);
  std::string note;
  auto s = profile_section(src, profile, note);
  if (!s) return s.error();
  if (*s) {
    const std::string where = fmt::format("{} {}, profile {}", src.label, src.path->string(), profile);
    if (auto region = value_of(**s, "region")) return resolved_region{*region, where};
    note = fmt::format("{}: no region setting", where);
  }
  looked.push_back(std::move(note));
  std::string places;
  for (const auto& l : looked) places.append("\n  - ").append(l);
  return failure{error::region_not_found, fmt::format("no AWS region configured; looked in:{}", places)};
}

}  // namespace apigw::sigv4
