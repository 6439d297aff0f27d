#include "cluster/redis_quota_store.hpp"

#include <hiredis/hiredis.h>

#include <cstdio>

namespace sb::cluster {
namespace {

// KEYS[1] counter. ARGV: 1 tokens, 2 cost, 3 token cap (-1 none), 4 cost cap
// (-1 none), 5 ttl s, 6 seeded (1/0), 7 seed tokens, 8 seed cost,
// 9 new generation, 10 reservation id.
// -> {-1} when the counter is missing and no seed was given; else
//    {admitted 1/0, tokens, cost, generation, refused_by 0|1 tokens|2 cost}.
// Arithmetic stays in Redis (HINCRBY on decimal strings): Lua 5.1 would print
// a large number as 1e+15 and HINCRBY would refuse it.
const char* const reserve_lua = R"lua(
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then
  if ARGV[6] ~= '1' then return {-1} end
  redis.call('HSET', k, 't', ARGV[7], 'c', ARGV[8], 'g', ARGV[9])
  redis.call('EXPIRE', k, tonumber(ARGV[5]))
end
local t = tonumber(redis.call('HGET', k, 't') or '0')
local c = tonumber(redis.call('HGET', k, 'c') or '0')
local g = redis.call('HGET', k, 'g') or ''
local rid = 'r:' .. ARGV[10]
if redis.call('HEXISTS', k, rid) == 1 then return {1, t, c, g, 0} end
local ct, cc = tonumber(ARGV[3]), tonumber(ARGV[4])
if ct >= 0 and t + tonumber(ARGV[1]) > ct then return {0, t, c, g, 1} end
if cc >= 0 and c + tonumber(ARGV[2]) > cc then return {0, t, c, g, 2} end
redis.call('HSET', k, rid, ARGV[1] .. ' ' .. ARGV[2])
t = redis.call('HINCRBY', k, 't', ARGV[1])
c = redis.call('HINCRBY', k, 'c', ARGV[2])
return {1, t, c, g, 0}
)lua";

// KEYS[1] counter. ARGV: 1 token delta (actual - reserved), 2 cost delta,
// 3 generation of the reservation, 4 actual tokens, 5 actual cost,
// 6 reservation id.
// -> 0 counter gone (the ledger will seed it), 1 settled, 2 settled into a
//    rebuilt counter (added the actual usage), 3 already settled.
const char* const settle_lua = R"lua(
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return 0 end
local dt, dc, res = ARGV[1], ARGV[2], 1
if redis.call('HDEL', k, 'r:' .. ARGV[6]) == 0 then
  if redis.call('HGET', k, 'g') == ARGV[3] then return 3 end
  if redis.call('HSETNX', k, 's:' .. ARGV[6], '1') == 0 then return 3 end
  dt, dc, res = ARGV[4], ARGV[5], 2
end
if redis.call('HINCRBY', k, 't', dt) < 0 then redis.call('HSET', k, 't', '0') end
if redis.call('HINCRBY', k, 'c', dc) < 0 then redis.call('HSET', k, 'c', '0') end
return res
)lua";

std::int64_t integer_of(const redisReply* r) {
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (r->type == REDIS_REPLY_STRING) return std::strtoll(r->str, nullptr, 10);
  return 0;
}

store_error malformed(const char* what) {
  return make_store_error(store_errc::query_failed, std::string("redis ") + what + ": unexpected reply");
}

}  // namespace

redis_quota_store::redis_quota_store(redis_endpoint endpoint, redis_options options,
                                     usage_seed seed)
    : seed_(std::move(seed)), conn_(std::move(endpoint), options), rng_(std::random_device{}()) {}

store_result<std::unique_ptr<redis_quota_store>> redis_quota_store::from_url(
    const std::string& redis_url, redis_options options, usage_seed seed) {
  auto ep = parse_redis_url(redis_url);
  if (!ep) return ep.error();
  return std::make_unique<redis_quota_store>(*ep, options, std::move(seed));
}

