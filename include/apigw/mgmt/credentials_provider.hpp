// apigw/mgmt/credentials_provider.hpp: AWS credentials from every source the AWS SDKs know, in
// botocore's order, cached, and refreshed ahead of their expiry.
//
// The chain (botocore's create_credential_resolver, botocore 1.43):
//   1. explicit credentials (chain_options::explicit_credentials);
//   2. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN, and
//      AWS_CREDENTIAL_EXPIRATION, which makes them expire); skipped when a profile is named
//      explicitly (chain_options::profile), as with `aws --profile`;
//   3. assume role: the profile has `role_arn` (and no `web_identity_token_file`); the source
//      credentials come from `source_profile` (its static keys, its own role, web identity or
//      credential_process) or `credential_source` (Environment, EcsContainer, Ec2InstanceMetadata);
//      `external_id`, `role_session_name` and `duration_seconds` are passed to STS AssumeRole;
//   4. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME] (not
//      read when a profile is named explicitly), else the profile's web_identity_token_file,
//      role_arn, role_session_name; STS AssumeRoleWithWebIdentity (unsigned);
//   4b. SSO (IAM Identity Center): sso_account_id + sso_role_name with sso_start_url + sso_region
//      in the profile or its [sso-session NAME]; the token `aws sso login` cached in
//      ~/.aws/sso/cache is exchanged through GetRoleCredentials (AWS_ENDPOINT_URL_SSO, else
//      https://portal.sso.{sso_region}.amazonaws.com). For sso_session profiles a token within 15
//      minutes of its expiry is first refreshed through SSO OIDC CreateToken (AWS_ENDPOINT_URL_SSO_OIDC,
//      else https://oidc.{sso_region}.amazonaws.com) with the cached refresh token and written back to
//      the cache file, as botocore's SSOTokenProvider does; legacy profiles are not refreshed. A token
//      that has expired and cannot be refreshed is an error (run `aws sso login`);
//   5. the shared credentials file, 6. `credential_process` (JSON Version 1, optional
//      Expiration), 7. the config file;
//   8. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against 169.254.170.2) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback address or one of
//      169.254.170.2, 169.254.170.23, fd00:ec2::23, localhost), with the Authorization header from
//      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN;
//   9. EC2 instance metadata (IMDSv2: PUT a token, GET the role name, GET its credentials) at
//      AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254/), unless
//      AWS_EC2_METADATA_DISABLED=true. IMDSv1 (no token) only with `imds_v1_fallback`.
//
// STS is called at AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else https://sts.{region}.amazonaws.com
// (https://sts.amazonaws.com, signed for us-east-1, when no region is configured), signed with the
// project's SigV4 signer. HTTP goes through net::http_client_pool.
//
// Caching and refresh (botocore's RefreshableCredentials windows, refreshed in the background):
// credentials without an expiry are kept for the provider's life. With an expiry, get() returns
// them until `advisory_refresh` (15 min) before it. In that window get() still returns the current
// credentials at once and starts one refresh from the same source on the provider's worker thread
// (never two at a time); callers never wait for it. From `mandatory_refresh` (10 min) before the
// expiry every caller waits for that one refresh (a background refresh already running counts). A
// failed refresh is reported through `log` and the old credentials are returned while they have not
// expired; the next try waits `retry_after_failure` (30 s), so a failing source is not asked on
// every get(). After the expiry every get() tries again and returns the failure until the source
// answers. (botocore refreshes on the calling thread and fails a mandatory-window refresh at once;
// the background refresh and keeping still-valid credentials are this project's choice: a sender's
// I/O threads calling get() never block on STS or IMDS while the credentials are still good.)
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/error.hpp"
#include "apigw/mgmt/management_client.hpp"
#include "apigw/sigv4/credentials.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace apigw::mgmt {

