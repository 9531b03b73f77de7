// api.json reading and checking (every refusal names the field), and the integrations the file
// asks for.
#include "apigw/provision/config.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace apigw::provision {
namespace {

namespace json = boost::json;
using object = json::object;

failure bad(std::string_view field, std::string_view why) {
  return failure{core::error::invalid_config, fmt::format("{}: {}", field, why)};
}

bool all_of_chars(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

result<void> only_keys(const json::object& o, std::string_view where, std::initializer_list<std::string_view> keys) {
  for (const auto& [k, v] : o) {
    if (std::find(keys.begin(), keys.end(), std::string_view(k)) == keys.end()) {
      std::string known;
      for (auto key : keys) known += (known.empty() ? "" : ", ") + std::string(key);
      return bad(where.empty() ? std::string_view(k) : where,
                 fmt::format("unknown key \"{}\" (known: {})", std::string_view(k), known));
    }
  }
  return ok();
}

result<std::string> string_field(const json::object& o, std::string_view key, std::string_view field,
                                 std::optional<std::string> fallback = std::nullopt) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return bad(field, "is required");
  }
  if (!v->is_string()) return bad(field, "must be a string");
  return std::string(v->get_string());
}

result<std::map<std::string, std::string>> string_map(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr) return out;
  if (!v->is_object()) return bad(key, "must be an object of strings");
  for (const auto& [k, x] : v->get_object()) {
    if (!x.is_string()) return bad(fmt::format("{}.{}", key, std::string_view(k)), "must be a string");
    out.emplace(std::string(k), std::string(x.get_string()));
  }
  return out;
}

// check_url: an absolute http(s) URL with a host and no query or fragment.
// url_problem: why `text` is not an absolute http(s) URL with a host, without user info or a
// fragment, with a port in range; "" when it is one.
std::string url_problem(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return "not an absolute URL (expected http://host[:port]/path or https://...)";
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::https && u.scheme_id() != boost::urls::scheme::http) {
    return fmt::format("scheme \"{}\" is not http or https", std::string_view(u.scheme()));
  }
  if (!u.has_authority() || u.encoded_host().empty()) return "no host";
  if (u.has_userinfo()) return "user info (user:password@) is not allowed";
  if (u.has_fragment()) return "a fragment (#...) is not allowed";
  if (u.has_port() && !u.port().empty()) {
    const std::string_view port = u.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return fmt::format("port \"{}\" is out of range", port);
    }
  }
  return {};
}

// check_url: an absolute http(s) URL with a host and no query or fragment.
result<void> check_url(std::string_view field, std::string_view text) {
  if (text.empty()) return bad(field, "a URL is required");
  if (!text.starts_with("http://") && !text.starts_with("https://")) {
    return bad(field, fmt::format("\"{}\" is not an http:// or https:// URL", text));
  }
  if (auto why = url_problem(text); !why.empty()) {
    return bad(field, fmt::format("\"{}\" is not a valid URL: invalid URL \"{}\": {}", text, text, why));
  }
  if (boost::urls::parse_uri(text)->has_query()) return bad(field, fmt::format("\"{}\" must not have a query", text));
  return ok();
}

