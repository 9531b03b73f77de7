#include "apigw/sigv4/verifier.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/sigv4/error.hpp"
#include "unit/sigv4/support.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>

namespace apigw::sigv4 {
namespace {

using namespace test_support;
using namespace std::chrono_literals;

const credentials k_permanent{"AKIDPERMANENT", "permanent-secret", ""};
const credentials k_temporary{"ASIATEMPORARY", "temporary-secret", "session-token-value"};

// A signed @connections request, as the Management API client would send it.
parsed_request signed_request(const credentials& creds, clock::time_point at, std::string region = "us-east-1",
                              std::string path = "/dev/@connections/R1kmxc2VNjMCFIA%3D") {
  parsed_request r;
  r.method = "POST";
  r.path = std::move(path);
  r.body = R"({"message":"hi"})";
  r.headers = {{"Host", "abc123.execute-api.us-east-1.amazonaws.com"}, {"Content-Type", "application/json"}};
  signing_params p;
  p.region = std::move(region);
  p.time = at;
  auto added = sign(r.view(), creds, p);
  EXPECT_TRUE(added) << added.error().message;
  if (added) {
    for (const auto& h : *added) r.set(h.name, h.value);
  }
  return r;
}

verify_params params_at(clock::time_point now) {
  verify_params p;
  p.now = now;
  return p;
}

const key_lookup k_keys = static_keys({k_permanent, k_temporary});
const clock::time_point k_t0 = k_botocore_time;

// ---- The AWS SigV4 test suite: every signed vector verifies; one flipped byte does not ----

class sigv4_aws4_suite_verify : public ::testing::TestWithParam<suite_case> {};

TEST_P(sigv4_aws4_suite_verify, signed_vector_verifies_and_tampering_fails) {
  const suite_case& c = GetParam();
  if (c.dir.empty()) FAIL() << "AWS SigV4 test suite not found at " << suite_dir();
  auto req = parse_req(read_file(c.file(".req")));
  auto sreq = parse_req(read_file(c.file(".sreq")));
  ASSERT_TRUE(req && sreq);
  const std::string token = header_value(sreq->headers, "X-Amz-Security-Token");
  const bool token_after = c.stem == "post-sts-header-after";  // token added after signing

  signing_params sp;
  sp.region = k_suite_region;
  sp.service = k_suite_service;
  sp.time = k_suite_time;
  sp.double_encode_path = false;
  auto added = sign(
      req->view(),
      credentials{std::string(k_suite_access_key), std::string(k_suite_secret), token_after ? std::string() : token},
      sp);
  ASSERT_TRUE(added) << added.error().message;
  for (const auto& h : *added) req->set(h.name, h.value);
  if (token_after) req->set("X-Amz-Security-Token", token);
  ASSERT_EQ(header_value(req->headers, "Authorization"), read_file(c.file(".authz")));

  verify_params vp;
  vp.service = k_suite_service;
  vp.region = std::string(k_suite_region);
  vp.now = k_suite_time;
  vp.double_encode_path = false;
  const key_lookup keys =
      static_keys({credentials{std::string(k_suite_access_key), std::string(k_suite_secret), token}});
  auto id = verify(req->view(), keys, vp);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->access_key_id, k_suite_access_key);
  EXPECT_EQ(id->service, k_suite_service);
  EXPECT_EQ(id->temporary, !token.empty());

  parsed_request bad_signature = *req;
  std::string authz = header_value(req->headers, "Authorization");
  authz.back() = authz.back() == '0' ? '1' : '0';
  bad_signature.set("Authorization", authz);
  auto r = verify(bad_signature.view(), keys, vp);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::signature_mismatch) << r.error().message;

  parsed_request bad_body = *req;
  if (bad_body.body.empty()) {
    bad_body.body = "x";
  } else {
    bad_body.body[0] = static_cast<char>(bad_body.body[0] ^ 1);
  }
  r = verify(bad_body.view(), keys, vp);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::signature_mismatch) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(vectors, sigv4_aws4_suite_verify, ::testing::ValuesIn(list_suite_cases()), case_name);

// ---- botocore: every request the SDK signs verifies, also with '@' and "%40" swapped ----

