#include "actors/gateway_context.hpp"

namespace sb::actors {

std::shared_ptr<gateway_context> make_gateway_context(std::shared_ptr<const gateway_config> cfg,
                                                      provider_directory* directory,
                                                      net::upstream_client* upstream,
                                                      gateway_metrics* metrics) {
  auto ctx = std::make_shared<gateway_context>();
  ctx->config = std::move(cfg);
  ctx->directory = directory;
  ctx->upstream = upstream;
  ctx->metrics = metrics;
  ctx->prices = cluster::price_table(ctx->config->prices);
  for (auto& p : ctx->config->providers)
    ctx->providers.emplace(p.id, provider_entry{&p, providers::make_adapter(p)});
  return ctx;
}

}  // namespace sb::actors
