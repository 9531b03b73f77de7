// End-to-end tests of `apigw-ws credentials`: the real binary in a child process with a hermetic
// environment (a temporary HOME, IMDS disabled, nothing else unless a test sets it).
#include "support/child_process.hpp"

#include "apigw/core/json.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace apigw {
namespace {

namespace fs = std::filesystem;

class credentials_cli_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("apigw-creds-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    env_ = {{"HOME", dir_.string()}, {"PATH", "/usr/bin:/bin"}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  testing::run_result run(std::vector<std::string> args) {
    std::vector<std::string> argv{APIGW_CLI_PATH, "credentials"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(std::move(argv), env_, dir_);
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(credentials_cli_test, prints_source_masked_key_expiry_and_region) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE000001234";
  env_["AWS_SECRET_ACCESS_KEY"] = "the-secret-never-printed";
  env_["AWS_SESSION_TOKEN"] = "the-token-never-printed";
  env_["AWS_CREDENTIAL_EXPIRATION"] = "2030-01-02T03:04:05Z";
  env_["AWS_DEFAULT_REGION"] = "eu-west-1";
  auto r = run({"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = parse_json_object(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(get_string(*doc, "method").value_or(""), "env");
  EXPECT_EQ(get_string(*doc, "source").value_or(""), "environment");
  EXPECT_EQ(get_string(*doc, "access_key_id").value_or(""), "****************1234");
  EXPECT_EQ(get_string(*doc, "expiry").value_or(""), "2030-01-02T03:04:05.000Z");
  EXPECT_EQ(get_string(*doc, "region").value_or(""), "eu-west-1");
  EXPECT_EQ(get_bool(*doc, "temporary"), true);

  r = run({"--region", "ap-south-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("environment (env)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("****************1234"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ap-south-1 (--region)"), std::string::npos) << r.out;
  for (const auto& out : {r.out, r.err}) {
    EXPECT_EQ(out.find("never-printed"), std::string::npos) << out;
    EXPECT_EQ(out.find("AKIAEXAMPLE"), std::string::npos) << out;
  }
}

TEST_F(credentials_cli_test, a_named_profile_and_nothing_found) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE000001234";
  env_["AWS_SECRET_ACCESS_KEY"] = "s";
  fs::create_directories(dir_ / ".aws");
  {
    std::ofstream(dir_ / ".aws" / "credentials") << "[dev]\naws_access_key_id = AKIADEVPROFILE009876\n"
                                                    "aws_secret_access_key = s\n";
    std::ofstream(dir_ / ".aws" / "config") << "[profile dev]\nregion = us-east-2\n";
  }
  auto r = run({"--profile", "dev", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = parse_json_object(r.out);
  ASSERT_TRUE(doc) << r.out;
  EXPECT_EQ(get_string(*doc, "method").value_or(""), "shared-credentials-file");
  EXPECT_EQ(get_string(*doc, "access_key_id").value_or(""), "****************9876");
  EXPECT_EQ(get_string(*doc, "region").value_or(""), "us-east-2");
  EXPECT_TRUE(doc->at("expiry").is_null());

  r = run({"--profile", "missing"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no AWS credentials found for profile \"missing\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("EC2 instance metadata: disabled"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace apigw
