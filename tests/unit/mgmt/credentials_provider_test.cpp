// Tests of mgmt::credentials_provider against a fake of AWS on loopback (IMDS, the ECS container
// endpoint, STS, the SSO portal and SSO OIDC: support/fake_aws.hpp), with botocore as the oracle:
// for each scenario botocore_credentials.py resolves against the same fake with the same
// environment, and both must agree on the provider (botocore's method name), the access key id,
// the expiry and the region. Every scenario sets the endpoint variables to the fake and
// AWS_EC2_METADATA_DISABLED=true unless IMDS is the subject, so neither side ever reaches
// 169.254.169.254, 169.254.170.2 or AWS. (Over 600 lines on purpose: the oracle runner and the
// scenarios share one fixture, and each scenario reads best next to the others of its source.)
#include "apigw/mgmt/credentials_provider.hpp"

#include "apigw/core/json.hpp"
#include "apigw/core/text.hpp"
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/mgmt/error.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/http_server.hpp"
#include "apigw/sigv4/error.hpp"
#include "apigw/sigv4/verifier.hpp"
#include "support/child_process.hpp"
#include "support/fake_aws.hpp"
#include "support/io_runner.hpp"
#include "support/temp_dir.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace apigw::mgmt {
namespace {

namespace fs = std::filesystem;
using sigv4::credential_kind;

using testing::fake_aws;
using testing::iso_seconds;
using testing::parse_form;
using testing::sha1_hex;
using testing::whole_seconds;
constexpr std::string_view k_imds_token = testing::k_fake_imds_token;
constexpr std::string_view k_static_id = testing::k_fake_static_id;
constexpr std::string_view k_static_secret = testing::k_fake_static_secret;

// outcome: what one side resolved, in the terms both sides share.
struct outcome {
  std::string error;  // empty on success
  std::string method;
  std::string access_key;
  std::optional<std::int64_t> expiry;  // seconds since the epoch
  std::optional<std::string> region;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
  return os << "{error=\"" << o.error << "\" method=" << o.method << " key=" << o.access_key
            << " expiry=" << (o.expiry ? std::to_string(*o.expiry) : "none") << " region=" << o.region.value_or("none")
            << "}";
}

class credentials_provider_test : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(home_ / ".aws");
    env_ = {
        {"HOME", home_.string()},
        {"AWS_CONFIG_FILE", (home_ / ".aws" / "config").string()},
        {"AWS_SHARED_CREDENTIALS_FILE", (home_ / ".aws" / "credentials").string()},
        {"AWS_EC2_METADATA_DISABLED", "true"},
        {"AWS_EC2_METADATA_V1_DISABLED", "true"},
        {"AWS_ENDPOINT_URL_STS", aws_.url()},
        {"AWS_DEFAULT_REGION", "eu-west-1"},
    };
  }

  void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  void write_config(const std::string& text) { write(home_ / ".aws" / "config", text); }
  void write_credentials(const std::string& text) { write(home_ / ".aws" / "credentials", text); }

  credentials_provider::options options(std::optional<std::string> profile = std::nullopt) {
    credentials_provider::options o;
    o.chain.env = [vars = env_](const std::string& k) -> std::optional<std::string> {
      if (auto it = vars.find(k); it != vars.end()) return it->second;
      return std::nullopt;
    };
    o.chain.home = home_;
    o.chain.profile = std::move(profile);
    o.clk = &clock_;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      log_.emplace_back(line);
    };
    return o;
  }

  outcome ours(std::optional<std::string> profile = std::nullopt) {
    credentials_provider p(options(profile));
    outcome o;
    auto c = p.get();
    if (!c) {
      o.error = c.error().message;
    } else {
      o.method = std::string(sigv4::credential_kind_name(c->kind));
      o.access_key = c->creds.access_key_id;
      if (c->expiry) o.expiry = std::chrono::duration_cast<std::chrono::seconds>(c->expiry->time_since_epoch()).count();
    }
    if (auto r = p.region()) o.region = r->region;
    return o;
  }

  // theirs: botocore's outcome, or nullopt (and a skip reason) when botocore is not there.
  std::optional<outcome> theirs(std::optional<std::string> profile = std::nullopt) {
    const fs::path script = fs::path(APIGW_PROJECT_DIR) / "tests" / "unit" / "mgmt" / "botocore_credentials.py";
    std::vector<std::string> argv{APIGW_BOTOCORE_PYTHON, script.string()};
    if (profile) argv.push_back(*profile);
    const auto run = testing::run_process(argv, env_, home_);
    if (run.exit_code == 77) {
      skip_ = fmt::format("{} cannot import botocore", APIGW_BOTOCORE_PYTHON);
      return std::nullopt;
    }
    if (run.exit_code == 78) {
      ADD_FAILURE() << "botocore is too old to be the oracle (it would ignore AWS_ENDPOINT_URL_STS): " << run.out;
      return std::nullopt;
    }
    if (run.exit_code != 0) {
      ADD_FAILURE() << "botocore_credentials.py exited with " << run.exit_code << ": " << run.err;
      return std::nullopt;
    }
    auto doc = parse_json_object(run.out);
    if (!doc) {
      ADD_FAILURE() << "botocore_credentials.py printed no JSON object: " << run.out << run.err;
      return std::nullopt;
    }
    outcome o;
    if (auto e = get_string(*doc, "error")) o.error = std::string(*e);
    if (auto m = get_string(*doc, "method")) o.method = std::string(*m);
    if (auto k = get_string(*doc, "access_key")) o.access_key = std::string(*k);
    if (auto x = get_int(*doc, "expiry")) o.expiry = *x;
    if (auto r = get_string(*doc, "region")) o.region = std::string(*r);
    return o;
  }

  // agree: ours and botocore's outcomes match (both failing counts as agreeing); returns ours.
  outcome agree(std::optional<std::string> profile = std::nullopt) {
    const outcome mine = ours(profile);
    aws_.forget();
    auto other = theirs(profile);
    if (!other) return mine;
    SCOPED_TRACE(::testing::Message() << "ours " << mine << "\nbotocore " << *other);
    EXPECT_EQ(mine.error.empty(), other->error.empty());
    EXPECT_EQ(mine.method, other->method);
    EXPECT_EQ(mine.access_key, other->access_key);
    EXPECT_EQ(mine.expiry, other->expiry);
    EXPECT_EQ(mine.region, other->region);
    return mine;
  }

  void skip_if_no_botocore() {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  std::int64_t seconds(clock::time_point t) const {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }

  manual_clock clock_{whole_seconds(std::chrono::system_clock::now())};
  fake_aws aws_{clock_};
  apigw::testing::temp_dir tmp_{"apigw_creds_"};
  const fs::path home_ = tmp_.path();
  std::map<std::string, std::string> env_;
  std::string skip_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

// ---- Static sources and their order ----

TEST_F(credentials_provider_test, environment_with_session_token) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV0000000000001";
  env_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  env_["AWS_SESSION_TOKEN"] = "env-token";
  write_credentials("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  auto o = agree();
  EXPECT_EQ(o.method, "env");
  EXPECT_EQ(o.access_key, "AKIAENV0000000000001");
  EXPECT_EQ(o.region, "eu-west-1");
  skip_if_no_botocore();
}

TEST_F(credentials_provider_test, a_named_profile_skips_the_environment) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV0000000000001";
  env_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  write_credentials("[dev]\naws_access_key_id = AKIADEVFILE\naws_secret_access_key = s\n");
  write_config("[profile dev]\nregion = ap-south-1\n");
  env_.erase("AWS_DEFAULT_REGION");
  auto o = agree("dev");
  EXPECT_EQ(o.method, "shared-credentials-file");
  EXPECT_EQ(o.access_key, "AKIADEVFILE");
  EXPECT_EQ(o.region, "ap-south-1");
  skip_if_no_botocore();
}

