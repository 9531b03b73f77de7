#include "apigw/sigv4/signer.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/sigv4/error.hpp"
#include "unit/sigv4/support.hpp"

#include <gtest/gtest.h>

namespace apigw::sigv4 {
namespace {

using namespace test_support;

signing_params suite_params() {
  signing_params p;
  p.region = k_suite_region;
  p.service = k_suite_service;
  p.time = k_suite_time;
  p.double_encode_path = false;  // the suite's vectors are single-encoded
  p.normalize_path = true;       // and expect normalisation (normalize-path/*)
  return p;
}

// ---- The AWS SigV4 test suite: every vector, byte for byte ----

class sigv4_aws4_suite : public ::testing::TestWithParam<suite_case> {};

TEST_P(sigv4_aws4_suite, canonical_request_string_to_sign_and_authorization_match) {
  const suite_case& c = GetParam();
  if (c.dir.empty()) FAIL() << "AWS SigV4 test suite not found at " << suite_dir();
  auto req = parse_req(read_file(c.file(".req")));
  ASSERT_TRUE(req) << "cannot parse " << c.file(".req");

  // The suite signs with temporary credentials where its signed request carries a token, except in
  // post-sts-header-after, where the token is added after signing (see post-sts-token/readme.txt).
  credentials creds{std::string(k_suite_access_key), std::string(k_suite_secret), {}};
  if (c.stem != "post-sts-header-after") {
    auto sreq = parse_req(read_file(c.file(".sreq")));
    ASSERT_TRUE(sreq);
    creds.session_token = header_value(sreq->headers, "X-Amz-Security-Token");
  }

  const signing_params params = suite_params();
  auto added = sign(req->view(), creds, params);
  ASSERT_TRUE(added) << added.error().message;
  for (const auto& h : *added) req->set(h.name, h.value);

  auto creq = canonical_request(req->view(), params);
  ASSERT_TRUE(creq) << creq.error().message;
  EXPECT_EQ(*creq, read_file(c.file(".creq")));

  auto sts = string_to_sign(*creq, params.time, params.region, params.service);
  ASSERT_TRUE(sts) << sts.error().message;
  EXPECT_EQ(*sts, read_file(c.file(".sts")));

  EXPECT_EQ(header_value(*added, "Authorization"), read_file(c.file(".authz")));
  EXPECT_EQ(header_value(*added, "X-Amz-Date"), "20150830T123600Z");
}

INSTANTIATE_TEST_SUITE_P(vectors, sigv4_aws4_suite, ::testing::ValuesIn(list_suite_cases()), case_name);

// ---- botocore: the same Authorization for every request the SDK signs ----

TEST(sigv4_signer_botocore, authorization_matches_botocore_for_execute_api_requests) {
  const botocore_run& run = run_botocore_script();
  if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
  ASSERT_TRUE(run.cases) << run.error;
  ASSERT_GE(run.cases->size(), 100U);
  std::size_t compared = 0;
  for (const auto& v : *run.cases) {
    const botocore_case c = to_case(v);
    SCOPED_TRACE(c.name);
    ASSERT_EQ(c.amz_date, format_amz_date(k_botocore_time));
    // Given a Date header, botocore signs it in place of X-Amz-Date; sign() always uses X-Amz-Date,
    // so those requests are only verified (verifier_test).
    if (!header_value(c.signing_headers, "Date").empty()) continue;
    ++compared;
    signing_params params;
    params.region = c.region;
    params.time = k_botocore_time;
    auto added = sign(c.signing_request(), c.creds, params);
    ASSERT_TRUE(added) << added.error().message;
    EXPECT_EQ(header_value(*added, "Authorization"), c.authorization);
    EXPECT_EQ(header_value(*added, "X-Amz-Security-Token"), c.creds.session_token);
  }
  EXPECT_GE(compared, run.cases->size() - 2);
}

// ---- Canonicalisation rules ----

TEST(sigv4_canonical_uri, execute_api_paths_are_double_encoded) {
  // semantics §5.4: the wire path's own escapes are encoded again; '@' becomes %40.
  EXPECT_EQ(canonical_uri("/dev/@connections/abc%3D", true, true), "/dev/%40connections/abc%253D");
  EXPECT_EQ(canonical_uri("/production/@connections/e_d2EewNLPECIGw%3D", true, true),
            "/production/%40connections/e_d2EewNLPECIGw%253D");
  EXPECT_EQ(canonical_uri("/prod/%40connections/R0oXAdfD0kwCH6w%3D", true, true),
            "/prod/%2540connections/R0oXAdfD0kwCH6w%253D");
  EXPECT_EQ(canonical_uri("/@connections/a%2Bb%2Fc%3D", true, true), "/%40connections/a%252Bb%252Fc%253D");
}

TEST(sigv4_canonical_uri, single_encoding_keeps_escapes_and_encodes_the_rest) {
  EXPECT_EQ(canonical_uri("/dev/@connections/abc%3D", false, true), "/dev/%40connections/abc%3D");
  EXPECT_EQ(canonical_uri("/example space/", false, true), "/example%20space/");
  EXPECT_EQ(canonical_uri("/\xE1\x88\xB4", false, true), "/%E1%88%B4");
  EXPECT_EQ(canonical_uri("/100%", false, true), "/100%25");  // a lone '%' is not an escape
  EXPECT_EQ(canonical_uri("/-._~AZaz09", false, true), "/-._~AZaz09");
}

TEST(sigv4_canonical_uri, normalisation) {
  EXPECT_EQ(canonical_uri("", true, true), "/");
  EXPECT_EQ(canonical_uri("/", true, true), "/");
  EXPECT_EQ(canonical_uri("//", true, true), "/");
  EXPECT_EQ(canonical_uri("//example//", true, true), "/example/");
  EXPECT_EQ(canonical_uri("/a/./b/../c", true, true), "/a/c");
  EXPECT_EQ(canonical_uri("/../../a", true, true), "/a");
  EXPECT_EQ(canonical_uri("/a/b/../..", true, true), "/");
  EXPECT_EQ(canonical_uri("/a/%2E%2E/b", true, true), "/a/%252E%252E/b");  // encoded dots are not segments
  EXPECT_EQ(canonical_uri("//example//", true, false), "//example//");     // S3: no normalisation
}

TEST(sigv4_canonical_query_string, sorted_by_encoded_name_then_value) {
  EXPECT_EQ(canonical_query_string(""), "");
  EXPECT_EQ(canonical_query_string("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
  EXPECT_EQ(canonical_query_string("Param1=value2&Param1=Value1"), "Param1=Value1&Param1=value2");
  EXPECT_EQ(canonical_query_string("b=2&a=1&a=0&c=x%20y&d"), "a=0&a=1&b=2&c=x%20y&d=");
  // Names sort after encoding: "%E1..." < "P...".
  EXPECT_EQ(canonical_query_string("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
}

TEST(sigv4_canonical_query_string, aws_encoding_rules) {
  EXPECT_EQ(canonical_query_string("\xE1\x88\xB4=bar"), "%E1%88%B4=bar");
  EXPECT_EQ(canonical_query_string("k=a+b"), "k=a%2Bb");        // '+' is a plus sign
  EXPECT_EQ(canonical_query_string("k=%2f%3d"), "k=%2F%3D");    // escapes upper-cased
  EXPECT_EQ(canonical_query_string("k=a/b:c"), "k=a%2Fb%3Ac");  // reserved characters encoded
  EXPECT_EQ(canonical_query_string("k=%7E%41"), "k=~A");        // unreserved characters decoded
  EXPECT_EQ(canonical_query_string("a=1&&b=2&"), "a=1&b=2");    // empty components dropped
  EXPECT_EQ(canonical_query_string("k==v"), "k=%3Dv");
  EXPECT_EQ(canonical_query_string("k=100%"), "k=100%25");
}

TEST(sigv4_signing_key, matches_the_documented_example) {
  // AWS documentation's example key derivation (secret of the test suite, 20150830, us-east-1, iam).
  auto key = signing_key(k_suite_secret, "20150830", "us-east-1", "iam");
  ASSERT_TRUE(key);
  EXPECT_EQ(to_hex(*key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

// ---- sign(): what it adds, and what it refuses ----

struct owned_request {
  std::vector<header> headers{{"Host", "abc.execute-api.us-east-1.amazonaws.com"}};
  request view(std::string_view body = {}) const {
    return request{"POST", "/dev/@connections/abc%3D", "", headers, body};
  }
};

signing_params eu_params() {
  signing_params p;
  p.region = "eu-west-1";
  p.time = k_botocore_time;
  return p;
}

TEST(sigv4_sign, adds_date_token_and_authorization) {
  owned_request r;
  auto added = sign(r.view("{}"), credentials{"AKID", "secret", "token"}, eu_params());
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_EQ(added->size(), 3U);
  EXPECT_EQ((*added)[0].name, "X-Amz-Date");
  EXPECT_EQ((*added)[0].value, "20250305T100000Z");
  EXPECT_EQ((*added)[1].name, "X-Amz-Security-Token");
  EXPECT_EQ((*added)[1].value, "token");
  EXPECT_EQ((*added)[2].name, "Authorization");
  EXPECT_EQ((*added)[2].value.rfind("AWS4-HMAC-SHA256 Credential=AKID/20250305/eu-west-1/execute-api/aws4_request, "
                                    "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=",
                                    0),
            0U)
      << (*added)[2].value;

  auto permanent = sign(r.view("{}"), credentials{"AKID", "secret", ""}, eu_params());
  ASSERT_TRUE(permanent);
  EXPECT_EQ(permanent->size(), 2U);
}

TEST(sigv4_sign, replaces_stale_date_token_and_authorization) {
  owned_request fresh;
  owned_request stale;
  stale.headers.push_back({"x-amz-date", "20000101T000000Z"});
  stale.headers.push_back({"X-Amz-Security-Token", "old"});
  stale.headers.push_back({"Authorization", "AWS4-HMAC-SHA256 old"});
  const credentials creds{"AKID", "secret", "token"};
  auto a = sign(fresh.view(), creds, eu_params());
  auto b = sign(stale.view(), creds, eu_params());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(header_value(*a, "Authorization"), header_value(*b, "Authorization"));
}

TEST(sigv4_sign, leaves_headers_proxies_rewrite_unsigned) {
  owned_request r;
  r.headers.push_back({"User-Agent", "apigw-ws/0.1"});
  r.headers.push_back({"Connection", "keep-alive"});
  r.headers.push_back({"Content-Type", "application/json"});
  auto added = sign(r.view(), credentials{"AKID", "secret", ""}, eu_params());
  ASSERT_TRUE(added);
  EXPECT_NE(header_value(*added, "Authorization").find("SignedHeaders=content-type;host;x-amz-date,"),
            std::string::npos);
}

TEST(sigv4_sign, body_changes_the_signature) {
  owned_request r;
  auto a = sign(r.view("a"), credentials{"AKID", "secret", ""}, eu_params());
  auto b = sign(r.view("b"), credentials{"AKID", "secret", ""}, eu_params());
  ASSERT_TRUE(a && b);
  EXPECT_NE(header_value(*a, "Authorization"), header_value(*b, "Authorization"));
}

TEST(sigv4_sign, refuses_requests_and_credentials_it_cannot_sign) {
  const credentials good{"AKID", "secret", ""};
  const std::vector<header> no_host{{"Content-Type", "text/plain"}};
  auto r = sign(request{"POST", "/", "", no_host, ""}, good, eu_params());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_request);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  EXPECT_NE(r.error().message.find("Host"), std::string::npos);

  owned_request ok_req;
  r = sign(ok_req.view(), credentials{"", "secret", ""}, eu_params());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_credentials);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  r = sign(ok_req.view(), credentials{"AKID", "", ""}, eu_params());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == condition::invalid_argument);
  r = sign(ok_req.view(), credentials{"AK/ID", "secret", ""}, eu_params());
  EXPECT_FALSE(r);
  r = sign(ok_req.view(), credentials{"AKID", "secret", "tok\r\nX-Evil: 1"}, eu_params());
  EXPECT_FALSE(r);

  signing_params no_region = eu_params();
  no_region.region.clear();
  r = sign(ok_req.view(), good, no_region);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_request);

  const std::vector<header> host{{"Host", "h"}};
  EXPECT_FALSE(sign(request{"", "/", "", host, ""}, good, eu_params()));
  EXPECT_FALSE(sign(request{"GET", "relative", "", host, ""}, good, eu_params()));
  const std::vector<header> bad_name{{"Host", "h"}, {"Bad Name", "v"}};
  EXPECT_FALSE(sign(request{"GET", "/", "", bad_name, ""}, good, eu_params()));
  EXPECT_FALSE(canonical_request(request{"GET", "/", "", no_host, ""}, eu_params()));
}

}  // namespace
}  // namespace apigw::sigv4
