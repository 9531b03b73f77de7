// src/mgmt/credentials_sources.hpp (internal): the sources of mgmt::credentials_provider that need
// a process or HTTP — credential_process (credentials_process.cpp); STS AssumeRole and
// AssumeRoleWithWebIdentity, the container endpoint, EC2 instance metadata and the environment
// (credentials_sources.cpp); IAM Identity Center (credentials_sso.cpp).
// credentials_provider.cpp chains them in botocore's order, caches the answer and refreshes it.
#pragma once

#include "apigw/core/json.hpp"
#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/net/http_message.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apigw::mgmt::detail {

// env_of: the variable's value when set and not empty.
std::optional<std::string> env_of(const sigv4::chain_options& c, const std::string& name);
// env_is_set: the variable is set, even to "" (botocore tests `in os.environ` for some).
bool env_is_set(const sigv4::chain_options& c, const std::string& name);
// fetch_failed: sigv4::error::credentials_fetch_failed with `message`.
failure fetch_failed(std::string message);
// cut: at most `n` characters of `s` for a message, control characters shown as spaces.
std::string cut(std::string_view s, std::size_t n = 200);

// form_encode: application/x-www-form-urlencoded as botocore's query serializer writes it (every
// byte but unreserved ones percent-encoded).
std::string form_encode(std::string_view s);

// http_call: one request on a private io_context, run on the calling thread, every step bounded
// by `timeout`; https:// trusts the system store plus `extra_ca_pem` (when not null).
struct http_settings {
  std::chrono::milliseconds timeout;
  const std::string* extra_ca_pem;
};
result<net::http_response> http_call(net::http_request req, const http_settings& s);
// make_request: a request for `method` and `url_text` with its Host header.
result<net::http_request> make_request(std::string_view method, std::string_view url_text);
// join_url: `base` + `path` with exactly one '/' between them (botocore's _construct_url).
std::string join_url(std::string_view base, std::string_view path);

// credentials_from_json: AccessKeyId, SecretAccessKey, `token_key` and Expiration (required when
// `expiry_required`) of a container, IMDS or credential_process document.
result<sigv4::resolved_credentials> credentials_from_json(const json::object& doc, std::string_view token_key,
                                                          bool expiry_required, sigv4::credential_kind kind,
                                                          std::string source);

// fetch_process: runs a profile's credential_process and reads its JSON Version 1 output.
result<sigv4::resolved_credentials> fetch_process(const std::string& command, const std::string& profile);

// web_identity_config: where a web identity token is and which role it is exchanged for.
struct web_identity_config {
  std::string token_file;
  std::string role_arn;
  std::optional<std::string> session_name;
};

// sso_config: an IAM Identity Center profile, its sso-session (if any) merged in.
struct sso_config {
  std::string start_url;
  std::string region;
  std::string account_id;
  std::string role_name;
  std::optional<std::string> session_name;  // set for sso_session profiles (the token cache key)
};

// credential_sources: the options and clock, and each source's fetch. Not thread-safe by itself:
// the provider runs one fetch at a time.
class credential_sources {
 public:
  explicit credential_sources(credentials_provider_options o);

  // STS at sts_endpoint(); signed by `signer` (AssumeRole) or unsigned (null: web identity).
  std::string sts_region();
  result<sigv4::resolved_credentials> sts_call(std::string_view action,
                                               const std::vector<std::pair<std::string, std::string>>& params,
                                               const sigv4::credentials* signer, sigv4::credential_kind kind,
                                               std::string source);

  // Web identity: the configuration from the environment (unless `disable_env`) or the profile.
  result<sigv4::resolved_credentials> fetch_web_identity(const web_identity_config& c);
  result<std::optional<web_identity_config>> web_identity(const std::optional<sigv4::profile_settings>& profile,
                                                          bool disable_env);

  // Container credentials: the URL from the environment (nullopt: not configured), and the fetch.
  result<std::optional<std::string>> container_url();
  result<sigv4::resolved_credentials> fetch_container(const std::string& url_text);

  // EC2 instance metadata (IMDSv2).
  bool imds_disabled() const;
  std::string imds_base() const;
  result<std::optional<std::string>> imds_token();
  result<std::string> imds_get(const std::string& path, const std::optional<std::string>& token);
  result<std::string> imds_get_document(const std::string& path);
  result<sigv4::resolved_credentials> fetch_imds();

  // SSO: the cached token (~/.aws/sso/cache, from `aws sso login`) exchanged through the portal's
  // GetRoleCredentials at AWS_ENDPOINT_URL_SSO or https://portal.sso.{region}.amazonaws.com. For an
  // sso_session profile a token within 15 minutes of its expiry is first refreshed through SSO
  // OIDC CreateToken and written back to the cache file (botocore's SSOTokenProvider).
  result<sigv4::resolved_credentials> fetch_sso(const sso_config& c);
  // refresh_sso_token: the new access token and its expiry, nullopt when the token cannot be
  // refreshed (the cached one is then used while it lasts).
  result<std::optional<std::pair<std::string, clock::time_point>>> refresh_sso_token(const sso_config& c,
                                                                                     const json::object& token,
                                                                                     const std::filesystem::path& file,
                                                                                     const std::string& source);

  // The environment (AWS_ACCESS_KEY_ID decides); `require_expiry` on refresh.
  result<std::optional<sigv4::resolved_credentials>> environment_credentials(bool require_expiry);

 protected:
  credentials_provider_options opts;
  const clock& clk;
};

}  // namespace apigw::mgmt::detail
