// apigw-ws send: one message to the sessions a filter selects, through the Management API, with
// the sender's report printed at the end (and a progress bar on a terminal for large sends).
#include "cli_common.hpp"
#include "session_filter.hpp"

#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/mgmt/endpoint.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/sigv4/credentials.hpp"
#include "apigw/sigv4/error.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

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
  std::size_t attempts = 4;
  double max_rps = 0;
  std::string format = "text";
  bool no_progress = false;
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

// progress_source: passes pages through and reports how many recipients were handed out so far
// (the sender pulls the next page as the previous one is handed to its workers, so this tracks
// the send closely enough for a progress bar).
class progress_source final : public mgmt::recipient_source {
 public:
  progress_source(mgmt::recipient_source& inner, std::function<void(std::size_t)> on_page)
      : inner_(inner), on_page_(std::move(on_page)) {}
  result<std::vector<mgmt::recipient>> next_page() override {
    auto page = inner_.next_page();
    if (page) {
      handed_out_ += page->size();
      if (on_page_) on_page_(handed_out_);
    }
    return page;
  }

 private:
  mgmt::recipient_source& inner_;
  std::function<void(std::size_t)> on_page_;
  std::size_t handed_out_ = 0;
};

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1";
}

// Signing settings per endpoint: the credentials chain's credentials when it has some; without
// them only loopback endpoints (the local gateway) are sent to, unsigned.
result<mgmt::signing_lookup> make_signing(const send_options& o) {
  auto chain = sigv4::process_chain_options();
  if (o.profile) chain.profile = *o.profile;
  auto creds = sigv4::resolve_credentials(chain);
  if (!creds && creds.error() != sigv4::error::credentials_not_found) return creds.error();
  std::string region = o.region.value_or("");
  if (region.empty()) {
    if (auto r = sigv4::resolve_region(chain)) region = r->region;
  }
  std::optional<sigv4::credentials> found;
  if (creds) found = creds->creds;
  const std::string missing = creds ? std::string{} : creds.error().message;
  return mgmt::signing_lookup{[found, region, missing](std::string_view url) -> result<mgmt::signing_config> {
    if (found) return mgmt::signing_config{found, region};
    auto ep = mgmt::parse_endpoint(url);
    if (ep && is_loopback_host(ep->origin.host)) return mgmt::signing_config{std::nullopt, region};
    return failure{sigv4::error::credentials_not_found, missing};
  }};
}

void print_text(const mgmt::delivery_report& r, const store::session_query& q, std::size_t marked) {
  const double ms = std::chrono::duration<double, std::milli>(r.elapsed).count();
  fmt::print("sent to {} session(s) ({}) in {:.1f} ms\n", r.recipients(), q.connected_only().describe(), ms);
  fmt::print("  delivered  {}\n", r.delivered);
  fmt::print("  gone       {} ({} marked disconnected)\n", r.gone.size(), marked);
  fmt::print("  failed     {}\n", r.failed.size());
  fmt::print("  retries    {}\n", r.retries);
  // Only when the store failed along the way: the send waited for it and went on from the same page.
  if (r.source_retries > 0 || r.gone_sink_retries > 0) {
    fmt::print("  store      waited out {} failed page read(s), {} failed gone mark(s)\n", r.source_retries,
               r.gone_sink_retries);
  }
  constexpr std::size_t k_show = 20;
  for (std::size_t i = 0; i < r.failed.size() && i < k_show; ++i) {
    const auto& f = r.failed[i];
    fmt::print("  failed: {} via {} after {} attempt(s): {}\n", f.connection_id, f.endpoint.empty() ? "-" : f.endpoint,
               f.attempts, f.reason.message);
  }
  if (r.failed.size() > k_show) fmt::print("  ... and {} more failures\n", r.failed.size() - k_show);
  if (r.source_error) fmt::print("  reading sessions failed: {}\n", r.source_error->message);
  if (r.gone_sink_error) fmt::print("  marking gone sessions failed: {}\n", r.gone_sink_error->message);
}

void print_json(const mgmt::delivery_report& r) {
  json::array failed;
  for (const auto& f : r.failed) {
    failed.push_back(json::object{{"connection_id", f.connection_id},
                                  {"endpoint", f.endpoint},
                                  {"attempts", f.attempts},
                                  {"reason", f.reason.message}});
  }
  json::array gone;
  for (const auto& id : r.gone) gone.emplace_back(id);
  json::object out{{"delivered", r.delivered},
                   {"gone", std::move(gone)},
                   {"failed", std::move(failed)},
                   {"retries", r.retries},
                   {"source_retries", r.source_retries},
                   {"gone_sink_retries", r.gone_sink_retries},
                   {"elapsed_ms", std::chrono::duration<double, std::milli>(r.elapsed).count()}};
  if (r.source_error) out["source_error"] = r.source_error->message;
  if (r.gone_sink_error) out["gone_sink_error"] = r.gone_sink_error->message;
  fmt::print("{}\n", json::serialize(out));
}

int run_send(const globals& g, const send_options& o) {
  auto message = read_message(o);
  if (!message) return fail("send", message.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("send", st.error());
  auto q = o.filter.query(**st);
  if (!q) return fail("send", q.error());
  auto signing = make_signing(o);
  if (!signing) return fail("send", signing.error());

  dispatch::store_recipients recipients(**st, *q, o.endpoint);
  std::function<void(std::size_t)> on_page;
  const bool show_progress = !o.no_progress && !g.quiet && o.format == "text" && ::isatty(STDERR_FILENO) != 0;
  if (show_progress) {
    auto total = (*st)->count(q->connected_only());
    if (total && *total >= 1000) {
      const auto n = static_cast<std::size_t>(*total);
      on_page = [n](std::size_t done) {
        constexpr std::size_t k_width = 40;
        const std::size_t filled = std::min(k_width, done * k_width / std::max<std::size_t>(n, 1));
        std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                     std::string(k_width - filled, ' ').c_str(), std::min(done, n), n);
        if (done >= n) std::fputc('\n', stderr);
      };
    }
  }
  progress_source source(recipients, std::move(on_page));
  dispatch::store_gone_sink gone(**st);

  mgmt::sender_options so;
  so.max_in_flight = o.concurrency;
  so.retry.max_attempts = o.attempts;
  so.max_requests_per_second = o.max_rps;
  so.signing = std::move(*signing);
  mgmt::sender sender(std::move(so));
  auto report = sender.send_sync(source, std::move(*message), &gone);
  if (!report) return fail("send", report.error());
  if (o.format == "json") {
    print_json(*report);
  } else if (!g.quiet) {
    print_text(*report, *q, gone.marked());
  }
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
      "status 1 when any delivery failed.");
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
  cmd->add_option("--attempts", o->attempts, "Attempts per recipient for throttling, 5xx and network errors")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  cmd->add_option("--max-rps", o->max_rps, "Cap on requests per second (0: none; AWS's account quota is 10000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--format", o->format, "Report format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar, even on a terminal");
  cmd->callback([&g, &run, o] { run = [&g, o] { return run_send(g, *o); }; });
}

}  // namespace apigw::cli
