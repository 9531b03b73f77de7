// Structured log lines (logfmt or JSON) and their output through spdlog.
#include "apigw/core/log.hpp"

#include "apigw/core/clock.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cmath>
#include <mutex>
#include <vector>

namespace apigw::logging {
namespace {

// utf8_length: the length of the well-formed UTF-8 sequence starting at s[i] (1 for ASCII), or 0
// when the bytes there are not one (a stray continuation byte, an overlong form, a surrogate, a
// value over U+10FFFF, or a sequence cut short).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // over U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

bool is_control(unsigned char c) noexcept {
  return c < 0x20 || c == 0x7F;
}

// append_key: a key with every character outside [A-Za-z0-9_.-] written as '_'.
void append_key(std::string& out, std::string_view key) {
  if (key.empty()) {
    out += '_';
    return;
  }
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
}

// -- text (logfmt) --

bool needs_quotes(std::string_view v) noexcept {
  if (v.empty()) return true;
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || is_control(c)) return true;
    const auto n = utf8_length(v, i);
    if (n == 0) return true;
    i += n;
  }
  return false;
}

// append_quoted: `v` in double quotes with quotes, backslashes and control characters escaped. A
// byte that does not start valid UTF-8 becomes \xNN in logfmt (the reader sees the byte) and
// U+FFFD in JSON (which must stay valid UTF-8); JSON also has its short \b and \f.
void append_quoted(std::string& out, std::string_view v, format f) {
  const bool json = f == format::json;
  out += '"';
  for (std::size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    const auto n = utf8_length(v, i);
    if (n == 0) {
      if (json) {
        out += "\\ufffd";
      } else {
        fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
      }
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (json && c == '\b') {
          out += "\\b";
        } else if (json && c == '\f') {
          out += "\\f";
        } else if (is_control(c)) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out.append(v.substr(i, n));
        }
    }
    i += n;
  }
  out += '"';
}

void append_text_string(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  append_quoted(out, v, format::text);
}

// -- JSON --

void append_json_string(std::string& out, std::string_view v) {
  append_quoted(out, v, format::json);
}

void append_value(std::string& out, format f, const value& v) {
  const auto text = [&](std::string_view s) {
    if (f == format::json) {
      append_json_string(out, s);
    } else {
      append_text_string(out, s);
    }
  };
  switch (v.type()) {
    case value::kind::text:
      text(v.text());
      return;
    case value::kind::signed_integer:
      fmt::format_to(std::back_inserter(out), "{}", v.signed_integer());
      return;
    case value::kind::unsigned_integer:
      fmt::format_to(std::back_inserter(out), "{}", v.unsigned_integer());
      return;
    case value::kind::boolean:
      out += v.boolean() ? "true" : "false";
      return;
    case value::kind::real:
      if (std::isfinite(v.real())) {
        fmt::format_to(std::back_inserter(out), "{}", v.real());
      } else {
        text(fmt::format("{}", v.real()));  // JSON has no NaN or infinity
      }
      return;
  }
}

void append_field(std::string& out, format f, std::string_view key, const value& v) {
  if (f == format::json) {
    out += ',';
    std::string k;
    append_key(k, key);
    append_json_string(out, k);
    out += ':';
  } else {
    out += ' ';
    append_key(out, key);
    out += '=';
  }
  append_value(out, f, v);
}

void begin_line(std::string& out, format f, std::chrono::system_clock::time_point ts, level l, std::string_view msg) {
  const auto when = format_iso8601(ts);
  if (f == format::json) {
    out += R"({"ts":")";
    out += when;
    out += R"(","level":")";
    out += level_name(l);
    out += R"(","msg":)";
    append_json_string(out, msg);
  } else {
    out += "ts=";
    out += when;
    out += " level=";
    out += level_name(l);
    out += " msg=";
    append_text_string(out, msg);
  }
}

// callback_sink: hands spdlog's message (our finished line) to a sink_fn, one call at a time.
class callback_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit callback_sink(sink_fn fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    fn_(std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  sink_fn fn_;
};

spdlog::level::level_enum to_spdlog(level l) noexcept {
  switch (l) {
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::off:
      break;
  }
  return spdlog::level::off;
}

}  // namespace

// output: the spdlog logger lines go to, and the fields bound with logger::with.
struct logger::output {
  std::shared_ptr<spdlog::logger> out;
  std::vector<std::pair<std::string, std::string>> bound;
};

std::string_view level_name(level l) noexcept {
  switch (l) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
    case level::off:
      break;
  }
  return "off";
}

result<level> parse_level(std::string_view name) {
  for (auto l : {level::debug, level::info, level::warn, level::error, level::off}) {
    if (name == level_name(l)) return l;
  }
  if (name == "warning") return level::warn;
  return failure{core::error::invalid_argument,
                 fmt::format("log level \"{}\": expected debug, info, warn, error or off", name)};
}

result<format> parse_format(std::string_view name) {
  if (name == "text") return format::text;
  if (name == "json") return format::json;
  return failure{core::error::invalid_argument, fmt::format("log format \"{}\": expected text or json", name)};
}

std::string format_line(format f, std::chrono::system_clock::time_point ts, level l, std::string_view msg,
                        std::span<const field> fields) {
  std::string out;
  out.reserve(96 + 32 * fields.size());
  begin_line(out, f, ts, l, msg);
  for (const auto& fl : fields) append_field(out, f, fl.key, fl.val);
  if (f == format::json) out += '}';
  return out;
}

logger::logger(sink_fn sink, level min, format f) : min_(min), format_(f) {
  if (!sink) return;
  auto o = std::make_shared<output>();
  o->out = std::make_shared<spdlog::logger>("apigw", std::make_shared<callback_sink>(std::move(sink)));
  o->out->set_level(spdlog::level::trace);  // the level is checked before formatting (enabled())
  out_ = std::move(o);
}

logger logger::standard_error(level min, format f) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();  // one process-wide console mutex
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  auto o = std::make_shared<output>();
  o->out = std::make_shared<spdlog::logger>("apigw", std::move(sink));
  o->out->set_level(spdlog::level::trace);
  return logger(std::move(o), min, f);
}

logger logger::with(std::string_view key, std::string_view val) const {
  if (!out_) return *this;
  auto o = std::make_shared<output>(*out_);
  o->bound.emplace_back(std::string(key), std::string(val));
  return logger(std::move(o), min_, format_);
}

logger logger::with_level(level min) const {
  return logger(out_, min, format_);
}

void logger::write(level l, std::string_view msg, std::span<const field> fields) const noexcept {
  if (!enabled(l)) return;
  try {
    std::string line;
    line.reserve(128 + 32 * (fields.size() + out_->bound.size()));
    begin_line(line, format_, system_clock_source::instance().now(), l, msg);
    for (const auto& [k, v] : out_->bound) append_field(line, format_, k, value(v));
    for (const auto& fl : fields) append_field(line, format_, fl.key, fl.val);
    if (format_ == format::json) line += '}';
    out_->out->log(to_spdlog(l), spdlog::string_view_t(line.data(), line.size()));
  } catch (...) {
    // A log line that cannot be built (no memory) is dropped: logging never fails the caller.
  }
}

}  // namespace apigw::logging
