// Message pattern builders.
#include "apigw/message/builders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace apigw {
namespace {

failure bad(std::string_view what) {
  return failure{core::error::invalid_argument, std::string(what)};
}

result<void> require_text(std::string_view name, std::string_view value) {
  if (value.empty()) return bad(fmt::format("{} must not be empty", name));
  if (!is_valid_utf8(value)) return bad(fmt::format("{} is not valid UTF-8", name));
  return ok();
}

result<void> require_level(std::string_view level) {
  static constexpr std::array<std::string_view, 4> levels{"info", "success", "warning", "error"};
  if (std::find(levels.begin(), levels.end(), level) == levels.end()) {
    return bad(fmt::format("level must be one of info, success, warning, error; got \"{}\"", level));
  }
  return ok();
}

// A link the browser may follow: an absolute http(s) URL or a site path. Rejects javascript: and
// friends, and anything with control characters.
result<void> require_url(std::string_view name, std::string_view url) {
  if (url.empty()) return bad(fmt::format("{} must not be empty", name));
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ') {
      return bad(fmt::format("{} contains a space or control character", name));
    }
  }
  const bool path = url.front() == '/' && !url.starts_with("//");
  const bool absolute = url.starts_with("https://") || url.starts_with("http://");
  if (!path && !absolute) return bad(fmt::format("{} must be an http(s) URL or a path starting with '/'", name));
  return ok();
}

}  // namespace

result<json::object> toast(std::string_view level, std::string_view title, std::string_view message,
                           std::optional<std::int64_t> timeout_ms, std::optional<std::string_view> action_url) {
  if (auto r = require_level(level); !r) return r.error();
  if (auto r = require_text("title", title); !r) return r.error();
  if (auto r = require_text("message", message); !r) return r.error();
  json::object o{{"type", "toast"}, {"level", level}, {"title", title}, {"message", message}};
  if (timeout_ms) {
    if (*timeout_ms <= 0) return bad(fmt::format("timeout must be positive, got {}", *timeout_ms));
    o["timeout"] = *timeout_ms;
  }
  if (action_url) {
    if (auto r = require_url("action_url", *action_url); !r) return r.error();
    o["action_url"] = *action_url;
  }
  return o;
}

result<json::object> task_progress(std::string_view task_id, std::int64_t percent, std::string_view message) {
  if (auto r = require_text("task_id", task_id); !r) return r.error();
  if (percent < 0 || percent > 100) return bad(fmt::format("percent must be 0..100, got {}", percent));
  if (!is_valid_utf8(message)) return bad("message is not valid UTF-8");
  return json::object{{"type", "task_progress"}, {"task_id", task_id}, {"percent", percent}, {"message", message}};
}

result<json::object> task_complete(std::string_view task_id, std::optional<std::string_view> result_url) {
  if (auto r = require_text("task_id", task_id); !r) return r.error();
  json::object o{{"type", "task_complete"}, {"task_id", task_id}};
  if (result_url) {
    if (auto r = require_url("result_url", *result_url); !r) return r.error();
    o["result_url"] = *result_url;
  }
  return o;
}

result<json::object> resource_updated(std::string_view resource, std::string_view id, std::string_view fetch_url) {
  if (auto r = require_text("resource", resource); !r) return r.error();
  if (auto r = require_text("id", id); !r) return r.error();
  if (auto r = require_url("fetch_url", fetch_url); !r) return r.error();
  return json::object{{"type", "resource_updated"}, {"resource", resource}, {"id", id}, {"fetch_url", fetch_url}};
}

result<json::object> chat_message(std::string_view room, std::string_view username, std::string_view message) {
  if (auto r = require_text("room", room); !r) return r.error();
  if (auto r = require_text("username", username); !r) return r.error();
  if (auto r = require_text("message", message); !r) return r.error();
  return json::object{{"type", "chat_message"}, {"room", room}, {"username", username}, {"message", message}};
}

result<json::object> system(std::string_view level, std::string_view message) {
  if (auto r = require_level(level); !r) return r.error();
  if (auto r = require_text("message", message); !r) return r.error();
  return json::object{{"type", "system"}, {"level", level}, {"message", message}};
}

}  // namespace apigw
