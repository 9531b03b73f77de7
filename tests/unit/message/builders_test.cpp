#include "apigw/message/builders.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace apigw {
namespace {

TEST(message, toast_shape) {
  auto t = toast("success", "Saved", "Your changes have been saved.", 5000, "/orders/7");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(json::value(*t), json::parse(R"({"type":"toast","level":"success","title":"Saved",
    "message":"Your changes have been saved.","timeout":5000,"action_url":"/orders/7"})"));
  auto plain = toast("info", "Hi", "there");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->contains("timeout"));
  EXPECT_FALSE(plain->contains("action_url"));
}

TEST(message, invalid_arguments_are_errors_not_clamped) {
  EXPECT_FALSE(toast("fatal", "t", "m"));
  EXPECT_FALSE(toast("info", "", "m"));
  EXPECT_FALSE(toast("info", "t", "m", 0));
  EXPECT_FALSE(toast("info", "t", "m", std::nullopt, "javascript:alert(1)"));
  EXPECT_FALSE(toast("info", "t", "m", std::nullopt, "//evil.example"));
  auto p = task_progress("job-1", 101, "x");
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error() == condition::invalid_argument);
  EXPECT_NE(p.error().message.find("0..100, got 101"), std::string::npos);
  EXPECT_FALSE(task_progress("job-1", -1, "x"));
  EXPECT_FALSE(task_progress("", 5, "x"));
  EXPECT_FALSE(chat_message("room", "bob", ""));
  EXPECT_FALSE(chat_message("room", "bob", "\xff"));
  EXPECT_FALSE(resource_updated("order", "7", "ftp://x/y"));
  EXPECT_FALSE(system("loud", "maintenance"));
}

TEST(message, other_patterns) {
  auto p = task_progress("job-1", 100, "done");
  ASSERT_TRUE(p);
  EXPECT_EQ(json::value(*p),
            json::parse(R"({"type":"task_progress","task_id":"job-1","percent":100,"message":"done"})"));
  auto c = task_complete("job-1", "/results/job-1");
  ASSERT_TRUE(c);
  EXPECT_EQ(json::value(*c),
            json::parse(R"({"type":"task_complete","task_id":"job-1","result_url":"/results/job-1"})"));
  auto r = resource_updated("order", "42", "/api/orders/42");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["type"], "resource_updated");
  auto m = chat_message("general", "alice", "h\xc3\xa9llo");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["message"], "h\xc3\xa9llo");
  auto s = system("warning", "Maintenance at 22:00");
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["type"], "system");
}

}  // namespace
}  // namespace apigw
