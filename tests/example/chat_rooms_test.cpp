// The chat example's length limit and message fields, driven exactly as API Gateway would: the
// limit counts Unicode code points (what the page counts), not UTF-8 bytes; every message carries
// the time it was said; joining tells the page the limit.
#include "chat_rooms.hpp"

#include "apigw/core/clock.hpp"
#include "apigw/dispatch/testing.hpp"
#include "backend_fixture.hpp"
#include "demo_site.hpp"

#include <boost/json/serialize.hpp>

#include <memory>
#include <string>

namespace apigw::dispatch::testing_support {
namespace {

// repeat: `s` n times.
std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

class chat_rooms_test : public backend_test {
 protected:
  void SetUp() override {
    backend_test::SetUp();
    options_.history.rules = examples::history_rules();
    start(view_);
    site_ = std::make_unique<examples::site_context>(examples::site_context{*app_, *auth_});
    chat_ = std::make_unique<examples::chat_rooms>(*site_);
    chat_->install(view_);
    ASSERT_EQ(gw_->connect(cid(1), {.cookie = login("alice")}).status, 200U);
    ASSERT_EQ(gw_->message(cid(1), {{"handler", "chat_join"}, {"room", "general"}}).status, 200U);
  }

  // last_of: the last message of `type` that connection 1 received (empty when none).
  json::object last_of(std::string_view type) {
    json::object found;
    for (const auto& m : out_->json_for(cid(1))) {
      if (m.as_object().at("type").as_string() == type) found = m.as_object();
    }
    return found;
  }

  unsigned say(const std::string& text) {
    return gw_->message(cid(1), {{"handler", "chat_say"}, {"room", "general"}, {"text", text}}).status;
  }

  view view_;
  std::unique_ptr<examples::site_context> site_;
  std::unique_ptr<examples::chat_rooms> chat_;
};

TEST(chat_rooms_length, counts_code_points_not_bytes) {
  EXPECT_EQ(examples::chat_rooms::text_length(""), 0U);
  EXPECT_EQ(examples::chat_rooms::text_length("abc"), 3U);
  EXPECT_EQ(examples::chat_rooms::text_length("\xD0\xB6"), 1U);          // ж: 2 bytes
  EXPECT_EQ(examples::chat_rooms::text_length("\xE2\x82\xAC"), 1U);      // €: 3 bytes
  EXPECT_EQ(examples::chat_rooms::text_length("\xF0\x9F\x98\x80"), 1U);  // 😀: 4 bytes
  EXPECT_EQ(examples::chat_rooms::text_length(repeat("\xD0\xB6", 300)), 300U);
}

TEST_P(chat_rooms_test, joining_tells_the_limit) {
  const auto joined = last_of("chat_joined");
  ASSERT_TRUE(joined.contains("max_text")) << json::serialize(joined);
  EXPECT_EQ(joined.at("max_text").to_number<std::size_t>(), examples::chat_rooms::k_max_text);
}

TEST_P(chat_rooms_test, the_limit_is_in_code_points) {
  EXPECT_EQ(say(repeat("\xD0\xB6", 300)), 200U);  // 600 bytes
  EXPECT_EQ(last_of("chat_message").at("message").as_string(), repeat("\xD0\xB6", 300));
  EXPECT_EQ(say(repeat("\xF0\x9F\x98\x80", 500)), 200U);  // 2000 bytes
  EXPECT_TRUE(last_of("chat_error").empty());

  EXPECT_EQ(say(repeat("\xD0\xB6", 501)), 400U);
  EXPECT_EQ(last_of("chat_error").at("message").as_string(), "Message is longer than 500 characters");
  EXPECT_EQ(say(repeat("x", 501)), 400U);
}

TEST_P(chat_rooms_test, messages_carry_the_time_they_were_said) {
  ASSERT_EQ(say("hello"), 200U);
  const auto said = last_of("chat_message");
  ASSERT_TRUE(said.contains("sent_at")) << json::serialize(said);
  EXPECT_EQ(said.at("sent_at").as_string(), format_iso8601(clock_.now()));
  // A later join gets the history with the times.
  ASSERT_EQ(gw_->message(cid(1), {{"handler", "chat_join"}, {"room", "general"}}).status, 200U);
  const auto history = last_of("chat_joined").at("history").as_array();
  ASSERT_EQ(history.size(), 1U);
  EXPECT_EQ(history[0].as_object().at("sent_at").as_string(), format_iso8601(clock_.now()));
}

TEST_P(chat_rooms_test, the_last_messages_come_from_the_store_history) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(say("m" + std::to_string(i)), 200U);
  const auto said = last_of("chat_message");
  EXPECT_EQ(said.at("apigw").at("channel"), "chat-general");
  EXPECT_EQ(said.at("apigw").at("offset"), 3);
  // A chat_rooms of its own stands for another backend process (or this one restarted).
  chat_ = std::make_unique<examples::chat_rooms>(*site_);
  chat_->install(view_);
  ASSERT_EQ(gw_->message(cid(1), {{"handler", "chat_join"}, {"room", "general"}}).status, 200U);
  const auto history = last_of("chat_joined").at("history").as_array();
  ASSERT_EQ(history.size(), 3U);
  EXPECT_EQ(history[2].at("message"), "m2");
  EXPECT_EQ(history[2].at("id"), said.at("id"));
  EXPECT_FALSE(history[2].as_object().contains("apigw"));
}

INSTANTIATE_TEST_SUITE_P(example, chat_rooms_test, ::testing::Values(linked_provider()), provider_name);

}  // namespace
}  // namespace apigw::dispatch::testing_support