std::string swap_at_sign(std::string_view path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '@') {
      out.append("%40");
    } else if (path.substr(i, 3) == "%40") {
      out.push_back('@');
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

TEST(sigv4_verifier_botocore, accepts_every_botocore_signature_and_rejects_tampering) {
  const botocore_run& run = run_botocore_script();
  if (!run.skip_reason.empty()) GTEST_SKIP() << run.skip_reason;
  ASSERT_TRUE(run.cases) << run.error;
  for (const auto& v : *run.cases) {
    const botocore_case c = to_case(v);
    SCOPED_TRACE(c.name);
    verify_params p = params_at(k_botocore_time + 90s);
    p.region = c.region;
    const key_lookup keys = static_keys({c.creds});
    request wire = c.wire_request();
    auto id = verify(wire, keys, p);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(id->access_key_id, c.creds.access_key_id);
    EXPECT_EQ(id->region, c.region);
    EXPECT_EQ(id->service, "execute-api");
    EXPECT_EQ(id->signed_at, k_botocore_time);

    const std::string swapped = swap_at_sign(c.path);
    if (swapped != c.path) {
      wire.path = swapped;
      auto r = verify(wire, keys, p);
      EXPECT_TRUE(r) << "path " << swapped << ": " << r.error().message;
      wire.path = c.path;
    }

    const std::string other_body = c.body + "!";
    wire.body = other_body;
    auto r = verify(wire, keys, p);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == error::signature_mismatch);
  }
}

// ---- Time: X-Amz-Date within ±max_skew of now ----

TEST(sigv4_verify, skew_window_is_five_minutes_either_way) {
  manual_clock clk(k_t0);
  const parsed_request req = signed_request(k_permanent, clk.now());
  EXPECT_TRUE(verify(req.view(), k_keys, params_at(clk.now())));

  clk.advance(5min);
  EXPECT_TRUE(verify(req.view(), k_keys, params_at(clk.now())));
  clk.advance(1s);
  auto r = verify(req.view(), k_keys, params_at(clk.now()));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::request_time_skewed);
  EXPECT_TRUE(r.error() == condition::forbidden);
  EXPECT_NE(r.error().message.find("301 s before"), std::string::npos) << r.error().message;

  clk.set(k_t0 - 5min);
  EXPECT_TRUE(verify(req.view(), k_keys, params_at(clk.now())));
  clk.advance(-1s);
  r = verify(req.view(), k_keys, params_at(clk.now()));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::request_time_skewed);
  EXPECT_NE(r.error().message.find("after"), std::string::npos) << r.error().message;

  verify_params wide = params_at(k_t0 + 14min);
  wide.max_skew = 15min;
  EXPECT_TRUE(verify(req.view(), k_keys, wide));
}

TEST(sigv4_verify, date_header_is_accepted_when_signed) {
  // Sign by hand with a Date header instead of X-Amz-Date (botocore does this when the request has
  // a Date header; the botocore test covers its "-0000" form).
  parsed_request r;
  r.method = "GET";
  r.path = "/dev/@connections/abc%3D";
  r.headers = {{"Host", "h.example"}, {"Date", "Wed, 05 Mar 2025 10:00:00 GMT"}};
  signing_params sp;
  sp.region = "us-east-1";
  sp.time = k_t0;
  auto creq = canonical_request(r.view(), sp);
  ASSERT_TRUE(creq);
  auto sts = string_to_sign(*creq, k_t0, "us-east-1", "execute-api");
  auto key = signing_key(k_permanent.secret_access_key, "20250305", "us-east-1", "execute-api");
  ASSERT_TRUE(sts && key);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()), reinterpret_cast<const unsigned char*>(sts->data()),
       sts->size(), mac.data(), &len);
  const std::string signature = to_hex(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
  r.set("Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDPERMANENT/20250305/us-east-1/execute-api/aws4_request, "
        "SignedHeaders=date;host, Signature=" +
            signature);
  auto id = verify(r.view(), k_keys, params_at(k_t0));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->signed_at, k_t0);

  parsed_request garbled = r;
  garbled.set("Date", "yesterday");
  auto bad = verify(garbled.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error() == error::invalid_date);

  parsed_request no_date = r;
  std::erase_if(no_date.headers, [](const header& h) { return h.name == "Date"; });
  bad = verify(no_date.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error() == error::missing_date);
}

