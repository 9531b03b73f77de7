// Private to the gateway: its structured log, one logfmt line per event
// (ts=... level=... msg=... key=value ...), handed to gateway_options::log.
#pragma once

#include "apigw/core/clock.hpp"

#include <fmt/format.h>

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace apigw::gateway::detail {

// logfmt_value: a value quoted when it holds spaces, quotes or '='.
inline std::string logfmt_value(std::string_view v) {
  if (!v.empty() && v.find_first_of(" \"=\t\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\t') ? ' ' : c;
  }
  return out + "\"";
}

// logger: formats and hands over log lines; with no sink (or info muted) it spends nothing.
class logger {
 public:
  logger(std::function<void(std::string_view)> sink, bool info) : sink_(std::move(sink)), info_(info) {}

  // operator(): one line: ts, level, msg, then the key/value pairs `kv` (string-like, in pairs).
  template <class... KV>
  void operator()(std::string_view level, std::string_view msg, const KV&... kv) const {
    static_assert(sizeof...(KV) % 2 == 0, "log takes key/value pairs");
    if (!sink_ || (!info_ && level == "info")) return;
    std::string line = fmt::format("ts={} level={} msg={}", format_iso8601(system_clock_source::instance().now()),
                                   level, logfmt_value(msg));
    const std::array<std::string_view, sizeof...(KV)> fields{std::string_view(kv)...};
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
      line += fmt::format(" {}={}", fields[i], logfmt_value(fields[i + 1]));
    sink_(line);
  }

 private:
  std::function<void(std::string_view)> sink_;
  bool info_;
};

}  // namespace apigw::gateway::detail
