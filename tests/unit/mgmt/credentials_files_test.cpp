// The static sources of mgmt::credentials_provider (explicit keys, the environment, the shared
// credentials and config files) and the pieces of apigw/sigv4/credentials.hpp they are read with:
// the order, the INI dialect, file locations, and the errors that name the file and line. The
// dynamic sources (STS, SSO, containers, IMDS, credential_process) and botocore as the oracle are
// in credentials_provider_test.cpp.
#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/sigv4/credentials.hpp"
#include "apigw/sigv4/error.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace apigw::sigv4 {
namespace {

namespace fs = std::filesystem;

// resolve_credentials: what a fresh provider finds for `o`, with instance metadata off (nothing
// here may reach 169.254.169.254) unless the test's environment says otherwise.
result<resolved_credentials> resolve_credentials(chain_options o) {
  o.env = [env = std::move(o.env)](const std::string& k) -> std::optional<std::string> {
    auto v = env ? env(k) : std::nullopt;
    if (!v && k == "AWS_EC2_METADATA_DISABLED") return "true";
    return v;
  };
  mgmt::credentials_provider_options po;
  po.chain = std::move(o);
  return mgmt::credentials_provider(std::move(po)).get();
}

// A temporary home directory and an environment map, so no test sees the real ~/.aws or AWS_*.
class sigv4_credentials_chain : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "apigw_sigv4_XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    home_ = templ;
    fs::create_directories(home_ / ".aws");
  }

  void TearDown() override {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(home_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(home_, ec);
  }

  chain_options options() const {
    chain_options o;
    o.env = [vars = env_](const std::string& k) -> std::optional<std::string> {
      if (auto it = vars.find(k); it != vars.end()) return it->second;
      return std::nullopt;
    };
    o.home = home_;
    return o;
  }

  void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  fs::path credentials_path() const { return home_ / ".aws" / "credentials"; }
  fs::path config_path() const { return home_ / ".aws" / "config"; }

  fs::path home_;
  std::map<std::string, std::string> env_;
};

// ---- The order of the chain ----

TEST_F(sigv4_credentials_chain, explicit_credentials_come_first) {
  env_ = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}};
  auto o = options();
  o.explicit_credentials = credentials{"AKIDEXPLICIT", "explicit-secret", ""};
  auto r = resolve_credentials(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDEXPLICIT");
  EXPECT_EQ(r->source, "explicit");

  o.explicit_credentials = credentials{"AKIDEXPLICIT", "", ""};
  r = resolve_credentials(o);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::incomplete_credentials);
}

TEST_F(sigv4_credentials_chain, environment_before_files) {
  write(credentials_path(), "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n");
  env_ = {
      {"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}, {"AWS_SESSION_TOKEN", "env-token"}};
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDENV");
  EXPECT_EQ(r->creds.secret_access_key, "env-secret");
  EXPECT_EQ(r->creds.session_token, "env-token");
  EXPECT_EQ(r->source, "environment");

  // Empty variables count as unset.
  env_ = {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}};
  r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDFILE");
}

TEST_F(sigv4_credentials_chain, environment_with_half_a_key_is_an_error) {
  env_ = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}};
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::incomplete_credentials);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  EXPECT_NE(r.error().message.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos) << r.error().message;
}

TEST_F(sigv4_credentials_chain, shared_credentials_file_default_profile) {
  write(credentials_path(),
        "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n"
        "aws_session_token = default-token\n\n[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = w\n");
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(r->creds.session_token, "default-token");
  EXPECT_EQ(r->source, "shared credentials file " + credentials_path().string() + ", profile default");
}

TEST_F(sigv4_credentials_chain, aws_profile_selects_the_section) {
  write(credentials_path(),
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n"
        "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret\n");
  env_ = {{"AWS_PROFILE", "work"}};
  EXPECT_EQ(profile_name(options()), "work");
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDWORK");
  EXPECT_EQ(r->creds.secret_access_key, "work-secret");
  EXPECT_NE(r->source.find("profile work"), std::string::npos);
}

TEST_F(sigv4_credentials_chain, config_file_profile_sections) {
  write(config_path(),
        "[default]\nregion = eu-west-1\naws_access_key_id = AKIDCONFIGDEFAULT\naws_secret_access_key = cd\n"
        "[profile ci]\nregion = us-west-2\naws_access_key_id = AKIDCI\naws_secret_access_key = ci-secret\n"
        "[ci]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n");
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDCONFIGDEFAULT");
  EXPECT_EQ(r->source, "config file " + config_path().string() + ", profile default");

  // In the config file, [ci] is not profile "ci": only [profile ci] is.
  env_ = {{"AWS_PROFILE", "ci"}};
  r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDCI");
  auto region = resolve_region(options());
  ASSERT_TRUE(region) << region.error().message;
  EXPECT_EQ(region->region, "us-west-2");
  EXPECT_EQ(region->source, "config file " + config_path().string() + ", profile ci");
}

