#include "apigw/core/json.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace apigw {
namespace {

TEST(json, parse_errors_are_values) {
  auto r = parse_json("{\"a\":");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  auto arr = parse_json_object("[1,2]");
  ASSERT_FALSE(arr);
  EXPECT_NE(arr.error().message.find("expected an object"), std::string::npos);
  auto obj = parse_json_object(R"({"handler":"chat","n":3,"ok":true})");
  ASSERT_TRUE(obj);
  EXPECT_EQ(get_string(*obj, "handler"), "chat");
  EXPECT_EQ(get_int(*obj, "n"), 3);
  EXPECT_EQ(get_bool(*obj, "ok"), true);
  EXPECT_FALSE(get_string(*obj, "n"));
}

TEST(json, size_rule_counts_utf8_bytes_of_the_serialized_message) {
  // 131072 bytes exactly is allowed; one more is not.
  const std::string overhead = R"({"m":""})";
  json::object at_limit{{"m", std::string(k_max_message_bytes - overhead.size(), 'x')}};
  auto ok_text = serialize_message(at_limit);
  ASSERT_TRUE(ok_text);
  EXPECT_EQ(ok_text->size(), k_max_message_bytes);
  json::object over{{"m", std::string(k_max_message_bytes - overhead.size() + 1, 'x')}};
  auto too_big = serialize_message(over);
  ASSERT_FALSE(too_big);
  EXPECT_TRUE(too_big.error() == condition::payload_too_large);
  EXPECT_NE(too_big.error().message.find("131073 bytes"), std::string::npos) << too_big.error().message;
}

TEST(json, non_ascii_is_measured_as_utf8_not_escapes) {
  // "é" is 2 UTF-8 bytes; an ensure_ascii serializer would write 6 ("\u00e9").
  json::object o{{"m", "\xc3\xa9"}};
  auto text = serialize_message(o);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "{\"m\":\"\xc3\xa9\"}");  // 10 bytes
}

TEST(json, non_finite_numbers_are_refused_both_ways) {
  // Found by the json_message fuzz target: 1e999 parses to infinity, which Boost.JSON serializes
  // as text no parser accepts.
  auto r = parse_json(R"({"n":1e999})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("out of range"), std::string::npos);
  auto s = serialize_message(json::object{{"n", std::numeric_limits<double>::infinity()}});
  ASSERT_FALSE(s);
  EXPECT_TRUE(s.error() == condition::invalid_argument);
  EXPECT_TRUE(parse_json("[1e308, -2.5]"));
}

TEST(json, utf8_validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
}

}  // namespace
}  // namespace apigw
