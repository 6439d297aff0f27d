#include "cluster/open_ledger_store.hpp"

#include "cluster/postgres_ledger_store.hpp"
#include "cluster/sqlite_ledger_store.hpp"

namespace sb::cluster {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

store_result<ledger_location> parse_database_url(const std::string& url) {
  if (url.empty()) return ledger_location{ledger_backend::sqlite, "./switchboard.db"};
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
    return ledger_location{ledger_backend::postgresql, url};
  if (starts_with(url, "sqlite://")) {
    auto path = url.substr(9);  // "sqlite:///abs" keeps its leading '/'
    if (path.empty()) return make_store_error(store_errc::bad_url, "sqlite:// names no file");
    return ledger_location{ledger_backend::sqlite, path};
  }
  auto colon = url.find("://");
  if (colon != std::string::npos)
    return make_store_error(store_errc::bad_url,
                            "DATABASE_URL scheme must be sqlite or postgresql, got " +
                                url.substr(0, colon));
  return ledger_location{ledger_backend::sqlite, url};
}

store_result<std::shared_ptr<ledger_store>> open_ledger_store(const std::string& database_url) {
  auto where = parse_database_url(database_url);
  if (!where) return where.error();
  std::shared_ptr<ledger_store> store;
  if (where->backend == ledger_backend::postgresql) {
    auto pg = postgres_ledger_store::open(where->target);
    if (!pg) return pg.error();
    store = std::move(*pg);
  } else {
    auto lite = sqlite_ledger_store::open(where->target);
    if (!lite) return lite.error();
    store = std::move(*lite);
  }
  if (auto e = store->migrate()) return *e;
  return store;
}

}  // namespace sb::cluster
