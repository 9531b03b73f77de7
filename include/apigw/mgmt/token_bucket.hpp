// apigw/mgmt/token_bucket.hpp: the sender's requests-per-second cap, so a large fan-out stays
// inside AWS's account-wide throttle (10,000 requests/s with a burst of 5,000, shared by every API
// of the account and region, @connections calls included). It is the core token bucket
// (apigw/core/token_bucket.hpp); the sender guards it with a mutex.
#pragma once

#include "apigw/core/token_bucket.hpp"

namespace apigw::mgmt {

using token_bucket = apigw::token_bucket;

}  // namespace apigw::mgmt
