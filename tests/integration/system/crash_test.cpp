// Crash safety of the drak-system router (issue 6): a forked router process is SIGKILLed at
// seeded random moments while routing; after restarts every unrouted task is routed exactly
// once to every matching bind (no loss, no duplicate queue entry), the non-matching bind gets
// nothing, every unrouted task ends Finished and karton.metrics.assigned counts each fork once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "system/router.hpp"
#include "system_env.hpp"

namespace json = karton::json;

namespace {

pid_t start_router(const karton::RedisOptions& base) {
    const pid_t pid = ::fork();
    if (pid != 0) {
        return pid;
    }
    // Child: route forever (until killed).
    try {
        karton::RedisOptions o = base;
        o.client_name = "karton.system?karton_version=5.9.1&service_version=5.9.1";
        karton::Backend backend(o);
        util::SystemClock clock;
        util::RandomIdSource ids;
        drak_system::SystemLog log(backend, clock, false, karton::LogLevel::Warning);
        drak_system::RouterConfig rc;
        rc.batch = 50;
        drak_system::Router router(backend, log, clock, ids, rc);
        for (;;) {
            router.step(true);
        }
    } catch (...) {
        ::_exit(3);
    }
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

TEST(RouterCrash, KillNineAtRandomPointsLosesAndDuplicatesNothing) {
    system_test::RedisEnv env;
    env.bind("karton.match-a", json::parse(R"([{"type": "sample"}])"));
    env.bind("karton.match-b", json::parse(R"([{"kind": "raw"}])"));
    env.bind("karton.nomatch", json::parse(R"([{"type": "other"}])"));
    constexpr int kTasks = 3000;
    constexpr int kIterations = 25;
    std::set<std::string> produced;
    std::mt19937 rng(20261127);
    // Short delays: on an idle machine the router empties a round's tasks in a few ms, and the
    // kill must land while it works.
    std::uniform_int_distribution<int> delay_us(50, 3000);
    int kills_mid_work = 0;
    for (int iteration = 0; iteration < kIterations; ++iteration) {
        // New work every round, so every kill can interrupt routing.
        for (int i = 0; i < kTasks / kIterations; ++i) {
            produced.insert(env.produce({{"type", "sample"}, {"kind", "raw"}}));
        }
        const pid_t pid = start_router(env.options);
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
        const bool work_left = env.llen("karton.tasks") > 0;
        kill_and_reap(pid);
        kills_mid_work += work_left ? 1 : 0;
    }
    EXPECT_GE(kills_mid_work, 5) << "the kills should interrupt routing";
    // Final run to completion.
    const pid_t pid = start_router(env.options);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until &&
           (env.llen("karton.tasks") > 0 || env.llen(drak_system::processing_key("main")) > 0)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_and_reap(pid);
    ASSERT_EQ(env.llen("karton.tasks"), 0);
    ASSERT_EQ(env.llen(drak_system::processing_key("main")), 0);

    for (const std::string id : {"karton.match-a", "karton.match-b"}) {
        const auto queue = env.list("karton.queue.normal:" + id);
        EXPECT_EQ(queue.size(), produced.size()) << id;
        std::map<std::string, int> per_origin;
        for (const auto& uid : queue) {
            const karton::Task f = env.task(uid);
            ++per_origin[*f.orig_uid];
            EXPECT_EQ(f.headers.at("receiver").as_string(), id);
        }
        EXPECT_EQ(per_origin.size(), produced.size()) << id;
        for (const auto& [origin, n] : per_origin) {
            EXPECT_EQ(n, 1) << id << " got " << origin << " " << n << " times";
            EXPECT_EQ(produced.count(origin), 1u);
        }
        EXPECT_EQ(
            env.harness().connection().command({"HGET", "karton.metrics.assigned", id}).as_string(),
            std::to_string(produced.size()));
    }
    EXPECT_EQ(env.llen("karton.queue.normal:karton.nomatch"), 0);
    for (const auto& uid : produced) {
        EXPECT_EQ(env.task(uid).status, karton::Status::Finished) << uid;
    }
}

}  // namespace
