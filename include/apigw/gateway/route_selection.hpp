// apigw/gateway/route_selection.hpp: the route selection expression of a WebSocket API
// (`$request.body.action`, `${request.body.service}/${request.body.action}`, `\$default`) and
// the choice of a route for one incoming message, as API Gateway makes it (spec §2.1).
//
// Pure: no I/O, no clock. The expression is parsed once when the configuration is loaded and
// evaluated for every message; the message itself is parsed at most once on its way through the
// gateway (`message_body`), however many readers (route selection, request mappings) it has.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/core/json.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::gateway {

// selection_expression: a parsed route selection expression: literal text and
// `request.body` JSON paths, in order.
struct selection_expression {
  // part: a literal (path empty, is_variable false) or a JSON path into the message body.
  struct part {
    bool is_variable = false;
    std::string literal;            // when !is_variable
    std::vector<std::string> path;  // member names (or array indices written as digits)
  };
  std::vector<part> parts;
  std::string text;  // the expression as written

  // uses_body: true when some part reads the message body.
  bool uses_body() const noexcept;
};

// message_body: one client message and its JSON value, parsed on first use and kept, so route
// selection and the integration's mappings share one parse (and a message nobody reads as JSON is
// never parsed). Not thread-safe: a message is handled on its connection's strand.
class message_body {
 public:
  message_body() = default;
  explicit message_body(std::string text) noexcept : text_(std::move(text)) {}

  // text: the payload exactly as received.
  const std::string& text() const noexcept { return text_; }

  // parsed: the payload's JSON value (any kind), or nullptr when it is not JSON.
  const json::value* parsed() const;

 private:
  std::string text_;
  mutable std::optional<json::value> value_;  // set on the first parsed() that succeeds
  mutable bool tried_ = false;
};

// parse_selection_expression: parses `text`. Variables are `$request.body.a.b` (ending at the
// first character that is not [A-Za-z0-9_.]) or `${request.body.a.b}` (ending at '}'; may also
// hold `[n]` indices); `\$` is a literal dollar sign. Fails with gateway::error::invalid_config
// naming the position for an empty expression, a variable other than request.body.*, an empty
// path segment or an unclosed `${`.
result<selection_expression> parse_selection_expression(std::string_view text);

// evaluate_selection: the expression's value for `message`, or nullopt when it reads the body and
// the message is not a JSON object (plain text, invalid JSON, an array, a scalar): such messages
// go to `$default`. A path that matches nothing yields ""; strings are used as they are; numbers
// and booleans are stringified ("1", "1.5", "true"); null yields ""; arrays yield
// "[item1, item2]"; objects yield their JSON text.
std::optional<std::string> evaluate_selection(const selection_expression& expr, std::string_view message);

// evaluate_selection: the same, on a message that keeps its parse for later readers.
std::optional<std::string> evaluate_selection(const selection_expression& expr, const message_body& message);

// route_choice: the route a message goes to, or none (the client gets the Forbidden frame).
struct route_choice {
  std::optional<std::string> route_key;
};

// select_route: the route whose key equals the evaluated value exactly (case-sensitive), else
// `$default` when `has_route("$default")`, else none. Reserved keys ($connect, $disconnect) are
// never selected by a message.
route_choice select_route(const selection_expression& expr, std::string_view message,
                          const std::function<bool(std::string_view)>& has_route);

// select_route: the same, on a message that keeps its parse for the integration's mappings.
route_choice select_route(const selection_expression& expr, const message_body& message,
                          const std::function<bool(std::string_view)>& has_route);

}  // namespace apigw::gateway
