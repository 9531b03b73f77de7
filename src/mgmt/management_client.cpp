// The Management API client: request building (botocore's wire form), SigV4 signing, error
// classification (botocore's rules, semantics §5.2/5.3), and GetConnection parsing.
#include "apigw/mgmt/management_client.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/core/json.hpp"
#include "apigw/net/error.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <chrono>

namespace apigw::mgmt {

namespace asio = boost::asio;

namespace {

std::string_view trim_type(std::string_view code) {
  // botocore: cut at the first ':', then keep what follows the last '#'.
  if (const auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  if (const auto hash = code.rfind('#'); hash != std::string_view::npos) code = code.substr(hash + 1);
  while (!code.empty() && (code.front() == ' ' || code.front() == '\t')) code.remove_prefix(1);
  while (!code.empty() && (code.back() == ' ' || code.back() == '\t')) code.remove_suffix(1);
  return code;
}

bool is_one_of(std::string_view code, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (code == n) return true;
  }
  return false;
}

error classify(std::string_view code, unsigned status) {
  if (code == "GoneException") return error::gone;
  if (is_one_of(code, {"ForbiddenException", "AccessDeniedException", "MissingAuthenticationTokenException",
                       "InvalidSignatureException", "IncompleteSignatureException", "UnrecognizedClientException",
                       "ExpiredTokenException"})) {
    return error::forbidden;
  }
  if (code == "PayloadTooLargeException") return error::payload_too_large;
  if (is_one_of(code, {"LimitExceededException", "ThrottlingException", "TooManyRequestsException"})) {
    return error::limit_exceeded;
  }
  if (is_one_of(code, {"InternalServerErrorException", "ServiceUnavailableException", "InternalFailure"})) {
    return error::server_error;
  }
  switch (status) {
    case 410:
      return error::gone;
    case 403:
      return error::forbidden;
    case 413:
      return error::payload_too_large;
    case 429:
      return error::limit_exceeded;
    default:
      break;
  }
  if (status >= 500 && status <= 599) return error::server_error;
  if (status >= 400 && status <= 499) return error::bad_request;
  return error::unexpected_status;
}

// body_message: the body's `message`/`Message`; a non-JSON body itself (shortened); else "".
std::string body_message(std::string_view body) {
  if (body.empty()) return {};
  auto obj = parse_json_object(body);
  if (obj) {
    for (auto key : {"message", "Message"}) {
      if (auto m = get_string(*obj, key)) return std::string(*m);
    }
    return {};
  }
  constexpr std::size_t k_max = 200;
  std::string text(body.substr(0, k_max));
  if (body.size() > k_max) text += "...";
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

bool parse_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

result<net::http_request> build_request(const endpoint& ep, std::string_view method, std::string_view connection_id,
                                        std::string body) {
  if (!is_valid_connection_id(connection_id)) {
    // The id itself is not echoed: it may hold bytes that do not belong in a log line.
    return failure{error::invalid_connection_id,
                   fmt::format("connection id of {} bytes is not 1..{} characters of [A-Za-z0-9_=+/-]; nothing sent",
                               connection_id.size(), k_max_connection_id_length)};
  }
  if (auto size = check_message_size(body.size()); !size) {
    return failure{error::payload_too_large, size.error().message};
  }
  net::http_request req;
  req.method = std::string(method);
  req.origin = ep.origin;
  req.target = connection_path(ep, connection_id);
  req.headers.reserve(5);
  req.headers.push_back({"Host", ep.origin.host_header()});
  req.body = std::move(body);
  return req;
}

result<std::string> signing_region(const endpoint& ep, const signing_config& config) {
  if (!config.region.empty()) return config.region;
  if (!ep.region.empty()) return ep.region;
  if (config.credentials) {
    return failure{error::invalid_endpoint,
                   fmt::format("cannot tell the AWS region of endpoint \"{}\" (not an execute-api host name); "
                               "configure the region to sign requests",
                               ep.url)};
  }
  return std::string{};
}

result<void> sign_request(net::http_request& req, const signing_config& config, const std::string& region,
                          clock::time_point now) {
  if (!config.credentials) return ok();
  sigv4::request to_sign;
  to_sign.method = req.method;
  to_sign.path = req.target;
  to_sign.headers.reserve(req.headers.size());
  for (const auto& h : req.headers) to_sign.headers.push_back({h.name, h.value});
  to_sign.body = req.body;
  sigv4::signing_params params;
  params.region = region;
  params.service = "execute-api";
  params.time = now;
  auto added = sigv4::sign(to_sign, *config.credentials, params);
  if (!added) {
    return failure{error::signing_failed,
                   fmt::format("cannot sign {} {}: {}", req.method, req.target, added.error().message)};
  }
  for (auto& h : *added) req.headers.push_back({std::move(h.name), std::move(h.value)});
  return ok();
}

std::string error_type_of(const net::http_response& resp) {
  if (auto header = net::find_header(resp.headers, "x-amzn-ErrorType")) {
    const auto code = trim_type(*header);
    if (!code.empty()) return std::string(code);
  }
  if (!resp.body.empty()) {
    if (auto obj = parse_json_object(resp.body)) {
      for (auto key : {"code", "Code", "__type"}) {
        if (auto c = get_string(*obj, key); c && !c->empty()) return std::string(trim_type(*c));
      }
    }
  }
  return std::to_string(resp.status);
}

failure error_from_response(const net::http_response& resp, std::string_view operation,
                            std::string_view connection_id) {
  const std::string code = error_type_of(resp);
  const error e = classify(code, resp.status);
  const std::string message = body_message(resp.body);
  std::string text = fmt::format("{} {}: HTTP {}", operation, connection_id, resp.status);
  if (code != std::to_string(resp.status)) text += " " + code;
  if (!message.empty()) text += ": " + message;
  return failure{e, std::move(text)};
}

failure transport_failure(const failure& f, std::string_view operation, std::string_view connection_id) {
  error e = error::network_error;
  if (f.code == condition::timeout) {
    e = error::timeout;
  } else if (f.code == net::error::invalid_url) {
    e = error::invalid_endpoint;
  }
  return failure{e, fmt::format("{} {}: {}", operation, connection_id, f.message)};
}

result<clock::time_point> parse_iso8601(std::string_view s) {
  const auto bad = [&] { return failure{error::bad_response, fmt::format("\"{}\" is not an ISO-8601 time", s)}; };
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!parse_digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !parse_digits(s, 5, 2, month) || s[7] != '-' ||
      !parse_digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !parse_digits(s, 11, 2, hour) ||
      s[13] != ':' || !parse_digits(s, 14, 2, minute) || s[16] != ':' || !parse_digits(s, 17, 2, second)) {
    return bad();
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  std::chrono::minutes offset{0};
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0;
    int om = 0;
    if (!parse_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !parse_digits(s, pos + 4, 2, om)) {
      return bad();
    }
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  const auto t = std::chrono::sys_days{ymd} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                 std::chrono::seconds(second) + fraction - offset;
  return std::chrono::time_point_cast<clock::duration>(t);
}

result<connection_info> parse_connection_info(std::string_view body) {
  auto obj = parse_json_object(body);
  if (!obj) return failure{error::bad_response, "GetConnection: the body is not a JSON object: " + obj.error().message};
  connection_info info;
  auto connected = get_string(*obj, "connectedAt");
  if (!connected) return failure{error::bad_response, "GetConnection: connectedAt is missing"};
  auto c = parse_iso8601(*connected);
  if (!c) return c.error();
  info.connected_at = *c;
  if (auto last = get_string(*obj, "lastActiveAt")) {
    auto l = parse_iso8601(*last);
    if (!l) return l.error();
    info.last_active_at = *l;
  } else {
    info.last_active_at = info.connected_at;
  }
  if (const auto* id = obj->if_contains("identity"); id != nullptr && id->is_object()) {
    if (auto ip = get_string(id->get_object(), "sourceIp")) info.identity.source_ip = std::string(*ip);
    if (auto ua = get_string(id->get_object(), "userAgent")) info.identity.user_agent = std::string(*ua);
  }
  return info;
}

asio::awaitable<result<void>> post_to_connection(net::http_client_pool& pool, const endpoint& ep,
                                                 const signing_config& signing, const std::string& region,
                                                 const clock& clk, std::string connection_id, std::string data) {
  auto req = build_request(ep, "POST", connection_id, std::move(data));
  if (!req) co_return req.error();
  if (auto s = sign_request(*req, signing, region, clk.now()); !s) co_return s.error();
  auto resp = co_await pool.request(std::move(*req));
  if (!resp) co_return transport_failure(resp.error(), "PostToConnection", connection_id);
  if (resp->status >= 200 && resp->status <= 299) co_return ok();
  co_return error_from_response(*resp, "PostToConnection", connection_id);
}

result<management_client> management_client::create(net::http_client_pool& pool, std::string_view endpoint_url,
                                                    options opts) {
  auto ep = parse_endpoint(endpoint_url);
  if (!ep) return ep.error();
  auto region = signing_region(*ep, opts.signing);
  if (!region) return region.error();
  return management_client(pool, std::move(*ep), std::move(opts), std::move(*region));
}

asio::awaitable<result<net::http_response>> management_client::call(std::string_view method, std::string_view operation,
                                                                    std::string connection_id, std::string body) {
  auto req = build_request(endpoint_, method, connection_id, std::move(body));
  if (!req) co_return req.error();
  const clock& clk = opts_.clk != nullptr ? *opts_.clk : system_clock_source::instance();
  if (auto s = sign_request(*req, opts_.signing, region_, clk.now()); !s) co_return s.error();
  auto resp = co_await pool_->request(std::move(*req));
  if (!resp) co_return transport_failure(resp.error(), operation, connection_id);
  if (resp->status < 200 || resp->status > 299) co_return error_from_response(*resp, operation, connection_id);
  co_return std::move(*resp);
}

asio::awaitable<result<void>> management_client::post_to_connection(std::string connection_id, std::string data) {
  auto r = co_await call("POST", "PostToConnection", std::move(connection_id), std::move(data));
  if (!r) co_return r.error();
  co_return ok();
}

asio::awaitable<result<connection_info>> management_client::get_connection(std::string connection_id) {
  auto r = co_await call("GET", "GetConnection", connection_id, {});
  if (!r) co_return r.error();
  auto info = parse_connection_info(r->body);
  if (!info)
    co_return failure{info.error().code, fmt::format("GetConnection {}: {}", connection_id, info.error().message)};
  co_return std::move(*info);
}

asio::awaitable<result<void>> management_client::delete_connection(std::string connection_id) {
  auto r = co_await call("DELETE", "DeleteConnection", std::move(connection_id), {});
  if (!r) co_return r.error();
  co_return ok();
}

}  // namespace apigw::mgmt