TEST_F(sigv4_credentials_chain, credentials_file_before_config_file) {
  write(credentials_path(), "[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = c\n");
  write(config_path(), "[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n");
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->creds.access_key_id, "AKIDCREDS");
}

TEST_F(sigv4_credentials_chain, named_profile_skips_environment_keys) {
  write(credentials_path(), "[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = ops\n");
  env_ = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}};
  auto o = options();
  o.profile = "ops";
  auto r = resolve_credentials(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDOPS");
}

TEST_F(sigv4_credentials_chain, file_locations_from_the_environment) {
  write(home_ / "elsewhere" / "creds", "[default]\naws_access_key_id = AKIDELSEWHERE\naws_secret_access_key = e\n");
  write(home_ / "elsewhere" / "conf", "[default]\nregion = sa-east-1\n");
  env_ = {{"AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds"},
          {"AWS_CONFIG_FILE", (home_ / "elsewhere/conf").string()}};
  EXPECT_EQ(shared_credentials_file(options()), home_ / "elsewhere/creds");
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDELSEWHERE");
  auto region = resolve_region(options());
  ASSERT_TRUE(region) << region.error().message;
  EXPECT_EQ(region->region, "sa-east-1");
}

TEST_F(sigv4_credentials_chain, ini_dialect_of_configparser) {
  // BOM, CRLF, ':' delimiter, upper-case keys, comments, nested (indented) settings, spaced and
  // quoted profile names.
  write(config_path(),
        "\xEF\xBB\xBF; leading comment\r\n"
        "[profile   spaced]\r\n"
        "AWS_ACCESS_KEY_ID: AKIDSPACED\r\n"
        "aws_secret_access_key=s=with=equals\r\n"
        "s3 =\r\n"
        "  max_concurrent_requests = 10\r\n"
        "    # indented comment\r\n"
        "[profile \"quoted\"]\n"
        "aws_access_key_id = AKIDQUOTED\n"
        "aws_secret_access_key = q\n");
  env_ = {{"AWS_PROFILE", "spaced"}};
  auto r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDSPACED");
  EXPECT_EQ(r->creds.secret_access_key, "s=with=equals");
  env_ = {{"AWS_PROFILE", "quoted"}};
  r = resolve_credentials(options());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->creds.access_key_id, "AKIDQUOTED");
}

// ---- Failures ----

TEST_F(sigv4_credentials_chain, nothing_anywhere_lists_every_place_looked) {
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::credentials_not_found);
  EXPECT_TRUE(r.error() == condition::not_found);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("profile \"default\""), std::string::npos) << m;
  EXPECT_NE(m.find("explicit credentials"), std::string::npos) << m;
  EXPECT_NE(m.find("environment: AWS_ACCESS_KEY_ID not set"), std::string::npos) << m;
  EXPECT_NE(m.find(credentials_path().string() + ": no profile default"), std::string::npos) << m;
  EXPECT_NE(m.find(config_path().string() + ": no profile default"), std::string::npos) << m;
  EXPECT_NE(m.find("EC2 instance metadata: disabled"), std::string::npos) << m;
}

TEST_F(sigv4_credentials_chain, missing_profile_names_the_sections_looked_for) {
  write(credentials_path(), "[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
  write(config_path(), "[default]\nregion = us-east-1\n");
  env_ = {{"AWS_PROFILE", "staging"}};
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::credentials_not_found);
  EXPECT_NE(r.error().message.find("shared credentials file " + credentials_path().string() + ": no profile staging"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("config file " + config_path().string() + ": no profile staging"), std::string::npos)
      << r.error().message;
}

TEST_F(sigv4_credentials_chain, a_role_without_its_source_profile_is_named) {
  // Roles are resolved (credentials_provider_test.cpp); a broken one says what is missing.
  write(config_path(), "[profile assumed]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n");
  env_ = {{"AWS_PROFILE", "assumed"}};
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_profile);
  EXPECT_NE(r.error().message.find("source_profile \"default\" referenced in the profile \"assumed\" does not exist"),
            std::string::npos)
      << r.error().message;
}

TEST_F(sigv4_credentials_chain, key_without_secret_in_a_file) {
  write(credentials_path(), "[default]\naws_access_key_id = AKIDHALF\n");
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::incomplete_credentials);
  EXPECT_NE(r.error().message.find(credentials_path().string()), std::string::npos);
  EXPECT_NE(r.error().message.find("no aws_secret_access_key"), std::string::npos) << r.error().message;
}

