// Private to the gateway: the answers AWS gives, in the shapes the AWS SDKs parse: the exception
// name in x-amzn-ErrorType, a JSON {"message": ...} body, and an x-amzn-RequestId on every answer.
// The Management API (@connections) and the control plane (/v2/...) both answer through these.
#pragma once

#include "apigw/core/ids.hpp"
#include "apigw/net/http_message.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace apigw::gateway::detail {

// aws_error: `status` with the exception `type` and, when not empty, a JSON `body`.
inline net::http_response aws_error(unsigned status, std::string_view type, std::string_view body) {
  net::http_response r;
  r.status = status;
  r.headers.push_back({"x-amzn-ErrorType", std::string(type)});
  if (!body.empty()) {
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = std::string(body);
  }
  return r;
}

// forbidden: 403 ForbiddenException, what API Gateway answers a path it does not serve.
inline net::http_response forbidden() {
  return aws_error(403, "ForbiddenException", R"({"message":"Forbidden"})");
}

// gone: 410 GoneException, the connection does not exist (any more).
inline net::http_response gone() {
  return aws_error(410, "GoneException", "");
}

// too_many_requests: 429 LimitExceededException (an account-style rate or a full queue).
inline net::http_response too_many_requests() {
  return aws_error(429, "LimitExceededException", "");
}

// new_request_id: an id in the form API Gateway's request ids and connection ids take.
inline std::string new_request_id() {
  auto id = new_connection_id();
  return id ? std::move(*id) : std::string("AAAAAAAAAAAAAAA=");
}

// with_request_id: `r` with a fresh x-amzn-RequestId.
inline net::http_response with_request_id(net::http_response r) {
  r.headers.push_back({"x-amzn-RequestId", new_request_id()});
  return r;
}

// text_response: a plain answer (no AWS error type), `content_type` omitted when empty.
inline net::http_response text_response(unsigned status, std::string_view content_type, std::string body) {
  net::http_response r;
  r.status = status;
  if (!content_type.empty()) r.headers.push_back({"Content-Type", std::string(content_type)});
  r.body = std::move(body);
  return r;
}

// with_header: `r` with one more header.
inline net::http_response with_header(net::http_response r, std::string_view name, std::string_view value) {
  r.headers.push_back({std::string(name), std::string(value)});
  return r;
}

}  // namespace apigw::gateway::detail
