// apigw-ws send: one message to the sessions a filter selects, through the Management API, with
// the sender's report printed at the end (and a progress bar on a terminal for large sends).
#include "cli_common.hpp"
#include "session_filter.hpp"

#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/jobs.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/mgmt/endpoint.hpp"
#include "apigw/mgmt/sender.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <tuple>

namespace apigw::cli {
namespace {

struct send_options {
  session_filter filter;
  std::optional<std::string> json_text;
  std::optional<std::string> file;
  std::optional<std::string> endpoint;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::size_t concurrency = 128;
  std::size_t retries = 3;
  std::optional<std::size_t> attempts;  // the old name: --attempts N is --retries N-1
  double max_rps = 0;
  std::string format = "text";
  bool progress = false;
  bool no_progress = false;
  bool durable = false;
  std::size_t page_size = 1000;
};

result<std::string> read_message(const send_options& o) {
  std::string text;
  if (o.json_text) {
    text = *o.json_text;
  } else if (*o.file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(*o.file, std::ios::binary);
    if (!in) return failure{core::error::io_error, fmt::format("cannot read message file {}", *o.file)};
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto v = parse_json(text);
  if (!v) return failure{v.error().code, fmt::format("the message is not valid JSON: {}", v.error().message)};
  return serialize_message(*v);
}

// progress_display: counts outcomes (delivered, gone, failed) as the sender records them, so the display
// moves with deliveries, not with recipients read. On a terminal it redraws one line (at most 10
// times a second); elsewhere (--progress into a file or a pipe) it prints a line every 10 %.
class progress_display {
 public:
  progress_display(std::size_t total, bool terminal) : total_(std::max<std::size_t>(total, 1)), terminal_(terminal) {}

  void update(const mgmt::delivery_report& r) {
    const std::size_t done = r.recipients();
    const auto now = std::chrono::steady_clock::now();
    if (terminal_) {
      if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
      last_ = now;
      constexpr std::size_t k_width = 40;
      const std::size_t filled = std::min(k_width, done * k_width / total_);
      fmt::print(stderr, "\r[{}{}] {}/{} delivered {} gone {} failed {}", std::string(filled, '#'),
                 std::string(k_width - filled, ' '), done, total_, r.delivered, r.gone.size(), r.failed.size());
      std::fflush(stderr);
      drawn_ = true;
      return;
    }
    const std::size_t step = std::min<std::size_t>(10, done * 10 / total_);
    if (step <= step_ && done != total_) return;
    step_ = step;
    fmt::print(stderr, "progress: {}/{} delivered {} gone {} failed {}\n", done, total_, r.delivered, r.gone.size(),
               r.failed.size());
  }

  // finish: ends the terminal line, so the report starts on a line of its own.
  void finish() {
    if (terminal_ && drawn_) std::fputc('\n', stderr);
  }

 private:
  std::size_t total_;
  bool terminal_;
  bool drawn_ = false;
  std::size_t step_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

// make_signing: the credentials chain (resolve_aws) for every recipient's endpoint. Without
// credentials only loopback endpoints (the local gateway with --auth none) are sent to, unsigned;
// every other recipient fails before any request with the list of places looked (printed once for
// all of them).
result<mgmt::signing_lookup> make_signing(const send_options& o) {
  auto aws = resolve_aws(o.region, o.profile);
  if (!aws) return aws.error();
  return mgmt::signing_lookup{aws->signing()};
}

// failure_group: recipients that failed the same way (same endpoint, attempts and reason), so an
// error shared by all of them (no credentials, an endpoint that refuses connections) is printed
// once with the count instead of once per recipient.
struct failure_group {
  const mgmt::delivery_failure* first = nullptr;
  std::vector<std::string_view> ids;
};

std::vector<failure_group> group_failures(const std::vector<mgmt::delivery_failure>& failed) {
  std::vector<failure_group> groups;
  std::map<std::tuple<std::string_view, std::size_t, std::string_view>, std::size_t> index;
  for (const auto& f : failed) {
    auto [it, added] = index.try_emplace({f.endpoint, f.attempts, f.reason.message}, groups.size());
    if (added) groups.push_back({&f, {}});
    groups[it->second].ids.push_back(f.connection_id);
  }
  return groups;
}

void print_text(const mgmt::delivery_report& r, const store::session_query& q, std::size_t marked) {
  const double ms = std::chrono::duration<double, std::milli>(r.elapsed).count();
  fmt::print("sent to {} session(s) ({}) in {:.1f} ms\n", r.recipients(), q.connected_only().describe(), ms);
  fmt::print("  delivered  {}\n", r.delivered);
  fmt::print("  gone       {} ({} marked disconnected)\n", r.gone.size(), marked);
  if (r.gone.size() > marked && !r.gone_sink_error) {
    // API Gateway answers 410 for a connection whose $connect is still running, so a session
    // created less than the connect window before the send is not marked (docs/design/dispatch.md).
    fmt::print(
        "             {} not marked: created less than {} s before the send, inside the connect window, where API "
        "Gateway answers 410 while $connect still runs (or already marked); `sessions reconcile --check` marks them "
        "later if they are really gone\n",
        r.gone.size() - marked, std::chrono::duration_cast<std::chrono::seconds>(dispatch::k_connect_window).count());
  }
  fmt::print("  failed     {}\n", r.failed.size());
  fmt::print("  retries    {}\n", r.retries);
  // Only when the store failed along the way: the send waited for it and went on from the same page.
  if (r.source_retries > 0 || r.gone_sink_retries > 0) {
    fmt::print("  store      waited out {} failed page read(s), {} failed gone mark(s)\n", r.source_retries,
               r.gone_sink_retries);
  }
  constexpr std::size_t k_show = 20;
  constexpr std::size_t k_ids = 5;
  const auto groups = group_failures(r.failed);
  for (std::size_t i = 0; i < groups.size() && i < k_show; ++i) {
    const auto& f = *groups[i].first;
    const auto& ids = groups[i].ids;
    const std::string_view via = f.endpoint.empty() ? "-" : std::string_view(f.endpoint);
    // No attempt at all: the endpoint or its signing settings failed before any request.
    const std::string when = f.attempts == 0 ? "before any request" : fmt::format("after {} attempt(s)", f.attempts);
    if (ids.size() == 1) {
      fmt::print("  failed: {} via {} {}: {}\n", f.connection_id, via, when, f.reason.message);
      continue;
    }
    fmt::print("  failed: {} recipients via {} {}: {}\n", ids.size(), via, when, f.reason.message);
    const std::vector<std::string_view> shown(ids.begin(), ids.begin() + std::min(k_ids, ids.size()));
    fmt::print("    connections: {}{}\n", fmt::join(shown, ", "),
               ids.size() > k_ids ? fmt::format(", ... and {} more", ids.size() - k_ids) : std::string{});
  }
  if (groups.size() > k_show) {
    std::size_t rest = 0;
    for (std::size_t i = k_show; i < groups.size(); ++i) rest += groups[i].ids.size();
    fmt::print("  ... and {} more failures\n", rest);
  }
  if (r.source_error) fmt::print("  reading sessions failed: {}\n", r.source_error->message);
  if (r.gone_sink_error) fmt::print("  marking gone sessions failed: {}\n", r.gone_sink_error->message);
}

void print_json(const mgmt::delivery_report& r, std::size_t marked) {
  json::array failed;
  for (const auto& f : r.failed) {
    failed.push_back(json::object{{"connection_id", f.connection_id},
                                  {"endpoint", f.endpoint},
                                  {"attempts", f.attempts},
                                  {"reason", f.reason.message}});
  }
  json::array gone;
  for (const auto& id : r.gone) gone.emplace_back(id);
  json::object out{{"recipients", r.recipients()},
                   {"delivered", r.delivered},
                   {"gone", std::move(gone)},
                   {"gone_marked", marked},
                   {"failed", std::move(failed)},
                   {"retries", r.retries},
                   {"source_retries", r.source_retries},
                   {"gone_sink_retries", r.gone_sink_retries},
                   {"elapsed_ms", std::chrono::duration<double, std::milli>(r.elapsed).count()}};
  if (r.source_error) out["source_error"] = r.source_error->message;
  if (r.gone_sink_error) out["gone_sink_error"] = r.gone_sink_error->message;
  fmt::print("{}\n", json::serialize(out));
}

// warn_nobody: a send that reached no one is most often a misspelled channel or user, so it says
// what the filter was matched against and whether disconnected sessions match it.
void warn_nobody(store::session_store& st, const store::session_query& q) {
  std::string others;
  if (auto any_state = st.count(q); any_state && *any_state > 0) {
    others = fmt::format(" ({} disconnected session(s) match)", *any_state);
  } else if (any_state) {
    others = " (no disconnected one either: check the spelling; `sessions list` shows what is stored)";
  }
  fmt::print(stderr, "apigw-ws: send: warning: no session matched ({}) in {}{}\n", q.connected_only().describe(),
             st.location(), others);
}

// run_durable: --durable: the send recorded as a delivery job; the job workers of the backend
// processes sharing the store send it (docs/design/jobs.md). Nothing is sent from here.
int run_durable(const globals& g, const send_options& o, store::session_store& st, const store::session_query& q,
                const std::string& message) {
  auto target = dispatch::job_target_of(q);
  if (!target) return usage_error("send", target.error().message);
  auto value = parse_json(message);
  if (!value) return fail("send", value.error());
  dispatch::job_options jo;
  jo.page_size = o.page_size;
  jo.created_by = "cli";
  auto job = dispatch::start_job(st, *target, *value, jo);
  if (!job) return fail("send", job.error());
  if (o.format == "json") {
    fmt::print("{}\n", json::serialize(json::object{{"job", job->id},
                                                    {"message_id", job->message_id},
                                                    {"target", job->target.describe()},
                                                    {"state", store::to_string(job->state)}}));
  } else if (!g.quiet) {
    fmt::print("job {} recorded ({}): to {}, message id {}; the backends' job workers send it.\n", job->id,
               store::to_string(job->state), job->target.describe(), job->message_id);
    fmt::print("  progress: {} jobs show {}\n", self_command(), job->id);
  }
  return k_exit_ok;
}

int run_send(const globals& g, const send_options& o) {
  auto message = read_message(o);
  if (!message) return fail("send", message.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("send", st.error());
  auto q = o.filter.query(**st);
  if (!q) return fail("send", q.error());
  if (o.durable) return run_durable(g, o, **st, *q, *message);
  auto signing = make_signing(o);
  if (!signing) return fail("send", signing.error());

  dispatch::store_recipients recipients(**st, *q, o.endpoint);
  dispatch::store_gone_sink gone(**st);

  mgmt::sender_options so;
  so.max_in_flight = o.concurrency;
  so.retry.max_attempts = o.attempts ? *o.attempts : o.retries + 1;
  so.max_requests_per_second = o.max_rps;
  so.signing = std::move(*signing);
  // The bar: on a terminal for sends of 1000 or more (unless --no-progress), always with --progress.
  std::optional<progress_display> bar;
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  if (o.progress || (!o.no_progress && !g.quiet && o.format == "text" && terminal)) {
    auto total = (*st)->count(q->connected_only());
    if (total && (o.progress || *total >= 1000)) {
      bar.emplace(static_cast<std::size_t>(*total), terminal);
      so.on_outcome = [&bar](const mgmt::delivery_report& r) { bar->update(r); };
    }
  }
  mgmt::sender sender(std::move(so));
  auto report = sender.send_sync(recipients, std::move(*message), &gone);
  if (bar) bar->finish();
  if (!report) return fail("send", report.error());
  if (o.format == "json") {
    print_json(*report, gone.marked());
  } else if (!g.quiet) {
    print_text(*report, *q, gone.marked());
  }
  if (report->recipients() == 0 && !report->source_error && !g.quiet) warn_nobody(**st, *q);
  const bool complete = report->failed.empty() && !report->source_error && !report->gone_sink_error;
  return complete ? k_exit_ok : k_exit_failed;
}

}  // namespace

void register_send(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<send_options>();
  auto* cmd = app.add_subcommand(
      "send",
      "Send one JSON message to the connected sessions selected by --session, --connection, --user, --channel or "
      "--all. Prints a report (delivered, gone, failed, retries); gone connections are marked disconnected. Exit "
      "status 1 when any delivery failed; a send that matches no connected session warns on stderr.");
  o->filter.add_to(*cmd, true);
  auto* src = cmd->add_option_group("message", "The message");
  src->add_option("--json", o->json_text, "The message as JSON text, e.g. '{\"type\":\"system\",...}'");
  src->add_option("--file", o->file, "Read the message from a file ('-' for standard input)");
  src->require_option(1);
  cmd->add_option("--endpoint", o->endpoint,
                  "Management endpoint for every recipient (default: each session's gateway endpoint), e.g. "
                  "https://abc123.execute-api.eu-west-1.amazonaws.com/prod or http://127.0.0.1:4510/dev");
  cmd->add_option("--region", o->region, "AWS region to sign for (default: AWS_REGION, the profile, or the host name)");
  cmd->add_option("--profile", o->profile, "AWS profile for credentials (default: AWS_PROFILE or 'default')");
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  auto* retries = cmd->add_option("--retries", o->retries,
                                  "Retries per recipient after a throttled (429), 5xx or network failure, with "
                                  "backoff (the same name as in api and domain)")
                      ->check(CLI::Range(0, 19))
                      ->capture_default_str();
  // --attempts is the name this option had; it still works, as attempts (retries + 1), unlisted.
  cmd->add_option("--attempts", o->attempts, "Attempts per recipient (old name; use --retries)")
      ->check(CLI::Range(1, 20))
      ->excludes(retries)
      ->group("");
  cmd->add_option("--max-rps", o->max_rps, "Cap on requests per second (0: none; AWS's account quota is 10000)")
      ->check(CLI::NonNegativeNumber);
  add_format_option(cmd, o->format);
  auto* progress_flag =
      cmd->add_flag("--progress", o->progress,
                    "Show progress (deliveries so far) on stderr for any send, also when stderr is not a terminal");
  cmd->add_flag("--no-progress", o->no_progress,
                "No progress bar, even on a terminal (default: a bar for sends of "
                "1000 or more on a terminal)")
      ->excludes(progress_flag);
  cmd->add_flag("--durable", o->durable,
                "Record the send as a delivery job instead of sending from here: the job workers of the backend "
                "processes sharing the store send it page by page and resume it after a crash (--all, --channel "
                "or --user only); prints the job id for `jobs show`");
  cmd->add_option("--page-size", o->page_size, "With --durable: recipients per page (the most a crash can repeat)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  add_example(cmd, "apigw-ws send --all --durable --json '{\"type\":\"system\",\"message\":\"Back at 22:15\"}'");
  add_example(
      cmd,
      "apigw-ws send --channel general --json '{\"type\":\"system\",\"level\":\"warning\",\"message\":\"Maintenance "
      "at 22:00\"}'");
  add_example(cmd, "apigw-ws send --user alice --file toast.json --retries 5 --format json");
  cmd->callback([&g, &run, o] { run = [&g, o] { return run_send(g, *o); }; });
}

}  // namespace apigw::cli