TEST_F(sigv4_credentials_chain, unreadable_file_is_named) {
  // A directory where the file should be: unreadable even for root.
  fs::create_directories(credentials_path());
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::credentials_file_unreadable);
  EXPECT_TRUE(r.error() == condition::unavailable);
  EXPECT_NE(r.error().message.find(credentials_path().string()), std::string::npos) << r.error().message;
  fs::remove(credentials_path());

  // A symbolic link loop: also unreadable for root.
  fs::create_symlink(config_path(), config_path().string() + ".loop");
  fs::create_symlink(config_path().string() + ".loop", config_path());
  r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::credentials_file_unreadable);
  EXPECT_NE(r.error().message.find(config_path().string()), std::string::npos) << r.error().message;
  auto region = resolve_region(options());
  ASSERT_FALSE(region);
  EXPECT_TRUE(region.error() == error::credentials_file_unreadable);
}

TEST_F(sigv4_credentials_chain, file_without_read_permission_is_named) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: chmod 000 does not stop root from reading";
  write(credentials_path(), "[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
  fs::permissions(credentials_path(), fs::perms::none);
  auto r = resolve_credentials(options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::credentials_file_unreadable);
  EXPECT_NE(r.error().message.find(credentials_path().string()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("Permission denied"), std::string::npos) << r.error().message;
}

TEST_F(sigv4_credentials_chain, unreadable_file_is_not_read_when_the_environment_has_keys) {
  fs::create_directories(credentials_path());
  env_ = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}};
  EXPECT_TRUE(resolve_credentials(options()));
}

TEST_F(sigv4_credentials_chain, malformed_file_names_file_and_line) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[default\naws_access_key_id = A\n", ":1: section header without a closing ']'"},
      {"aws_access_key_id = A\n[default]\n", ":1: a setting before any [section] header"},
      {"[default]\naws_access_key_id = A\njust words\n", ":3: expected 'key = value'"},
      {"[default]\n = value\n", ":2: a setting without a name"},
      {"[]\n", ":1: empty section name"},
  };
  for (const auto& [text, says] : cases) {
    write(credentials_path(), text);
    auto r = resolve_credentials(options());
    ASSERT_FALSE(r) << text;
    EXPECT_TRUE(r.error() == error::credentials_file_malformed) << r.error().message;
    EXPECT_TRUE(r.error() == condition::invalid_argument);
    EXPECT_NE(r.error().message.find(credentials_path().string() + says), std::string::npos) << r.error().message;
  }
}

TEST_F(sigv4_credentials_chain, no_home_directory) {
  auto o = options();
  o.home.clear();
  EXPECT_FALSE(shared_credentials_file(o));
  EXPECT_FALSE(config_file(o));
  auto r = resolve_credentials(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no home directory"), std::string::npos) << r.error().message;
}

// ---- Region ----

TEST_F(sigv4_credentials_chain, region_order) {
  write(config_path(), "[default]\nregion = eu-central-1\n");
  auto region = resolve_region(options());
  ASSERT_TRUE(region) << region.error().message;
  EXPECT_EQ(region->region, "eu-central-1");

  env_ = {{"AWS_DEFAULT_REGION", "ca-central-1"}};
  region = resolve_region(options());
  ASSERT_TRUE(region);
  EXPECT_EQ(region->region, "ca-central-1");
  EXPECT_EQ(region->source, "environment variable AWS_DEFAULT_REGION");

  env_["AWS_REGION"] = "af-south-1";
  region = resolve_region(options());
  ASSERT_TRUE(region);
  EXPECT_EQ(region->region, "af-south-1");
  EXPECT_EQ(region->source, "environment variable AWS_REGION");
}

TEST_F(sigv4_credentials_chain, no_region_lists_places) {
  write(config_path(), "[default]\noutput = json\n");
  auto region = resolve_region(options());
  ASSERT_FALSE(region);
  EXPECT_TRUE(region.error() == error::region_not_found);
  EXPECT_TRUE(region.error() == condition::not_found);
  EXPECT_NE(region.error().message.find("AWS_REGION and AWS_DEFAULT_REGION not set"), std::string::npos);
  EXPECT_NE(region.error().message.find(config_path().string() + ", profile default: no region setting"),
            std::string::npos)
      << region.error().message;
}

TEST(sigv4_process_chain_options, reads_the_process_environment) {
  const chain_options o = process_chain_options();
  ASSERT_TRUE(static_cast<bool>(o.env));
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    EXPECT_EQ(o.home, fs::path(home));
  }
  EXPECT_FALSE(o.explicit_credentials);
}

}  // namespace
}  // namespace apigw::sigv4