TEST_F(credentials_provider_test, config_file_keys) {
  write_config("[profile cfg]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = s\n");
  env_["AWS_PROFILE"] = "cfg";
  auto o = agree();
  EXPECT_EQ(o.method, "config-file");
  EXPECT_EQ(o.access_key, "AKIACONFIG");
  skip_if_no_botocore();
}

// ---- credential_process ----

TEST_F(credentials_provider_test, credential_process_with_expiration) {
  const auto dir = home_ / "dir with space";
  write(dir / "creds.json", fmt::format(R"({{"Version": 1, "AccessKeyId": "ASIAPROCESS1", "SecretAccessKey": "p",)"
                                        R"( "SessionToken": "t", "Expiration": "{}"}})",
                                        iso_seconds(aws_.expiry())));
  write_config(fmt::format("[default]\ncredential_process = /bin/cat \"{}\"\n", (dir / "creds.json").string()));
  auto o = agree();
  EXPECT_EQ(o.method, "custom-process");
  EXPECT_EQ(o.access_key, "ASIAPROCESS1");
  EXPECT_EQ(o.expiry, seconds(aws_.expiry()));
  skip_if_no_botocore();
}

TEST_F(credentials_provider_test, credential_process_without_expiration_and_failing) {
  write(home_ / "creds.json", R"({"Version": 1, "AccessKeyId": "AKIAPROCESS2", "SecretAccessKey": "p"})");
  write_config(
      fmt::format("[default]\ncredential_process = /bin/cat {}\n"
                  "[profile broken]\ncredential_process = /bin/sh -c 'echo nope >&2; exit 3'\n"
                  "[profile v2]\ncredential_process = /bin/sh -c 'echo \"{{\\\"Version\\\": 2}}\"'\n",
                  (home_ / "creds.json").string()));
  auto o = agree();
  EXPECT_EQ(o.access_key, "AKIAPROCESS2");
  EXPECT_FALSE(o.expiry);
  o = agree("broken");
  EXPECT_NE(o.error.find("exited with status 3: nope"), std::string::npos) << o.error;
  o = agree("v2");
  EXPECT_NE(o.error.find("Version"), std::string::npos) << o.error;
  skip_if_no_botocore();
}

// ---- Assume role ----

