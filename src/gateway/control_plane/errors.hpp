// Private to the control plane: the error answers the AWS SDKs understand (the exception name in
// x-amzn-ErrorType, {"message": ...} as the body, resourceType on NotFoundException), built on the
// AWS error shapes the Management API answers with too (gateway/aws_errors.hpp).
#pragma once

#include "gateway/aws_errors.hpp"
#include "gateway/control_plane/answer.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace apigw::gateway::detail::cp {

// error_answer: `status` with the exception `type`, `message`, and `resource_type` when not empty.
inline answer error_answer(unsigned status, std::string_view type, std::string_view message,
                           std::string_view resource_type = {}) {
  json::object body{{"message", message}};
  if (!resource_type.empty()) body["resourceType"] = resource_type;
  answer a;
  a.response = aws_error(status, type, json::serialize(body));
  return a;
}

// bad_request: 400 BadRequestException.
inline answer bad_request(std::string_view message) {
  return error_answer(400, "BadRequestException", message);
}

// not_found: 404 NotFoundException "Invalid {what} identifier specified {id}", resourceType `what`.
inline answer not_found(std::string_view what, std::string_view id) {
  return error_answer(404, "NotFoundException", fmt::format("Invalid {} identifier specified {}", what, id), what);
}

// conflict: 409 ConflictException.
inline answer conflict(std::string_view message) {
  return error_answer(409, "ConflictException", message);
}

}  // namespace apigw::gateway::detail::cp
