// Wiring between the session store and the fan-out sender.
#include "store_delivery.hpp"

namespace apigw::cli {

store_recipients::store_recipients(store::session_store& store, const store::session_query& query,
                                   std::optional<std::string> endpoint_override, std::size_t page_size)
    : store_(store),
      query_(query.connected_only()),
      endpoint_override_(std::move(endpoint_override)),
      page_size_(page_size) {}

result<std::string> store_recipients::endpoint_of(const store::session& s) {
  if (endpoint_override_) return *endpoint_override_;
  if (!s.gateway) return std::string{};
  if (auto it = endpoints_.find(*s.gateway); it != endpoints_.end()) return it->second;
  auto g = store_.get_gateway(*s.gateway);
  if (!g) {
    if (g.error() == condition::not_found) return std::string{};
    return g.error();
  }
  endpoints_.emplace(*s.gateway, g->endpoint);
  return g->endpoint;
}

result<std::vector<mgmt::recipient>> store_recipients::next_page() {
  if (done_) return std::vector<mgmt::recipient>{};
  auto rows = store_.page(query_, after_, page_size_);
  if (!rows) return rows.error();
  if (rows->size() < page_size_) done_ = true;
  std::vector<mgmt::recipient> out;
  out.reserve(rows->size());
  for (const auto& s : *rows) {
    auto ep = endpoint_of(s);
    if (!ep) return ep.error();
    out.push_back(mgmt::recipient{s.connection_id, std::move(*ep)});
    after_ = s.id;
  }
  handed_out_ += out.size();
  if (on_page) on_page(handed_out_);
  return out;
}

result<void> store_gone_sink::mark_disconnected(std::span<const std::string> connection_ids) {
  auto n = store_.mark_disconnected(connection_ids);
  if (!n) return n.error();
  marked_ += *n;
  return ok();
}

}  // namespace apigw::cli