TEST(sigv4_verify, date_and_scope_checks) {
  parsed_request req = signed_request(k_permanent, k_t0);
  parsed_request bad = req;
  bad.set("X-Amz-Date", "20250305T250000Z");
  auto r = verify(bad.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_date);

  // A request time on another day than the scope's.
  bad.set("X-Amz-Date", "20250306T000100Z");
  r = verify(bad.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::scope_mismatch) << r.error().message;

  verify_params other_service = params_at(k_t0);
  other_service.service = "s3";
  r = verify(req.view(), k_keys, other_service);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::scope_mismatch);

  verify_params pinned = params_at(k_t0);
  pinned.region = "eu-west-1";
  r = verify(req.view(), k_keys, pinned);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::scope_mismatch);
  EXPECT_NE(r.error().message.find("us-east-1"), std::string::npos);

  // Without a pinned region any region is accepted and reported.
  const parsed_request tokyo = signed_request(k_permanent, k_t0, "ap-northeast-1");
  auto id = verify(tokyo.view(), k_keys, params_at(k_t0));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->region, "ap-northeast-1");
  EXPECT_EQ(id->signed_headers, (std::vector<std::string>{"content-type", "host", "x-amz-date"}));
  EXPECT_FALSE(id->temporary);
}

// ---- Keys ----

TEST(sigv4_verify, wrong_secret_and_unknown_key) {
  const parsed_request req = signed_request(credentials{"AKIDPERMANENT", "not-the-secret", ""}, k_t0);
  auto r = verify(req.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::signature_mismatch);
  EXPECT_TRUE(r.error() == condition::forbidden);
  EXPECT_NE(r.error().message.find("canonical request"), std::string::npos);

  const parsed_request stranger = signed_request(credentials{"AKIDSTRANGER", "secret", ""}, k_t0);
  r = verify(stranger.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::unknown_access_key);
  EXPECT_NE(r.error().message.find("AKIDSTRANGER"), std::string::npos);

  r = verify(stranger.view(), key_lookup{}, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::unknown_access_key);
}