TEST_F(credentials_provider_test, assume_role_with_a_source_profile_signs_with_its_keys) {
  write_credentials(
      fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n", k_static_id, k_static_secret));
  write_config(
      "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app-role\nsource_profile = base\n"
      "external_id = ext-42\nrole_session_name = backend-1\n");
  env_["AWS_PROFILE"] = "app";
  const outcome mine = ours();
  EXPECT_EQ(mine.method, "assume-role") << mine;
  EXPECT_EQ(mine.access_key, "ASIAAPPROLE1");
  EXPECT_EQ(mine.expiry, seconds(aws_.expiry()));
  auto seen = aws_.requests();
  ASSERT_EQ(seen.size(), 1U);
  auto form = parse_form(seen[0].body);
  EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123456789012:role/app-role");
  EXPECT_EQ(form["ExternalId"], "ext-42");
  EXPECT_EQ(form["RoleSessionName"], "backend-1");
  EXPECT_NE(std::string(net::find_header(seen[0].headers, "Authorization").value_or("")).find(k_static_id),
            std::string::npos);
  agree();
  skip_if_no_botocore();
}

TEST_F(credentials_provider_test, chained_roles_and_credential_sources) {
  write_credentials(
      fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n", k_static_id, k_static_secret));
  write_config(
      "[profile inner]\nrole_arn = arn:aws:iam::1:role/inner\nsource_profile = base\n"
      "[profile outer]\nrole_arn = arn:aws:iam::1:role/outer\nsource_profile = inner\n"
      "[profile from-env]\nrole_arn = arn:aws:iam::1:role/envrole\ncredential_source = Environment\n"
      "[profile from-ecs]\nrole_arn = arn:aws:iam::1:role/ecsrole\ncredential_source = EcsContainer\n"
      "[profile from-imds]\nrole_arn = arn:aws:iam::1:role/imdsrole\ncredential_source = Ec2InstanceMetadata\n"
      "[profile both]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\nsource_profile = base\n"
      "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop-b\n"
      "[profile loop-b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop-a\n");
  const outcome mine = ours("outer");
  EXPECT_EQ(mine.access_key, "ASIAOUTER1") << mine;
  EXPECT_EQ(aws_.requests().size(), 2U);  // inner, then outer
  auto o = agree("outer");

  env_["AWS_ACCESS_KEY_ID"] = std::string(k_static_id);
  env_["AWS_SECRET_ACCESS_KEY"] = std::string(k_static_secret);
  o = agree("from-env");
  EXPECT_EQ(o.access_key, "ASIAENVROLE1");
  env_.erase("AWS_ACCESS_KEY_ID");
  env_.erase("AWS_SECRET_ACCESS_KEY");

  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/creds";
  o = agree("from-ecs");
  EXPECT_EQ(o.access_key, "ASIAECSROLE1");
  env_.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");

  env_["AWS_EC2_METADATA_DISABLED"] = "false";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = aws_.url() + "/";
  o = agree("from-imds");
  EXPECT_EQ(o.access_key, "ASIAIMDSROLE1");
  env_["AWS_EC2_METADATA_DISABLED"] = "true";

  o = agree("both");
  EXPECT_NE(o.error.find("both source_profile and credential_source"), std::string::npos) << o.error;
  o = agree("loop-a");
  EXPECT_NE(o.error.find("loop"), std::string::npos) << o.error;
  skip_if_no_botocore();
}

TEST_F(credentials_provider_test, sts_errors_are_reported) {
  write_credentials(
      fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n", k_static_id, k_static_secret));
  write_config("[default]\nrole_arn = arn:aws:iam::1:role/denied\nsource_profile = base\n");
  aws_.set_sts_denied(true);
  auto o = agree();
  EXPECT_NE(o.error.find("AccessDenied: not allowed"), std::string::npos) << o.error;
  skip_if_no_botocore();
}

// ---- Web identity ----

TEST_F(credentials_provider_test, web_identity_from_the_environment_and_from_a_profile) {
  write(home_ / "token", "web-identity-token.abc");
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = (home_ / "token").string();
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/irsa";
  env_["AWS_ROLE_SESSION_NAME"] = "pod-1";
  auto o = agree();
  EXPECT_EQ(o.method, "assume-role-with-web-identity");
  EXPECT_EQ(o.access_key, "ASIAIRSA1");
  EXPECT_EQ(o.expiry, seconds(aws_.expiry()));

  env_.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  env_.erase("AWS_ROLE_ARN");
  env_.erase("AWS_ROLE_SESSION_NAME");
  write_config(fmt::format("[profile wi]\nweb_identity_token_file = {}\nrole_arn = arn:aws:iam::1:role/fromprofile\n",
                           (home_ / "token").string()));
  o = agree("wi");
  EXPECT_EQ(o.access_key, "ASIAFROMPROFILE1");

  aws_.set_web_token("another-token");  // STS refuses the file's token
  o = agree("wi");
  EXPECT_NE(o.error.find("InvalidIdentityToken"), std::string::npos) << o.error;
  skip_if_no_botocore();
}

// ---- Container credentials ----

TEST_F(credentials_provider_test, container_credentials_with_a_token_and_a_token_file) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/v2/credentials";
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer env-token";
  aws_.set_container_auth("Bearer env-token");
  auto o = agree();
  EXPECT_EQ(o.method, "container-role");
  EXPECT_EQ(o.access_key, "ASIAECS1");
  EXPECT_EQ(o.expiry, seconds(aws_.expiry()));

  write(home_ / "ecs-token", "file-token");
  env_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home_ / "ecs-token").string();  // wins over the variable
  aws_.set_container_auth("file-token");
  o = agree();
  EXPECT_EQ(o.access_key, "ASIAECS1");

  aws_.set_container_auth("something else");
  o = agree();
  EXPECT_FALSE(o.error.empty());
  skip_if_no_botocore();
}

TEST_F(credentials_provider_test, container_full_uri_must_be_https_or_local) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.10/creds";  // TEST-NET-1: never contacted
  auto o = agree();
  EXPECT_NE(o.error.find("unsupported host '192.0.2.10'"), std::string::npos) << o.error;
  EXPECT_TRUE(aws_.requests().empty());
  skip_if_no_botocore();
}

// ---- EC2 instance metadata ----

TEST_F(credentials_provider_test, instance_metadata_v2_credentials_and_region) {
  env_["AWS_EC2_METADATA_DISABLED"] = "false";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = aws_.url();
  env_.erase("AWS_DEFAULT_REGION");
  const outcome mine = ours();
  EXPECT_EQ(mine.method, "iam-role") << mine;
  EXPECT_EQ(mine.access_key, "ASIAIMDS1");
  EXPECT_EQ(mine.expiry, seconds(aws_.expiry()));
  EXPECT_EQ(mine.region, "eu-west-3");
  for (const auto& r : aws_.requests()) {
    if (r.method == "GET") {
      EXPECT_EQ(net::find_header(r.headers, "x-aws-ec2-metadata-token").value_or(""), k_imds_token) << r.target;
    }
  }
  agree();
  skip_if_no_botocore();
}

// ---- SSO (IAM Identity Center) ----

