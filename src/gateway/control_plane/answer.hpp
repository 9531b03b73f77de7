// Private to the control plane: what a handler answers (the HTTP response, and whether the served
// configuration changed) and the success shapes every resource family uses.
#pragma once

#include "apigw/core/json.hpp"
#include "apigw/net/http_message.hpp"

#include <boost/json/serialize.hpp>

namespace apigw::gateway::detail::cp {

// answer: the HTTP response, and whether the served configuration changed (the gateway then
// rebuilds what it serves).
struct answer {
  net::http_response response;
  bool changed = false;
};

// json_answer: `status` with `body` as application/json.
inline answer json_answer(unsigned status, const json::object& body, bool changed) {
  answer a;
  a.response.status = status;
  a.response.headers.push_back({"Content-Type", "application/json"});
  a.response.body = json::serialize(body);
  a.changed = changed;
  return a;
}

// no_content: 204 with no body (the Delete* and UntagResource answers).
inline answer no_content(bool changed) {
  answer a;
  a.response.status = 204;
  a.changed = changed;
  return a;
}

// list_answer: 200 {"items":[...]} with the values of `items` in key order (one page: no nextToken).
template <class Map>
answer list_answer(const Map& items) {
  json::array out;
  for (const auto& [id, obj] : items) out.push_back(obj);
  return json_answer(200, json::object{{"items", std::move(out)}}, false);
}

}  // namespace apigw::gateway::detail::cp
