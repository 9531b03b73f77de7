// dispatch/jobs.hpp: the job message (the reserved "apigw" id), which session sets can become a
// job, and start_job over a real SQLite store.
#include "apigw/dispatch/jobs.hpp"

#include "apigw/dispatch/testing.hpp"
#include "apigw/store/session_store.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <unistd.h>
#include <filesystem>

namespace apigw::dispatch {
namespace {

TEST(job_message, adds_an_id_under_the_reserved_key) {
  auto m = make_job_message(json::object{{"type", "toast"}, {"text", "hi"}});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->id.rfind("job-", 0), 0u);
  EXPECT_EQ(m->id.size(), 4u + 24u);
  auto v = boost::json::parse(m->text).as_object();
  EXPECT_EQ(v.at("type").as_string(), "toast");
  EXPECT_EQ(v.at("apigw").at("id").as_string(), m->id);
  auto other = make_job_message(json::object{{"type", "toast"}});
  EXPECT_NE(other->id, m->id);
}

TEST(job_message, keeps_an_id_and_the_rest_of_the_reserved_object) {
  json::object msg{{"type", "chat"}, {"apigw", json::object{{"id", "h-7"}, {"offset", 42}}}};
  auto m = make_job_message(msg);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->id, "h-7");
  EXPECT_EQ(boost::json::parse(m->text).at("apigw").at("offset").as_int64(), 42);
  auto added = make_job_message(json::object{{"apigw", json::object{{"channel", "c"}}}});
  ASSERT_TRUE(added);
  EXPECT_EQ(boost::json::parse(added->text).at("apigw").at("channel").as_string(), "c");
  EXPECT_EQ(boost::json::parse(added->text).at("apigw").at("id").as_string(), added->id);
}

TEST(job_message, refuses_what_it_cannot_mark) {
  EXPECT_EQ(make_job_message(json::value("text")).error(), condition::invalid_argument);
  EXPECT_EQ(make_job_message(json::object{{"apigw", 1}}).error(), condition::invalid_argument);
  EXPECT_EQ(make_job_message(json::object{{"apigw", json::object{{"id", ""}}}}).error(), condition::invalid_argument);
  EXPECT_EQ(make_job_message(json::object{{"big", std::string(140'000, 'x')}}).error(), condition::payload_too_large);
}

TEST(job_target, only_channels_users_and_everyone) {
  using store::session_query;
  EXPECT_EQ(*job_target_of(session_query{}), store::job_target::all());
  EXPECT_EQ(*job_target_of(session_query{}.connected_only()), store::job_target::all());
  EXPECT_EQ(*job_target_of(session_query{}.in_channel("c")), store::job_target::in_channel("c"));
  EXPECT_EQ(*job_target_of(session_query{}.for_user(3)), store::job_target::for_user(3));
  EXPECT_EQ(job_target_of(session_query{}.by_connection_id("abc=")).error(), condition::invalid_argument);
  EXPECT_EQ(job_target_of(session_query{}.for_gateway(1)).error(), condition::invalid_argument);
  EXPECT_EQ(job_target_of(session_query{}.in_channel("c").for_user(3)).error(), condition::invalid_argument);
  EXPECT_EQ(job_target_of(session_query{}.disconnected_only()).error(), condition::invalid_argument);
}

TEST(start_job, records_a_running_job_with_the_marked_message) {
  const auto path = std::filesystem::temp_directory_path() / ("apigw-jobs-unit-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  manual_clock clk;
  auto st = store::open_store(path.string(), clk);
  ASSERT_TRUE(st);
  ASSERT_TRUE((*st)->migrate());
  auto job = start_job(**st, store::job_target::in_channel("ops"), json::object{{"type", "system"}},
                       {.page_size = 50, .created_by = "unit"});
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(job->state, store::job_state::running);
  EXPECT_EQ(job->page_size, 50u);
  EXPECT_EQ(boost::json::parse(job->message).at("apigw").at("id").as_string(), job->message_id);
  // A delivery without a job store refuses a durable send instead of sending it plainly.
  recording_delivery out(**st);
  session_set all(out, **st);
  EXPECT_EQ(all.send_durable(json::object{{"type", "x"}}).error(), condition::invalid_argument);
  st->reset();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace apigw::dispatch
