// Shared pieces of the apigw-ws commands.
#include "cli_common.hpp"

#include "apigw/sigv4/error.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace apigw::cli {

namespace fs = std::filesystem;

bool database_exists(std::string_view db) {
  // Anything but a SQLite file (PostgreSQL, an unsupported scheme, nothing at all) is left to
  // store::open_store, which opens it or says what is wrong with it.
  if (db.empty() || db == ":memory:") return true;
  if (db.starts_with("sqlite://")) {
    db.remove_prefix(9);
  } else if (db.starts_with("sqlite:")) {
    db.remove_prefix(7);
  } else if (db.find("://") != std::string_view::npos) {
    return true;
  }
  std::error_code ec;
  return fs::exists(fs::path(db), ec) || ec;
}

result<std::unique_ptr<store::session_store>> open_migrated_store(const globals& g, bool migrate) {
  if (!migrate && !database_exists(g.db)) {
    // Opening it would create an empty file, and the command would fail anyway.
    return failure{store::error::schema_missing,
                   fmt::format("database {} does not exist: run `{} --db {} migrate` first", g.db, self_command(),
                               shell_quote(g.db))};
  }
  auto st = store::open_store(g.db, system_clock_source::instance());
  if (!st) return st.error();
  if (migrate) {
    auto m = (*st)->migrate();
    if (!m) return m.error();
    return st;
  }
  auto v = (*st)->schema_version();
  if (!v) return v.error();
  if (*v != store::k_schema_version) {
    return failure{*v < store::k_schema_version ? store::error::schema_missing : store::error::schema_too_new,
                   fmt::format("database {} has schema version {} but this program needs {}: run `{} --db {} "
                               "migrate` first",
                               (*st)->location(), *v, store::k_schema_version, self_command(), shell_quote(g.db))};
  }
  return st;
}

std::shared_ptr<mgmt::credentials_provider> make_credentials_provider(const std::optional<std::string>& profile) {
  auto opts = mgmt::default_credentials_provider_options();
  if (profile) opts.chain.profile = *profile;
  opts.log = [](std::string_view line) { fmt::print(stderr, "apigw-ws: credentials: {}\n", line); };
  return std::make_shared<mgmt::credentials_provider>(std::move(opts));
}

std::function<result<mgmt::signing_config>(std::string_view)> aws_access::signing() const {
  return mgmt::provider_signing(provider, region.value_or(""));
}

result<aws_access> resolve_aws(const std::optional<std::string>& region, const std::optional<std::string>& profile) {
  aws_access a{make_credentials_provider(profile), region, std::nullopt, {}};
  auto creds = a.provider->get();
  if (creds) {
    a.found = std::move(*creds);
  } else if (!profile && creds.error() == sigv4::error::credentials_not_found) {
    a.looked = creds.error().message;
  } else {
    return failure{creds.error().code, "no usable AWS credentials: " + creds.error().message};
  }
  return a;
}

result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  using namespace std::chrono;
  std::int64_t n = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc{} || p == begin || n < 0) {
    return failure{
        core::error::invalid_argument,
        fmt::format("invalid duration \"{}\": expected a number and a unit (250ms, 90s, 15m, 12h, 7d)", text)};
  }
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  if (unit == "ms") return milliseconds{n};
  if (unit.empty() || unit == "s") return duration_cast<milliseconds>(seconds{n});
  if (unit == "m") return duration_cast<milliseconds>(minutes{n});
  if (unit == "h") return duration_cast<milliseconds>(hours{n});
  if (unit == "d") return duration_cast<milliseconds>(hours{24 * n});
  return failure{core::error::invalid_argument,
                 fmt::format("invalid duration \"{}\": unknown unit \"{}\" (use ms, s, m, h or d)", text, unit)};
}

CLI::Validator duration_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto d = parse_duration(text);
        return d ? std::string{} : d.error().message;
      },
      "DURATION");
}

int fail(std::string_view what, const failure& f) {
  std::fprintf(stderr, "apigw-ws: %.*s: %s\n", static_cast<int>(what.size()), what.data(), f.message.c_str());
  return k_exit_failed;
}

