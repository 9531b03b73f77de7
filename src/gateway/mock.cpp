// MOCK integrations: template selection, the status code of the request template, the integration
// response for it, and the response template's body (mock.hpp).
#include "gateway/mock.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>

#include <regex>

namespace apigw::gateway::detail {
namespace {

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// context_value: the value of $context.NAME, or nullopt for a name not served.
std::optional<std::string> context_value(std::string_view name, const mock_context& ctx) {
  if (name == "connectionId") return std::string(ctx.connection_id);
  if (name == "requestId" || name == "extendedRequestId") return std::string(ctx.request_id);
  if (name == "messageId") return std::string(ctx.message_id);
  if (name == "routeKey") return std::string(ctx.route_key);
  if (name == "eventType") return std::string(ctx.event_type);
  if (name == "apiId") return std::string(ctx.api_id);
  if (name == "stage") return std::string(ctx.stage);
  if (name == "domainName") return std::string(ctx.domain_name);
  if (name == "identity.sourceIp") return std::string(ctx.source_ip);
  if (name == "connectedAt") return std::to_string(ctx.connected_at_ms);
  if (name == "requestTimeEpoch") return std::to_string(ctx.request_time_ms);
  return std::nullopt;
}

// status_of: the integer statusCode of a rendered request template (or of the message passed
// through), or nullopt.
std::optional<unsigned> status_of(std::string_view text) {
  auto v = parse_json_object(text);
  if (!v) return std::nullopt;
  const auto* code = v->if_contains("statusCode");
  if (code == nullptr) return std::nullopt;
  std::int64_t n = 0;
  if (code->is_int64()) {
    n = code->get_int64();
  } else if (code->is_uint64()) {
    n = static_cast<std::int64_t>(std::min<std::uint64_t>(code->get_uint64(), 1000));
  } else {
    return std::nullopt;
  }
  if (n < 100 || n > 599) return std::nullopt;
  return static_cast<unsigned>(n);
}

// matching_response: the integration response for `status`: the first "/regex/" key matching
// the status code as a whole, else "$default", else nullptr.
const integration_response_config* matching_response(const integration_config& integ, unsigned status) {
  const std::string code = std::to_string(status);
  const integration_response_config* fallback = nullptr;
  for (const auto& r : integ.responses) {
    if (r.key == "$default") {
      fallback = &r;
      continue;
    }
    if (r.statuses) {
      if (r.statuses->test(status - 100)) return &r;
      continue;
    }
    try {
      if (std::regex_match(code, std::regex(r.key.substr(1, r.key.size() - 2)))) return &r;
    } catch (const std::regex_error&) {
      // checked when the configuration was read; never matches
    }
  }
  return fallback;
}

}  // namespace

std::string render_template(std::string_view tmpl, const message_body& message, const mock_context& ctx) {
  std::string out;
  out.reserve(tmpl.size());
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const char c = tmpl[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    // ${context.NAME} or ${input.body}
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      const auto close = tmpl.find('}', i + 2);
      if (close != std::string_view::npos) {
        const auto ref = tmpl.substr(i + 2, close - i - 2);
        if (ref == "input.body") {
          out += message.text();
          i = close + 1;
          continue;
        }
        if (ref.starts_with("context.")) {
          if (auto v = context_value(ref.substr(8), ctx)) {
            out += *v;
            i = close + 1;
            continue;
          }
        }
      }
      out += c;
      ++i;
      continue;
    }
    // $context.NAME or $input.body: the longest run of name characters, without a trailing dot.
    std::size_t end = i + 1;
    while (end < tmpl.size() && name_char(tmpl[end])) ++end;
    while (end > i + 1 && tmpl[end - 1] == '.') --end;
    const auto ref = tmpl.substr(i + 1, end - i - 1);
    if (ref == "input.body") {
      out += message.text();
      i = end;
      continue;
    }
    if (ref.starts_with("context.")) {
      if (auto v = context_value(ref.substr(8), ctx)) {
        out += *v;
        i = end;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

const std::string* select_template(const std::map<std::string, std::string>& templates, std::string_view selection,
                                   const message_body& message) {
  if (templates.empty()) return nullptr;
  if (!selection.empty()) {
    if (auto expr = parse_selection_expression(selection)) {
      if (auto key = evaluate_selection(*expr, message)) {
        if (auto it = templates.find(*key); it != templates.end()) return &it->second;
      }
    }
  }
  if (auto it = templates.find("$default"); it != templates.end()) return &it->second;
  if (templates.size() == 1) return &templates.begin()->second;
  return nullptr;
}

mock_answer answer_mock(const integration_config& integ, const message_body& message, const mock_context& ctx) {
  mock_answer out;
  // No template: the message is passed through (passthroughBehavior WHEN_NO_MATCH) and must carry
  // the statusCode itself.
  const std::string* request_template = select_template(integ.request_templates, integ.template_selection, message);
  const auto status =
      status_of(request_template != nullptr ? render_template(*request_template, message, ctx) : message.text());
  if (!status) {
    out.error =
        "Execution failed due to configuration error: statusCode should be an integer which defined in "
        "request template";
    return out;
  }
  out.status = *status;
  const auto* response = matching_response(integ, *status);
  if (response == nullptr) {
    out.error = fmt::format("Execution failed: no integration response matches status {}", *status);
    return out;
  }
  // The response template: its selection expression can only be literal here (it has no
  // integration response body to read); else "$default", else the only template.
  const message_body no_body;
  if (const auto* t = select_template(response->templates, response->template_selection, no_body)) {
    out.body = render_template(*t, message, ctx);
  }
  return out;
}

}  // namespace apigw::gateway::detail