TEST_F(credentials_provider_test, sso_with_an_sso_session_a_legacy_profile_and_an_expired_token) {
  env_["AWS_ENDPOINT_URL_SSO"] = aws_.url();
  write_config(
      "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
      "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
      "sso_registration_scopes = sso:account:access\n"
      "[profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = eu-west-1\n"
      "sso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
      "[profile partial]\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n");
  // The cache files `aws sso login` writes: named by the SHA-1 of the session name / start URL.
  const auto token = [&](const std::string& start_url, clock::time_point expires) {
    return fmt::format(R"({{"startUrl":"{}","region":"eu-west-1","accessToken":"sso-access-token",)"
                       R"("expiresAt":"{}"}})",
                       start_url, iso_seconds(expires));
  };
  const auto cache = home_ / ".aws" / "sso" / "cache";
  write(cache / "a3b4a7a1b7c2aa0a2e2a8f0e8d2b0b1b5f5cbd5b.json", "{}");  // unrelated file
  write(cache / (sha1_hex("corp") + ".json"),
        token("https://corp.awsapps.com/start", aws_.expiry() + std::chrono::hours{6}));
  write(cache / (sha1_hex("https://old.awsapps.com/start") + ".json"),
        token("https://old.awsapps.com/start", aws_.expiry() + std::chrono::hours{6}));
  auto o = agree("dev");
  EXPECT_EQ(o.method, "sso");
  EXPECT_EQ(o.access_key, "ASIADEVELOPER1");
  EXPECT_EQ(o.expiry, seconds(aws_.expiry()));
  o = agree("legacy");
  EXPECT_EQ(o.access_key, "ASIAREADONLY1");
  o = agree("partial");
  EXPECT_NE(o.error.find("missing required configuration: sso_start_url, sso_region"), std::string::npos) << o.error;

  write(cache / (sha1_hex("https://old.awsapps.com/start") + ".json"),
        token("https://old.awsapps.com/start", clock_.now() - std::chrono::minutes{1}));
  o = agree("legacy");
  EXPECT_NE(o.error.find("expired"), std::string::npos) << o.error;
  skip_if_no_botocore();
}

// ---- SSO token refresh (botocore's SSOTokenProvider) ----

// sso_refresh: an sso_session profile ("dev", session "corp") and a legacy one ("legacy"), the portal
// and OIDC at the fake; each scenario starts both sides from the same cache file and compares what
// they resolved and what they left in the file.
class sso_refresh : public credentials_provider_test {
 protected:
  void SetUp() override {
    credentials_provider_test::SetUp();
    env_["AWS_ENDPOINT_URL_SSO"] = aws_.url();
    env_["AWS_ENDPOINT_URL_SSO_OIDC"] = aws_.url();
    write_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        "sso_registration_scopes = sso:account:access\n"
        "[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
        "sso_account_id = 123456789012\nsso_role_name = ReadOnly\n");
  }

  fs::path cache_file(const std::string& key) const {
    return home_ / ".aws" / "sso" / "cache" / (sha1_hex(key) + ".json");
  }

  // token_json: the file `aws sso login` writes for session "corp", expiring at `expires`; with
  // `refreshable` it has the client registration and refresh token CreateToken accepts.
  std::string token_json(clock::time_point expires, bool refreshable,
                         clock::time_point registration = clock::time_point{}) const {
    std::string out = fmt::format(R"({{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", )"
                                  R"("accessToken": "{}", "expiresAt": "{}")",
                                  testing::k_fake_sso_token, iso_seconds(expires));
    if (refreshable) {
      if (registration == clock::time_point{}) registration = clock_.now() + std::chrono::hours{24 * 90};
      out += fmt::format(R"(, "clientId": "{}", "clientSecret": "{}", "registrationExpiresAt": "{}", )"
                         R"("refreshToken": "{}")",
                         testing::k_fake_oidc_client_id, testing::k_fake_oidc_client_secret, iso_seconds(registration),
                         testing::k_fake_oidc_refresh_token);
    }
    return out + "}";
  }

  struct both {
    outcome mine;
    std::string mine_file;
    std::size_t mine_create_token = 0;
    std::optional<outcome> other;
    std::string other_file;
    std::size_t other_create_token = 0;
  };

  // run_both: ours, then botocore, each from `file` holding `initial`; both must agree on the
  // outcome, on calling CreateToken, and on the file they leave (its expiresAt within a few
  // seconds: botocore reads the real clock, ours the manual one set to it).
  both run_both(const std::string& profile, const fs::path& file, const std::string& initial) {
    both b;
    aws_.forget();
    write(file, initial);
    b.mine = ours(profile);
    b.mine_file = testing::read_file(file);
    b.mine_create_token = aws_.count("/token");
    aws_.forget();
    write(file, initial);
    b.other = theirs(profile);
    b.other_file = testing::read_file(file);
    b.other_create_token = aws_.count("/token");
    if (!b.other) return b;
    SCOPED_TRACE(::testing::Message() << "ours " << b.mine << "\nbotocore " << *b.other);
    EXPECT_EQ(b.mine.error.empty(), b.other->error.empty());
    EXPECT_EQ(b.mine.method, b.other->method);
    EXPECT_EQ(b.mine.access_key, b.other->access_key);
    EXPECT_EQ(b.mine.expiry, b.other->expiry);
    EXPECT_EQ(b.mine_create_token, b.other_create_token);
    const std::regex expires_at(R"re("expiresAt": "([^"]+)")re");
    std::smatch m1;
    std::smatch m2;
    if (std::regex_search(b.mine_file, m1, expires_at) && std::regex_search(b.other_file, m2, expires_at)) {
      const auto t1 = parse_aws_time(m1[1].str());
      const auto t2 = parse_aws_time(m2[1].str());
      EXPECT_TRUE(t1 && t2) << m1[1] << " " << m2[1];
      if (t1 && t2) {
        EXPECT_LE(std::chrono::abs(*t1 - *t2), std::chrono::seconds{5}) << m1[1] << " " << m2[1];
      }
    }
    EXPECT_EQ(std::regex_replace(b.mine_file, expires_at, R"("expiresAt": "T")"),
              std::regex_replace(b.other_file, expires_at, R"("expiresAt": "T")"));
    return b;
  }
};

TEST_F(sso_refresh, a_fresh_token_is_used_as_it_is) {
  const auto initial = token_json(clock_.now() + std::chrono::hours{1}, true);
  auto b = run_both("dev", cache_file("corp"), initial);
  EXPECT_EQ(b.mine.method, "sso") << b.mine;
  EXPECT_EQ(b.mine.access_key, "ASIADEVELOPER1");
  EXPECT_EQ(b.mine_create_token, 0U);
  EXPECT_EQ(b.mine_file, initial);
  skip_if_no_botocore();
}

TEST_F(sso_refresh, a_token_in_the_refresh_window_is_refreshed_and_written_back) {
  const auto initial = token_json(clock_.now() + std::chrono::minutes{14}, true);
  auto b = run_both("dev", cache_file("corp"), initial);
  EXPECT_EQ(b.mine.access_key, "ASIADEVELOPERREFRESHED1") << b.mine;  // the portal saw the new token
  EXPECT_EQ(b.mine.expiry, seconds(aws_.expiry()));
  EXPECT_EQ(b.mine_create_token, 1U);
  const auto create = aws_.requests();
  // botocore's file: its keys in its order, the new token, the registration kept.
  EXPECT_EQ(b.mine_file,
            fmt::format(R"({{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", )"
                        R"("accessToken": "{}", "expiresAt": "{}", "clientId": "{}", "clientSecret": "{}", )"
                        R"("registrationExpiresAt": "{}", "refreshToken": "{}"}})",
                        fake_aws::oidc_token(1), iso_seconds(clock_.now() + std::chrono::hours{8}),
                        testing::k_fake_oidc_client_id, testing::k_fake_oidc_client_secret,
                        iso_seconds(clock_.now() + std::chrono::hours{24 * 90}), testing::k_fake_oidc_refresh_token));
  // botocore's request (ours passed the same checks of the fake): CreateToken with grant_type
  // refresh_token, unsigned.
  for (const auto& r : create) {
    if (r.target != "/token") continue;
    auto body = parse_json_object(r.body);
    ASSERT_TRUE(body) << r.body;
    EXPECT_EQ(get_string(*body, "grantType").value_or(""), "refresh_token");
    EXPECT_EQ(get_string(*body, "refreshToken").value_or(""), testing::k_fake_oidc_refresh_token);
    EXPECT_FALSE(net::find_header(r.headers, "Authorization"));
  }
  // Just outside the window: no refresh.
  run_both("dev", cache_file("corp"), token_json(clock_.now() + std::chrono::minutes{16}, true));
  skip_if_no_botocore();
}

