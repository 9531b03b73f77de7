// SigV4 verification: parse the Authorization header, check scope, time and session token, then
// recompute the signature and compare it in constant time.
#include "apigw/sigv4/verifier.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/sigv4/error.hpp"
#include "sigv4/canonical.hpp"
#include "sigv4/crypto.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

namespace apigw::sigv4 {
namespace {

namespace chr = std::chrono;

// shown: `s` made safe for an error message: at most 80 characters, control and non-ASCII bytes as
// '?', so hostile input cannot flood or forge log lines.
std::string shown(std::string_view s) {
  constexpr std::size_t k_max = 80;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < k_max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c >= 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > k_max) out.append("...");
  return out;
}

failure malformed(std::string message) {
  return failure{error::malformed_authorization, std::move(message)};
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view digits) noexcept {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

std::optional<clock::time_point> civil_time(int y, int mo, int d, int h, int mi, int s) {
  const chr::year_month_day ymd{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                                chr::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return clock::time_point{chr::sys_days{ymd}.time_since_epoch() + chr::hours{h} + chr::minutes{mi} + chr::seconds{s}};
}

bool is_scope_date(std::string_view s) {
  return s.size() == 8 && all_digits(s) &&
         civil_time(number(s.substr(0, 4)), number(s.substr(4, 2)), number(s.substr(6, 2)), 0, 0, 0).has_value();
}

// parse_amz_date: "20150830T123600Z".
std::optional<clock::time_point> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !all_digits(s.substr(0, 8)) || !all_digits(s.substr(9, 6))) {
    return std::nullopt;
  }
  return civil_time(number(s.substr(0, 4)), number(s.substr(4, 2)), number(s.substr(6, 2)), number(s.substr(9, 2)),
                    number(s.substr(11, 2)), number(s.substr(13, 2)));
}

// parse_http_date: a Date header in the fixed-width form HTTP (IMF-fixdate, "Sun, 30 Aug 2015
// 12:36:00 GMT") and botocore (RFC 5322 with a numeric UTC zone, "... 12:36:00 -0000") use.
std::optional<clock::time_point> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr std::array<std::string_view, 4> utc_zones = {" GMT", " UTC", " +0000", " -0000"};
  if (s.size() < 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':' || std::find(utc_zones.begin(), utc_zones.end(), s.substr(25)) == utc_zones.end()) {
    return std::nullopt;
  }
  const auto month = std::find(months.begin(), months.end(), s.substr(8, 3));
  if (month == months.end() || !all_digits(s.substr(5, 2)) || !all_digits(s.substr(12, 4)) ||
      !all_digits(s.substr(17, 2)) || !all_digits(s.substr(20, 2)) || !all_digits(s.substr(23, 2))) {
    return std::nullopt;
  }
  return civil_time(number(s.substr(12, 4)), static_cast<int>(month - months.begin()) + 1, number(s.substr(5, 2)),
                    number(s.substr(17, 2)), number(s.substr(20, 2)), number(s.substr(23, 2)));
}

std::vector<std::string_view> header_values(const request& req, std::string_view lower_name) {
  std::vector<std::string_view> out;
  detail::for_each_header(req.headers, lower_name, [&](const std::string& v) { out.push_back(v); });
  return out;
}

bool is_signed(const authorization& auth, std::string_view name) {
  return std::binary_search(auth.signed_headers.begin(), auth.signed_headers.end(), name);
}

// The request time and the header it came from.
struct request_time {
  clock::time_point at;
  std::string amz_date;  // the form used in the string to sign
};

