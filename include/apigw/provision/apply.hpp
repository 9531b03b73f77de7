// apigw/provision/apply.hpp: the executor. `apply_api` reads the live state over a
// mgmt::control_plane_client (the API by its recorded id, else by name; its integrations, routes
// and stages), plans (plan.hpp) and makes the operations in order; `apply_domain` does the same
// for the custom domain and its API mapping. Throttled (429) and 5xx answers are retried by the
// client (control_plane_options::throttle_retries); the first failure stops the run.
//
// The record (the store) is not this module's: the caller passes what it recorded and is told,
// through api_hooks, what to record as the work goes (the API id as soon as the API exists, each
// route as soon as the control plane has it, the deployment only after it is made), so a run that
// fails part-way leaves a record of what really exists and the next one continues from there.
#pragma once

#include "apigw/core/error.hpp"
#include "apigw/mgmt/control_plane.hpp"
#include "apigw/provision/config.hpp"
#include "apigw/provision/plan.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace apigw::provision {

// api_hooks: what the caller is told during apply_api. The defaults do nothing. The record_*
// calls are not made in a dry run; a failure they return stops the run.
class api_hooks {
 public:
  virtual ~api_hooks() = default;
  // step: an operation with a line is about to be made (in a dry run: would be made).
  virtual void step(const operation& o) { (void)o; }
  // note: something worth saying that is not a step ("API x recorded ... no longer exists").
  virtual void note(const std::string& text) { (void)text; }
  // record_api: the API exists with this id; `found` says it was found by name or just created
  // (so a deployment recorded for another API no longer counts).
  virtual result<void> record_api(const std::string& api_id, bool found) {
    (void)api_id, (void)found;
    return ok();
  }
  // record_undeployed: the stage is about to stop serving what the deployment holds (called before
  // each integration, route or stage change): the recorded deployment no longer describes it.
  virtual result<void> record_undeployed() { return ok(); }
  // record_route / forget_route: a route row to write, or to delete.
  virtual result<void> record_route(const recorded_route& r) {
    (void)r;
    return ok();
  }
  virtual result<void> forget_route(const std::string& route_key) {
    (void)route_key;
    return ok();
  }
  // record_deployed: the stage now serves `deployment_id`, every recorded route included.
  virtual result<void> record_deployed(const std::string& deployment_id) {
    (void)deployment_id;
    return ok();
  }
};

// api_outcome: what apply_api did.
struct api_outcome {
  std::string api_id;         // "" in a dry run that would create the API
  int changes = 0;            // control-plane calls made (or, in a dry run, that would be)
  std::string deployment_id;  // the deployment made, "" when none (or a dry run)
};

// apply_api: makes the API match `c`. `record` is what the store holds under c.name; `region`
// builds the ARNs of tagged resources. A dry run makes only GETs. Fails with the first failing
// call's error (its operation, status, type and message), or pick_api's refusal.
boost::asio::awaitable<result<api_outcome>> apply_api(mgmt::control_plane_client& client, const api_config& c,
                                                      api_record record, std::string region, bool dry_run,
                                                      api_hooks& hooks);

// domain_outcome: what apply_domain did.
struct domain_outcome {
  std::string target;  // the CNAME target (apiGatewayDomainName); "" when unknown (a dry-run create)
  int changes = 0;
};

// apply_domain: makes the custom domain match `d` and maps its base path to `api_id`'s `stage`.
// Only hooks.step is called (before each operation, as in apply_api). Fails with the first
// failing call's error.
boost::asio::awaitable<result<domain_outcome>> apply_domain(mgmt::control_plane_client& client, domain_config d,
                                                            std::string api_id, std::string stage, bool dry_run,
                                                            api_hooks& hooks);

}  // namespace apigw::provision
