// apigw/core/log.hpp: structured logs: one line per event, either logfmt text
// (`ts=... level=info msg="..." key=value ...`) or one JSON object per line, written through spdlog
// to standard error or handed to a callback (tests and embedders capture lines with one). The
// gateway, the backend and the CLI all log through it; docs/design/logging.md lists the format, the
// levels and the per-request fields.
//
// A call below the logger's level costs one comparison: fields are passed by reference (numbers as
// numbers, strings as views) and nothing is formatted or allocated. Work done to compute an
// argument (fmt::format, to_string) is the caller's: guard it with enabled() when it matters.
#pragma once

#include "apigw/core/error.hpp"

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace apigw::logging {

// level: how important a line is; a logger writes the lines at or above its own level. `off`
// writes none.
enum class level : std::uint8_t { debug, info, warn, error, off };

// format: text (logfmt) or json (one object per line).
enum class format : std::uint8_t { text, json };

// level_name: "debug", "info", "warn", "error" or "off".
std::string_view level_name(level l) noexcept;
// parse_level: the level named `name` (as level_name spells it; "warning" is also accepted), or
// invalid_argument naming the accepted values.
result<level> parse_level(std::string_view name);
// parse_format: format::text for "text", format::json for "json", or invalid_argument.
result<format> parse_format(std::string_view name);

// value: one field's value: text, a signed or unsigned integer, a real number or a boolean.
// Numbers and booleans are written bare (unquoted in JSON). A text value views its characters: the
// string must outlive the call it is passed to.
class value {
 public:
  enum class kind : std::uint8_t { text, signed_integer, unsigned_integer, real, boolean };

  value() noexcept = default;
  value(std::string_view s) noexcept : text_(s) {}         // NOLINT(google-explicit-constructor)
  value(const std::string& s) noexcept : text_(s) {}       // NOLINT(google-explicit-constructor)
  value(const char* s) noexcept : text_(s) {}              // NOLINT(google-explicit-constructor)
  value(bool b) noexcept : kind_(kind::boolean), u_(b) {}  // NOLINT(google-explicit-constructor)
  value(double d) noexcept : kind_(kind::real), d_(d) {}   // NOLINT(google-explicit-constructor)
  template <std::signed_integral T>                        // NOLINT(google-explicit-constructor)
  value(T n) noexcept : kind_(kind::signed_integer), i_(n) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) value(T n)
  noexcept : kind_(kind::unsigned_integer), u_(n) {}  // NOLINT(google-explicit-constructor)

  kind type() const noexcept { return kind_; }
  std::string_view text() const noexcept { return text_; }
  std::int64_t signed_integer() const noexcept { return i_; }
  std::uint64_t unsigned_integer() const noexcept { return u_; }
  double real() const noexcept { return d_; }
  bool boolean() const noexcept { return u_ != 0; }

 private:
  kind kind_ = kind::text;
  std::string_view text_;
  union {
    std::int64_t i_;
    std::uint64_t u_ = 0;
    double d_;
  };
};

// field: a key and its value. Keys are names chosen in code (`trace_id`); a character outside
// [A-Za-z0-9_.-] in one is written as '_'.
struct field {
  std::string_view key;
  value val;
};

// millis: a duration as milliseconds with microsecond precision, the unit of `duration_ms`.
template <class Rep, class Period>
double millis(std::chrono::duration<Rep, Period> d) noexcept {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) / 1000.0;
}

// format_line: the line (without a newline) for one event: ts, level and msg first, then
// `fields` in order. Text quotes a value that is empty or holds a space, '"', '=', '\\', a
// control character or a byte that is not UTF-8, and escapes inside the quotes (\" \\ \n \r \t,
// \u00XX for other control characters, \xNN for such bytes). JSON escapes as RFC 8259 requires,
// writes non-ASCII UTF-8 as it is and a byte that is not UTF-8 as \ufffd, and writes a real
// number that is not finite as a string. Either way a value can never start a new line.
std::string format_line(format f, std::chrono::system_clock::time_point ts, level l, std::string_view msg,
                        std::span<const field> fields);

// sink_fn: receives each finished line (no trailing newline), one call at a time.
using sink_fn = std::function<void(std::string_view line)>;

// logger: writes lines at or above its level to its output. A cheap value (copies share the
// output); thread-safe. Default-constructed it writes nothing.
class logger {
 public:
  logger() noexcept = default;
  // logger: lines go to `sink` (an empty one: nowhere), serialized.
  explicit logger(sink_fn sink, level min = level::info, format f = format::text);
  // logger: a callable taking the line: text lines at info and above. Implicit, so options that
  // held a plain `std::function<void(std::string_view)>` log accept the same lambdas.
  template <class F>
  requires(std::invocable<F&, std::string_view> && !std::same_as<std::remove_cvref_t<F>, logger> &&
           !std::same_as<std::remove_cvref_t<F>, sink_fn>) logger(F sink)  // NOLINT(google-explicit-constructor)
      : logger(sink_fn(std::move(sink))) {}

  // standard_error: lines to standard error through spdlog, one write (and flush) per line, never
  // interleaved with another logger's lines to standard error.
  static logger standard_error(level min = level::info, format f = format::text);

  // with: a copy that adds `key`=`val` after msg on every line (e.g. component=gateway).
  logger with(std::string_view key, std::string_view val) const;
  // with_level: a copy writing at `min` and above.
  logger with_level(level min) const;

  // enabled: whether a line at `l` would be written.
  bool enabled(level l) const noexcept { return out_ != nullptr && l >= min_ && l != level::off; }
  level threshold() const noexcept { return min_; }
  format output_format() const noexcept { return format_; }

  // log / debug / info / warn / error: one line: `msg`, then key/value pairs (`kv` alternates keys
  // and values). Never throws; nothing is done when the level is not enabled.
  template <class... KV>
  void log(level l, std::string_view msg, const KV&... kv) const {
    static_assert(sizeof...(KV) % 2 == 0, "log takes key/value pairs");
    if (!enabled(l)) return;
    const std::array<value, sizeof...(KV)> flat{value(kv)...};
    std::array<field, sizeof...(KV) / 2> fields{};
    for (std::size_t i = 0; i < fields.size(); ++i) fields[i] = field{flat[2 * i].text(), flat[2 * i + 1]};
    write(l, msg, fields);
  }
  template <class... KV>
  void debug(std::string_view msg, const KV&... kv) const {
    log(level::debug, msg, kv...);
  }
  template <class... KV>
  void info(std::string_view msg, const KV&... kv) const {
    log(level::info, msg, kv...);
  }
  template <class... KV>
  void warn(std::string_view msg, const KV&... kv) const {
    log(level::warn, msg, kv...);
  }
  template <class... KV>
  void error(std::string_view msg, const KV&... kv) const {
    log(level::error, msg, kv...);
  }

  // write: one line with `fields` (for callers that build the fields themselves).
  void write(level l, std::string_view msg, std::span<const field> fields) const noexcept;

 private:
  struct output;
  logger(std::shared_ptr<const output> out, level min, format f) noexcept
      : out_(std::move(out)), min_(min), format_(f) {}
  std::shared_ptr<const output> out_;
  level min_ = level::off;
  format format_ = format::text;
};

}  // namespace apigw::logging
