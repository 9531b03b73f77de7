// apigw-ws history show|prune: a channel's stored history (what reconnecting clients recover), and
// retention applied by hand (publishing applies the count limit itself; age limits of channels that
// went quiet are applied here, e.g. from cron).
#include "cli_common.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <memory>

namespace apigw::cli {

void register_history(CLI::App& app, const globals& g, command_runner& run) {
  auto* history = app.add_subcommand("history", "Channel history: the published messages clients recover");
  history->require_subcommand(1);

  auto* show = history->add_subcommand("show", "Show a channel's epoch, newest offset and stored messages");
  struct show_options {
    std::string channel;
    std::int64_t after = 0;
    std::size_t limit = 100;
    std::string format = "text";
  };
  auto so = std::make_shared<show_options>();
  show->add_option("CHANNEL", so->channel, "The channel")->required();
  show->add_option("--after", so->after, "Only messages with an offset above this")->capture_default_str();
  show->add_option("--limit", so->limit, "At most this many messages")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  add_format_option(show, so->format);
  add_example(show, "apigw-ws history show task-4f2a9c --format json");
  show->callback([&g, &run, so] {
    run = [&g, so]() -> int {
      auto st = open_migrated_store(g);
      if (!st) return fail("history show", st.error());
      auto page = (*st)->read_history(so->channel, so->after, so->limit, clock::time_point{});
      if (!page) return fail("history show", page.error());
      if (so->format == "json") {
        json::array messages;
        for (const auto& e : page->entries) {
          auto payload = parse_json(e.payload);
          messages.push_back(json::object{{"offset", e.offset},
                                          {"created_at", format_iso8601(e.created_at)},
                                          {"message", payload ? *payload : json::value(e.payload)}});
        }
        fmt::print("{}\n", json::serialize(json::object{{"channel", so->channel},
                                                        {"epoch", page->position.epoch},
                                                        {"offset", page->position.offset},
                                                        {"messages", std::move(messages)}}));
        return k_exit_ok;
      }
      fmt::print("channel {} epoch {} offset {} ({} stored message(s) shown)\n", so->channel, page->position.epoch,
                 page->position.offset, page->entries.size());
      for (const auto& e : page->entries) {
        fmt::print("{:>8}  {}  {}\n", e.offset, format_iso8601(e.created_at), e.payload);
      }
      return k_exit_ok;
    };
  });

  auto* prune = history->add_subcommand(
      "prune", "Delete stored messages beyond a retention: the newest --max-messages kept, none older than --max-age");
  struct prune_options {
    std::string pattern = "*";
    std::int64_t max_messages = 1000;
    std::string max_age = "0s";
    std::string format = "text";
  };
  auto po = std::make_shared<prune_options>();
  prune->add_option("PATTERN", po->pattern, "Channels: a name, a prefix ending in '*', or '*' for all")
      ->capture_default_str();
  prune->add_option("--max-messages", po->max_messages, "Keep at most this many messages per channel")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()))
      ->capture_default_str();
  prune
      ->add_option("--max-age", po->max_age, "Delete messages older than this (250ms, 90s, 15m, 12h, 7d; 0s: no limit)")
      ->check(duration_check())
      ->capture_default_str();
  add_format_option(prune, po->format);
  add_example(prune, "apigw-ws history prune 'task-*' --max-messages 200 --max-age 1h");
  prune->callback([&g, &run, po] {
    run = [&g, po]() -> int {
      auto age = parse_duration(po->max_age);
      if (!age) return usage_error("history prune", age.error().message);
      auto st = open_migrated_store(g);
      if (!st) return fail("history prune", st.error());
      const store::history_retention keep{po->max_messages, std::chrono::duration_cast<std::chrono::seconds>(*age)};
      auto n = (*st)->prune_history(po->pattern, keep);
      if (!n) return fail("history prune", n.error());
      if (po->format == "json") {
        fmt::print("{}\n", json::serialize(json::object{{"deleted", *n}}));
      } else if (!g.quiet) {
        fmt::print("deleted {} message(s) from the history of channels matching '{}'\n", *n, po->pattern);
      }
      return k_exit_ok;
    };
  });
}

}  // namespace apigw::cli