result<request_time> read_request_time(const request& req, const authorization& auth) {
  const auto amz = header_values(req, "x-amz-date");
  if (amz.size() > 1) return failure{error::invalid_date, "the request has more than one X-Amz-Date header"};
  if (amz.size() == 1) {
    const std::string_view value = detail::trim(amz.front());
    const auto at = parse_amz_date(value);
    if (!at) {
      return failure{error::invalid_date,
                     fmt::format("X-Amz-Date \"{}\" is not a valid YYYYMMDDTHHMMSSZ time", shown(value))};
    }
    if (!is_signed(auth, "x-amz-date")) return malformed("SignedHeaders does not include x-amz-date");
    return request_time{*at, std::string(value)};
  }
  const auto date = header_values(req, "date");
  if (date.empty()) return failure{error::missing_date, "the request has neither an X-Amz-Date nor a Date header"};
  if (date.size() > 1) return failure{error::invalid_date, "the request has more than one Date header"};
  const std::string_view value = detail::trim(date.front());
  const auto at = parse_http_date(value);
  if (!at) {
    return failure{error::invalid_date,
                   fmt::format("Date \"{}\" is not of the form \"Sun, 30 Aug 2015 12:36:00 GMT\" (UTC)", shown(value))};
  }
  if (!is_signed(auth, "date")) return malformed("SignedHeaders does not include date (or x-amz-date)");
  return request_time{*at, format_amz_date(*at)};
}

result<void> check_skew(const request_time& t, const verify_params& p) {
  const auto skew = chr::duration_cast<chr::seconds>(p.now - t.at);
  if (skew > p.max_skew || -skew > p.max_skew) {
    return failure{error::request_time_skewed,
                   fmt::format("request time {} is {} s {} the server time {}; at most {} s allowed", t.amz_date,
                               skew.count() < 0 ? -skew.count() : skew.count(), skew.count() < 0 ? "after" : "before",
                               format_amz_date(p.now), p.max_skew.count())};
  }
  return ok();
}

result<void> check_session_token(const request& req, std::string_view key_id, const credentials& creds) {
  const auto tokens = header_values(req, "x-amz-security-token");
  if (creds.session_token.empty()) {
    if (tokens.empty()) return ok();
    return failure{error::invalid_security_token,
                   fmt::format("the request carries X-Amz-Security-Token but access key {} is not temporary", key_id)};
  }
  if (tokens.empty()) {
    return failure{error::missing_security_token,
                   fmt::format("access key {} is temporary: X-Amz-Security-Token is required", key_id)};
  }
  if (tokens.size() > 1) {
    return failure{error::invalid_security_token, "the request has more than one X-Amz-Security-Token header"};
  }
  if (!constant_time_equal(detail::trim(tokens.front()), creds.session_token)) {
    return failure{error::invalid_security_token,
                   fmt::format("the security token does not belong to access key {}", key_id)};
  }
  return ok();
}

