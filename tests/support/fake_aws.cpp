// The loopback fake of IMDS, the ECS endpoint, STS, the SSO portal and SSO OIDC (fake_aws.hpp).
#include "support/fake_aws.hpp"

#include "apigw/core/json.hpp"
#include "apigw/core/text.hpp"
#include "apigw/sigv4/verifier.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

namespace apigw::testing {
namespace {

net::http_response text(unsigned status, std::string body, std::string type = "text/plain") {
  net::http_response r;
  r.status = status;
  r.headers.push_back({"Content-Type", std::move(type)});
  r.body = std::move(body);
  return r;
}

std::string sts_error(std::string_view code, std::string_view message) {
  return fmt::format(R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>)"
                     R"(<Code>{}</Code><Message>{}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>)",
                     code, message);
}

}  // namespace

clock::time_point whole_seconds(clock::time_point t) {
  return std::chrono::time_point_cast<std::chrono::seconds>(t);
}

std::string iso_seconds(clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string sha1_hex(std::string_view s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  ::SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string hex;
  for (unsigned char b : d) hex += fmt::format("{:02x}", b);
  return hex;
}

std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    auto pair = body.substr(pos, amp - pos);
    if (auto eq = pair.find('='); eq != std::string_view::npos) {
      out[percent_decode(pair.substr(0, eq)).value_or("?")] = percent_decode(pair.substr(eq + 1)).value_or("?");
    }
    pos = amp + 1;
  }
  return out;
}

fake_aws::fake_aws(const clock& clk) : clk_(clk), expiry_(whole_seconds(clk.now()) + std::chrono::hours{2}) {
  server_ = std::make_unique<net::http_server>(io_.get_executor(),
                                               [this](net::incoming_request r) { return handle(std::move(r)); });
  if (auto r = server_->start(); !r) throw std::runtime_error(r.error().message);
  thread_ = std::thread([this] { io_.run(); });
}

fake_aws::~fake_aws() {
  server_->stop();
  io_.stop();
  thread_.join();
}

std::string fake_aws::url() const {
  return fmt::format("http://127.0.0.1:{}", server_->port());
}

std::vector<fake_aws::seen> fake_aws::requests() const {
  std::lock_guard lock(mu_);
  return seen_;
}

void fake_aws::forget() {
  std::lock_guard lock(mu_);
  seen_.clear();
  oidc_issued_ = 0;  // the next CreateToken issues oidc_token(1) again
}

std::size_t fake_aws::count(std::string_view target_prefix) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(seen_.begin(), seen_.end(), [&](const seen& s) { return s.target.rfind(target_prefix, 0) == 0; }));
}

void fake_aws::set_expiry(clock::time_point t) {
  std::lock_guard lock(mu_);
  expiry_ = whole_seconds(t);
}

clock::time_point fake_aws::expiry() const {
  std::lock_guard lock(mu_);
  return expiry_;
}

void fake_aws::set_suffix(std::string s) {
  std::lock_guard lock(mu_);
  suffix_ = std::move(s);
}

void fake_aws::set_container_auth(std::string a) {
  std::lock_guard lock(mu_);
  container_auth_ = std::move(a);
}

void fake_aws::set_web_token(std::string t) {
  std::lock_guard lock(mu_);
  web_token_ = std::move(t);
}

std::string fake_aws::key_for(std::string_view source) const {
  std::lock_guard lock(mu_);
  return key_locked(source);
}

std::string fake_aws::oidc_token(int n) {
  return fmt::format("sso-access-token-refreshed-{}", n);
}

boost::asio::awaitable<std::optional<net::http_response>> fake_aws::handle(net::incoming_request r) {
  co_return answer(std::move(r));
}

std::string fake_aws::key_locked(std::string_view source) const {
  std::string id = "ASIA";
  for (char c : source) {
    if (std::isalnum(static_cast<unsigned char>(c))) id.push_back(static_cast<char>(std::toupper(c)));
  }
  return id + suffix_;
}

std::string fake_aws::credentials_json(const std::string& id, std::string_view token_key) const {
  return fmt::format(R"({{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{}","SecretAccessKey":"secret-{}",)"
                     R"("{}":"token-{}","Expiration":"{}"}})",
                     id, id, token_key, id, iso_seconds(expiry_));
}

