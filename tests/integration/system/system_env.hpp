// system_env.hpp (test helper) — a real redis-server with named Karton connections, plus the
// producer/consumer-side writes the drak-system tests need: storing and queueing unrouted
// tasks (§7.1), registering binds (§6.1), reading queues and tasks back.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "karton/backend.hpp"
#include "karton/bind.hpp"
#include "karton/names.hpp"
#include "karton/task.hpp"
#include "support/redis_server.hpp"
#include "system/settings.hpp"
#include "system/system_log.hpp"
#include "util/clock.hpp"

namespace system_test {

// ManualClock returns `t` (settable), for GC age decisions.
class ManualClock final : public util::Clock {
  public:
    explicit ManualClock(double t) : t_(t) {}
    double now() override { return t_; }
    void set(double t) { t_ = t; }

  private:
    double t_;
};

struct RedisEnv {
    RedisEnv() {
        options.host = redis.host();
        options.port = redis.port();
        options.socket_timeout = std::chrono::seconds(10);
        options.backoff.initial = std::chrono::milliseconds(20);
        options.backoff.max = std::chrono::milliseconds(200);
        options.backoff.max_attempts = 50;
    }

    std::unique_ptr<karton::Backend> backend(const std::string& name) {
        karton::RedisOptions o = options;
        o.client_name = name;
        return std::make_unique<karton::Backend>(o);
    }
    std::unique_ptr<karton::Backend> system_backend() {
        return backend(karton::names::format_client_name(drak_system::kSystemIdentity,
                                                         drak_system::kSystemVersion,
                                                         drak_system::kSystemVersion));
    }

    karton::Backend& harness() {
        if (!harness_) {
            harness_ = backend("karton.test-harness");
        }
        return *harness_;
    }

    // produce stores a Declared task with `headers` and pushes it to karton.tasks (§7.1).
    std::string produce(karton::json::Object headers,
                        karton::Priority priority = karton::Priority::Normal) {
        karton::NewTaskOptions o;
        o.priority = priority;
        karton::Task t = karton::new_task(std::move(headers), ids, clock, o);
        t.headers.set("origin", karton::json::Value("karton.test-producer"));
        harness().set_task(t.uid, karton::serialize_task(t));
        harness().push_unrouted(t.uid);
        return t.uid;
    }

    void bind(const std::string& identity, const karton::json::Value& filters,
              bool persistent = true) {
        karton::Bind b;
        b.identity = identity;
        b.filters = filters;
        b.persistent = persistent;
        harness().connection().command(
            {"HSET", "karton.binds", identity, karton::serialize_bind(b)});
    }

    std::vector<std::string> list(const std::string& key) {
        std::vector<std::string> out;
        const karton::Reply reply = harness().connection().command({"LRANGE", key, "0", "-1"});
        for (const auto& r : reply.as_array()) {
            out.push_back(r.as_string());
        }
        return out;
    }

    std::int64_t llen(const std::string& key) {
        return harness().connection().command({"LLEN", key}).as_integer();
    }

    karton::Task task(const std::string& uid) {
        auto text = harness().get_task(uid);
        if (!text) {
            ADD_FAILURE() << "task " << uid << " missing";
            return {};
        }
        return karton::parse_task(*text, clock);
    }

    bool exists(const std::string& uid) { return harness().get_task(uid).has_value(); }

    test_support::RedisServer redis;
    karton::RedisOptions options;
    util::SystemClock clock;
    util::RandomIdSource ids;

  private:
    std::unique_ptr<karton::Backend> harness_;
};

}  // namespace system_test
