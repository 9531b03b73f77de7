// Unit tests of the backend's request lookups: query values (form decoding: '+' is a space, a
// malformed escape kept as it is), headers and cookies.
#include "apigw/dispatch/http.hpp"

#include <gtest/gtest.h>

namespace apigw::dispatch {
namespace {

TEST(DispatchHttp, PercentDecodeIsFormDecoding) {
  EXPECT_EQ(percent_decode("a+b%20c%2B"), "a b c+");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%E2%82%AC"), "\xE2\x82\xAC");
  // A stray or truncated escape is kept literally; the rest still decodes.
  EXPECT_EQ(percent_decode("100%+sure%21"), "100% sure!");
  EXPECT_EQ(percent_decode("%zz%41%4"), "%zzA%4");
  EXPECT_EQ(percent_decode(""), "");
}

TEST(DispatchHttp, QueryValuesAreDecodedAndMatchedByDecodedName) {
  request r;
  r.query = "channel=room+1&ws%5Ftoken=t%2Fk&flag&empty=&channel=second";
  EXPECT_EQ(r.query_value("channel"), "room 1");
  EXPECT_EQ(r.query_value("ws_token"), "t/k");
  EXPECT_EQ(r.query_value("flag"), "");
  EXPECT_EQ(r.query_value("empty"), "");
  EXPECT_FALSE(r.query_value("missing"));
}

TEST(DispatchHttp, HeadersAndCookies) {
  request r;
  r.headers = {{"X-Thing", "one"}, {"Cookie", "a=1; session=\"abc\""}, {"cookie", "b=2"}};
  EXPECT_EQ(r.header_value("x-thing"), "one");
  EXPECT_FALSE(r.header_value("X-Other"));
  EXPECT_EQ(r.cookie("session"), "abc");
  EXPECT_EQ(r.cookie("b"), "2");
  EXPECT_FALSE(r.cookie("c"));
}

}  // namespace
}  // namespace apigw::dispatch
