#include "karton/backend.hpp"

#include "karton/names.hpp"

namespace karton {
namespace internal::redis_keys {

// Key names come from the model's names.hpp; these wrappers keep the backend's internal API.
std::string task_key(std::string_view uid) { return names::task_key(uid); }

std::string queue_key(std::string_view priority, std::string_view identity) {
    return names::queue_key(priority, identity);
}

std::vector<std::string> consume_order(std::string_view identity) {
    return names::consume_order(identity);
}

std::string metric_key(Metric m) {
    switch (m) {
        case Metric::Produced:
            return "karton.metrics.produced";
        case Metric::Assigned:
            return "karton.metrics.assigned";
        case Metric::Consumed:
            return "karton.metrics.consumed";
        case Metric::Crashed:
            return "karton.metrics.crashed";
        case Metric::GarbageCollected:
            return "karton.metrics.garbage-collected";
    }
    throw RedisError("unknown metric");
}

std::string log_channel(std::string_view level, std::string_view logger) {
    return names::log_channel(level, logger);
}

}  // namespace internal::redis_keys

namespace rk = internal::redis_keys;

Backend::Backend(RedisOptions options) : conn_(std::move(options)) {}

std::optional<std::string> Backend::register_bind(std::string_view identity,
                                                  std::string_view bind_json) {
    auto replies = conn_.transaction(
        {{"HGET", std::string(rk::kBinds), std::string(identity)},
         {"HSET", std::string(rk::kBinds), std::string(identity), std::string(bind_json)}});
    if (replies.size() != 2) {
        throw RedisError("Redis EXEC: expected 2 replies for bind registration");
    }
    return replies[0].as_optional_string();
}

std::optional<std::string> Backend::get_bind(std::string_view identity) {
    return conn_.command({"HGET", rk::kBinds, identity}).as_optional_string();
}

std::vector<std::pair<std::string, std::string>> Backend::get_binds() {
    const auto r = conn_.command({"HGETALL", rk::kBinds});
    const auto& el = r.as_array();
    if (el.size() % 2 != 0) {
        throw RedisError("Redis HGETALL karton.binds: odd number of elements");
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0; i < el.size(); i += 2) {
        out.emplace_back(el[i].as_string(), el[i + 1].as_string());
    }
    return out;
}

std::optional<std::string> Backend::get_task(std::string_view uid) {
    return conn_.command({"GET", rk::task_key(uid)}).as_optional_string();
}

std::vector<std::optional<std::string>> Backend::get_tasks(const std::vector<std::string>& uids) {
    std::vector<std::optional<std::string>> out;
    if (uids.empty()) {
        return out;
    }
    std::vector<std::string> key_texts;
    key_texts.reserve(uids.size());
    for (const auto& u : uids) {
        key_texts.push_back(rk::task_key(u));
    }
    std::vector<std::string_view> argv{"MGET"};
    argv.insert(argv.end(), key_texts.begin(), key_texts.end());
    const auto r = conn_.command(argv);
    for (const auto& e : r.as_array()) {
        out.push_back(e.as_optional_string());
    }
    if (out.size() != uids.size()) {
        throw RedisError("Redis MGET: reply count does not match key count");
    }
    return out;
}

void Backend::set_task(std::string_view uid, std::string_view task_json) {
    conn_.command({"SET", rk::task_key(uid), task_json});
}

void Backend::set_tasks(const std::vector<std::pair<std::string, std::string>>& tasks) {
    if (tasks.empty()) {
        return;
    }
    std::vector<std::string> key_texts;
    key_texts.reserve(tasks.size());
    for (const auto& t : tasks) {
        key_texts.push_back(rk::task_key(t.first));
    }
    std::vector<std::string_view> argv{"MSET"};
    for (size_t i = 0; i < tasks.size(); ++i) {
        argv.push_back(key_texts[i]);
        argv.push_back(tasks[i].second);
    }
    conn_.command(argv);
}

void Backend::push_unrouted(std::string_view uid) {
    conn_.command({"RPUSH", rk::kTasksQueue, uid});
}

void Backend::push_queue(std::string_view priority, std::string_view identity,
                         std::string_view uid) {
    conn_.command({"RPUSH", rk::queue_key(priority, identity), uid});
}

std::optional<std::string> Backend::consume(std::string_view identity, int timeout_seconds) {
    auto r = conn_.blpop(rk::consume_order(identity), timeout_seconds);
    if (!r) {
        return std::nullopt;
    }
    return std::move(r->second);
}

std::int64_t Backend::increment_metric(Metric m, std::string_view identity) {
    return conn_.command({"HINCRBY", rk::metric_key(m), identity, "1"}).as_integer();
}

std::int64_t Backend::publish_log(std::string_view level, std::string_view logger,
                                  std::string_view record_json) {
    return conn_.command({"PUBLISH", rk::log_channel(level, logger), record_json}).as_integer();
}

}  // namespace karton
