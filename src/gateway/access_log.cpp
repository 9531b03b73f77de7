// The stage access log: $context substitution in the stage's format, one line per event.
#include "gateway/access_log.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace apigw::gateway::detail {
namespace {

std::int64_t epoch_ms(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// clf_time: 06/Dec/2026:07:01:23 +0000 (UTC).
std::string clf_time(clock::time_point t) {
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = static_cast<std::time_t>(epoch_ms(t) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", tm.tm_mday,
                     months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

std::string or_dash(std::string_view v) {
  return v.empty() ? std::string("-") : std::string(v);
}

std::string value_of(std::string_view name, const access_log_event& e) {
  if (name == "requestId" || name == "extendedRequestId") return or_dash(e.request_id);
  if (name == "connectionId") return or_dash(e.connection_id);
  if (name == "routeKey") return or_dash(e.route_key);
  if (name == "eventType") return or_dash(e.event_type);
  if (name == "status") return e.status == 0 ? "-" : std::to_string(e.status);
  if (name == "integrationStatus" || name == "integration.status") {
    return e.integration_status == 0 ? "-" : std::to_string(e.integration_status);
  }
  if (name == "apiId") return or_dash(e.api_id);
  if (name == "stage") return or_dash(e.stage);
  if (name == "domainName") return or_dash(e.domain_name);
  if (name == "identity.sourceIp") return or_dash(e.source_ip);
  if (name == "identity.userAgent") return or_dash(e.user_agent);
  if (name == "requestTime") return clf_time(e.request_time);
  if (name == "requestTimeEpoch") return std::to_string(epoch_ms(e.request_time));
  if (name == "connectedAt") return std::to_string(epoch_ms(e.connected_at));
  if (name == "messageDirection") return "IN";
  if (name == "error.message") return or_dash(e.error);
  return "-";
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

}  // namespace

std::string access_log_line(std::string_view format, const access_log_event& e) {
  std::string out;
  out.reserve(format.size() + 64);
  constexpr std::string_view plain = "$context.";
  constexpr std::string_view braced = "${context.";
  for (std::size_t i = 0; i < format.size();) {
    if (format.substr(i).starts_with(braced)) {
      const auto end = format.find('}', i + braced.size());
      if (end != std::string_view::npos) {
        out += value_of(format.substr(i + braced.size(), end - i - braced.size()), e);
        i = end + 1;
        continue;
      }
    } else if (format.substr(i).starts_with(plain)) {
      std::size_t end = i + plain.size();
      while (end < format.size() && name_char(format[end])) ++end;
      // A trailing '.' ends a sentence, not a name ("... $context.status.").
      while (end > i + plain.size() && format[end - 1] == '.') --end;
      if (end > i + plain.size()) {
        out += value_of(format.substr(i + plain.size(), end - i - plain.size()), e);
        i = end;
        continue;
      }
    }
    out += format[i++];
  }
  return out;
}

access_log_event access_event(const connection_identity& who, const api_config& api, const stage_config& stage,
                              std::string_view event_type, clock::time_point request_time) {
  access_log_event e;
  e.event_type = event_type;
  e.connection_id = who.id;
  e.api_id = api.id;
  e.stage = stage.name;
  e.domain_name = who.domain_name;
  e.source_ip = who.handshake.source_ip;
  e.user_agent = who.handshake.user_agent;
  e.request_time = request_time;
  e.connected_at = who.connected_at;
  return e;
}

void write_access_log(const gateway_options& opts, std::string_view format, const access_log_event& e) {
  if (format.empty()) return;
  const std::string line = access_log_line(format, e);
  if (opts.access_log) {
    opts.access_log(line);
    return;
  }
  const std::string with_newline = line + "\n";
  std::fwrite(with_newline.data(), 1, with_newline.size(), stderr);  // stdio locks the stream per call
}

}  // namespace apigw::gateway::detail
