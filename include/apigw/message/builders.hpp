// apigw/message/builders.hpp: typed builders for the message patterns. Each returns a JSON object
// with a "type" member, or invalid_argument naming the bad argument; nothing is clamped or guessed.
//
//   toast            {"type":"toast","level","title","message"[,"timeout"][,"action_url"]}
//   task_progress    {"type":"task_progress","task_id","percent","message"}
//   task_complete    {"type":"task_complete","task_id"[,"result_url"]}
//   resource_updated {"type":"resource_updated","resource","id","fetch_url"}
//   chat_message     {"type":"chat_message","room","username","message"}
//   system           {"type":"system","level","message"}
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace apigw {

// toast: a pop-up notice. `level` is info|success|warning|error; `timeout_ms` > 0 when given;
// `action_url` an absolute http(s) URL or a path starting with '/'.
result<json::object> toast(std::string_view level, std::string_view title, std::string_view message,
                           std::optional<std::int64_t> timeout_ms = std::nullopt,
                           std::optional<std::string_view> action_url = std::nullopt);

// task_progress: `percent` in 0..100 (anything else is an error), `task_id` non-empty.
result<json::object> task_progress(std::string_view task_id, std::int64_t percent, std::string_view message);

// task_complete: the end of a task, with an optional link to its result.
result<json::object> task_complete(std::string_view task_id, std::optional<std::string_view> result_url = std::nullopt);

// resource_updated: lightweight invalidation; the client refetches `fetch_url`.
result<json::object> resource_updated(std::string_view resource, std::string_view id, std::string_view fetch_url);

// chat_message: a message in a chat room; room, username and message non-empty.
result<json::object> chat_message(std::string_view room, std::string_view username, std::string_view message);

// system: an operator message (maintenance banners); level as for toast.
result<json::object> system(std::string_view level, std::string_view message);

}  // namespace apigw
