// The IAM Identity Center (SSO) source of the credentials provider: the cached token of
// `aws sso login` exchanged through the portal's GetRoleCredentials, and a token of an sso_session
// profile refreshed through SSO OIDC CreateToken and written back as botocore writes it.
#include "mgmt/credentials_sources.hpp"

#include "apigw/core/json.hpp"
#include "apigw/sigv4/error.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/sha.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

namespace apigw::mgmt {
namespace {

using sigv4::credential_kind;
using sigv4::resolved_credentials;

}  // namespace

namespace detail {

namespace {

// python_json_string: `s` as Python's json.dumps writes a str (ensure_ascii: every character
// outside ASCII as \uXXXX, UTF-16 surrogate pairs above U+FFFF), so a token file this provider
// rewrites is byte for byte what botocore would have written.
std::string python_json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    switch (ch) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (ch < 0x20) {
      out += fmt::format("\\u{:04x}", ch);
      continue;
    }
    if (ch < 0x80) {
      out.push_back(static_cast<char>(ch));
      continue;
    }
    // UTF-8 sequence (the JSON reader already validated it).
    std::size_t len = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
    std::uint32_t cp = ch & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len - 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
      out += fmt::format("\\u{:04x}", cp);
    }
  }
  out += '"';
  return out;
}

// utc_seconds: "2026-12-06T05:00:00Z" (botocore's _serialize_utc_timestamp: whole seconds).
std::string utc_seconds(clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{secs - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

// The SSO token's refresh window (botocore's SSOTokenProvider._REFRESH_WINDOW).
constexpr std::chrono::seconds k_sso_token_refresh_window{15 * 60};

}  // namespace

// refresh_sso_token: botocore's SSOTokenProvider._refresh_access_token for a token of an
// sso_session profile within the refresh window: SSO OIDC CreateToken (grant_type
// refresh_token) at AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL, else
// https://oidc.{sso_region}.amazonaws.com, and the new token written back to `file` as botocore
// writes it (same keys, order and format, mode 0600 for a new file). nullopt when the token cannot
// be refreshed (a key missing, the registration expired, the service refusing): the caller keeps the
// cached token. A transport failure is an error, as botocore raises anything but a ClientError.
result<std::optional<std::pair<std::string, clock::time_point>>> credential_sources::refresh_sso_token(
    const sso_config& c, const json::object& token, const std::filesystem::path& file, const std::string& source) {
  using refreshed = std::optional<std::pair<std::string, clock::time_point>>;
  const auto note = [&](const std::string& why) {
    if (opts.log) opts.log(fmt::format("{}: the SSO token is not refreshed: {}", source, why));
  };
  std::vector<std::string> missing;
  for (const char* key : {"refreshToken", "clientId", "clientSecret", "registrationExpiresAt"}) {
    if (!token.contains(key)) missing.emplace_back(key);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    note(fmt::format("missing keys: {}", list));
    return refreshed{};
  }
  auto client_id = get_string(token, "clientId");
  auto client_secret = get_string(token, "clientSecret");
  auto refresh_token = get_string(token, "refreshToken");
  auto registration = get_string(token, "registrationExpiresAt");
  if (!client_id || !client_secret || !refresh_token || !registration) {
    note("clientId, clientSecret, refreshToken and registrationExpiresAt must be strings");
    return refreshed{};
  }
  const auto registration_expiry = parse_aws_time(*registration);
  if (!registration_expiry) {
    return fetch_failed(
        fmt::format("{}: registrationExpiresAt \"{}\" in {} is not a time", source, cut(*registration), file.string()));
  }
  if (*registration_expiry <= clk.now()) {
    note(fmt::format("the client registration expired at {}", *registration));
    return refreshed{};
  }
  const std::string endpoint =
      env_of(opts.chain, "AWS_ENDPOINT_URL_SSO_OIDC")
          .value_or(
              env_of(opts.chain, "AWS_ENDPOINT_URL").value_or(fmt::format("https://oidc.{}.amazonaws.com", c.region)));
  auto req = make_request("POST", join_url(endpoint, "token"));
  if (!req) return fetch_failed(fmt::format("{}: SSO OIDC endpoint {}: {}", source, endpoint, req.error().message));
  req->headers.push_back({"Content-Type", "application/json"});
  req->body = json::serialize(json::object{{"clientId", *client_id},
                                           {"clientSecret", *client_secret},
                                           {"grantType", "refresh_token"},
                                           {"refreshToken", *refresh_token}});
  const auto now = clk.now();
  auto resp = http_call(std::move(*req), {opts.sts_timeout, &opts.extra_ca_pem});
  if (!resp) {
    return fetch_failed(fmt::format("{}: SSO OIDC CreateToken at {}: {}", source, endpoint, resp.error().message));
  }
  if (resp->status != 200) {
    note(fmt::format("SSO OIDC CreateToken at {} answered HTTP {}: {}", endpoint, resp->status, cut(resp->body)));
    return refreshed{};
  }
  auto answer = parse_json_object(resp->body);
  std::optional<std::string_view> access;
  std::optional<std::int64_t> expires_in;
  if (answer) {
    access = get_string(*answer, "accessToken");
    expires_in = get_int(*answer, "expiresIn");
  }
  if (!access || !expires_in) {
    return fetch_failed(fmt::format("{}: SSO OIDC CreateToken answered without accessToken and expiresIn: {}", source,
                                    cut(resp->body)));
  }
  const auto expires_at = now + std::chrono::seconds{*expires_in};
  // botocore's new token dict, in its order; refreshToken only when the answer has one.
  std::vector<std::pair<std::string, std::string>> fields{{"startUrl", python_json_string(c.start_url)},
                                                          {"region", python_json_string(c.region)},
                                                          {"accessToken", python_json_string(*access)},
                                                          {"expiresAt", python_json_string(utc_seconds(expires_at))},
                                                          {"clientId", python_json_string(*client_id)},
                                                          {"clientSecret", python_json_string(*client_secret)},
                                                          {"registrationExpiresAt", python_json_string(*registration)}};
  if (auto rotated = get_string(*answer, "refreshToken"))
    fields.emplace_back("refreshToken", python_json_string(*rotated));
  std::string text = "{";
  for (const auto& [k, v] : fields)
    text += fmt::format("{}{}: {}", text.size() > 1 ? ", " : "", python_json_string(k), v);
  text += "}";
  // As botocore's JSONFileCache: open for writing (created 0600), truncate, write.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  bool written = fd >= 0 && ::ftruncate(fd, 0) == 0;
  for (std::size_t done = 0; written && done < text.size();) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0)
      written = false;
    else
      done += static_cast<std::size_t>(n);
  }
  if (fd >= 0) ::close(fd);
  if (!written) {
    // The new token is still good for this process; the next run refreshes again.
    if (opts.log)
      opts.log(fmt::format("{}: the refreshed SSO token could not be written to {}", source, file.string()));
  }
  if (opts.log) opts.log(fmt::format("{}: SSO token refreshed through {}", source, endpoint));
  return refreshed{std::pair{std::string(*access), expires_at}};
}

