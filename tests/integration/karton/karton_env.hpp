// karton_env.hpp (test helper) — a real redis-server + s3rver pair with a bucket, the
// ServiceSettings pointing at them, and a minimal in-test router (karton-system's fork of
// §4.4/§7.2) so producer -> consumer flows can run without karton-system.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "karton/backend.hpp"
#include "karton/producer.hpp"
#include "karton/task.hpp"
#include "s3/client.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"

namespace karton_test {

inline constexpr const char* kBucket = "karton";

struct KartonEnv {
    explicit KartonEnv(std::vector<std::string> redis_args = {}) : redis(std::move(redis_args)) {
        settings.redis.host = redis.host();
        settings.redis.port = redis.port();
        settings.redis.socket_timeout = std::chrono::seconds(10);
        settings.redis.backoff.initial = std::chrono::milliseconds(20);
        settings.redis.backoff.max = std::chrono::milliseconds(200);
        settings.s3.endpoint = s3.endpoint();
        settings.s3.access_key = s3.access_key();
        settings.s3.secret_key = s3.secret_key();
        settings.s3.max_retries = 0;
        settings.bucket = kBucket;
        s3::S3Client admin(settings.s3);
        admin.create_bucket(kBucket);
    }

    // backend returns a fresh named connection for inspecting / driving Redis.
    std::unique_ptr<karton::Backend> backend(const std::string& name = "karton.test-harness") {
        karton::RedisOptions o = settings.redis;
        o.client_name = name;
        return std::make_unique<karton::Backend>(o);
    }

    // route moves every unrouted task to `receiver`'s queue the way karton-system does:
    // fork (Spawned, receiver header), SET, RPUSH queue, unrouted task -> Finished.
    // Returns the uids of the routed copies.
    std::vector<std::string> route(const std::string& receiver) {
        auto b = backend("karton.system");
        std::vector<std::string> out;
        for (;;) {
            auto r = b->connection().command({"LPOP", "karton.tasks"});
            if (r.is_nil()) {
                break;
            }
            const std::string uid = r.as_string();
            auto text = b->get_task(uid);
            if (!text) {
                continue;
            }
            karton::Task u = karton::parse_task(*text, clock);
            karton::Task f = karton::fork_for_bind(u, receiver, ids, clock);
            b->set_task(f.uid, karton::serialize_task(f));
            b->push_queue(karton::to_string(f.priority), receiver, f.uid);
            karton::set_status(u, karton::Status::Finished, clock);
            b->set_task(u.uid, karton::serialize_task(u));
            out.push_back(f.uid);
        }
        return out;
    }

    // task reads and parses a stored task (fails the test when it is missing).
    karton::Task task(const std::string& uid) {
        auto text = backend()->get_task(uid);
        if (!text) {
            ADD_FAILURE() << "task " << uid << " missing from Redis";
            return {};
        }
        return karton::parse_task(*text, clock);
    }

    std::string metric(const std::string& name, const std::string& identity) {
        auto r = backend()->connection().command({"HGET", "karton.metrics." + name, identity});
        return r.is_nil() ? "" : r.as_string();
    }

    // wait_for polls `cond` until true or the deadline passes.
    static bool wait_for(const std::function<bool()>& cond,
                         std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (std::chrono::steady_clock::now() < until) {
            if (cond()) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return cond();
    }

    test_support::RedisServer redis;
    test_support::S3Server s3;
    karton::ServiceSettings settings;
    util::SystemClock clock;
    util::RandomIdSource ids;
};

}  // namespace karton_test