// for_message: a canonical request fit for an error message and a log: the session token redacted,
// control characters other than line breaks shown as '?', at most 4 KiB.
std::string for_message(std::string_view canonical) {
  constexpr std::size_t k_max = 4096;
  constexpr std::string_view k_token = "x-amz-security-token:";
  std::string out;
  bool first = true;
  for (std::string_view line : detail::split(canonical, '\n')) {
    if (!std::exchange(first, false)) out.push_back('\n');
    if (line.substr(0, k_token.size()) == k_token) line = "x-amz-security-token:<redacted>";
    for (char c : line) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (out.size() > k_max) {
    out.resize(k_max);
    out.append("...");
  }
  return out;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to, bool ignore_case) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::string_view here = s.substr(i, from.size());
    if (here.size() == from.size() && (ignore_case ? detail::iequals(here, from) : here == from)) {
      out.append(to);
      i += from.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// The wire paths whose signature is accepted: the path as received, and (double-encoding only) the
// same path with every "%40" decoded to '@' or every '@' encoded to "%40". API Gateway decodes the
// path once, so all three name the same resource; proxies and SDKs differ on which they send.
std::vector<std::string> path_candidates(std::string_view path, bool double_encode) {
  std::vector<std::string> out{std::string(path)};
  if (!double_encode) return out;
  for (std::string alt : {replace_all(path, "%40", "@", true), replace_all(path, "@", "%40", false)}) {
    if (std::find(out.begin(), out.end(), alt) == out.end()) out.push_back(std::move(alt));
  }
  return out;
}

// The three parameters of an Authorization header, each present exactly once.
struct parameters {
  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
};

// split_parameters: "Credential=a, SignedHeaders=b, Signature=c", in any order, ", " or ",".
result<parameters> split_parameters(std::string_view text) {
  std::optional<std::string_view> credential;
  std::optional<std::string_view> signed_headers;
  std::optional<std::string_view> signature;
  for (std::string_view param : detail::split(text, ',')) {
    param = detail::trim(param);
    if (param.empty()) return malformed("empty parameter (stray ',')");
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) return malformed(fmt::format("parameter \"{}\" has no '='", shown(param)));
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = param.substr(eq + 1);
    std::optional<std::string_view>* slot = nullptr;
    if (name == "Credential") {
      slot = &credential;
    } else if (name == "SignedHeaders") {
      slot = &signed_headers;
    } else if (name == "Signature") {
      slot = &signature;
    } else {
      return malformed(fmt::format("unknown parameter \"{}\"", shown(name)));
    }
    if (slot->has_value()) return malformed(fmt::format("{} appears more than once", name));
    if (value.empty() || value.find_first_of(" \t") != std::string_view::npos) {
      return malformed(fmt::format("{} is empty or contains spaces", name));
    }
    *slot = value;
  }
  if (!credential) return malformed("Credential is missing");
  if (!signed_headers) return malformed("SignedHeaders is missing");
  if (!signature) return malformed("Signature is missing");
  return parameters{*credential, *signed_headers, *signature};
}

// parse_credential: "<access key>/<YYYYMMDD>/<region>/<service>/aws4_request" into `auth`.
result<void> parse_credential(std::string_view credential, authorization& auth) {
  const std::vector<std::string_view> scope = detail::split(credential, '/');
  const bool well_formed =
      scope.size() == 5 && !scope[0].empty() && !scope[2].empty() && !scope[3].empty() && scope[4] == "aws4_request";
  if (!well_formed) {
    return malformed(fmt::format("Credential \"{}\" is not <access key>/<YYYYMMDD>/<region>/<service>/aws4_request",
                                 shown(credential)));
  }
  const auto printable = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  };
  if (!printable(scope[0]) || !printable(scope[2]) || !printable(scope[3])) {
    return malformed(fmt::format("Credential \"{}\" has control or non-ASCII characters", shown(credential)));
  }
  if (!is_scope_date(scope[1])) {
    return malformed(fmt::format("Credential date \"{}\" is not a valid YYYYMMDD date", shown(scope[1])));
  }
  auth.access_key_id = scope[0];
  auth.date = scope[1];
  auth.region = scope[2];
  auth.service = scope[3];
  return ok();
}

// parse_signed_headers: "host;x-amz-date" into `auth`: lower-case tokens, sorted, unique, with host.
result<void> parse_signed_headers(std::string_view list, authorization& auth) {
  for (std::string_view name : detail::split(list, ';')) {
    if (!detail::is_token(name) || detail::to_lower(name) != name) {
      return malformed(fmt::format("SignedHeaders \"{}\" has an empty or non-lower-case header name", shown(list)));
    }
    if (!auth.signed_headers.empty() && !(auth.signed_headers.back() < name)) {
      return malformed(fmt::format("SignedHeaders \"{}\" is not sorted and unique", shown(list)));
    }
    auth.signed_headers.emplace_back(name);
  }
  if (!is_signed(auth, "host")) return malformed("SignedHeaders does not include host");
  return ok();
}

}  // namespace

key_lookup static_keys(std::vector<credentials> keys) {
  return [keys = std::move(keys)](std::string_view id) -> std::optional<credentials> {
    for (const auto& k : keys) {
      if (k.access_key_id == id) return k;
    }
    return std::nullopt;
  };
}

result<authorization> parse_authorization(std::string_view value) {
  value = detail::trim(value);
  if (value.substr(0, k_algorithm.size()) != k_algorithm) {
    const std::string_view scheme = value.substr(0, value.find_first_of(" \t"));
    return malformed(fmt::format("unsupported scheme \"{}\"; expected {}", shown(scheme), k_algorithm));
  }
  const std::string_view rest = value.substr(k_algorithm.size());
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) {
    return malformed(fmt::format("expected a space and Credential=... after {}", k_algorithm));
  }
  auto params = split_parameters(rest);
  if (!params) return params.error();
  authorization auth;
  if (auto r = parse_credential(params->credential, auth); !r) return r.error();
  if (auto r = parse_signed_headers(params->signed_headers, auth); !r) return r.error();
  const std::string_view sig = params->signature;
  const bool hex = sig.size() == 64 && std::all_of(sig.begin(), sig.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  if (!hex) return malformed("Signature is not 64 lower-case hex digits");
  auth.signature = sig;
  return auth;
}