TEST(sigv4_verify, tampered_request_fails) {
  const parsed_request req = signed_request(k_permanent, k_t0);
  ASSERT_TRUE(verify(req.view(), k_keys, params_at(k_t0)));
  const auto mismatch = [&](const parsed_request& r) {
    auto v = verify(r.view(), k_keys, params_at(k_t0));
    return !v && v.error() == error::signature_mismatch;
  };
  parsed_request t = req;
  t.method = "DELETE";
  EXPECT_TRUE(mismatch(t));
  t = req;
  t.path = "/dev/@connections/OTHERxc2VNjMCFIA%3D";
  EXPECT_TRUE(mismatch(t));
  t = req;
  t.query = "x=1";
  EXPECT_TRUE(mismatch(t));
  t = req;
  t.set("Content-Type", "text/plain");
  EXPECT_TRUE(mismatch(t));
  t = req;
  t.set("Host", "evil.example");
  EXPECT_TRUE(mismatch(t));
  // Unsigned headers may change.
  t = req;
  t.set("User-Agent", "whatever");
  t.set("X-Forwarded-For", "203.0.113.7");
  EXPECT_TRUE(verify(t.view(), k_keys, params_at(k_t0)));
  // A signed header that is gone.
  t = req;
  std::erase_if(t.headers, [](const header& h) { return h.name == "Content-Type"; });
  auto v = verify(t.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(v);
  EXPECT_TRUE(v.error() == error::signature_mismatch);
  EXPECT_NE(v.error().message.find("content-type"), std::string::npos);
}

TEST(sigv4_verify, at_sign_and_percent_40_are_the_same_path) {
  const parsed_request at = signed_request(k_permanent, k_t0, "us-east-1", "/dev/@connections/abc%3D");
  parsed_request wire = at;
  wire.path = "/dev/%40connections/abc%3D";
  EXPECT_TRUE(verify(wire.view(), k_keys, params_at(k_t0)));
  const parsed_request encoded = signed_request(k_permanent, k_t0, "us-east-1", "/dev/%40connections/abc%3D");
  wire = encoded;
  wire.path = "/dev/@connections/abc%3D";
  EXPECT_TRUE(verify(wire.view(), k_keys, params_at(k_t0)));
  // The id itself is not interchangeable: %3D decoded to '=' is another canonical path.
  wire.path = "/dev/@connections/abc=";
  EXPECT_FALSE(verify(wire.view(), k_keys, params_at(k_t0)));
}

// ---- Session tokens ----

TEST(sigv4_verify, session_token_required_and_compared) {
  const parsed_request req = signed_request(k_temporary, k_t0);
  auto id = verify(req.view(), k_keys, params_at(k_t0));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(id->temporary);

  parsed_request no_token = req;
  std::erase_if(no_token.headers, [](const header& h) { return h.name == "X-Amz-Security-Token"; });
  auto r = verify(no_token.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::missing_security_token);

  parsed_request wrong = req;
  wrong.set("X-Amz-Security-Token", "session-token-valuf");
  r = verify(wrong.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_security_token);
  EXPECT_TRUE(r.error() == condition::forbidden);

  // A token on a permanent key is refused, not ignored.
  parsed_request extra = signed_request(k_permanent, k_t0);
  extra.headers.push_back({"X-Amz-Security-Token", "stray"});
  r = verify(extra.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::invalid_security_token);

  // The token never appears in a mismatch message.
  const parsed_request forged = signed_request(credentials{"ASIATEMPORARY", "guess", "session-token-value"}, k_t0);
  r = verify(forged.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::signature_mismatch);
  EXPECT_EQ(r.error().message.find("session-token-value"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("x-amz-security-token:<redacted>"), std::string::npos);
}

// ---- Missing and malformed Authorization ----

TEST(sigv4_verify, missing_authorization) {
  parsed_request req = signed_request(k_permanent, k_t0);
  std::erase_if(req.headers, [](const header& h) { return h.name == "Authorization"; });
  auto r = verify(req.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::missing_authorization);
  EXPECT_TRUE(r.error() == condition::forbidden);

  req.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc";
  r = verify(req.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("presigned"), std::string::npos);
}

TEST(sigv4_verify, every_truncation_of_a_valid_header_is_malformed) {
  const parsed_request req = signed_request(k_temporary, k_t0);
  const std::string full = header_value(req.headers, "Authorization");
  for (std::size_t n = 0; n < full.size(); ++n) {
    parsed_request t = req;
    t.set("Authorization", full.substr(0, n));
    auto r = verify(t.view(), k_keys, params_at(k_t0));
    ASSERT_FALSE(r) << n;
    EXPECT_TRUE(r.error() == error::malformed_authorization) << n << ": " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(sigv4_verify, malformed_authorization_table) {
  const std::string sig(64, 'a');
  const std::string cred = "Credential=AKIDPERMANENT/20250305/us-east-1/execute-api/aws4_request";
  struct row {
    std::string value;
    std::string says;
  };
  const std::vector<row> rows = {
      {"", "unsupported scheme"},
      {"Bearer abc", "unsupported scheme \"Bearer\""},
      {"AWS4-ECDSA-P256-SHA256 " + cred, "unsupported scheme"},
      {"AWS4-HMAC-SHA256", "expected a space"},
      {"AWS4-HMAC-SHA256Credential=x", "expected a space"},
      {"AWS4-HMAC-SHA256 ,", "empty parameter"},
      {"AWS4-HMAC-SHA256 ,,,", "empty parameter"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date", "Signature is missing"},
      {"AWS4-HMAC-SHA256 " + cred + ", Signature=" + sig, "SignedHeaders is missing"},
      {"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" + sig, "Credential is missing"},
      {"AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig,
       "more than once"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig + ", Extra=1",
       "unknown parameter"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders, Signature=" + sig, "has no '='"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, Signature=" + sig, "empty"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20250305/us-east-1/execute-api, SignedHeaders=host;x-amz-date, Signature=" +
           sig,
       "is not <access key>"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20250305/us-east-1/execute-api/aws4_request/x, SignedHeaders=host, "
       "Signature=" +
           sig,
       "is not <access key>"},
      {"AWS4-HMAC-SHA256 Credential=/20250305/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=" + sig,
       "is not <access key>"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20250305//execute-api/aws4_request, SignedHeaders=host, Signature=" + sig,
       "is not <access key>"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20250305/us-east-1/execute-api/aws5_request, SignedHeaders=host, Signature=" +
           sig,
       "is not <access key>"},
      {"AWS4-HMAC-SHA256 Credential=AKID/20251305/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=" +
           sig,
       "not a valid YYYYMMDD"},
      {"AWS4-HMAC-SHA256 Credential=AKID/2025035/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=" +
           sig,
       "not a valid YYYYMMDD"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, Signature=" + sig, "not sorted"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host;x-amz-date, Signature=" + sig, "not sorted"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, Signature=" + sig, "non-lower-case"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, Signature=" + sig, "empty or non-lower-case"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;x-amz-date, Signature=" + sig,
       "does not include host"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig, "does not include x-amz-date"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig.substr(1), "64 lower-case hex"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + std::string(64, 'A'),
       "64 lower-case hex"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + std::string(64, 'g'),
       "64 lower-case hex"},
      {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig + "0", "64 lower-case hex"},
      {"AWS4-HMAC-SHA256 Credential=AKID /20250305/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=" +
           sig,
       "contains spaces"},
      {std::string("AWS4-HMAC-SHA256 Credential=\x01\xff/x, SignedHeaders=host, Signature=") + sig,
       "is not <access key>"},
      {std::string("AWS4-HMAC-SHA256 Credential=AKID/20250305/us-\x01"
                   "east-1/execute-api/aws4_request, "
                   "SignedHeaders=host, Signature=") +
           sig,
       "control or non-ASCII"},
  };
  const parsed_request base = signed_request(k_permanent, k_t0);
  for (const auto& row : rows) {
    parsed_request t = base;
    t.set("Authorization", row.value);
    auto r = verify(t.view(), k_keys, params_at(k_t0));
    ASSERT_FALSE(r) << row.value;
    EXPECT_TRUE(r.error() == error::malformed_authorization) << row.value << " -> " << r.error().message;
    EXPECT_NE(r.error().message.find(row.says), std::string::npos) << row.value << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.find('\x01'), std::string::npos);  // hostile bytes are not echoed
  }

  parsed_request twice = base;
  twice.headers.push_back({"authorization", header_value(base.headers, "Authorization")});
  auto r = verify(twice.view(), k_keys, params_at(k_t0));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == error::malformed_authorization);
}

TEST(sigv4_verify, tolerates_spacing_variants_the_sdks_send) {
  const parsed_request base = signed_request(k_permanent, k_t0);
  const std::string full = header_value(base.headers, "Authorization");
  // "a, b, c" (botocore, JS v3) and "a,b,c" (some other clients), and surrounding whitespace.
  std::string compact = full;
  for (std::size_t at; (at = compact.find(", ")) != std::string::npos;) compact.erase(at + 1, 1);
  for (const std::string& v : {compact, "  " + full + "  ", std::string(full).insert(16, "  ")}) {
    parsed_request t = base;
    t.set("Authorization", v);
    auto r = verify(t.view(), k_keys, params_at(k_t0));
    EXPECT_TRUE(r) << v << ": " << r.error().message;
  }
}

TEST(sigv4_verify, mutated_headers_never_crash_and_never_pass_as_another_key) {
  const parsed_request base = signed_request(k_permanent, k_t0);
  const std::string full = header_value(base.headers, "Authorization");
  std::uint32_t state = 12345;
  const auto next = [&state] {
    state = state * 1664525U + 1013904223U;
    return state >> 8;
  };
  for (int i = 0; i < 2000; ++i) {
    std::string v = full;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = next() % (v.size() + 1);
      switch (next() % 3) {
        case 0:
          if (at < v.size()) v[at] = static_cast<char>(next() & 0xff);
          break;
        case 1:
          if (at < v.size()) v.erase(at, 1 + next() % 8);
          break;
        default:
          v.insert(at, 1, ",;=/ \t"[next() % 6]);
      }
    }
    parsed_request t = base;
    t.set("Authorization", v);
    auto r = verify(t.view(), k_keys, params_at(k_t0));
    if (r) {
      EXPECT_EQ(r->access_key_id, "AKIDPERMANENT") << v;
    } else {
      EXPECT_TRUE(r.error() == condition::forbidden) << v << " -> " << r.error().message;
    }
  }
}

TEST(sigv4_parse_authorization, splits_the_parts) {
  auto a = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;my-header1;x-amz-date, "
      "Signature=cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "service");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "my-header1", "x-amz-date"}));
  EXPECT_EQ(a->signature, "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd");

  // Parameter order is free.
  auto b = parse_authorization(
      "AWS4-HMAC-SHA256 Signature=cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd,"
      "SignedHeaders=host;x-amz-date,Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->access_key_id, "AKIDEXAMPLE");
}

}  // namespace
}  // namespace apigw::sigv4