// credentials_provider_options: the chain's inputs and the refresh policy.
struct credentials_provider_options {
  sigv4::chain_options chain;  // environment, home directory, explicit keys, profile
  const clock* clk = nullptr;  // expiry checks and STS signature times; the system clock when null
  // log: told why a refresh failed (and when old credentials are kept); nothing when unset.
  std::function<void(std::string_view)> log;
  std::chrono::seconds advisory_refresh{15 * 60};
  std::chrono::seconds mandatory_refresh{10 * 60};
  // retry_after_failure: while nothing was ever found, a failed resolution is returned again for
  // this long instead of probing every source (IMDS included) on each get().
  std::chrono::seconds retry_after_failure{30};
  bool imds_v1_fallback = false;                      // GET without a token when the token PUT is refused
  std::chrono::milliseconds metadata_timeout{1000};   // each IMDS request (botocore: 1 s)
  std::chrono::milliseconds container_timeout{2000};  // each container-credentials request (botocore: 2 s)
  std::chrono::milliseconds sts_timeout{10000};       // each STS request
  std::string extra_ca_pem;                           // PEM certificates trusted for https endpoints (tests)
};

// default_credentials_provider_options: the process environment and home directory.
credentials_provider_options default_credentials_provider_options();

// credentials_provider: see the file comment. Thread-safe; get() may be called from any thread
// (it blocks while it fetches, so call it outside an io_context's handlers or accept the wait).
class credentials_provider {
 public:
  using options = credentials_provider_options;

  explicit credentials_provider(options opts);
  ~credentials_provider();
  credentials_provider(const credentials_provider&) = delete;
  credentials_provider& operator=(const credentials_provider&) = delete;

  // get: current credentials, resolving the chain the first time (and again after a failure, once
  // `retry_after_failure` has passed).
  // Fails with sigv4::error::credentials_not_found listing every place looked,
  // credentials_fetch_failed naming the source and why (an STS error, a container answering 500, a
  // credential_process exiting 1), or the file errors of sigv4::load_shared_files().
  result<sigv4::resolved_credentials> get();

  // wait_for_refresh: returns once no background refresh is running (tests; the destructor waits
  // the same way, so a provider is destroyed only after its refresh has finished).
  void wait_for_refresh();

  // region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else (when IMDS is not disabled)
  // the region of the EC2 instance identity document.
  result<sigv4::resolved_region> region();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// provider_signing: a sender signing lookup (mgmt::signing_lookup, sender.hpp) that signs with
// `provider`'s current credentials (refreshed as they near their expiry). The region is `region`
// when set, else the endpoint's (execute-api host names), else the provider's. Without credentials
// a loopback endpoint (127.0.0.0/8, ::1, localhost: the local gateway with --auth none) is sent to
// unsigned; any other endpoint fails with signing_failed and the provider's list of places looked,
// never an unsigned request. get() blocks while it fetches: call provider->get() once before the
// first send, so the sender's I/O threads only read the cache (refreshes then happen early, in the
// advisory window).
std::function<result<signing_config>(std::string_view endpoint)> provider_signing(
    std::shared_ptr<credentials_provider> provider, std::string region = {});

// is_loopback_host: an endpoint host that is literally loopback: "localhost", an IPv4 address in
// 127.0.0.0/8 or ::1 (bracketed or not), written out in full. A name that merely resolves to
// loopback ("127.1", a hosts-file alias) is not: signing decisions never depend on DNS.
bool is_loopback_host(std::string_view host);

// sts_endpoint: where STS is called for `region`: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the
// regional endpoint (the global one when `region` is empty).
std::string sts_endpoint(const sigv4::chain_options& chain, std::string_view region);

// parse_aws_time: "2026-12-06T04:00:00Z", with optional fractional seconds and a "+HH:MM" /
// "-HH:MM" offset or "UTC" instead of "Z" (the forms STS, IMDS, ECS and credential_process programs
// use, and botocore's JSONFileCache writes).
std::optional<clock::time_point> parse_aws_time(std::string_view text);

}  // namespace apigw::mgmt
