// The parts of the driver interface that both drivers share: reading text cells, ending
// transactions.
#include "store/database.hpp"

#include <charconv>

namespace apigw::store::detail {

std::optional<std::int64_t> cell_opt_int(const rows& r, std::size_t row, std::size_t column) {
  const auto& cell = r.at(row, column);
  if (!cell) return std::nullopt;
  std::int64_t value = 0;
  std::from_chars(cell->data(), cell->data() + cell->size(), value);
  return value;
}

std::int64_t cell_int(const rows& r, std::size_t row, std::size_t column) {
  return cell_opt_int(r, row, column).value_or(0);
}

bool cell_bool(const rows& r, std::size_t row, std::size_t column) {
  const auto& cell = r.at(row, column);
  return cell && (*cell == "1" || *cell == "t" || *cell == "true");
}

std::string cell_text(const rows& r, std::size_t row, std::size_t column) {
  const auto& cell = r.at(row, column);
  return cell ? *cell : std::string{};
}

result<void> connection::commit() {
  auto r = run("COMMIT", {});
  if (!r) return r.error();
  return ok();
}

void connection::rollback() noexcept {
  (void)run("ROLLBACK", {});
}

}  // namespace apigw::store::detail
