#include "apigw/core/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace apigw {
namespace {

config_schema schema() {
  return {
      {.key = "db", .type = setting::kind::string, .default_value = std::string("apigw.sqlite3")},
      {.key = "sender.concurrency",
       .type = setting::kind::integer,
       .default_value = std::int64_t{64},
       .min = 1,
       .max = 4096},
      {.key = "verbose", .type = setting::kind::boolean, .default_value = false},
      {.key = "region",
       .type = setting::kind::string,
       .default_value = std::string("us-east-1"),
       .check = [](std::string_view v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         return std::nullopt;
       }},
  };
}

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    if (auto it = vars.find(k); it != vars.end()) return it->second;
    return std::nullopt;
  };
}

std::filesystem::path write_temp(const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("apigw_cfg_" + std::to_string(::getpid()) + ".json");
  std::ofstream(p) << text;
  return p;
}

TEST(config, defaults_then_file_then_environment) {
  auto file = write_temp(R"({"sender":{"concurrency":128},"verbose":true})");
  auto cfg = config::load(schema(), file, env_of({{"APIGW_SENDER_CONCURRENCY", "256"}}));
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->get_string("db"), "apigw.sqlite3");
  EXPECT_EQ(cfg->source("db"), "default");
  EXPECT_EQ(cfg->get_int("sender.concurrency"), 256);
  EXPECT_EQ(cfg->source("sender.concurrency"), "APIGW_SENDER_CONCURRENCY");
  EXPECT_TRUE(cfg->get_bool("verbose"));
  EXPECT_EQ(cfg->source("verbose"), file.string());
  std::filesystem::remove(file);
}

TEST(config, errors_name_the_key_and_the_source) {
  auto file = write_temp(R"({"sender":{"concurency":128}})");
  auto r = config::load(schema(), file, env_of({}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown key 'sender.concurency'"), std::string::npos) << r.error().message;

  std::ofstream(file) << R"({"sender":{"concurrency":"many"}})";
  r = config::load(schema(), file, env_of({}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'sender.concurrency' must be an integer from 1 to 4096"), std::string::npos)
      << r.error().message;

  std::ofstream(file) << "{not json";
  r = config::load(schema(), file, env_of({}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(file.string()), std::string::npos);
  std::filesystem::remove(file);

  r = config::load(schema(), std::nullopt, env_of({{"APIGW_SENDER_CONCURRENCY", "0"}}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("APIGW_SENDER_CONCURRENCY"), std::string::npos);
  r = config::load(schema(), std::nullopt, env_of({{"APIGW_VERBOSE", "maybe"}}));
  ASSERT_FALSE(r);
  r = config::load(schema(), std::nullopt, env_of({{"APIGW_REGION", ""}}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("must not be empty"), std::string::npos);
  r = config::load(schema(), std::filesystem::path("/nonexistent/apigw.json"), env_of({}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::unavailable);
}

TEST(config, env_names) {
  EXPECT_EQ(env_name("sender.max-rps"), "APIGW_SENDER_MAX_RPS");
}

}  // namespace
}  // namespace apigw