// parse_access_log: stage_settings.access_log, checked as AWS checks AccessLogSettings (a log
// group ARN; a one-line format of at most 1024 characters that includes $context.requestId).
result<void> parse_access_log(const json::value& v, api_config& c) {
  constexpr std::string_view where = "stage_settings.access_log";
  if (!v.is_object()) return bad(where, "must be an object {\"destination_arn\", \"format\"}");
  const auto& o = v.get_object();
  if (auto r = only_keys(o, where, {"destination_arn", "format"}); !r) return r.error();
  auto arn = string_field(o, "destination_arn", "stage_settings.access_log.destination_arn");
  if (!arn) return arn.error();
  // arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto end = parts.size() == 6 ? std::string::npos : arn->find(':', start);
    parts.push_back(std::string_view(*arn).substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (parts.size() != 7 || parts[0] != "arn" || !parts[1].starts_with("aws") || parts[2] != "logs" ||
      parts[3].empty() || parts[4].empty() || parts[5] != "log-group" || parts[6].empty()) {
    return bad("stage_settings.access_log.destination_arn", fmt::format("\"{}\" is not a CloudWatch Logs log group ARN "
                                                                        "(arn:aws:logs:REGION:ACCOUNT:log-group:NAME)",
                                                                        *arn));
  }
  auto format = string_field(o, "format", "stage_settings.access_log.format");
  if (!format) return format.error();
  if (format->empty() || format->size() > 1024) {
    return bad("stage_settings.access_log.format", "must be 1-1024 characters");
  }
  if (format->find_first_of("\r\n") != std::string::npos) {
    return bad("stage_settings.access_log.format", "must be a single line");
  }
  if (format->find("$context.requestId") == std::string::npos) {
    return bad("stage_settings.access_log.format", "must include at least $context.requestId (AWS refuses it)");
  }
  c.access_log = access_log_config{*arn, *format};
  return ok();
}

result<void> parse_throttling(const json::object& o, std::string_view where, std::string_view burst_key,
                              std::string_view rate_key, api_config& c) {
  if (const auto* b = o.if_contains(burst_key)) {
    if (!b->is_int64() || b->get_int64() < 0 || b->get_int64() > 2147483647) {
      return bad(fmt::format("{}.{}", where, burst_key), "must be a non-negative integer");
    }
    c.throttling_burst_limit = b->get_int64();
  }
  if (const auto* r = o.if_contains(rate_key)) {
    if (!r->is_number() || r->to_number<double>() < 0) {
      return bad(fmt::format("{}.{}", where, rate_key), "must be a non-negative number");
    }
    c.throttling_rate_limit = r->to_number<double>();
  }
  return ok();
}

// parse_stage_settings: "stage_settings" ({"access_log", "default_route_settings"}) and the older
// "throttling" object (refused together with default_route_settings' throttling members).
result<void> parse_stage_settings(const json::object& root, api_config& c) {
  const auto* th = root.if_contains("throttling");
  if (th != nullptr) {
    if (!th->is_object()) return bad("throttling", "must be an object");
    if (auto r = only_keys(th->get_object(), "throttling", {"burst_limit", "rate_limit"}); !r) return r.error();
    if (auto r = parse_throttling(th->get_object(), "throttling", "burst_limit", "rate_limit", c); !r) return r;
  }
  const auto* ss = root.if_contains("stage_settings");
  if (ss == nullptr) return ok();
  if (!ss->is_object()) return bad("stage_settings", "must be an object {\"access_log\", \"default_route_settings\"}");
  const auto& so = ss->get_object();
  if (auto r = only_keys(so, "stage_settings", {"access_log", "default_route_settings"}); !r) return r.error();
  if (const auto* al = so.if_contains("access_log")) {
    if (auto r = parse_access_log(*al, c); !r) return r;
  }
  const auto* drs = so.if_contains("default_route_settings");
  if (drs == nullptr) return ok();
  constexpr std::string_view where = "stage_settings.default_route_settings";
  if (!drs->is_object()) return bad(where, "must be an object");
  const auto& d = drs->get_object();
  if (auto r = only_keys(
          d, where,
          {"logging_level", "data_trace", "detailed_metrics", "throttling_burst_limit", "throttling_rate_limit"});
      !r) {
    return r.error();
  }
  if (th != nullptr && (d.contains("throttling_burst_limit") || d.contains("throttling_rate_limit"))) {
    return bad(where, "throttling limits are given twice (here and in \"throttling\"); keep one");
  }
  if (const auto* l = d.if_contains("logging_level")) {
    if (!l->is_string() || (l->get_string() != "INFO" && l->get_string() != "ERROR" && l->get_string() != "OFF")) {
      return bad(fmt::format("{}.logging_level", where), "must be INFO, ERROR or OFF");
    }
    c.logging_level = std::string(l->get_string());
  }
  for (auto [key, into] :
       {std::pair{"data_trace", &c.data_trace}, std::pair{"detailed_metrics", &c.detailed_metrics}}) {
    if (const auto* b = d.if_contains(key)) {
      if (!b->is_bool()) return bad(fmt::format("{}.{}", where, key), "must be true or false");
      *into = b->get_bool();
    }
  }
  return parse_throttling(d, where, "throttling_burst_limit", "throttling_rate_limit", c);
}

object string_object(const std::map<std::string, std::string>& m) {
  object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

}  // namespace

result<api_config> parse_api_config(std::string_view text) {
  auto root = parse_json_object(text);
  if (!root) return failure{core::error::invalid_config, "not a JSON object: " + root.error().message};
  const auto& o = *root;
  if (auto r =
          only_keys(o, "",
                    {"name", "description", "route_selection_expression", "target_base", "stage", "stage_description",
                     "stage_variables", "routes", "shared_secret_header", "shared_secret", "timeout_ms", "tags",
                     "throttling", "stage_settings", "keep_stages", "default_channel", "domain"});
      !r) {
    return r.error();
  }
  api_config c;
  const auto take = [&](std::string_view key, std::string& into) -> result<void> {
    auto v = string_field(o, key, key, into);
    if (!v) return v.error();
    into = std::move(*v);
    return ok();
  };
  auto name = string_field(o, "name", "name");
  if (!name) return name.error();
  c.name = *name;
  if (c.name.empty() || c.name.size() > 128 || !all_of_chars(c.name, " _-")) {
    return bad("name", "must be 1-128 characters of letters, digits, spaces, '-' and '_'");
  }
  for (auto [key, into] :
       {std::pair{"description", &c.description},
        std::pair{"route_selection_expression", &c.route_selection_expression}, std::pair{"stage", &c.stage},
        std::pair{"stage_description", &c.stage_description},
        std::pair{"shared_secret_header", &c.shared_secret_header}, std::pair{"shared_secret", &c.shared_secret},
        std::pair{"default_channel", &c.default_channel}}) {
    if (auto r = take(key, *into); !r) return r.error();
  }
  if (c.description.size() > 1024) return bad("description", "is longer than 1024 characters");
  if (!c.route_selection_expression.starts_with("$request.") &&
      !c.route_selection_expression.starts_with("${request.")) {
    return bad("route_selection_expression", "must be a $request.body.X or $request.header.X expression");
  }
  auto base = string_field(o, "target_base", "target_base");
  if (!base) return base.error();
  if (auto r = check_url("target_base", *base); !r) return r.error();
  c.target_base = *base;
  if (!c.target_base.ends_with('/')) c.target_base += '/';
  if (c.stage == "$default") return bad("stage", "$default is a stage of HTTP APIs; WebSocket APIs refuse it");
  if (c.stage.empty() || c.stage.size() > 128 || !all_of_chars(c.stage, "-_")) {
    return bad("stage", fmt::format("\"{}\" is not 1-128 letters, digits, '-' or '_' (AWS refuses it)", c.stage));
  }
  auto vars = string_map(o, "stage_variables");
  if (!vars) return vars.error();
  for (const auto& [k, v] : *vars) {
    if (k.empty() || !all_of_chars(k, "_")) {
      return bad(fmt::format("stage_variables.{}", k), "names are letters, digits and '_'");
    }
    if (v.empty() || v.size() > 2048 || !all_of_chars(v, "-._~:/?#&=,")) {
      return bad(fmt::format("stage_variables.{}", k),
                 "values are 1-2048 characters of letters, digits and -._~:/?#&=,");
    }
  }
  c.stage_variables = std::move(*vars);
  if (c.shared_secret_header.empty() || !all_of_chars(c.shared_secret_header, "-_")) {
    return bad("shared_secret_header", "must be a header name (letters, digits, '-', '_')");
  }
  if (c.shared_secret.find('\'') != std::string::npos ||
      std::any_of(c.shared_secret.begin(), c.shared_secret.end(), [](char ch) { return ch < 0x21 || ch > 0x7e; })) {
    return bad("shared_secret", "must be printable ASCII without spaces or quotes");
  }
  if (const auto* t = o.if_contains("timeout_ms")) {
    if (!t->is_int64() || t->get_int64() < 50 || t->get_int64() > 29000) {
      return bad("timeout_ms", "must be an integer from 50 to 29000 (API Gateway's WebSocket limit)");
    }
    c.timeout_ms = t->get_int64();
  }
  auto tags = string_map(o, "tags");
  if (!tags) return tags.error();
  c.tags = std::move(*tags);
  if (auto r = parse_stage_settings(o, c); !r) return r.error();
  if (const auto* keep = o.if_contains("keep_stages")) {
    if (!keep->is_array()) return bad("keep_stages", "must be an array of stage names");
    for (const auto& k : keep->get_array()) {
      const std::string field = fmt::format("keep_stages[{}]", c.keep_stages.size());
      if (!k.is_string()) return bad(field, "must be a string");
      const std::string name(k.get_string());
      if (name.empty() || name.size() > 128 || !all_of_chars(name, "-_")) {
        return bad(field, fmt::format("\"{}\" is not a stage name (1-128 letters, digits, '-' or '_')", name));
      }
      if (name == c.stage) return bad(field, fmt::format("\"{}\" is the stage itself", name));
      c.keep_stages.push_back(name);
    }
  }
  if (const auto* routes = o.if_contains("routes")) {
    if (!routes->is_array()) return bad("routes", "must be an array of {\"route_key\", \"url\"}");
    std::set<std::string> seen;
    std::size_t i = 0;
    for (const auto& item : routes->get_array()) {
      const std::string field = fmt::format("routes[{}]", i++);
      if (!item.is_object()) return bad(field, "must be an object");
      const auto& r = item.get_object();
      if (auto k = only_keys(r, field, {"route_key", "url", "name", "integration", "response"}); !k) {
        return k.error();
      }
      auto key = string_field(r, "route_key", field + ".route_key");
      if (!key) return key.error();
      if (key->empty() || key->size() > 128) return bad(field + ".route_key", "must be 1-128 characters");
      if (key->starts_with('$')) {
        return bad(field + ".route_key",
                   fmt::format("\"{}\": $connect, $disconnect and $default come from target_base", *key));
      }
      if (!seen.insert(*key).second) return bad(field + ".route_key", fmt::format("\"{}\" appears twice", *key));
      auto rname = string_field(r, "name", field + ".name", std::string{});
      if (!rname) return rname.error();
      auto kind = string_field(r, "integration", field + ".integration", std::string("http_proxy"));
      if (!kind) return kind.error();
      if (*kind == "mock") {
        if (r.contains("url")) {
          return bad(field + ".url", fmt::format("route \"{}\" is answered by API Gateway (mock): no URL", *key));
        }
        route_config route{*key, {}, *rname, true, std::nullopt};
        if (r.contains("response")) {
          auto response = string_field(r, "response", field + ".response");
          if (!response) return response.error();
          route.response = *response;
        }
        c.routes.push_back(std::move(route));
        continue;
      }
      if (*kind != "http_proxy") return bad(field + ".integration", "must be \"http_proxy\" (the default) or \"mock\"");
      if (r.contains("response")) {
        return bad(field + ".response", "only a mock route has a response (a backend answers its own)");
      }
      auto url = string_field(r, "url", field + ".url");
      if (!url) return bad(field + ".url", fmt::format("route \"{}\" has no URL", *key));
      if (auto u = check_url(field + ".url", *url); !u) return u.error();
      c.routes.push_back(route_config{*key, *url, *rname});
    }
  }
  if (const auto* d = o.if_contains("domain")) {
    if (!d->is_object()) return bad("domain", "must be an object");
    const auto& dobj = d->get_object();
    if (auto k =
            only_keys(dobj, "domain",
                      {"name", "certificate_arn", "hosted_zone_id", "base_path", "endpoint_type", "security_policy"});
        !k) {
      return k.error();
    }
    domain_config dom;
    auto dn = string_field(dobj, "name", "domain.name");
    if (!dn) return dn.error();
    dom.name = *dn;
    bool labels_ok = !dom.name.empty() && dom.name.size() <= 253;
    for (std::size_t start = 0; labels_ok && start <= dom.name.size();) {
      const auto end = std::min(dom.name.find('.', start), dom.name.size());
      const std::string_view label(dom.name.data() + start, end - start);
      labels_ok = !label.empty() && label.size() <= 63 && all_of_chars(label, "-") && !label.starts_with('-') &&
                  !label.ends_with('-');
      start = end + 1;
    }
    if (!labels_ok || dom.name.find('.') == std::string::npos) {
      return bad("domain.name", fmt::format("\"{}\" is not a host name", dom.name));
    }
    auto arn = string_field(dobj, "certificate_arn", "domain.certificate_arn");
    if (!arn) return arn.error();
    if (!arn->starts_with("arn:")) return bad("domain.certificate_arn", "must be an ACM certificate ARN");
    dom.certificate_arn = *arn;
    auto zone = string_field(dobj, "hosted_zone_id", "domain.hosted_zone_id", std::string{});
    if (!zone) return zone.error();
    dom.hosted_zone_id = *zone;
    auto path = string_field(dobj, "base_path", "domain.base_path", std::string{});
    if (!path) return path.error();
    if (path->size() > 300 || !all_of_chars(*path, "$-_.+!*'()/")) {
      return bad("domain.base_path", "must be at most 300 characters of letters, digits and $-_.+!*'()/");
    }
    dom.base_path = *path;
    auto type = string_field(dobj, "endpoint_type", "domain.endpoint_type", std::string{});
    if (!type) return type.error();
    if (*type == "EDGE") {
      return bad("domain.endpoint_type",
                 "EDGE is refused: custom domains of WebSocket APIs are REGIONAL only (AWS answers "
                 "BadRequestException)");
    }
    if (!type->empty() && *type != "REGIONAL") return bad("domain.endpoint_type", "must be REGIONAL");
    dom.endpoint_type = *type;
    auto policy = string_field(dobj, "security_policy", "domain.security_policy", std::string{});
    if (!policy) return policy.error();
    if (*policy == "TLS_1_0") {
      return bad("domain.security_policy",
                 "TLS_1_0 is refused: custom domains of WebSocket APIs need TLS_1_2 (AWS answers "
                 "BadRequestException)");
    }
    if (!policy->empty() && *policy != "TLS_1_2") return bad("domain.security_policy", "must be TLS_1_2");
    dom.security_policy = *policy;
    c.domain = std::move(dom);
  }
  return c;
}

result<api_config> load_api_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure{core::error::io_error, fmt::format("cannot read {}", path)};
  std::stringstream s;
  s << in.rdbuf();
  auto c = parse_api_config(s.str());
  if (!c) return failure{c.error().code, fmt::format("{}: {}", path, c.error().message)};
  return c;
}

