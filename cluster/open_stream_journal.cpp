#include "cluster/open_stream_journal.hpp"

#include "cluster/local_stream_journal.hpp"
#include "cluster/redis_stream_journal.hpp"

namespace sb::cluster {

store_result<stream_journal_factory> open_stream_journal(const std::string& redis_url,
                                                         stream_journal_options options) {
  if (redis_url.empty()) {
    auto shared = std::make_shared<local_stream_journal>(options);
    return stream_journal_factory([shared]() -> std::shared_ptr<stream_journal> { return shared; });
  }
  auto endpoint = parse_redis_url(redis_url);
  if (!endpoint) return endpoint.error();
  return stream_journal_factory([ep = *endpoint, options]() -> std::shared_ptr<stream_journal> {
    return std::make_shared<redis_stream_journal>(ep, options);
  });
}

}  // namespace sb::cluster