result<verified_identity> verify(const request& req, const key_lookup& keys, const verify_params& p) {
  const auto auth_headers = header_values(req, "authorization");
  if (auth_headers.empty()) {
    if (req.query.find("X-Amz-Signature=") != std::string::npos) {
      return failure{error::missing_authorization,
                     "no Authorization header; presigned URLs (X-Amz-Signature in the query) are not supported"};
    }
    return failure{error::missing_authorization, "no Authorization header"};
  }
  if (auth_headers.size() > 1) return malformed("the request has more than one Authorization header");
  auto auth = parse_authorization(auth_headers.front());
  if (!auth) return auth.error();

  if (auth->service != p.service) {
    return failure{error::scope_mismatch, fmt::format("credential scope names service \"{}\"; expected \"{}\"",
                                                      shown(auth->service), p.service)};
  }
  if (p.region && auth->region != *p.region) {
    return failure{error::scope_mismatch, fmt::format("credential scope names region \"{}\"; expected \"{}\"",
                                                      shown(auth->region), *p.region)};
  }
  auto when = read_request_time(req, *auth);
  if (!when) return when.error();
  if (when->amz_date.substr(0, 8) != auth->date) {
    return failure{error::scope_mismatch, fmt::format("credential scope date {} is not the day of the request time {}",
                                                      auth->date, when->amz_date)};
  }
  if (auto r = check_skew(*when, p); !r) return r.error();

  std::optional<credentials> creds = keys ? keys(auth->access_key_id) : std::nullopt;
  if (!creds || creds->secret_access_key.empty()) {
    return failure{error::unknown_access_key, fmt::format("unknown access key id \"{}\"", shown(auth->access_key_id))};
  }
  if (auto r = check_session_token(req, auth->access_key_id, *creds); !r) return r.error();

  std::string headers_block;
  std::string missing;
  if (!detail::canonical_headers(req.headers, auth->signed_headers, headers_block, missing)) {
    return failure{error::signature_mismatch, fmt::format("signed header \"{}\" is not in the request", missing)};
  }
  auto payload_hash = detail::sha256_hex(req.body);
  if (!payload_hash) return payload_hash.error();
  const std::string query = canonical_query_string(req.query);
  const std::string signed_list = detail::join_signed_headers(auth->signed_headers);
  const std::string scope = detail::credential_scope(auth->date, auth->region, auth->service);
  auto key = detail::derive_signing_key(creds->secret_access_key, auth->date, auth->region, auth->service);
  if (!key) return key.error();

  std::string first_canonical;
  bool matched = false;
  for (const auto& path : path_candidates(req.path, p.double_encode_path)) {
    std::string creq =
        detail::assemble_canonical_request(req.method, canonical_uri(path, p.double_encode_path, p.normalize_path),
                                           query, headers_block, signed_list, *payload_hash);
    auto creq_hash = detail::sha256_hex(creq);
    if (!creq_hash) {
      detail::wipe(*key);
      return creq_hash.error();
    }
    auto mac = detail::hmac_sha256(*key, detail::assemble_string_to_sign(when->amz_date, scope, *creq_hash));
    if (!mac) {
      detail::wipe(*key);
      return mac.error();
    }
    if (constant_time_equal(to_hex(*mac), auth->signature)) {
      matched = true;
      break;
    }
    if (first_canonical.empty()) first_canonical = std::move(creq);
  }
  detail::wipe(*key);
  if (!matched) {
    return failure{
        error::signature_mismatch,
        fmt::format("the signature does not match; the canonical request was:\n{}", for_message(first_canonical))};
  }

  verified_identity id;
  id.access_key_id = std::move(auth->access_key_id);
  id.region = std::move(auth->region);
  id.service = std::move(auth->service);
  id.signed_at = when->at;
  id.signed_headers = std::move(auth->signed_headers);
  id.temporary = !creds->session_token.empty();
  return id;
}

}  // namespace apigw::sigv4