TEST_F(sso_refresh, an_expired_token_with_a_refresh_token_is_refreshed) {
  auto b = run_both("dev", cache_file("corp"), token_json(clock_.now() - std::chrono::minutes{1}, true));
  EXPECT_TRUE(b.mine.error.empty()) << b.mine;
  EXPECT_EQ(b.mine.access_key, "ASIADEVELOPERREFRESHED1");
  EXPECT_NE(b.mine_file.find(fake_aws::oidc_token(1)), std::string::npos) << b.mine_file;

  // CreateToken without a new refresh token: botocore's file has none either.
  aws_.set_oidc_rotates_refresh_token(false);
  b = run_both("dev", cache_file("corp"), token_json(clock_.now() - std::chrono::minutes{1}, true));
  EXPECT_EQ(b.mine_file.find("refreshToken"), std::string::npos) << b.mine_file;
  skip_if_no_botocore();
}

TEST_F(sso_refresh, an_expired_token_that_cannot_be_refreshed_fails) {
  const auto expired = clock_.now() - std::chrono::minutes{1};
  // No refresh token.
  auto initial = token_json(expired, false);
  auto b = run_both("dev", cache_file("corp"), initial);
  EXPECT_NE(b.mine.error.find("expired and could not be refreshed"), std::string::npos) << b.mine;
  EXPECT_EQ(b.mine_create_token, 0U);
  EXPECT_EQ(b.mine_file, initial);
  // The client registration expired.
  initial = token_json(expired, true, clock_.now() - std::chrono::hours{1});
  b = run_both("dev", cache_file("corp"), initial);
  EXPECT_FALSE(b.mine.error.empty());
  EXPECT_EQ(b.mine_create_token, 0U);
  EXPECT_EQ(b.mine_file, initial);
  // The service refuses the refresh token.
  aws_.set_oidc_failing(true);
  initial = token_json(expired, true);
  b = run_both("dev", cache_file("corp"), initial);
  EXPECT_FALSE(b.mine.error.empty());
  EXPECT_EQ(b.mine_create_token, 1U);
  EXPECT_EQ(b.mine_file, initial);
  // Refused while the cached token still lasts: the cached token is used.
  initial = token_json(clock_.now() + std::chrono::minutes{5}, true);
  b = run_both("dev", cache_file("corp"), initial);
  EXPECT_EQ(b.mine.access_key, "ASIADEVELOPER1") << b.mine;
  EXPECT_EQ(b.mine_file, initial);
  skip_if_no_botocore();
}

TEST_F(sso_refresh, legacy_profiles_are_not_refreshed) {
  const auto initial = token_json(clock_.now() + std::chrono::minutes{5}, true);
  auto b = run_both("legacy", cache_file("https://corp.awsapps.com/start"), initial);
  EXPECT_EQ(b.mine.access_key, "ASIAREADONLY1") << b.mine;
  EXPECT_EQ(b.mine_create_token, 0U);
  EXPECT_EQ(b.mine_file, initial);
  skip_if_no_botocore();
}

