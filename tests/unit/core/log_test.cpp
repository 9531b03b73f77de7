// Unit tests of apigw/core/log.hpp: both line formats (escaping included, JSON checked by parsing
// it back), levels, bound fields, the callback sink and standard error.
#include "apigw/core/log.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

namespace apigw::logging {
namespace {

using namespace std::chrono_literals;

const std::chrono::system_clock::time_point k_when{1'700'000'000s};  // 2023-11-14T22:13:20.000Z

std::string text_line(std::string_view msg, std::initializer_list<field> fields, level l = level::info) {
  return format_line(format::text, k_when, l, msg, std::span<const field>(fields.begin(), fields.size()));
}

boost::json::object json_line(std::string_view msg, std::initializer_list<field> fields, level l = level::info) {
  const auto line = format_line(format::json, k_when, l, msg, std::span<const field>(fields.begin(), fields.size()));
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  return ec || !v.is_object() ? boost::json::object{} : v.as_object();
}

// str: the string member `key` of `o` ("" when it is missing or not a string).
std::string str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A value with every character the formats must treat with care.
const std::string k_nasty = "say \"hi\"\\ a=b\nnext line\r\t\x01\x7f caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80";

TEST(log, text_line_has_ts_level_msg_then_fields_in_order) {
  EXPECT_EQ(text_line("integration", {{"trace_id", "Root=1-6553f100-0123456789abcdef01234567"},
                                      {"status", 200},
                                      {"delta", -3},
                                      {"bytes", std::uint64_t{18446744073709551615ULL}},
                                      {"ok", true},
                                      {"duration_ms", 1.5}}),
            "ts=2023-11-14T22:13:20.000Z level=info msg=integration "
            "trace_id=\"Root=1-6553f100-0123456789abcdef01234567\" status=200 delta=-3 bytes=18446744073709551615 "
            "ok=true duration_ms=1.5");
}

TEST(log, text_quotes_and_escapes_what_would_break_the_line) {
  EXPECT_EQ(text_line("m", {{"k", "plain-value_1.2"}}),
            "ts=2023-11-14T22:13:20.000Z level=info msg=m k=plain-value_1.2");
  EXPECT_EQ(text_line("m", {{"k", ""}}), "ts=2023-11-14T22:13:20.000Z level=info msg=m k=\"\"");
  EXPECT_EQ(text_line("two words", {}), "ts=2023-11-14T22:13:20.000Z level=info msg=\"two words\"");
  EXPECT_EQ(text_line("m", {{"k", k_nasty}}),
            "ts=2023-11-14T22:13:20.000Z level=info msg=m "
            "k=\"say \\\"hi\\\"\\\\ a=b\\nnext line\\r\\t\\u0001\\u007f caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80\"");
  // Non-ASCII alone needs no quotes; a byte that is not UTF-8 is shown as \xNN.
  EXPECT_EQ(text_line("m", {{"k", "caf\xc3\xa9"}}), "ts=2023-11-14T22:13:20.000Z level=info msg=m k=caf\xc3\xa9");
  EXPECT_EQ(text_line("m", {{"k", "a\xff\xc3"}}), "ts=2023-11-14T22:13:20.000Z level=info msg=m k=\"a\\xff\\xc3\"");
  EXPECT_EQ(text_line("m", {{"k", "\xed\xa0\x80"}}),  // an encoded surrogate is not UTF-8
            "ts=2023-11-14T22:13:20.000Z level=info msg=m k=\"\\xed\\xa0\\x80\"");
  EXPECT_EQ(text_line("m", {{"k", std::string("nul\0byte", 8)}}),
            "ts=2023-11-14T22:13:20.000Z level=info msg=m k=\"nul\\u0000byte\"");
}

TEST(log, keys_outside_the_safe_set_are_rewritten) {
  EXPECT_EQ(text_line("m", {{"a b=\"c\n", 1}, {"", 2}}), "ts=2023-11-14T22:13:20.000Z level=info msg=m a_b__c_=1 _=2");
  auto j = json_line("m", {{"a\"b", 1}});
  EXPECT_TRUE(j.contains("a_b"));
}

TEST(log, json_line_is_one_object_with_typed_values) {
  auto j = json_line("integration",
                     {{"trace_id", "Root=1-6553f100-0123456789abcdef01234567"},
                      {"status", 502},
                      {"delta", -3},
                      {"ok", false},
                      {"duration_ms", 12.25}},
                     level::warn);
  EXPECT_EQ(str(j, "ts"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(str(j, "level"), "warn");
  EXPECT_EQ(str(j, "msg"), "integration");
  EXPECT_EQ(str(j, "trace_id"), "Root=1-6553f100-0123456789abcdef01234567");
  ASSERT_TRUE(j.at("status").is_int64());
  EXPECT_EQ(j.at("status").as_int64(), 502);
  EXPECT_EQ(j.at("delta").as_int64(), -3);
  EXPECT_EQ(j.at("ok"), boost::json::value(false));
  ASSERT_TRUE(j.at("duration_ms").is_double());
  EXPECT_DOUBLE_EQ(j.at("duration_ms").as_double(), 12.25);
}

TEST(log, json_round_trips_every_valid_string) {
  auto j = json_line(k_nasty, {{"k", k_nasty}, {"nul", std::string("a\0b", 3)}});
  EXPECT_EQ(str(j, "msg"), k_nasty);
  EXPECT_EQ(str(j, "k"), k_nasty);
  EXPECT_EQ(str(j, "nul"), std::string("a\0b", 3));
  const auto line = format_line(format::json, k_when, level::info, "m", {});
  EXPECT_EQ(line, R"({"ts":"2023-11-14T22:13:20.000Z","level":"info","msg":"m"})");
}

TEST(log, json_writes_bytes_that_are_not_utf8_as_replacement_characters) {
  // Overlong, stray continuation, truncated sequence, beyond U+10FFFF.
  auto j = json_line("m", {{"k",
                            "a\xc0\xaf"
                            "b\x80"
                            "c\xe2\x82"
                            "d\xf4\x90\x80\x80"}});
  EXPECT_EQ(str(j, "k"),
            "a\xef\xbf\xbd\xef\xbf\xbd"
            "b\xef\xbf\xbd"
            "c\xef\xbf\xbd\xef\xbf\xbd"
            "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(log, json_writes_non_finite_numbers_as_strings) {
  auto j = json_line(
      "m", {{"nan", std::numeric_limits<double>::quiet_NaN()}, {"inf", std::numeric_limits<double>::infinity()}});
  EXPECT_EQ(str(j, "nan"), "nan");
  EXPECT_EQ(str(j, "inf"), "inf");
}

TEST(log, millis_keeps_microseconds) {
  EXPECT_DOUBLE_EQ(millis(std::chrono::microseconds(1234)), 1.234);
  EXPECT_DOUBLE_EQ(millis(std::chrono::seconds(2)), 2000.0);
}

TEST(log, levels_parse_and_print) {
  for (auto l : {level::debug, level::info, level::warn, level::error, level::off}) {
    EXPECT_EQ(parse_level(level_name(l)).value(), l);
  }
  EXPECT_EQ(parse_level("warning").value(), level::warn);
  ASSERT_FALSE(parse_level("verbose"));
  EXPECT_NE(parse_level("verbose").error().message.find("debug, info, warn, error or off"), std::string::npos);
  EXPECT_EQ(parse_format("json").value(), format::json);
  EXPECT_EQ(parse_format("text").value(), format::text);
  EXPECT_FALSE(parse_format("xml"));
}

TEST(log, logger_writes_only_at_or_above_its_level) {
  std::vector<std::string> lines;
  logger lg([&](std::string_view l) { lines.emplace_back(l); }, level::warn);
  EXPECT_FALSE(lg.enabled(level::debug));
  EXPECT_FALSE(lg.enabled(level::info));
  EXPECT_TRUE(lg.enabled(level::warn));
  lg.debug("d");
  lg.info("i", "k", 1);
  lg.warn("w", "k", "v");
  lg.error("e");
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_NE(lines[0].find("level=warn msg=w k=v"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("level=error msg=e"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[0].find('\n'), std::string::npos);

  lines.clear();
  auto quiet = lg.with_level(level::off);
  quiet.error("e");
  EXPECT_TRUE(lines.empty());
  auto chatty = lg.with_level(level::debug);
  chatty.debug("d");
  EXPECT_EQ(lines.size(), 1U);
}

TEST(log, a_logger_without_output_writes_nothing) {
  logger none;
  EXPECT_FALSE(none.enabled(level::error));
  none.error("e", "k", 1);  // no output to reach: nothing happens
  logger empty{sink_fn{}, level::debug};
  EXPECT_FALSE(empty.enabled(level::error));
}

TEST(log, a_plain_callable_converts_to_a_text_logger_at_info) {
  std::vector<std::string> lines;
  logger lg = [&](std::string_view l) { lines.emplace_back(l); };
  EXPECT_EQ(lg.threshold(), level::info);
  EXPECT_EQ(lg.output_format(), format::text);
  lg.debug("d");
  lg.info("i");
  ASSERT_EQ(lines.size(), 1U);
}

TEST(log, bound_fields_come_after_msg_on_every_line) {
  std::vector<std::string> lines;
  logger base([&](std::string_view l) { lines.emplace_back(l); }, level::info, format::json);
  auto gw = base.with("component", "gateway");
  gw.info("listening", "port", 4510);
  base.info("plain");
  ASSERT_EQ(lines.size(), 2U);
  auto j = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(str(j, "component"), "gateway");
  EXPECT_EQ(j.at("port").as_int64(), 4510);
  EXPECT_EQ(lines[0].find("\"component\""),
            lines[0].find("\"msg\"") + std::string_view(R"("msg":"listening",)").size());
  EXPECT_FALSE(boost::json::parse(lines[1]).as_object().contains("component"));
}

TEST(log, the_sink_gets_one_call_at_a_time_from_many_threads) {
  // The sink appends without a lock of its own: the logger serializes the calls (TSan checks it).
  std::vector<std::string> lines;
  const logger base([&](std::string_view l) { lines.emplace_back(l); }, level::info, format::json);
  constexpr int k_threads = 4;
  constexpr int k_lines = 500;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&base, t] {
        const auto lg = base.with("thread", std::to_string(t));  // copies share the output
        for (int i = 0; i < k_lines; ++i) lg.info("line", "i", i);
      });
    }
  }
  ASSERT_EQ(lines.size(), std::size_t{k_threads * k_lines});
  std::vector<int> per_thread(k_threads);
  for (const auto& l : lines) {
    auto o = boost::json::parse(l).as_object();
    ++per_thread.at(std::stoi(str(o, "thread")));
  }
  for (int n : per_thread) EXPECT_EQ(n, k_lines);
}

TEST(log, a_sink_that_throws_does_not_reach_the_caller) {
  logger lg([](std::string_view) { throw std::runtime_error("sink failed"); });
  EXPECT_NO_THROW(lg.info("m"));
}

TEST(log, standard_error_gets_one_line_per_event) {
  std::FILE* tmp = std::tmpfile();
  ASSERT_NE(tmp, nullptr);
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(::dup2(::fileno(tmp), STDERR_FILENO), 0);
  {
    auto lg = logger::standard_error(level::info, format::json);
    lg.info("first", "k", "a\nb");
    lg.debug("hidden");
    lg.error("second");
  }
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[512];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) out.append(buf, n);
  std::fclose(tmp);
  std::istringstream in(out);
  std::vector<boost::json::object> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(lines.size(), 2U) << out;
  EXPECT_EQ(str(lines[0], "msg"), "first");
  EXPECT_EQ(str(lines[0], "k"), "a\nb");
  EXPECT_EQ(str(lines[1], "level"), "error");
}

}  // namespace
}  // namespace apigw::logging