net::http_response fake_aws::answer(net::incoming_request req) {
  if (delay_.load().count() > 0) std::this_thread::sleep_for(delay_.load());
  std::lock_guard lock(mu_);
  seen_.push_back({req.method, req.target, req.headers, req.body});
  const auto header = [&](std::string_view n) { return std::string(net::find_header(req.headers, n).value_or("")); };
  const std::string& t = req.target;
  if (t == "/latest/api/token") {
    if (req.method != "PUT" || header("x-aws-ec2-metadata-token-ttl-seconds").empty()) return text(400, "bad");
    return text(200, std::string(k_fake_imds_token));
  }
  if (t.rfind("/latest/", 0) == 0) {
    if (header("x-aws-ec2-metadata-token") != k_fake_imds_token) return text(401, "");
    if (t == "/latest/meta-data/iam/security-credentials/") return text(200, "demo-role");
    if (t == "/latest/meta-data/iam/security-credentials/demo-role") {
      if (failing_) return text(500, "unavailable");
      return text(200, credentials_json(key_locked("IMDS"), "Token"));
    }
    if (t == "/latest/dynamic/instance-identity/document") {
      return text(200, R"({"region":"eu-west-3","availabilityZone":"eu-west-3a","instanceId":"i-1"})");
    }
    if (t == "/latest/meta-data/placement/availability-zone/") return text(200, "eu-west-3a");
    return text(404, "");
  }
  if (t.rfind("/ecs/", 0) == 0) {
    if (!container_auth_.empty() && header("Authorization") != container_auth_) {
      return text(401, R"({"message":"bad token"})");
    }
    if (failing_) return text(500, "unavailable");
    return text(200, credentials_json(key_locked("ECS"), "Token"), "application/json");
  }
  if (t.rfind("/federation/credentials?", 0) == 0) {
    // SSO GetRoleCredentials: the bearer token `aws sso login` cached, or one CreateToken issued.
    const std::string bearer = header("x-amz-sso_bearer_token");
    if (!sso_tokens_.contains(bearer)) {
      return text(401, R"({"message":"Session token not found or invalid"})", "application/json");
    }
    auto q = parse_form(t.substr(t.find('?') + 1));
    const auto id = key_locked(bearer == k_fake_sso_token ? q["role_name"] : q["role_name"] + "REFRESHED");
    return text(200,
                fmt::format(R"({{"roleCredentials":{{"accessKeyId":"{}","secretAccessKey":"secret-{}",)"
                            R"("sessionToken":"token-{}","expiration":{}}}}})",
                            id, id, id, unix_millis(expiry_)),
                "application/json");
  }
  if (t == "/token" && req.method == "POST") return create_token(req);
  if (t == "/" && req.method == "POST") return sts(req);
  return text(404, "");
}

// create_token: SSO OIDC CreateToken with grant_type refresh_token, for the one registered client
// and refresh token; errors in the service's JSON form.
net::http_response fake_aws::create_token(const net::incoming_request& req) {
  const auto invalid = [](std::string_view error, std::string_view description) {
    auto r =
        text(400, fmt::format(R"({{"error":"{}","error_description":"{}"}})", error, description), "application/json");
    r.headers.push_back({"x-amzn-ErrorType", "InvalidGrantException"});
    return r;
  };
  if (oidc_failing_) return invalid("invalid_grant", "refresh refused");
  auto body = parse_json_object(req.body);
  if (!body) return invalid("invalid_request", "not JSON");
  if (get_string(*body, "grantType").value_or("") != "refresh_token" ||
      get_string(*body, "clientId").value_or("") != k_fake_oidc_client_id ||
      get_string(*body, "clientSecret").value_or("") != k_fake_oidc_client_secret ||
      get_string(*body, "refreshToken").value_or("") != k_fake_oidc_refresh_token) {
    return invalid("invalid_grant", "unknown client or refresh token");
  }
  const std::string token = oidc_token(++oidc_issued_);
  sso_tokens_.insert(token);
  std::string out =
      fmt::format(R"({{"accessToken":"{}","tokenType":"Bearer","expiresIn":{})", token, oidc_expires_in_.load());
  if (oidc_rotates_) out += fmt::format(R"(,"refreshToken":"{}")", k_fake_oidc_refresh_token);
  out += "}";
  return text(200, out, "application/json");
}

net::http_response fake_aws::sts(const net::incoming_request& req) {
  auto form = parse_form(req.body);
  const std::string action = form["Action"];
  if (sts_denied_) return text(403, sts_error("AccessDenied", "not allowed"), "text/xml");
  if (failing_) return text(403, sts_error("ExpiredToken", "try later"), "text/xml");
  if (action == "AssumeRole") {
    // The request must carry a valid SigV4 signature by known source credentials.
    sigv4::request r{.method = req.method, .path = "/", .query = {}, .headers = {}, .body = req.body};
    for (const auto& h : req.headers) r.headers.push_back({h.name, h.value});
    sigv4::verify_params p;
    p.service = "sts";
    p.now = clk_.now();
    auto keys = [](std::string_view id) -> std::optional<sigv4::credentials> {
      if (id == k_fake_static_id) return sigv4::credentials{std::string(id), std::string(k_fake_static_secret), {}};
      if (id.rfind("ASIA", 0) == 0) {
        return sigv4::credentials{std::string(id), fmt::format("secret-{}", id), fmt::format("token-{}", id)};
      }
      return std::nullopt;
    };
    if (auto v = sigv4::verify(r, keys, p); !v) {
      return text(403, sts_error("SignatureDoesNotMatch", v.error().message.substr(0, 60)), "text/xml");
    }
  } else if (action == "AssumeRoleWithWebIdentity") {
    if (form["WebIdentityToken"] != web_token_) return text(400, sts_error("InvalidIdentityToken", "bad"), "text/xml");
  } else {
    return text(400, sts_error("InvalidAction", action), "text/xml");
  }
  const std::string role = form["RoleArn"].substr(form["RoleArn"].rfind('/') + 1);
  const std::string id = key_locked(role);
  return text(
      200,
      fmt::format(R"(<{0}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{0}Result>)"
                  R"(<Credentials><AccessKeyId>{1}</AccessKeyId><SecretAccessKey>secret-{1}</SecretAccessKey>)"
                  R"(<SessionToken>token-{1}</SessionToken><Expiration>{2}</Expiration></Credentials>)"
                  R"(<AssumedRoleUser><AssumedRoleId>AROA1:{3}</AssumedRoleId>)"
                  R"(<Arn>arn:aws:sts::123456789012:assumed-role/{4}/{3}</Arn></AssumedRoleUser>)"
                  R"(</{0}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></{0}Response>)",
                  action, id, iso_seconds(expiry_), form["RoleSessionName"], role),
      "text/xml");
}

}  // namespace apigw::testing
