// sigv4/canonical.hpp (private): the building blocks of the SigV4 canonical request, shared by the
// signer (which chooses the headers to sign) and the verifier (which is told them by the client).
#pragma once

#include "apigw/sigv4/signer.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::sigv4::detail {

// split: the pieces of `s` between occurrences of `sep` ("a,,b" -> "a", "", "b"; "" -> "").
std::vector<std::string_view> split(std::string_view s, char sep);

// to_lower: ASCII lower-case copy.
std::string to_lower(std::string_view s);

// iequals: ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

// is_token: a non-empty RFC 9110 token (the characters allowed in a header name or method).
bool is_token(std::string_view s) noexcept;

// trim: `s` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s) noexcept;

// collapse_whitespace: trims a header value and turns every run of whitespace (space, tab, CR, LF,
// VT, FF) into one space, like botocore's `' '.join(value.split())`.
std::string collapse_whitespace(std::string_view value);

// remove_dot_segments: RFC 3986 §5.2.4 plus the collapsing of empty segments that AWS services
// expect ("//a/./b/../c/" -> "/a/c/"); "" -> "/".
std::string remove_dot_segments(std::string_view path);

// uri_encode: percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~), keeping '/'
// when `keep_slash`, and keeping existing %XX escapes when `keep_escapes`. Hex digits are upper-case.
std::string uri_encode(std::string_view s, bool keep_slash, bool keep_escapes);

// percent_decode: decodes %XX escapes; a '%' not followed by two hex digits is kept as it is. '+' is
// not a space.
std::string percent_decode(std::string_view s);

// for_each_header: calls `f(value)` for each header of `headers` named `lower_name`
// (case-insensitively), in order.
template <class F>
void for_each_header(std::span<const header> headers, std::string_view lower_name, F&& f) {
  for (const auto& h : headers) {
    if (iequals(h.name, lower_name)) f(h.value);
  }
}

// canonical_headers: the CanonicalHeaders block ("name:value\n" for each of `names`, which must be
// lower-case, sorted and unique; repeated headers joined with ','). When a name has no header in
// `headers`, returns false and sets `missing` to it.
bool canonical_headers(std::span<const header> headers, std::span<const std::string> names, std::string& out,
                       std::string& missing);

// join_signed_headers: `names` separated by ';' (the SignedHeaders value).
std::string join_signed_headers(std::span<const std::string> names);

// default_signed_headers: the lower-case, sorted, unique names of `headers` that sign() signs: all
// but the ones proxies and HTTP stacks may rewrite (authorization, user-agent, expect,
// x-amzn-trace-id and the hop-by-hop headers), the set the AWS SDK for JavaScript v3 leaves out.
std::vector<std::string> default_signed_headers(std::span<const header> headers);

// assemble_canonical_request: the six lines of the canonical request.
std::string assemble_canonical_request(std::string_view method, std::string_view uri, std::string_view query,
                                       std::string_view headers_block, std::string_view signed_headers,
                                       std::string_view payload_hash);

// assemble_string_to_sign: "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
std::string assemble_string_to_sign(std::string_view amz_date, std::string_view scope,
                                    std::string_view canonical_request_hash);

// credential_scope: "<yyyymmdd>/<region>/<service>/aws4_request".
std::string credential_scope(std::string_view date, std::string_view region, std::string_view service);

}  // namespace apigw::sigv4::detail