std::vector<desired_route> desired_routes(const api_config& c) {
  std::map<std::string, std::string> params{{"integration.request.header.connectionId", "context.connectionId"}};
  if (!c.shared_secret.empty()) {
    params.emplace("integration.request.header." + c.shared_secret_header, "'" + c.shared_secret + "'");
  }
  const auto integration = [&](const std::string& url) {
    return object{{"integrationType", "HTTP_PROXY"},
                  {"integrationMethod", "POST"},
                  {"integrationUri", url},
                  {"connectionType", "INTERNET"},
                  {"payloadFormatVersion", "1.0"},
                  {"timeoutInMillis", c.timeout_ms},
                  {"requestParameters", string_object(params)}};
  };
  std::vector<desired_route> out;
  for (std::string_view k : {"connect", "disconnect", "default"}) {
    out.push_back({"$" + std::string(k), std::string(k), integration(c.target_base + std::string(k))});
  }
  for (const auto& r : c.routes) {
    if (!r.mock) {
      out.push_back({r.route_key, r.name, integration(r.url)});
      continue;
    }
    desired_route d{r.route_key, r.name,
                    object{{"integrationType", "MOCK"},
                           {"requestTemplates", object{{"$default", k_mock_request_template}}},
                           {"templateSelectionExpression", "\\$default"}}};
    object response{{"integrationResponseKey", "$default"}};
    if (r.response) response["responseTemplates"] = object{{"$default", *r.response}};
    d.integration_response = std::move(response);
    d.two_way = r.response.has_value();
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace apigw::provision