std::string redis_quota_store::key_of(const std::string& workspace, const std::string& period) {
  return "sb:quota:" + workspace + ":" + period;
}

std::string redis_quota_store::random_id() {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
  return buf;
}

store_result<quota_decision> redis_quota_store::reserve(const std::string& workspace,
                                                        const std::string& period,
                                                        quota_amount amount,
                                                        const quota_caps& caps) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string id = random_id();
  std::vector<std::string> argv = {
      "EVAL", reserve_lua, "1", key_of(workspace, period),
      std::to_string(amount.tokens), std::to_string(amount.cost_micros),
      std::to_string(caps.tokens.value_or(-1)), std::to_string(caps.cost_micros.value_or(-1)),
      std::to_string(key_ttl.count()), "0", "0", "0", random_id(), id};
  for (int round = 0; round < 2; ++round) {
    auto r = conn_.command(argv, true);
    if (!r) return r.error();
    const redisReply* rep = r->get();
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1) return malformed("reserve");
    if (integer_of(rep->element[0]) == -1) {
      // No counter: seed it from what the ledger already holds, then retry.
      // Only the first seeder's value is kept (the script checks again).
      quota_amount start;
      if (seed_) {
        auto s = seed_(workspace, period);
        if (!s) return s.error();
        start = *s;
      }
      argv[9] = "1";
      argv[10] = std::to_string(start.tokens);
      argv[11] = std::to_string(start.cost_micros);
      continue;
    }
    if (rep->elements < 5) return malformed("reserve");
    quota_decision d;
    d.admitted = integer_of(rep->element[0]) == 1;
    d.used = {integer_of(rep->element[1]), integer_of(rep->element[2])};
    auto refused = integer_of(rep->element[4]);
    d.refused_by = refused == 1 ? quota_limit::tokens
                   : refused == 2 ? quota_limit::cost
                                  : quota_limit::none;
    if (d.admitted) {
      const redisReply* g = rep->element[3];
      d.reservation = quota_reservation{
          workspace, period, amount,
          g->type == REDIS_REPLY_STRING ? std::string(g->str, g->len) : std::string(), id};
    }
    fill_remaining(d, caps);
    return d;
  }
  return malformed("reserve (counter vanished while seeding)");
}

store_status redis_quota_store::settle(const quota_reservation& r, quota_amount actual) {
  if (r.id.empty()) return make_store_error(store_errc::bad_input, "settle: not a redis reservation");
  std::lock_guard<std::mutex> lock(mu_);
  auto reply = conn_.command(
      {"EVAL", settle_lua, "1", key_of(r.workspace, r.period),
       std::to_string(actual.tokens - r.amount.tokens),
       std::to_string(actual.cost_micros - r.amount.cost_micros), r.generation,
       std::to_string(actual.tokens), std::to_string(actual.cost_micros), r.id},
      true);
  if (!reply) return reply.error();
  return std::nullopt;
}

store_result<quota_amount> redis_quota_store::usage(const std::string& workspace,
                                                    const std::string& period) {
  std::unique_lock<std::mutex> lock(mu_);
  auto r = conn_.command({"HMGET", key_of(workspace, period), "t", "c"}, true);
  if (!r) return r.error();
  const redisReply* rep = r->get();
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) return malformed("usage");
  if (rep->element[0]->type == REDIS_REPLY_NIL) {
    lock.unlock();
    if (seed_) return seed_(workspace, period);  // no counter yet: what the ledger says
    return quota_amount{};
  }
  return quota_amount{integer_of(rep->element[0]), integer_of(rep->element[1])};
}

store_status redis_quota_store::ping() {
  std::lock_guard<std::mutex> lock(mu_);
  auto r = conn_.command({"PING"}, true);
  if (!r) return r.error();
  return std::nullopt;
}

}  // namespace sb::cluster