int usage_error(std::string_view what, std::string_view message) {
  fmt::print(stderr, "apigw-ws: {}: {}\nRun with --help for more information.\n", what, message);
  return k_exit_usage;
}

void ignore_stop_signals() {
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
}

std::string shell_quote(std::string_view text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string{text};
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string self_command() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "apigw-ws";
  // The first apigw-ws on PATH is what a shell would run: the bare name only when that is this binary.
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    for (;;) {
      const auto colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      const fs::path candidate = fs::path(dir.empty() ? "." : dir) / "apigw-ws";
      if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
        const auto found = fs::canonical(candidate, ec);
        if (!ec && found == fs::canonical(self, ec) && !ec) return "apigw-ws";
        break;
      }
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return shell_quote(self.string());
}

CLI::Option* add_format_option(CLI::App* cmd, std::string& format) {
  return cmd->add_option("--format", format, "Output: text (for people) or json (one JSON document, for scripts)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

void add_log_options(CLI::App* cmd, log_options& o, std::string_view default_level) {
  o.level = std::string(default_level);
  cmd->add_option("--log-level", o.level,
                  "Lowest level logged to stderr: debug, info (one line per request), warn, error or off")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  cmd->add_option("--log-format", o.format,
                  "Log lines: text (logfmt: ts=... level=... msg=... key=value) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

logging::logger make_logger(const globals& g, const log_options& o) {
  // Both values were checked by CLI11 (IsMember), so they parse.
  const auto parsed_level = logging::parse_level(o.level);
  const auto parsed_format = logging::parse_format(o.format);
  auto min = parsed_level ? *parsed_level : logging::level::info;
  if (g.quiet && min < logging::level::warn) min = logging::level::warn;
  return logging::logger::standard_error(min, parsed_format ? *parsed_format : logging::format::text);
}

void add_request_id_header(gateway::gateway_config& config) {
  for (auto& api : config.apis) {
    for (auto& [id, integration] : api.integrations) {
      if (integration.is_mock()) continue;  // no request to carry it
      integration.request_parameters.try_emplace("integration.request.header.X-Request-Id", "context.requestId");
    }
  }
}

void add_example(CLI::App* cmd, std::string_view example) {
  // Pasted from --help, the example runs this binary: `apigw-ws` becomes its path when it is not
  // what PATH finds.
  static const std::string self = self_command();
  std::string line;
  for (std::size_t i = 0; i < example.size();) {
    if (example.substr(i).starts_with("apigw-ws ") && (i == 0 || example[i - 1] == ' ')) {
      line += self + ' ';
      i += 9;
    } else {
      line += example[i++];
    }
  }
  std::string footer = cmd->get_footer();
  // A command starts with its parent's footer (CLI11 copies it): its examples are its own.
  if (const auto* parent = cmd->get_parent(); parent != nullptr && footer == parent->get_footer()) footer.clear();
  footer += footer.empty() ? "Example:\n  " : "\n  ";
  footer += line;
  cmd->footer(footer);
}

CLI::Option* add_yes_flag(CLI::App* cmd, bool& yes) {
  return cmd->add_flag("-y,--yes", yes, "Do it without asking (needed when standard input is not a terminal)");
}

std::optional<int> confirm(std::string_view what, std::string_view question, bool yes) {
  if (yes) return std::nullopt;
  if (::isatty(STDIN_FILENO) == 0) {
    fmt::print(stderr,
               "apigw-ws: {}: not done: standard input is not a terminal to ask on ({}); pass --yes to go ahead\n",
               what, question);
    return k_exit_usage;
  }
  fmt::print(stderr, "{} [y/N] ", question);
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) answer.clear();
  std::erase_if(answer, [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (answer == "y" || answer == "yes") return std::nullopt;
  fmt::print(stderr, "apigw-ws: {}: nothing done (answer y to go ahead, or pass --yes)\n", what);
  return k_exit_failed;
}

}  // namespace apigw::cli
