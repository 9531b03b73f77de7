// tests/support/fake_aws.hpp: a fake of the AWS credential endpoints on loopback, one
// net::http_server: EC2 instance metadata (IMDSv2) under /latest/, ECS container credentials under
// /ecs/, STS (AssumeRole, AssumeRoleWithWebIdentity) at POST /, the IAM Identity Center portal's
// GetRoleCredentials at /federation/credentials and SSO OIDC CreateToken at POST /token.
// Credentials it issues are "ASIA<SOURCE><suffix>" (SOURCE: "IMDS", "ECS", the role's name, in
// upper case, letters and digits only) with secret "secret-<id>" and token "token-<id>", so STS
// can verify a signature made with them and a gateway can be told to accept them. Expirations are
// `expiry()` (settable). Used by the credentials provider's tests (with botocore as the oracle) and
// by the integration test that sends through `apigw-ws gateway --auth sigv4` with each provider.
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/net/http_server.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace apigw::testing {

// The IMDSv2 session token the fake hands out and requires.
inline constexpr std::string_view k_fake_imds_token = "imds-session-token-1";
// Static keys STS accepts as the signer of AssumeRole (besides the ASIA keys it issued).
inline constexpr std::string_view k_fake_static_id = "AKIASOURCEKEY0000001";
inline constexpr std::string_view k_fake_static_secret = "source/secret+key";
// The SSO access token `aws sso login` would have cached; the portal accepts it and the tokens
// CreateToken issued.
inline constexpr std::string_view k_fake_sso_token = "sso-access-token";
// The client registration and refresh token CreateToken accepts (grant_type refresh_token).
inline constexpr std::string_view k_fake_oidc_client_id = "oidc-client-id-1";
inline constexpr std::string_view k_fake_oidc_client_secret = "oidc-client-secret-1";
inline constexpr std::string_view k_fake_oidc_refresh_token = "oidc-refresh-token-1";

// whole_seconds: `t` without its fraction (the precision of the AWS time strings).
clock::time_point whole_seconds(clock::time_point t);
// iso_seconds: "2026-12-06T05:00:00Z", the form STS, IMDS and ECS use.
std::string iso_seconds(clock::time_point t);
// sha1_hex: the name of an SSO token cache file (without ".json").
std::string sha1_hex(std::string_view s);
// parse_form: an application/x-www-form-urlencoded body (or query string) as a map.
std::map<std::string, std::string> parse_form(std::string_view body);

class fake_aws {
 public:
  struct seen {
    std::string method;
    std::string target;
    net::http_headers headers;
    std::string body;
  };

  explicit fake_aws(const clock& clk);
  ~fake_aws();
  fake_aws(const fake_aws&) = delete;
  fake_aws& operator=(const fake_aws&) = delete;

  std::string url() const;

  std::vector<seen> requests() const;
  // forget: the requests seen so far, and CreateToken's count (so two clients in turn get the same
  // tokens).
  void forget();
  std::size_t count(std::string_view target_prefix) const;

  void set_expiry(clock::time_point t);
  clock::time_point expiry() const;
  void set_suffix(std::string s);
  void set_failing(bool f) { failing_ = f; }
  void set_delay(std::chrono::milliseconds d) { delay_ = d; }
  void set_container_auth(std::string a);
  void set_web_token(std::string t);
  void set_sts_denied(bool d) { sts_denied_ = d; }
  // CreateToken: what it answers (expiresIn seconds; whether a new refresh token comes with it).
  void set_oidc_expires_in(int seconds) { oidc_expires_in_ = seconds; }
  void set_oidc_rotates_refresh_token(bool r) { oidc_rotates_ = r; }
  void set_oidc_failing(bool f) { oidc_failing_ = f; }

  // key_for: the id the fake gives out for `source` ("IMDS", "ECS", a role name).
  std::string key_for(std::string_view source) const;
  // The access token the n-th CreateToken (from 1) issued; the portal gives a token other than
  // k_fake_sso_token the role's key with "REFRESHED" appended to the role name.
  static std::string oidc_token(int n);

 private:
  boost::asio::awaitable<std::optional<net::http_response>> handle(net::incoming_request r);
  std::string key_locked(std::string_view source) const;
  std::string credentials_json(const std::string& id, std::string_view token_key) const;
  net::http_response answer(net::incoming_request req);
  net::http_response sts(const net::incoming_request& req);
  net::http_response create_token(const net::incoming_request& req);

  const clock& clk_;
  mutable std::mutex mu_;
  std::vector<seen> seen_;
  clock::time_point expiry_;
  std::string suffix_ = "1";
  std::string container_auth_;
  std::string web_token_ = "web-identity-token.abc";
  std::set<std::string> sso_tokens_{std::string(k_fake_sso_token)};
  int oidc_issued_ = 0;
  std::atomic<int> oidc_expires_in_{8 * 3600};
  std::atomic<bool> oidc_rotates_{true};
  std::atomic<bool> oidc_failing_{false};
  std::atomic<bool> failing_{false};
  std::atomic<bool> sts_denied_{false};
  std::atomic<std::chrono::milliseconds> delay_{std::chrono::milliseconds{0}};
  boost::asio::io_context io_;
  std::unique_ptr<net::http_server> server_;
  std::thread thread_;
};

}  // namespace apigw::testing