// botocore's JSONFileCache writes times as "%Y-%m-%dT%H:%M:%S%Z" ("...UTC"), the form older
// `aws sso login` versions left in the cache; botocore reads it (dateutil), so must we.
TEST_F(sso_refresh, a_token_whose_time_ends_in_utc_is_read_as_botocore_reads_it) {
  const auto utc = [](std::string json) { return std::regex_replace(json, std::regex("Z\""), "UTC\""); };
  auto initial = utc(token_json(clock_.now() + std::chrono::hours{1}, true));
  ASSERT_NE(initial.find("UTC\""), std::string::npos) << initial;
  auto b = run_both("dev", cache_file("corp"), initial);
  EXPECT_EQ(b.mine.access_key, "ASIADEVELOPER1") << b.mine;
  EXPECT_EQ(b.mine_file, initial);
  b = run_both("legacy", cache_file("https://corp.awsapps.com/start"), initial);
  EXPECT_EQ(b.mine.access_key, "ASIAREADONLY1") << b.mine;
  initial = utc(token_json(clock_.now() + std::chrono::minutes{5}, true));
  b = run_both("dev", cache_file("corp"), initial);
  EXPECT_EQ(b.mine.access_key, "ASIADEVELOPERREFRESHED1") << b.mine;
  skip_if_no_botocore();
}

// With the manual clock (ours only): the role credentials' own refresh finds the token in its
// window and refreshes it first.
TEST_F(sso_refresh, refreshing_the_role_credentials_refreshes_the_token_when_it_is_due) {
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::minutes{30});
  write(cache_file("corp"), token_json(t0 + std::chrono::minutes{40}, true));
  credentials_provider p(options("dev"));
  auto c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIADEVELOPER1");
  EXPECT_EQ(aws_.count("/token"), 0U);
  aws_.set_expiry(t0 + std::chrono::hours{2});
  clock_.set(t0 + std::chrono::minutes{26});  // the role credentials' mandatory window; the token has 14 min
  c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIADEVELOPERREFRESHED1");
  EXPECT_EQ(aws_.count("/token"), 1U);
  const auto file = testing::read_file(cache_file("corp"));
  EXPECT_NE(file.find(fmt::format(R"("expiresAt": "{}")", iso_seconds(clock_.now() + std::chrono::hours{8}))),
            std::string::npos)
      << file;
}

TEST_F(credentials_provider_test, nothing_anywhere_lists_every_place_looked) {
  auto o = agree();
  EXPECT_NE(o.error.find("no AWS credentials found"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("EC2 instance metadata: disabled"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("container"), std::string::npos) << o.error;
  skip_if_no_botocore();
}

// ---- Expiry and refresh, with the manual clock (ours only: botocore reads the real clock) ----

TEST_F(credentials_provider_test, refreshes_in_the_advisory_window_and_keeps_old_credentials_when_that_fails) {
  env_["AWS_EC2_METADATA_DISABLED"] = "false";
  env_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = aws_.url();
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::hours{1});
  credentials_provider p(options());
  auto c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIAIMDS1");
  const auto first_fetches = aws_.count("/latest/meta-data/iam/security-credentials/demo-role");
  EXPECT_EQ(first_fetches, 1U);

  // 16 minutes before the expiry: cached, nothing fetched.
  aws_.set_suffix("2");
  aws_.set_expiry(t0 + std::chrono::hours{2});
  clock_.set(t0 + std::chrono::minutes{44});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAIMDS1");
  EXPECT_EQ(aws_.count("/latest/meta-data/iam/security-credentials/demo-role"), 1U);

  // 14 minutes before: the advisory window; the caller gets the current credentials at once and
  // the refresh runs in the background.
  clock_.set(t0 + std::chrono::minutes{46});
  c = p.get();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->creds.access_key_id, "ASIAIMDS1");
  p.wait_for_refresh();
  c = p.get();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->creds.access_key_id, "ASIAIMDS2");
  EXPECT_EQ(c->expiry, whole_seconds(t0 + std::chrono::hours{2}));

  // The next refresh fails: in the advisory and the mandatory window the old credentials stay, and
  // the log says why; after the expiry the failure is returned.
  aws_.set_failing(true);
  aws_.set_suffix("3");
  clock_.set(t0 + std::chrono::minutes{60 + 46});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAIMDS2");
  p.wait_for_refresh();
  clock_.set(t0 + std::chrono::minutes{60 + 55});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAIMDS2");
  {
    std::lock_guard lock(log_mu_);
    ASSERT_GE(log_.size(), 2U);
    EXPECT_NE(log_[0].find("advisory"), std::string::npos) << log_[0];
    EXPECT_NE(log_[1].find("mandatory"), std::string::npos) << log_[1];
    EXPECT_NE(log_[1].find("HTTP 500"), std::string::npos) << log_[1];
  }
  clock_.set(t0 + std::chrono::minutes{120});
  auto expired = p.get();
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error(), sigv4::error::credentials_fetch_failed);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos) << expired.error().message;

  // Once the source answers again, the next call gets fresh credentials.
  aws_.set_failing(false);
  aws_.set_expiry(t0 + std::chrono::hours{3});
  c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIAIMDS3");
}

TEST_F(credentials_provider_test, one_refresh_at_a_time_in_the_mandatory_window) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/creds";
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::hours{1});
  credentials_provider p(options());
  ASSERT_TRUE(p.get());
  aws_.set_suffix("2");
  aws_.set_expiry(t0 + std::chrono::hours{2});
  aws_.set_delay(std::chrono::milliseconds{200});
  clock_.set(t0 + std::chrono::minutes{55});  // 5 minutes left: every caller waits for the refresh
  std::vector<std::thread> threads;
  std::atomic<int> fresh{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto c = p.get();
      if (c && c->creds.access_key_id == "ASIAECS2") ++fresh;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fresh.load(), 8);
  EXPECT_EQ(aws_.count("/ecs/"), 2U);  // the first fetch and one refresh
}

