// Durable broadcasts: the job message (the reserved "apigw" id) and recording a job.
#include "apigw/dispatch/jobs.hpp"

#include "apigw/core/ids.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstddef>

namespace apigw::dispatch {

result<job_message> make_job_message(const json::value& message) {
  if (!message.is_object()) {
    return failure{core::error::invalid_argument, "a delivery job's message must be a JSON object"};
  }
  json::object obj = message.as_object();
  std::string id;
  if (const auto* reserved = obj.if_contains("apigw")) {
    if (!reserved->is_object()) {
      return failure{core::error::invalid_argument, "the message's \"apigw\" key is reserved and must be an object"};
    }
    if (const auto* existing = reserved->as_object().if_contains("id")) {
      if (!existing->is_string() || existing->as_string().empty()) {
        return failure{core::error::invalid_argument, "the message's \"apigw\".\"id\" must be a non-empty string"};
      }
      id = std::string{existing->as_string()};
    }
  }
  if (id.empty()) {
    std::array<std::byte, 12> bytes{};
    if (auto r = random_bytes(bytes); !r) return r.error();
    id = "job-" + to_hex(bytes);
    obj["apigw"].emplace_object()["id"] = id;
    if (const auto* reserved = message.as_object().if_contains("apigw")) {
      // Keep what else the reserved object carried (a channel publish's offsets).
      auto& merged = obj["apigw"].as_object();
      for (const auto& [k, v] : reserved->as_object()) merged.emplace(k, v);
    }
  }
  auto text = serialize_message(obj);
  if (!text) return text.error();
  return job_message{std::move(*text), std::move(id)};
}

result<store::job_target> job_target_of(const store::session_query& q) {
  const bool other = q.id() || q.connection_id() || q.gateway() || (q.connected() && !*q.connected());
  if (!other && q.channel() && !q.user()) return store::job_target::in_channel(*q.channel());
  if (!other && q.user() && !q.channel()) return store::job_target::for_user(*q.user());
  if (!other && !q.channel() && !q.user()) return store::job_target::all();
  return failure{core::error::invalid_argument,
                 "a delivery job goes to a channel, a user or everyone, not to " + q.describe()};
}

result<store::delivery_job> start_job(store::job_repository& jobs, const store::job_target& target,
                                      const json::value& message, const job_options& options) {
  auto m = make_job_message(message);
  if (!m) return m.error();
  store::new_job job;
  job.target = target;
  job.message = std::move(m->text);
  job.message_id = std::move(m->id);
  job.page_size = options.page_size;
  job.created_by = options.created_by;
  return jobs.create_job(job);
}

}  // namespace apigw::dispatch
