// Testing support: an in-memory @connections and a fake API Gateway that builds integration
// requests as AWS does.
#include "apigw/dispatch/testing.hpp"

#include "apigw/dispatch/checks.hpp"
#include "apigw/dispatch/sender_delivery.hpp"

#include <boost/json/serialize.hpp>

namespace apigw::dispatch {

send_handle recording_delivery::send(const store::session_query& q, const json::value& message) {
  auto text = serialize_message(message);
  if (!text) return send_handle::failed(text.error());
  delivery_report report;
  std::vector<std::string> gone;
  store_gone_sink sink(store_, connect_window_);
  auto visited = store_.for_each_page(q.connected_only(), 1000, [&](std::span<const store::session> page) {
    std::lock_guard lock(mutex_);
    for (const auto& s : page) {
      if (deliver_one(s.connection_id, *text, report)) gone.push_back(s.connection_id);
    }
    return true;
  });
  {
    std::lock_guard lock(mutex_);
    ++sends_;
  }
  const auto channel = q.channel().value_or("");
  if (!visited) {
    counted(nullptr, channel);
    return send_handle::failed(visited.error());
  }
  if (!gone.empty()) {
    if (auto marked = sink.mark_disconnected(gone); !marked) report.gone_sink_error = marked.error();
  }
  counted(&report, channel);
  return send_handle::done(std::move(report));
}

bool recording_delivery::deliver_one(const std::string& connection_id, const std::string& text,
                                     delivery_report& report) {
  if (gone_.contains(connection_id)) {
    report.gone.push_back(connection_id);
    return true;
  }
  if (const auto it = failing_.find(connection_id); it != failing_.end()) {
    report.failed.push_back({connection_id, "", it->second, 1});
    return false;
  }
  received_[connection_id].push_back(text);
  ++report.delivered;
  return false;
}

send_handle recording_delivery::send_to(const std::string& connection_id, const std::string&,
                                        const json::value& message) {
  auto text = serialize_message(message);
  if (!text) return send_handle::failed(text.error());
  delivery_report report;
  bool gone = false;
  store_gone_sink sink(store_, connect_window_);
  {
    std::lock_guard lock(mutex_);
    ++sends_;
    gone = deliver_one(connection_id, *text, report);
  }
  if (gone) {
    const std::string ids[] = {connection_id};
    if (auto marked = sink.mark_disconnected(ids); !marked) report.gone_sink_error = marked.error();
  }
  counted(&report);
  return send_handle::done(std::move(report));
}

result<bool> recording_delivery::disconnect(const store::session& s) {
  bool gone = false;
  {
    std::lock_guard lock(mutex_);
    gone = gone_.contains(s.connection_id);
    if (!gone) kicked_.insert(s.connection_id);
  }
  const std::string ids[] = {s.connection_id};
  if (gone) {
    store_gone_sink sink(store_, connect_window_);
    if (auto marked = sink.mark_disconnected(ids); !marked) return marked.error();
    return false;
  }
  if (auto marked = store_.mark_disconnected(ids); !marked) return marked.error();
  return true;
}

bool recording_delivery::disconnected(const std::string& connection_id) const {
  std::lock_guard lock(mutex_);
  return kicked_.contains(connection_id);
}

void recording_delivery::observe(std::shared_ptr<backend_metrics> m) {
  std::lock_guard lock(mutex_);
  metrics_ = std::move(m);
}

void recording_delivery::counted(const delivery_report* report, std::string_view channel) {
  std::shared_ptr<backend_metrics> m;
  {
    std::lock_guard lock(mutex_);
    m = metrics_;
  }
  if (!m) return;
  m->send_started();
  m->send_finished(report, channel);
}

void recording_delivery::gone_on_send(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  gone_.insert(connection_id);
}

void recording_delivery::fail_on_send(const std::string& connection_id, failure reason) {
  std::lock_guard lock(mutex_);
  failing_.insert_or_assign(connection_id, std::move(reason));
}

std::vector<std::string> recording_delivery::messages_for(const std::string& connection_id) const {
  std::lock_guard lock(mutex_);
  const auto it = received_.find(connection_id);
  return it == received_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<json::value> recording_delivery::json_for(const std::string& connection_id) const {
  std::vector<json::value> out;
  for (const auto& m : messages_for(connection_id)) {
    auto v = parse_json(m);
    out.push_back(v ? std::move(*v) : json::value{});
  }
  return out;
}

std::size_t recording_delivery::total() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, msgs] : received_) n += msgs.size();
  return n;
}

std::size_t recording_delivery::sends() const {
  std::lock_guard lock(mutex_);
  return sends_;
}

void recording_delivery::clear() {
  std::lock_guard lock(mutex_);
  received_.clear();
  sends_ = 0;
}

std::vector<header> fake_gateway::common_headers(const std::string& connection_id, std::size_t content_length,
                                                 bool gateway_ua) const {
  std::vector<header> h{
      {"Host", options_.host},
      {"X-Forwarded-For", options_.client_ip},
      {"X-Forwarded-Proto", "https"},
      {"X-Forwarded-Port", "443"},
      {"Content-Length", std::to_string(content_length)},
      {"connectionId", connection_id},
      {"User-Agent", gateway_ua ? gateway_user_agent(options_.api_id) : options_.browser_user_agent},
      {"X-Amzn-Apigateway-Api-Id", options_.api_id},
      {"X-Amzn-Trace-Id", "Root=1-67890abc-0123456789abcdef01234567"},
  };
  if (!options_.shared_secret.empty()) h.push_back({options_.shared_secret_header, options_.shared_secret});
  return h;
}

request fake_gateway::connect_request(const std::string& connection_id, const connect_options& extra) const {
  request r;
  r.path = "/ws/connect";
  r.query = extra.query;
  r.headers = common_headers(connection_id, 0, false);
  if (extra.forwarded_for) {
    for (auto& h : r.headers) {
      if (h.name == "X-Forwarded-For") h.value = *extra.forwarded_for;
    }
  }
  r.headers.push_back({"Cookie", extra.cookie});
  r.headers.push_back({"Origin", extra.origin.value_or(options_.origin)});
  r.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"});
  r.headers.push_back({"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="});
  r.headers.push_back({"Sec-WebSocket-Version", "13"});
  return r;
}

request fake_gateway::message_request(const std::string& connection_id, std::string body) const {
  request r;
  r.path = "/ws/default";
  r.headers = common_headers(connection_id, body.size(), true);
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

request fake_gateway::disconnect_request(const std::string& connection_id) const {
  request r;
  r.path = "/ws/disconnect";
  r.headers = common_headers(connection_id, 0, true);
  return r;
}

response fake_gateway::connect(const std::string& connection_id, const connect_options& extra) {
  return app_.handle(view_, "connect", connect_request(connection_id, extra));
}

response fake_gateway::message(const std::string& connection_id, const json::value& body, const std::string& route) {
  return message_text(connection_id, json::serialize(body), route);
}

response fake_gateway::message_text(const std::string& connection_id, std::string body, const std::string& route) {
  auto r = message_request(connection_id, std::move(body));
  r.path = "/ws/" + route;
  return app_.handle(view_, route, r);
}

response fake_gateway::disconnect(const std::string& connection_id) {
  return app_.handle(view_, "disconnect", disconnect_request(connection_id));
}

}  // namespace apigw::dispatch
