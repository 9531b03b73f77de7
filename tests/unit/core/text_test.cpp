// Unit tests of apigw/core/text.hpp: case-insensitive comparison and the percent decoders.
#include "apigw/core/text.hpp"

#include <gtest/gtest.h>

namespace apigw {
namespace {

TEST(text, iequals_ignores_ascii_case_only) {
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_FALSE(iequals("Content-Type", "content-typ"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // not Unicode-aware, by design
}

TEST(text, percent_decode_decodes_each_escape_once) {
  EXPECT_EQ(percent_decode("a%2Fb+c"), "a/b+c");  // '+' is not a space
  EXPECT_EQ(percent_decode("%252F"), "%2F");
  EXPECT_EQ(percent_decode("%e2%82%ac"), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("a%0D%0Ab"), "a\r\nb");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode(""), "");
}

TEST(text, percent_decode_refuses_malformed_escapes) {
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("a%4"), std::nullopt);
  EXPECT_EQ(percent_decode("%g0"), std::nullopt);
  EXPECT_EQ(percent_decode("%0g"), std::nullopt);
  EXPECT_EQ(percent_decode("ok%41%zz"), std::nullopt);
}

TEST(text, percent_decode_lenient_keeps_stray_signs) {
  EXPECT_EQ(percent_decode_lenient("a%2Fb+c"), "a/b+c");
  EXPECT_EQ(percent_decode_lenient("%"), "%");
  EXPECT_EQ(percent_decode_lenient("%4"), "%4");
  EXPECT_EQ(percent_decode_lenient("100%"), "100%");
  EXPECT_EQ(percent_decode_lenient("%41%zz%42"), "A%zzB");
  EXPECT_EQ(percent_decode_lenient("%%41"), "%A");
  EXPECT_EQ(percent_decode_lenient("%4%41"), "%4A");
}

}  // namespace
}  // namespace apigw
