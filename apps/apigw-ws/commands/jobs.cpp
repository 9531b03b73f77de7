// apigw-ws jobs list|show|cancel|prune: the delivery jobs in the store (durable broadcasts started with
// `send --durable` or send_durable in app code): their state, progress and delivery report, and
// cancelling one. Sending is done by the job workers of the backend processes (docs/design/jobs.md).
#include "cli_common.hpp"

#include "apigw/core/clock.hpp"
#include "apigw/core/json.hpp"
#include "apigw/store/job_repository.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace apigw::cli {
namespace {

struct jobs_options {
  std::int64_t id = 0;
  std::size_t limit = 20;
  std::string format = "text";
  std::string older_than;
};

json::object job_json(const store::delivery_job& j) {
  json::array failures;
  for (const auto& f : j.failures)
    failures.push_back(json::object{{"connection_id", f.connection_id}, {"reason", f.reason}});
  json::object out{{"id", j.id},
                   {"state", store::to_string(j.state)},
                   {"target", j.target.describe()},
                   {"message_id", j.message_id},
                   {"page_size", j.page_size},
                   {"pages", j.pages},
                   {"pages_done", j.pages_done},
                   {"exhausted", j.exhausted},
                   {"finished_through", j.finished_through},
                   {"recipients", j.counts.recipients()},
                   {"delivered", j.counts.delivered},
                   {"gone", j.counts.gone},
                   {"failed", j.counts.failed},
                   {"too_large", j.counts.too_large},
                   {"retries", j.counts.retries},
                   {"failures", std::move(failures)},
                   {"created_by", j.created_by},
                   {"created_at", format_iso8601(j.created_at)},
                   {"updated_at", format_iso8601(j.updated_at)}};
  if (!j.error.empty()) out["error"] = j.error;
  return out;
}

result<std::int64_t> parse_limit_ok(std::size_t limit) {
  if (limit == 0 || limit > 1000) return failure{core::error::invalid_argument, "--limit must be 1-1000"};
  return static_cast<std::int64_t>(limit);
}

int list(const globals& g, const jobs_options& o) {
  if (auto l = parse_limit_ok(o.limit); !l) return usage_error("jobs list", l.error().message);
  auto st = open_migrated_store(g);
  if (!st) return fail("jobs list", st.error());
  auto jobs = (*st)->list_jobs(o.limit);
  if (!jobs) return fail("jobs list", jobs.error());
  if (o.format == "json") {
    json::array out;
    for (const auto& j : *jobs) out.push_back(job_json(j));
    fmt::print("{}\n", json::serialize(out));
    return k_exit_ok;
  }
  if (jobs->empty()) {
    if (!g.quiet) fmt::print("no delivery jobs in {}\n", (*st)->location());
    return k_exit_ok;
  }
  fmt::print("{:>6}  {:<9}  {:<24}  {:>11}  {:>9}  {:>6}  {:>6}  {}\n", "ID", "STATE", "TARGET", "PAGES", "DELIVERED",
             "GONE", "FAILED", "CREATED");
  for (const auto& j : *jobs) {
    fmt::print("{:>6}  {:<9}  {:<24}  {:>11}  {:>9}  {:>6}  {:>6}  {}\n", j.id, store::to_string(j.state),
               j.target.describe(), fmt::format("{}/{}{}", j.pages_done, j.pages, j.exhausted ? "" : "+"),
               j.counts.delivered, j.counts.gone, j.counts.failed, format_iso8601(j.created_at));
  }
  return k_exit_ok;
}

int show(const globals& g, const jobs_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("jobs show", st.error());
  auto j = (*st)->get_job(o.id);
  if (!j) return fail("jobs show", j.error());
  auto pages = (*st)->job_pages(o.id);
  if (!pages) return fail("jobs show", pages.error());
  if (o.format == "json") {
    auto out = job_json(*j);
    json::array in_flight;
    for (const auto& p : *pages) {
      if (p.finished) continue;
      in_flight.push_back(json::object{{"page", p.page},
                                       {"owner", p.owner},
                                       {"attempt", p.attempt},
                                       {"lease_expires_at", format_iso8601(p.lease_expires_at)}});
    }
    out["in_flight"] = std::move(in_flight);
    fmt::print("{}\n", json::serialize(out));
    return k_exit_ok;
  }
  fmt::print("job {}: {}, to {}, message id {}\n", j->id, store::to_string(j->state), j->target.describe(),
             j->message_id);
  fmt::print("  created   {} by {}; updated {}\n", format_iso8601(j->created_at), j->created_by,
             format_iso8601(j->updated_at));
  fmt::print("  pages     {} finished of {} cut ({} per page){}\n", j->pages_done, j->pages, j->page_size,
             j->exhausted ? "" : ", more to cut");
  fmt::print("  report    {} recipients: delivered {}, gone {}, failed {} (too large {}), retries {}\n",
             j->counts.recipients(), j->counts.delivered, j->counts.gone, j->counts.failed, j->counts.too_large,
             j->counts.retries);
  for (const auto& p : *pages) {
    if (p.finished) continue;
    fmt::print("  in flight page {} held by {} (attempt {}), lease until {}\n", p.page, p.owner, p.attempt,
               format_iso8601(p.lease_expires_at));
  }
  for (const auto& f : j->failures) fmt::print("  failed: {}: {}\n", f.connection_id, f.reason);
  if (!j->error.empty()) fmt::print("  error: {}\n", j->error);
  return k_exit_ok;
}

int cancel(const globals& g, const jobs_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("jobs cancel", st.error());
  auto changed = (*st)->cancel_job(o.id);
  if (!changed) return fail("jobs cancel", changed.error());
  auto j = (*st)->get_job(o.id);
  if (!j) return fail("jobs cancel", j.error());
  if (o.format == "json") {
    auto out = job_json(*j);
    out["cancelled_now"] = *changed;
    fmt::print("{}\n", json::serialize(out));
  } else if (!g.quiet) {
    if (*changed) {
      fmt::print("job {} cancelled: no more pages are sent ({} of {} pages finished; pages in flight still report)\n",
                 j->id, j->pages_done, j->pages);
    } else {
      fmt::print("job {} was already {}; nothing changed\n", j->id, store::to_string(j->state));
    }
  }
  return k_exit_ok;
}

int prune(const globals& g, const jobs_options& o) {
  auto older = parse_duration(o.older_than);
  if (!older) return fail("jobs prune", older.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("jobs prune", st.error());
  auto deleted = (*st)->delete_finished_jobs((*st)->time().now() - *older);
  if (!deleted) return fail("jobs prune", deleted.error());
  if (o.format == "json") {
    fmt::print("{}\n", json::serialize(json::object{{"deleted", *deleted}, {"older_than", o.older_than}}));
  } else if (!g.quiet) {
    fmt::print("deleted {} finished job(s) that ended more than {} ago; running jobs are kept\n", *deleted,
               o.older_than);
  }
  return k_exit_ok;
}

}  // namespace

void register_jobs(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<jobs_options>();
  auto* jobs = app.add_subcommand("jobs",
                                  "Delivery jobs: durable broadcasts (send --durable) that the backends' job workers "
                                  "send page by page and resume after a crash");
  jobs->require_subcommand(1);

  auto* list_cmd = jobs->add_subcommand("list", "List the newest jobs with their state and report");
  list_cmd->add_option("--limit", o->limit, "How many jobs (1-1000)")->capture_default_str();
  add_format_option(list_cmd, o->format);
  add_example(list_cmd, "apigw-ws jobs list --limit 5 --format json");
  list_cmd->callback([&g, &run, o] { run = [&g, o] { return list(g, *o); }; });

  auto* show_cmd = jobs->add_subcommand("show", "One job: state, progress, delivery report, pages in flight");
  show_cmd->add_option("id", o->id, "Job id (from send --durable or jobs list)")->required();
  add_format_option(show_cmd, o->format);
  add_example(show_cmd, "apigw-ws jobs show 12");
  show_cmd->callback([&g, &run, o] { run = [&g, o] { return show(g, *o); }; });

  auto* cancel_cmd =
      jobs->add_subcommand("cancel", "Stop a running job: no more pages are sent; pages in flight still report");
  cancel_cmd->add_option("id", o->id, "Job id")->required();
  add_format_option(cancel_cmd, o->format);
  add_example(cancel_cmd, "apigw-ws jobs cancel 12");
  cancel_cmd->callback([&g, &run, o] { run = [&g, o] { return cancel(g, *o); }; });

  auto* prune_cmd = jobs->add_subcommand(
      "prune", "Delete finished jobs (done, cancelled, failed) and their pages; running jobs are kept");
  prune_cmd->add_option("--older-than", o->older_than, "Jobs that ended longer ago than this (90s, 15m, 12h, 7d)")
      ->required()
      ->check(duration_check());
  add_format_option(prune_cmd, o->format);
  add_example(prune_cmd, "apigw-ws jobs prune --older-than 7d");
  prune_cmd->callback([&g, &run, o] { run = [&g, o] { return prune(g, *o); }; });
}

}  // namespace apigw::cli
