// apigw-ws send --durable and jobs list|show|cancel|prune, end to end: the real binary on a SQLite file.
// Sending the job is the backends' job workers' part (tests/integration/jobs); here the CLI records
// jobs, shows them and cancels them, and refuses what cannot be a job.
#include "cli_fixture.hpp"

#include <boost/json.hpp>

namespace apigw {
namespace {

using jobs_cli_test = cli_test;

TEST_F(jobs_cli_test, send_durable_records_a_job_that_jobs_show_and_cancel_see) {
  auto r = run({"send", "--channel", "ops", "--durable", "--page-size", "10", "--format", "json", "--json",
                R"({"type":"system","message":"hi"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto started = boost::json::parse(r.out).as_object();
  const auto id = std::to_string(started.at("job").as_int64());
  EXPECT_EQ(started.at("target").as_string(), "channel 'ops'");
  EXPECT_EQ(started.at("state").as_string(), "running");
  const std::string message_id{started.at("message_id").as_string()};
  EXPECT_EQ(message_id.rfind("job-", 0), 0u);

  r = run({"jobs", "show", id, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto shown = boost::json::parse(r.out).as_object();
  EXPECT_EQ(shown.at("message_id").as_string(), message_id);
  EXPECT_EQ(shown.at("page_size").as_int64(), 10);
  EXPECT_EQ(shown.at("created_by").as_string(), "cli");

  r = run({"jobs", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("channel 'ops'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("running"), std::string::npos) << r.out;

  r = run({"jobs", "cancel", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cancelled"), std::string::npos) << r.out;
  r = run({"jobs", "cancel", id, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(boost::json::parse(r.out).at("cancelled_now").as_bool());
  EXPECT_EQ(boost::json::parse(r.out).at("state").as_string(), "cancelled");

  // prune: the cancelled job ended just now, so a week's cutoff keeps it and 0s deletes it.
  r = run({"jobs", "prune", "--older-than", "7d", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(boost::json::parse(r.out).at("deleted").as_int64(), 0);
  r = run({"jobs", "prune", "--older-than", "0s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted 1 finished job"), std::string::npos) << r.out;
  r = run({"jobs", "show", id});
  EXPECT_EQ(r.exit_code, 1) << "pruned: " << r.out;
  r = run({"jobs", "prune"});
  EXPECT_EQ(r.exit_code, 2) << "--older-than is required";
  r = run({"jobs", "prune", "--older-than", "soon"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(jobs_cli_test, what_cannot_be_a_job_gets_a_clear_error) {
  auto r = run({"send", "--connection", "abcdefghijklmno=", "--durable", "--json", "{}"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a delivery job goes to a channel, a user or everyone"), std::string::npos) << r.err;

  r = run({"send", "--all", "--durable", "--json", R"({"apigw":1})"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("reserved"), std::string::npos) << r.err;

  r = run({"jobs", "show", "99"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no delivery job with id 99"), std::string::npos) << r.err;

  r = run({"jobs", "show", "x"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"jobs", "list", "--limit", "0"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"jobs"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace apigw
