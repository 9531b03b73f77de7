// Private to the control plane: the lookups of the API and the child resource a path names, with
// the NotFoundException AWS answers when one is missing (the API first, as AWS does).
#pragma once

#include "gateway/control_plane/errors.hpp"
#include "gateway/control_plane/router.hpp"

#include <map>
#include <string>
#include <string_view>

namespace apigw::gateway::detail::cp {

// children: a kind of API child (api_model::integrations, ::routes, ::stages, ::deployments).
using children = std::map<std::string, json::object> api_model::*;

// with_api: `then(api)` for the API named by the first path parameter, or NotFoundException "API".
template <class Then>
answer with_api(model& s, const request& r, Then then) {
  auto* m = find_api(s, r.params.at(0));
  if (m == nullptr) return not_found("API", r.params.at(0));
  return then(*m);
}

// with_child: `then(api, it)` for the API and its child of `kind` (iterator `it`) named by the first
// two path parameters, or the NotFoundException of the one missing (`what`: "Route", "Stage"...).
template <class Then>
answer with_child(model& s, const request& r, children kind, std::string_view what, Then then) {
  return with_api(s, r, [&](api_model& m) {
    auto it = (m.*kind).find(r.params.at(1));
    if (it == (m.*kind).end()) return not_found(what, r.params.at(1));
    return then(m, it);
  });
}

}  // namespace apigw::gateway::detail::cp