result<resolved_credentials> credential_sources::fetch_sso(const sso_config& c) {
  const std::string source =
      fmt::format("SSO {} account {} role {}", c.session_name ? "session " + *c.session_name : c.start_url,
                  c.account_id, c.role_name);
  // The token cache file is named by the SHA-1 of the session name (or, for legacy profiles, the
  // start URL), as botocore's SSOTokenLoader and the AWS CLI's `aws sso login` write it.
  const std::string key = c.session_name.value_or(c.start_url);
  unsigned char digest[SHA_DIGEST_LENGTH];
  ::SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  const auto file = opts.chain.home / ".aws" / "sso" / "cache" / (hex + ".json");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fetch_failed(fmt::format("{}: no cached token {} (run `aws sso login`)", source, file.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  in.close();
  auto doc = parse_json_object(ss.str());
  if (!doc) return fetch_failed(fmt::format("{}: {} is not a JSON object", source, file.string()));
  auto cached = get_string(*doc, "accessToken");
  auto expires = get_string(*doc, "expiresAt");
  if (!cached || !expires) {
    return fetch_failed(fmt::format("{}: {} has no accessToken and expiresAt", source, file.string()));
  }
  std::string token(*cached);
  auto expiry = parse_aws_time(*expires);
  if (!expiry)
    return fetch_failed(fmt::format("{}: expiresAt \"{}\" in {} is not a time", source, cut(*expires), file.string()));
  // sso_session profiles refresh the token within botocore's window (SSOTokenProvider); legacy
  // profiles never do (botocore reads their token as it is).
  if (c.session_name && *expiry - clk.now() < k_sso_token_refresh_window) {
    auto fresh = refresh_sso_token(c, *doc, file, source);
    if (!fresh) return fresh.error();
    if (*fresh) {
      token = std::move((*fresh)->first);
      expiry = (*fresh)->second;
    }
  }
  if (*expiry <= clk.now()) {
    return fetch_failed(fmt::format("{}: the SSO token in {} has expired{} (run `aws sso login`)", source,
                                    file.string(), c.session_name ? " and could not be refreshed" : ""));
  }
  const std::string endpoint =
      env_of(opts.chain, "AWS_ENDPOINT_URL_SSO")
          .value_or(env_of(opts.chain, "AWS_ENDPOINT_URL")
                        .value_or(fmt::format("https://portal.sso.{}.amazonaws.com", c.region)));
  auto req = make_request("GET", join_url(endpoint, fmt::format("federation/credentials?account_id={}&role_name={}",
                                                                form_encode(c.account_id), form_encode(c.role_name))));
  if (!req) return fetch_failed(fmt::format("{}: {}", source, req.error().message));
  req->headers.push_back({"x-amz-sso_bearer_token", token});
  auto resp = http_call(std::move(*req), {opts.sts_timeout, &opts.extra_ca_pem});
  if (!resp) return fetch_failed(fmt::format("{}: {}", source, resp.error().message));
  if (resp->status != 200) return fetch_failed(fmt::format("{}: HTTP {}: {}", source, resp->status, cut(resp->body)));
  auto answer = parse_json_object(resp->body);
  const json::object* rc = nullptr;
  if (answer) {
    if (auto it = answer->find("roleCredentials"); it != answer->end() && it->value().is_object()) {
      rc = &it->value().get_object();
    }
  }
  if (rc == nullptr) return fetch_failed(fmt::format("{}: the answer has no roleCredentials", source));
  auto id = get_string(*rc, "accessKeyId");
  auto secret = get_string(*rc, "secretAccessKey");
  auto session = get_string(*rc, "sessionToken");
  auto ms = get_int(*rc, "expiration");
  if (!id || !secret || !session || !ms) {
    return fetch_failed(fmt::format("{}: incomplete roleCredentials", source));
  }
  resolved_credentials r;
  r.creds = {std::string(*id), std::string(*secret), std::string(*session)};
  r.expiry = from_unix_millis(*ms);
  r.kind = credential_kind::sso;
  r.source = source;
  return r;
}

}  // namespace detail
}  // namespace apigw::mgmt