TEST_F(credentials_provider_test, credential_process_is_run_again_when_its_credentials_expire) {
  const auto t0 = clock_.now();
  write(home_ / "creds.json", fmt::format(R"({{"Version":1,"AccessKeyId":"ASIAP1","SecretAccessKey":"s",)"
                                          R"("Expiration":"{}"}})",
                                          iso_seconds(t0 + std::chrono::hours{1})));
  write_config(fmt::format("[default]\ncredential_process = /bin/cat {}\n", (home_ / "creds.json").string()));
  credentials_provider p(options());
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAP1");
  write(home_ / "creds.json", fmt::format(R"({{"Version":1,"AccessKeyId":"ASIAP2","SecretAccessKey":"s",)"
                                          R"("Expiration":"{}"}})",
                                          iso_seconds(t0 + std::chrono::hours{2})));
  clock_.set(t0 + std::chrono::minutes{30});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAP1");
  clock_.set(t0 + std::chrono::minutes{51});  // the mandatory window: the caller waits for the refresh
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAP2");
}

TEST_F(credentials_provider_test, assume_role_is_refreshed_through_sts) {
  write_credentials(
      fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n", k_static_id, k_static_secret));
  write_config("[default]\nrole_arn = arn:aws:iam::1:role/app\nsource_profile = base\n");
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::hours{1});
  credentials_provider p(options());
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAAPP1");
  aws_.set_suffix("2");
  clock_.set(t0 + std::chrono::minutes{51});  // STS checks the signature time against this clock too
  auto c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIAAPP2");
  EXPECT_EQ(aws_.count("/"), 2U);
}

TEST_F(credentials_provider_test, a_failed_first_resolution_is_retried_only_after_a_pause) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/creds";
  aws_.set_failing(true);
  credentials_provider p(options());
  EXPECT_FALSE(p.get());
  EXPECT_FALSE(p.get());
  EXPECT_EQ(aws_.count("/ecs/"), 1U);
  aws_.set_failing(false);
  clock_.advance(std::chrono::seconds{29});
  EXPECT_FALSE(p.get());
  clock_.advance(std::chrono::seconds{2});
  auto c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIAECS1");
  EXPECT_EQ(aws_.count("/ecs/"), 2U);
}

TEST_F(credentials_provider_test, advisory_refresh_runs_in_the_background_once_for_every_caller) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/creds";
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::hours{1});
  credentials_provider p(options());
  ASSERT_TRUE(p.get());
  aws_.set_suffix("2");
  aws_.set_expiry(t0 + std::chrono::hours{2});
  aws_.set_delay(std::chrono::milliseconds{200});
  clock_.set(t0 + std::chrono::minutes{48});  // 12 minutes left: advisory
  std::vector<std::thread> threads;
  std::atomic<int> current{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto c = p.get();
      if (c && c->creds.access_key_id == "ASIAECS1") ++current;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(current.load(), 8);  // nobody waited for the refresh
  p.wait_for_refresh();
  EXPECT_EQ(aws_.count("/ecs/"), 2U);  // the first fetch and one background refresh
  auto c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIAECS2");
  p.wait_for_refresh();
  EXPECT_EQ(aws_.count("/ecs/"), 2U);  // fresh credentials: no further refresh
}

TEST_F(credentials_provider_test, a_failed_background_refresh_is_retried_after_a_pause) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/creds";
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::hours{1});
  credentials_provider p(options());
  ASSERT_TRUE(p.get());
  aws_.set_failing(true);
  clock_.set(t0 + std::chrono::minutes{46});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAECS1");
  p.wait_for_refresh();
  EXPECT_EQ(aws_.count("/ecs/"), 2U);
  {
    std::lock_guard lock(log_mu_);
    ASSERT_EQ(log_.size(), 1U);
    EXPECT_NE(log_[0].find("keeping the current ones"), std::string::npos) << log_[0];
  }
  // Within the pause: the old credentials, no new request, even in the mandatory window.
  clock_.advance(std::chrono::seconds{20});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAECS1");
  p.wait_for_refresh();
  EXPECT_EQ(aws_.count("/ecs/"), 2U);
  clock_.set(t0 + std::chrono::minutes{51});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAECS1");
  EXPECT_EQ(aws_.count("/ecs/"), 3U);  // the pause is over: one more try, failed too
  clock_.advance(std::chrono::seconds{10});
  EXPECT_EQ(p.get()->creds.access_key_id, "ASIAECS1");
  EXPECT_EQ(aws_.count("/ecs/"), 3U);
  // The source answers again: after the pause the refresh succeeds.
  aws_.set_failing(false);
  aws_.set_suffix("2");
  aws_.set_expiry(t0 + std::chrono::hours{2});
  clock_.advance(std::chrono::seconds{31});
  auto c = p.get();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->creds.access_key_id, "ASIAECS2");
}

TEST_F(credentials_provider_test, destroying_the_provider_waits_for_its_background_refresh) {
  env_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws_.url() + "/ecs/creds";
  const auto t0 = clock_.now();
  aws_.set_expiry(t0 + std::chrono::hours{1});
  {
    credentials_provider p(options());
    ASSERT_TRUE(p.get());
    aws_.set_delay(std::chrono::milliseconds{200});
    clock_.set(t0 + std::chrono::minutes{46});
    EXPECT_EQ(p.get()->creds.access_key_id, "ASIAECS1");
  }  // the destructor joins the refresh
  EXPECT_EQ(aws_.count("/ecs/"), 2U);
}

// ---- Signing with a provider ----

