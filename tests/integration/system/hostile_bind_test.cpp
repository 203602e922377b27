// A hostile bind (filters nested past karton::Filter::kMaxDepth, the most a bind record read
// from Redis can carry being json::parse's 512 levels) on a real redis-server: drak-system's
// router skips that bind for each task (error logged), routes the others, finishes every task
// and keeps going — before the depth limit, compiling it could overflow the stack (issue 10).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "karton/filter.hpp"
#include "system/router.hpp"
#include "system_env.hpp"

namespace json = karton::json;
using drak_system::Router;
using drak_system::SystemLog;

namespace {

std::string nested_not(int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += R"({"$not": )";
    s += R"("sample")";
    for (int i = 0; i < depth; ++i) s += "}";
    return s;
}

TEST(HostileBind, DeepFiltersAreSkippedAndOtherBindsStillRoute) {
    system_test::RedisEnv env;
    auto sys = env.system_backend();
    util::SystemClock clock;
    util::RandomIdSource ids;
    SystemLog log{*sys, clock, true, karton::LogLevel::Info};
    Router r(*sys, log, clock, ids, {});

    env.bind("karton.deep", json::parse(R"([{"type": )" + nested_not(500) + "}]"));
    env.bind("karton.limit",
             json::parse(R"([{"type": )" + nested_not(karton::Filter::kMaxDepth - 2) + "}]"));
    env.bind("karton.ok", json::parse(R"([{"type": "sample"}])"));
    const auto start = std::chrono::steady_clock::now();
    const auto t1 = env.produce({{"type", "sample"}});
    const auto t2 = env.produce({{"type", "sample"}});
    for (int i = 0; i < 100 && (env.llen("karton.tasks") != 0 ||
                                env.llen(drak_system::processing_key(r.config().instance)) != 0);
         ++i) {
        r.step(false);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_EQ(env.llen("karton.queue.normal:karton.ok"), 2);
    EXPECT_EQ(env.llen("karton.queue.normal:karton.deep"), 0);
    // At the limit the bind is evaluated: an even number of $not around "sample" matches.
    EXPECT_EQ(env.llen("karton.queue.normal:karton.limit"), 2);
    EXPECT_EQ(env.task(t1).status, karton::Status::Finished);
    EXPECT_EQ(env.task(t2).status, karton::Status::Finished);
}

}  // namespace
