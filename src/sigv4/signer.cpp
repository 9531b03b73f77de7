// SigV4 signing: canonical request, string to sign, signing key and the Authorization header.
#include "apigw/sigv4/signer.hpp"

#include "apigw/sigv4/error.hpp"
#include "sigv4/canonical.hpp"
#include "sigv4/crypto.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace apigw::sigv4 {
namespace {

// A scope part (region, service) goes into "date/region/service/aws4_request" and the Authorization
// header, so it may not contain '/', ',', whitespace or control characters.
bool is_scope_part(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '/' || c == ',';
  });
}

bool has_line_break(std::string_view s) noexcept {
  return s.find_first_of("\r\n", 0) != std::string_view::npos || s.find('\0') != std::string_view::npos;
}

result<void> check_request(const request& req) {
  if (!detail::is_token(req.method)) {
    return failure{error::invalid_request, fmt::format("method \"{}\" is not an HTTP token", req.method)};
  }
  if (req.path.empty() || req.path.front() != '/') {
    return failure{error::invalid_request, fmt::format("path \"{}\" does not start with '/'", req.path)};
  }
  bool host = false;
  for (const auto& h : req.headers) {
    if (!detail::is_token(h.name)) {
      return failure{error::invalid_request, fmt::format("header name \"{}\" is not an HTTP token", h.name)};
    }
    if (detail::iequals(h.name, "host") && !detail::trim(h.value).empty()) host = true;
  }
  if (!host) return failure{error::invalid_request, "the request has no Host header"};
  return ok();
}

result<void> check_scope(std::string_view region, std::string_view service) {
  if (!is_scope_part(region)) {
    return failure{error::invalid_request,
                   fmt::format("signing region \"{}\" is empty or has '/', ',' or spaces", region)};
  }
  if (!is_scope_part(service)) {
    return failure{error::invalid_request,
                   fmt::format("signing service \"{}\" is empty or has '/', ',' or spaces", service)};
  }
  return ok();
}

result<void> check_credentials(const credentials& creds) {
  if (creds.access_key_id.empty()) return failure{error::invalid_credentials, "the credentials have no access key id"};
  if (!is_scope_part(creds.access_key_id)) {
    return failure{error::invalid_credentials, "the access key id contains '/', ',' or whitespace"};
  }
  if (creds.secret_access_key.empty()) {
    return failure{error::invalid_credentials,
                   fmt::format("the credentials for {} have no secret access key", creds.access_key_id)};
  }
  if (has_line_break(creds.session_token)) {
    return failure{error::invalid_credentials, "the session token contains a line break or NUL"};
  }
  return ok();
}

// The canonical request over `headers` (the request's own, or with the signer's replaced), and the
// SignedHeaders value that goes with it.
result<std::string> canonical_request_over(const request& req, std::span<const header> headers,
                                           const signing_params& params, std::string& signed_headers) {
  const std::vector<std::string> names = detail::default_signed_headers(headers);
  std::string block;
  std::string missing;
  detail::canonical_headers(headers, names, block, missing);  // names come from `headers`: none is missing
  auto payload_hash = detail::sha256_hex(req.body);
  if (!payload_hash) return payload_hash.error();
  signed_headers = detail::join_signed_headers(names);
  return detail::assemble_canonical_request(req.method,
                                            canonical_uri(req.path, params.double_encode_path, params.normalize_path),
                                            canonical_query_string(req.query), block, signed_headers, *payload_hash);
}

}  // namespace

std::string canonical_uri(std::string_view path, bool double_encode, bool normalize) {
  const std::string normalized = normalize ? detail::remove_dot_segments(path) : std::string(path.empty() ? "/" : path);
  return detail::uri_encode(normalized, /*keep_slash=*/true, /*keep_escapes=*/!double_encode);
}

std::string canonical_query_string(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string_view component : detail::split(query, '&')) {
    if (component.empty()) continue;
    const std::size_t eq = component.find('=');
    const std::string_view name = component.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : component.substr(eq + 1);
    pairs.emplace_back(detail::uri_encode(detail::percent_decode(name), false, false),
                       detail::uri_encode(detail::percent_decode(value), false, false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

result<std::string> canonical_request(const request& req, const signing_params& params) {
  if (auto r = check_request(req); !r) return r.error();
  std::string signed_headers;
  return canonical_request_over(req, req.headers, params, signed_headers);
}

result<std::string> string_to_sign(std::string_view canonical_request, clock::time_point time, std::string_view region,
                                   std::string_view service) {
  auto hash = detail::sha256_hex(canonical_request);
  if (!hash) return hash.error();
  const std::string amz_date = format_amz_date(time);
  return detail::assemble_string_to_sign(amz_date, detail::credential_scope(amz_date.substr(0, 8), region, service),
                                         *hash);
}

result<std::string> signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                                std::string_view service) {
  return detail::derive_signing_key(secret_access_key, date, region, service);
}

result<std::vector<header>> sign(const request& req, const credentials& creds, const signing_params& params) {
  if (auto r = check_credentials(creds); !r) return r.error();
  if (auto r = check_scope(params.region, params.service); !r) return r.error();
  if (auto r = check_request(req); !r) return r.error();

  const std::string amz_date = format_amz_date(params.time);
  const bool with_token = !creds.session_token.empty();

  // The request as it will be sent: the signer's own date and token replace any already there.
  std::vector<header> headers;
  headers.reserve(req.headers.size() + 2);
  for (const auto& h : req.headers) {
    if (detail::iequals(h.name, "authorization") || detail::iequals(h.name, "x-amz-date")) continue;
    if (with_token && detail::iequals(h.name, "x-amz-security-token")) continue;
    headers.push_back(h);
  }
  std::vector<header> added{{"X-Amz-Date", amz_date}};
  if (with_token) added.push_back({"X-Amz-Security-Token", creds.session_token});
  headers.insert(headers.end(), added.begin(), added.end());

  std::string signed_headers;
  auto creq = canonical_request_over(req, headers, params, signed_headers);
  if (!creq) return creq.error();
  auto sts = string_to_sign(*creq, params.time, params.region, params.service);
  if (!sts) return sts.error();
  const std::string date = amz_date.substr(0, 8);
  auto signature = detail::compute_signature(creds.secret_access_key, date, params.region, params.service, *sts);
  if (!signature) return signature.error();

  added.push_back(
      {"Authorization",
       fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", k_algorithm, creds.access_key_id,
                   detail::credential_scope(date, params.region, params.service), signed_headers, *signature)});
  return added;
}

}  // namespace apigw::sigv4
