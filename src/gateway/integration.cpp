// HTTP_PROXY integration requests: URL, headers and request-parameter mappings.
#include "gateway/integration.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "apigw/gateway/connections_path.hpp"
#include "apigw/gateway/error.hpp"
#include "apigw/net/url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>

namespace apigw::gateway::detail {
namespace {

// Headers never copied from the client: hop-by-hop ones, and the ones the gateway sets itself.
constexpr std::array<std::string_view, 11> k_not_forwarded = {
    "connection",          "upgrade",          "host",        "content-length",
    "transfer-encoding",   "keep-alive",       "te",          "trailer",
    "proxy-authorization", "proxy-connection", "connectionid"};

// Header families the gateway owns: a client's X-Amzn-Apigateway-Api-Id or X-Forwarded-For would
// otherwise reach the backend ahead of (or instead of) the gateway's own value.
constexpr std::array<std::string_view, 2> k_owned_prefixes = {"x-amzn-", "x-forwarded-"};

constexpr std::string_view k_header_target = "integration.request.header.";

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && net::iequals(s.substr(0, prefix.size()), prefix);
}

// is_not_forwarded: a client header the backend must not see: hop-by-hop, gateway-owned, or one
// the integration maps (even when its source has no value this time, the client must not fill in).
bool is_not_forwarded(std::string_view name, const integration_config& integ) {
  for (auto n : k_not_forwarded) {
    if (net::iequals(n, name)) return true;
  }
  for (auto p : k_owned_prefixes) {
    if (starts_with_ci(name, p)) return true;
  }
  for (const auto& [target, source] : integ.request_parameters) {
    if (target.starts_with(k_header_target) &&
        net::iequals(std::string_view(target).substr(k_header_target.size()), name)) {
      return true;
    }
  }
  return false;
}

// is_token: an HTTP field name (RFC 9110 §5.6.2 token).
bool is_token(std::string_view name) {
  constexpr std::string_view k_token_punctuation = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && k_token_punctuation.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// is_control: a control character other than horizontal tab (NUL, CR, LF, DEL, ...).
bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

// header_fault: why `h` must not be written, or "" when it is safe.
std::string_view header_fault(const net::http_header& h) {
  if (!is_token(h.name)) return "its name is not an HTTP token";
  if (std::ranges::any_of(h.value, is_control)) return "its value holds a control character";
  if (h.value.size() > k_max_header_value) return "its value is over 8 KiB";
  return {};
}

// check_headers: every header of the request is safe to write (see build_integration_request).
result<void> check_headers(const net::http_headers& headers, const integration_config& integ) {
  for (const auto& h : headers) {
    if (const auto why = header_fault(h); !why.empty()) {
      return failure{error::integration_failed,
                     fmt::format("integration {}: header \"{}\" refused: {}", integ.id, h.name, why)};
    }
  }
  return ok();
}

// printable: `s` with each control character but tab replaced by a space, for the one value the
// gateway takes from a client outside a mapping (the close reason), which must not fail the
// $disconnect it reports.
std::string printable(std::string_view s) {
  std::string out(s);
  std::ranges::replace_if(out, is_control, ' ');
  return out;
}

std::string replace_stage_variables(std::string_view text, const stage_config& stage) {
  constexpr std::string_view open = "${stageVariables.";
  std::string out;
  while (!text.empty()) {
    const auto at = text.find(open);
    if (at == std::string_view::npos) break;
    const auto close = text.find('}', at);
    if (close == std::string_view::npos) break;
    out.append(text.substr(0, at));
    const auto name = text.substr(at + open.size(), close - at - open.size());
    if (auto it = stage.variables.find(std::string(name)); it != stage.variables.end()) out += it->second;
    text.remove_prefix(close + 1);
  }
  out.append(text);
  return out;
}

// query_values: every value of `name` in a raw query string, decoded.
std::vector<std::string> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    const auto key = percent_decode(pair.substr(0, eq));
    if (key && *key == name) {
      auto value = eq == std::string_view::npos ? std::optional<std::string>("") : percent_decode(pair.substr(eq + 1));
      if (value) out.push_back(std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::vector<std::string> header_values(const net::http_headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : headers) {
    if (net::iequals(h.name, name)) out.push_back(h.value);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

// context_value: a `context.X` variable of the call, or nullopt when unknown.
std::optional<std::string> context_value(const integration_call& c, std::string_view var) {
  const auto kind_name = [&] {
    switch (c.kind) {
      case event_kind::connect:
        return "CONNECT";
      case event_kind::message:
        return "MESSAGE";
      case event_kind::disconnect:
        return "DISCONNECT";
    }
    return "";
  };
  if (var == "connectionId") return c.connection_id;
  if (var == "routeKey") return c.route_key;
  if (var == "requestId" || var == "extendedRequestId") return c.request_id;
  if (var == "messageId") return c.message_id;
  if (var == "eventType") return std::string(kind_name());
  if (var == "messageDirection") return std::string("IN");
  if (var == "apiId") return c.api->id;
  if (var == "stage") return c.stage->name;
  if (var == "domainName") return c.domain_name;
  if (var == "connectedAt") return fmt::format("{}", c.connected_at_ms);
  if (var == "requestTimeEpoch") return fmt::format("{}", c.request_time_ms);
  if (c.kind == event_kind::disconnect) {
    if (var == "disconnectStatusCode") return fmt::format("{}", c.disconnect_status_code);
    if (var == "disconnectReason") return printable(c.disconnect_reason);
  }
  if (c.handshake != nullptr) {
    if (var == "identity.sourceIp") return c.handshake->source_ip;
    if (var == "identity.userAgent") return c.handshake->user_agent;
  }
  return std::nullopt;
}

// source_value: the value of a requestParameters source for this call, or nullopt when it has none
// here (route.request.* outside $connect, a missing header or member).
std::optional<std::string> source_value(const integration_call& c, std::string_view src) {
  if (src.size() >= 2 && src.front() == '\'' && src.back() == '\'') return std::string(src.substr(1, src.size() - 2));
  const auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (src.starts_with(prefix)) return src.substr(prefix.size());
    return std::nullopt;
  };
  if (auto v = after("context.")) return context_value(c, *v);
  if (auto v = after("stageVariables.")) {
    auto it = c.stage->variables.find(std::string(*v));
    if (it == c.stage->variables.end()) return std::nullopt;
    return it->second;
  }
  const bool on_connect = c.kind == event_kind::connect && c.handshake != nullptr;
  if (auto v = after("route.request.header.")) {
    if (!on_connect) return std::nullopt;
    auto values = header_values(c.handshake->headers, *v);
    if (values.empty()) return std::nullopt;
    return values.front();
  }
  if (auto v = after("route.request.multivalueheader.")) {
    if (!on_connect) return std::nullopt;
    auto values = header_values(c.handshake->headers, *v);
    if (values.empty()) return std::nullopt;
    return join(values);
  }
  if (auto v = after("route.request.querystring.")) {
    if (!on_connect) return std::nullopt;
    auto values = query_values(c.handshake->query, *v);
    if (values.empty()) return std::nullopt;
    return values.back();
  }
  if (auto v = after("route.request.multivaluequerystring.")) {
    if (!on_connect) return std::nullopt;
    auto values = query_values(c.handshake->query, *v);
    if (values.empty()) return std::nullopt;
    return join(values);
  }
  if (auto v = after("route.request.body.")) {
    if (c.kind != event_kind::message) return std::nullopt;
    auto expr = parse_selection_expression(fmt::format("${{request.body.{}}}", *v));
    if (!expr) return std::nullopt;
    return evaluate_selection(*expr, c.body);  // the parse route selection made, if it made one
  }
  return std::nullopt;
}

}  // namespace

std::string percent_encode_component(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

std::string new_trace_id(std::int64_t now_seconds) {
  std::array<std::byte, 12> random{};
  (void)random_bytes(random);
  return fmt::format("Root=1-{:08x}-{}", static_cast<std::uint32_t>(now_seconds), to_hex(random));
}

result<net::http_request> build_integration_request(const integration_call& c, const request_options& opts) {
  const auto& integ = *c.integration;
  std::string uri = replace_stage_variables(integ.uri, *c.stage);

  // Path parameters: {name} in the URI path replaced by integration.request.path.name.
  std::vector<std::pair<std::string, std::string>> extra_query;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  for (const auto& [target, source] : integ.request_parameters) {
    auto value = source_value(c, source);
    if (!value) continue;
    constexpr std::string_view query_prefix = "integration.request.querystring.";
    constexpr std::string_view path_prefix = "integration.request.path.";
    if (target.starts_with(k_header_target)) {
      extra_headers.emplace_back(target.substr(k_header_target.size()), std::move(*value));
    } else if (target.starts_with(query_prefix)) {
      extra_query.emplace_back(target.substr(query_prefix.size()), std::move(*value));
    } else if (target.starts_with(path_prefix)) {
      const std::string placeholder = fmt::format("{{{}}}", target.substr(path_prefix.size()));
      for (auto at = uri.find(placeholder); at != std::string::npos; at = uri.find(placeholder)) {
        uri.replace(at, placeholder.size(), percent_encode_component(*value));
      }
    }
  }

  auto url = net::parse_url(uri);
  if (!url) {
    return failure{error::invalid_config,
                   fmt::format("integration {} URI \"{}\": {}", integ.id, uri, url.error().message)};
  }
  net::http_request req;
  req.method = integ.method;
  req.origin = url->origin;
  req.target = url->path.empty() ? "/" : url->path;
  std::string query = url->query;
  const auto add_query = [&](std::string_view part) {
    if (part.empty()) return;
    if (!query.empty()) query += '&';
    query += part;
  };
  if (c.kind == event_kind::connect && c.handshake != nullptr) add_query(c.handshake->query);
  for (const auto& [name, value] : extra_query) {
    add_query(fmt::format("{}={}", percent_encode_component(name), percent_encode_component(value)));
  }
  if (!query.empty()) req.target += "?" + query;

  auto& h = req.headers;
  h.push_back({"Host", url->origin.host_header()});
  if (c.kind == event_kind::connect && c.handshake != nullptr && opts.forward_client_headers) {
    for (const auto& ch : c.handshake->headers) {
      if (!is_not_forwarded(ch.name, integ)) h.push_back(ch);
    }
  }
  if (c.kind != event_kind::connect || c.handshake == nullptr || c.handshake->user_agent.empty()) {
    net::set_header(h, "User-Agent", fmt::format("AmazonAPIGateway_{}", c.api->id));
  }
  h.push_back({"X-Amzn-Apigateway-Api-Id", c.api->id});
  h.push_back({"X-Amzn-Trace-Id", c.trace_id});
  if (c.handshake != nullptr) h.push_back({"X-Forwarded-For", c.handshake->forwarded_for});
  h.push_back({"X-Forwarded-Proto", opts.forwarded_proto});
  h.push_back({"X-Forwarded-Port", opts.forwarded_port});
  if (c.kind == event_kind::message) {
    const bool is_json = opts.json_content_type && c.body.parsed() != nullptr;
    h.push_back({"Content-Type", is_json ? "application/json" : "text/plain"});
    req.body = c.body.text();
  }
  for (auto& [name, value] : extra_headers) net::set_header(h, name, value);
  if (auto checked = check_headers(h, integ); !checked) return checked.error();
  return req;
}

}  // namespace apigw::gateway::detail
