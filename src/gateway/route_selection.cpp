// The route selection evaluator: parsing `$request.body...` expressions and evaluating them
// against a message with Boost.JSON.
#include "apigw/gateway/route_selection.hpp"

#include "apigw/core/json.hpp"
#include "apigw/gateway/error.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <charconv>

namespace apigw::gateway {
namespace {

constexpr std::string_view k_body_prefix = "request.body";

bool is_bare_path_char(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
}

failure bad(std::string_view text, std::size_t pos, std::string_view why) {
  return failure{error::invalid_config,
                 fmt::format("route selection expression \"{}\": {} at position {}", text, why, pos)};
}

// split_path: "request.body.a.b[0]" -> {"a", "b", "0"}; nullopt when malformed.
std::optional<std::vector<std::string>> split_path(std::string_view var) {
  if (!var.starts_with(k_body_prefix)) return std::nullopt;
  var.remove_prefix(k_body_prefix.size());
  std::vector<std::string> out;
  while (!var.empty()) {
    if (var.front() == '.') {
      var.remove_prefix(1);
      std::size_t n = 0;
      while (n < var.size() && var[n] != '.' && var[n] != '[') ++n;
      if (n == 0) return std::nullopt;
      out.emplace_back(var.substr(0, n));
      var.remove_prefix(n);
    } else if (var.front() == '[') {
      const auto close = var.find(']');
      if (close == std::string_view::npos || close == 1) return std::nullopt;
      auto digits = var.substr(1, close - 1);
      for (char c : digits) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
      }
      out.emplace_back(digits);
      var.remove_prefix(close + 1);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

const json::value* walk(const json::value& root, const std::vector<std::string>& path) {
  const json::value* v = &root;
  for (const auto& seg : path) {
    if (const auto* obj = v->if_object()) {
      auto it = obj->find(seg);
      if (it == obj->end()) return nullptr;
      v = &it->value();
    } else if (const auto* arr = v->if_array()) {
      std::size_t index = 0;
      auto [p, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), index);
      if (ec != std::errc{} || p != seg.data() + seg.size() || index >= arr->size()) return nullptr;
      v = &(*arr)[index];
    } else {
      return nullptr;
    }
  }
  return v;
}

std::string stringify(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::int64:
      return fmt::format("{}", v.get_int64());
    case json::kind::uint64:
      return fmt::format("{}", v.get_uint64());
    case json::kind::double_:
      return fmt::format("{}", v.get_double());
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::null:
      return "";
    case json::kind::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        out += stringify(item);
      }
      return out + "]";
    }
    case json::kind::object:
      return json::serialize(v);
  }
  return "";
}

// evaluate_on: the expression's value; `body` is the message's JSON object, or nullptr when the
// expression reads no body.
std::string evaluate_on(const selection_expression& expr, const json::value* body) {
  std::string out;
  for (const auto& p : expr.parts) {
    if (!p.is_variable) {
      out += p.literal;
    } else if (const json::value* v = walk(*body, p.path)) {
      out += stringify(*v);
    }
  }
  return out;
}

// choose: the route for an evaluated key (see select_route).
route_choice choose(std::optional<std::string> key, const std::function<bool(std::string_view)>& has_route) {
  if (key && *key != "$connect" && *key != "$disconnect" && has_route(*key)) return {std::move(*key)};
  if (has_route("$default")) return {std::string("$default")};
  return {};
}

}  // namespace

bool selection_expression::uses_body() const noexcept {
  for (const auto& p : parts) {
    if (p.is_variable) return true;
  }
  return false;
}

result<selection_expression> parse_selection_expression(std::string_view text) {
  if (text.empty()) return bad(text, 0, "the expression is empty");
  selection_expression expr;
  expr.text = std::string(text);
  std::string literal;
  const auto flush = [&] {
    if (!literal.empty()) expr.parts.push_back({false, std::move(literal), {}});
    literal.clear();
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (c != '$') {
      literal += c;
      ++i;
      continue;
    }
    std::string_view var;
    const std::size_t start = i;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      const auto close = text.find('}', i + 2);
      if (close == std::string_view::npos) return bad(text, start, "unclosed \"${\"");
      var = text.substr(i + 2, close - i - 2);
      i = close + 1;
    } else {
      std::size_t n = i + 1;
      while (n < text.size() && is_bare_path_char(text[n])) ++n;
      var = text.substr(i + 1, n - i - 1);
      i = n;
    }
    auto path = split_path(var);
    if (!path) return bad(text, start, fmt::format("\"{}\" is not request.body or request.body.<path>", var));
    flush();
    expr.parts.push_back({true, {}, std::move(*path)});
  }
  flush();
  return expr;
}

const json::value* message_body::parsed() const {
  if (!tried_) {
    tried_ = true;
    boost::system::error_code ec;
    json::value v = json::parse(text_, ec);
    if (!ec) value_ = std::move(v);
  }
  return value_ ? &*value_ : nullptr;
}

std::optional<std::string> evaluate_selection(const selection_expression& expr, std::string_view message) {
  if (!expr.uses_body()) return evaluate_on(expr, nullptr);
  boost::system::error_code ec;
  const json::value body = json::parse(message, ec);
  if (ec || !body.is_object()) return std::nullopt;
  return evaluate_on(expr, &body);
}

std::optional<std::string> evaluate_selection(const selection_expression& expr, const message_body& message) {
  if (!expr.uses_body()) return evaluate_on(expr, nullptr);
  const json::value* body = message.parsed();
  if (body == nullptr || !body->is_object()) return std::nullopt;
  return evaluate_on(expr, body);
}

route_choice select_route(const selection_expression& expr, std::string_view message,
                          const std::function<bool(std::string_view)>& has_route) {
  return choose(evaluate_selection(expr, message), has_route);
}

route_choice select_route(const selection_expression& expr, const message_body& message,
                          const std::function<bool(std::string_view)>& has_route) {
  return choose(evaluate_selection(expr, message), has_route);
}

}  // namespace apigw::gateway
