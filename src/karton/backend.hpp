// karton/backend.hpp — the Karton Redis operations (spec §2.2 key inventory, §6.3 bind
// registration, §7.1 producer writes, §10 consumer polling, §11 log publishing) on top of
// karton/redis.hpp. Works on task/bind JSON *text*: (de)serialisation belongs to the model
// (task.hpp / bind.hpp), so this layer is exactly the command sequences of redis-flow.jsonl.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "karton/internal/redis_keys.hpp"
#include "karton/redis.hpp"

namespace karton {

// Backend is one named Redis connection plus the Karton operations. Not thread-safe (one
// Connection); give each thread its own Backend. Every method throws RedisIoError on connection
// loss (the next call reconnects with backoff) and RedisReplyError on an error reply.
class Backend {
  public:
    // Connects as `options.client_name` (the identity, §2.1; empty = unnamed producer).
    explicit Backend(RedisOptions options);

    Connection& connection() { return conn_; }
    const std::string& client_name() const { return conn_.options().client_name; }

    // register_bind runs MULTI, HGET karton.binds <id>, HSET karton.binds <id> <json>, EXEC
    // (§6.3) and returns the previous bind text (nullopt when there was none).
    std::optional<std::string> register_bind(std::string_view identity, std::string_view bind_json);
    // get_bind: HGET karton.binds <id>; nullopt when the field is missing.
    std::optional<std::string> get_bind(std::string_view identity);
    // get_binds: HGETALL karton.binds as (identity, json) pairs, in server order.
    std::vector<std::pair<std::string, std::string>> get_binds();

    // get_task: GET karton.task:<uid>; nullopt when missing.
    std::optional<std::string> get_task(std::string_view uid);
    // get_tasks: MGET of the task keys; one entry per uid (nullopt when missing).
    std::vector<std::optional<std::string>> get_tasks(const std::vector<std::string>& uids);
    // set_task: SET karton.task:<uid> <json> (§5.2: whole document, last writer wins).
    void set_task(std::string_view uid, std::string_view task_json);
    // set_tasks: one MSET for (uid, json) pairs; no-op when empty.
    void set_tasks(const std::vector<std::pair<std::string, std::string>>& tasks);
    // push_unrouted: RPUSH karton.tasks <uid> (§7.1 step 6).
    void push_unrouted(std::string_view uid);
    // push_queue: RPUSH karton.queue.<priority>:<identity> <uid>.
    void push_queue(std::string_view priority, std::string_view identity, std::string_view uid);
    // consume: BLPOP over internal::redis_keys::consume_order(identity) with `timeout_seconds` (§10
    // step 2); returns the popped task uid, or nullopt on timeout.
    std::optional<std::string> consume(std::string_view identity, int timeout_seconds);
    // increment_metric: HINCRBY karton.metrics.<m> <identity> 1; returns the new value.
    std::int64_t increment_metric(Metric m, std::string_view identity);
    // publish_log: PUBLISH karton.log.<level>.<logger> <record json>; returns the number of
    // subscribers that received it (0 is not an error, §11.1).
    std::int64_t publish_log(std::string_view level, std::string_view logger,
                             std::string_view record_json);

  private:
    Connection conn_;
};

}  // namespace karton