TEST_F(credentials_provider_test, provider_signing_never_sends_unsigned_to_aws) {
  auto lookup = provider_signing(std::make_shared<credentials_provider>(options()));
  auto local = lookup("http://127.0.0.1:4510/dev");  // the local gateway with --auth none
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_FALSE(local->credentials);
  auto remote = lookup("https://abc123.execute-api.eu-west-1.amazonaws.com/dev");
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error(), error::signing_failed);
  EXPECT_NE(remote.error().message.find("looked in"), std::string::npos) << remote.error().message;
  EXPECT_TRUE(aws_.requests().empty());

  env_["AWS_ACCESS_KEY_ID"] = "AKIASIGNING000000001";
  env_["AWS_SECRET_ACCESS_KEY"] = "s";
  lookup = provider_signing(std::make_shared<credentials_provider>(options()));
  local = lookup("http://127.0.0.1:4510/dev");
  ASSERT_TRUE(local) << local.error().message;
  ASSERT_TRUE(local->credentials);
  EXPECT_EQ(local->credentials->access_key_id, "AKIASIGNING000000001");
  EXPECT_EQ(local->region, "eu-west-1");  // the provider's region: the host names none
  remote = lookup("https://abc123.execute-api.eu-west-2.amazonaws.com/dev");
  ASSERT_TRUE(remote) << remote.error().message;
  EXPECT_TRUE(remote->region.empty());  // signing_region() takes eu-west-2 from the host name
}

TEST_F(credentials_provider_test, a_default_sender_never_sends_unsigned_to_aws) {
  // The default chain reads the process environment: make it this test's hermetic one.
  for (const char* var :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"}) {
    ::unsetenv(var);
  }
  for (const auto& [k, v] : env_) ::setenv(k.c_str(), v.c_str(), 1);  // HOME, files, IMDS disabled
  sender s;
  // TEST-NET-1 (192.0.2.0/24): nothing would be reached even if signing were skipped.
  auto report = s.send_sync({{"L0SM9cOFvHcCIhw=", "http://192.0.2.1:9/dev"}}, R"({"a":1})");
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->failed.size(), 1U);
  EXPECT_EQ(report->failed[0].reason, error::signing_failed);
  EXPECT_NE(report->failed[0].reason.message.find("looked in"), std::string::npos) << report->failed[0].reason.message;
  EXPECT_EQ(report->delivered, 0U);
}

TEST_F(credentials_provider_test, a_default_control_plane_client_never_sends_unsigned_to_aws) {
  for (const char* var :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"}) {
    ::unsetenv(var);
  }
  for (const auto& [k, v] : env_) ::setenv(k.c_str(), v.c_str(), 1);  // HOME, files, IMDS disabled
  testing::io_runner io(1);
  net::http_client_pool pool(io.executor());
  // Not literally loopback, so it must be signed; the host resolves to this test's fake, which would
  // record a request were one sent.
  const std::string remote = "http://127.1:" + aws_.url().substr(aws_.url().rfind(':') + 1);
  auto client = control_plane_client::create(pool, remote, {.signing = {.region = "eu-west-1"}});
  ASSERT_TRUE(client) << client.error().message;
  auto r = io.run(client->get_apis());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::signing_failed);
  EXPECT_NE(r.error().message.find("GetApis"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("looked in"), std::string::npos) << r.error().message;
  EXPECT_TRUE(aws_.requests().empty());

  // With credentials in the environment the same client signs them, refreshed from the provider:
  // the request reaches the fake (which answers it as STS would not, which is fine here).
  ::setenv("AWS_ACCESS_KEY_ID", "AKIACONTROLPLANE0001", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
  client = control_plane_client::create(pool, remote, {.signing = {.region = "eu-west-1"}});
  ASSERT_TRUE(client) << client.error().message;
  r = io.run(client->get_apis());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  const auto seen = aws_.requests();
  ASSERT_EQ(seen.size(), 1U);
  const std::string auth(net::find_header(seen[0].headers, "Authorization").value_or(""));
  EXPECT_NE(auth.find("Credential=AKIACONTROLPLANE0001/"), std::string::npos) << auth;
}

// ---- Pieces ----

TEST(credentials_provider_pieces, parse_aws_time_reads_the_forms_aws_uses) {
  const auto t = clock::time_point{std::chrono::seconds{1765000000}};  // 2025-12-06T05:46:40Z
  EXPECT_EQ(parse_aws_time("2025-12-06T05:46:40Z"), t);
  EXPECT_EQ(parse_aws_time("2025-12-06T05:46:40.250Z"), t + std::chrono::milliseconds{250});
  EXPECT_EQ(parse_aws_time("2025-12-06T07:46:40+02:00"), t);
  EXPECT_EQ(parse_aws_time("2025-12-06T05:16:40-00:30"), t);
  EXPECT_EQ(parse_aws_time("2025-12-06T05:46:40UTC"), t);  // botocore's JSONFileCache form
  for (std::string_view bad : {"", "2025-12-06", "2025-12-06T05:46:40", "2025-13-06T05:46:40Z", "2025-02-30T05:46:40Z",
                               "2025-12-06T05:46:40Zjunk", "2025-12-06T05:46:40.Z"}) {
    EXPECT_FALSE(parse_aws_time(bad)) << bad;
  }
}

TEST(credentials_provider_pieces, sts_endpoint_follows_botocore) {
  std::map<std::string, std::string> vars;
  sigv4::chain_options c;
  c.env = [&](const std::string& k) -> std::optional<std::string> {
    if (auto it = vars.find(k); it != vars.end()) return it->second;
    return std::nullopt;
  };
  EXPECT_EQ(sts_endpoint(c, "eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(sts_endpoint(c, ""), "https://sts.amazonaws.com");
  vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1";
  EXPECT_EQ(sts_endpoint(c, "eu-west-1"), "http://127.0.0.1:1");
  vars["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:2";
  EXPECT_EQ(sts_endpoint(c, "eu-west-1"), "http://127.0.0.1:2");
}

}  // namespace
}  // namespace apigw::mgmt
