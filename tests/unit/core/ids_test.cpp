#include "apigw/core/ids.hpp"

#include <gtest/gtest.h>

#include <set>

namespace apigw {
namespace {

TEST(ids, connection_ids_have_aws_shape_and_differ) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_connection_id();
    ASSERT_TRUE(id);
    ASSERT_EQ(id->size(), 16U);
    EXPECT_EQ(id->back(), '=');
    EXPECT_TRUE(is_valid_connection_id(*id)) << *id;
    seen.insert(*id);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(ids, connection_id_validation) {
  EXPECT_TRUE(is_valid_connection_id("L0SM9cOFvHcCIhw="));
  EXPECT_TRUE(is_valid_connection_id("a-b_c="));
  EXPECT_FALSE(is_valid_connection_id(""));
  EXPECT_FALSE(is_valid_connection_id("abc def"));
  EXPECT_FALSE(is_valid_connection_id("abc%3D"));
  EXPECT_FALSE(is_valid_connection_id("abc\r\nX-Evil: 1"));
  EXPECT_FALSE(is_valid_connection_id("../../etc"));
  EXPECT_FALSE(is_valid_connection_id(std::string(129, 'a')));
}

TEST(ids, tokens_are_64_hex_and_unique) {
  auto a = new_token_hex();
  auto b = new_token_hex();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(is_token_hex(*a));
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(is_token_hex(std::string(64, 'A')));
  EXPECT_FALSE(is_token_hex(std::string(63, 'a')));
}

TEST(ids, hex_and_constant_time_compare) {
  EXPECT_EQ(to_hex(std::string_view("\x00\xff\x10", 3)), "00ff10");
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
}

}  // namespace
}  // namespace apigw
