// apigw/gateway/connections_path.hpp: parsing the request target of a Management API call,
// `/{stage}/@connections/{connectionId}` (spec §5.1). Pure.
//
// The SDKs percent-encode the id (`=` becomes `%3D`) and some send `@` as `%40`; the path is
// percent-decoded exactly once, segment by segment, so an id is compared in the form the gateway
// issued it.
#pragma once

#include "apigw/core/text.hpp"

#include "apigw/core/error.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace apigw::gateway {

// connections_target: the stage (empty when the path had none: `/@connections/{id}`) and the
// decoded connection id of an @connections request.
struct connections_target {
  std::string stage;
  std::string connection_id;
};

// percent_decode: core/text.hpp (decodes %XX once; nullopt on a malformed escape).
using apigw::percent_decode;

// parse_connections_path: splits a request target (a query string is ignored). Fails with
//   not_connections_path  the path is not [/{stage}]/(@|%40)connections/{id} (wrong segment count,
//                         another literal, an undecodable stage),
//   connection_gone       the id segment is empty, undecodable, or not a well-formed connection id
//                         (AWS answers 410 for malformed ids; spec §5.2).
result<connections_target> parse_connections_path(std::string_view target);

}  // namespace apigw::gateway
