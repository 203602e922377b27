// Integration tests for system/router.hpp on a real redis-server: routing decisions over every
// filters.jsonl case (one bind per case, §8.5), fork fields equal to flow-tasks.json (§4.4,
// §7.2), queue by priority, outputs tracking, metrics, missing and unparseable tasks, bind
// cache refresh, legacy karton.operations (§12.1), resume of an uncommitted batch.
#include "system/router.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/paths.hpp"
#include "system_env.hpp"

namespace json = karton::json;
using drak_system::Router;
using drak_system::RouterConfig;
using drak_system::SystemLog;

namespace {

struct RouterFixture : ::testing::Test {
    system_test::RedisEnv env;
    std::unique_ptr<karton::Backend> sys = env.system_backend();
    util::SystemClock clock;
    util::RandomIdSource ids;
    SystemLog log{*sys, clock, true, karton::LogLevel::Info};

    Router router(RouterConfig c = {}) { return Router(*sys, log, clock, ids, c); }

    // drain steps until the unrouted queue and our processing list are empty.
    void drain(Router& r) {
        for (int i = 0; i < 10000; ++i) {
            r.step(false);
            if (env.llen("karton.tasks") == 0 &&
                env.llen(drak_system::processing_key(r.config().instance)) == 0) {
                return;
            }
        }
        FAIL() << "router did not drain";
    }
};

TEST_F(RouterFixture, FilterVectorsOneBindPerCase) {
    struct Case {
        std::string id;
        std::string outcome;
        std::string task_uid;
    };
    std::vector<Case> cases;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "filters.jsonl")) {
        const json::Value row = json::parse(line);
        const auto& o = row.as_object();
        Case c{o.at("id").as_string(), o.at("karton_system").as_string(), ""};
        env.bind("karton.case-" + c.id, o.at("filters"));
        c.task_uid = env.produce(o.at("headers").as_object());
        cases.push_back(c);
    }
    ASSERT_EQ(cases.size(), 194u);
    Router r = router();
    drain(r);
    // Forks per (orig task uid, receiver).
    std::set<std::pair<std::string, std::string>> forks;
    for (const auto& c : cases) {
        const std::string id = "karton.case-" + c.id;
        for (const auto& uid : env.list(karton::names::queue_key("normal", id))) {
            const karton::Task f = env.task(uid);
            EXPECT_EQ(f.status, karton::Status::Spawned);
            EXPECT_EQ(f.headers.at("receiver").as_string(), id);
            forks.emplace(*f.orig_uid, id);
        }
    }
    std::size_t routed = 0;
    for (const auto& c : cases) {
        const bool has = forks.count({c.task_uid, "karton.case-" + c.id}) != 0;
        if (c.outcome == "routed") {
            ++routed;
            EXPECT_TRUE(has) << c.id;
        } else {
            // "not routed", "bind skipped (error logged)" and (deliberate deviation, see
            // docs/drak-system.md) "exception propagates": no fork, the router keeps going.
            EXPECT_FALSE(has) << c.id << " " << c.outcome;
        }
        EXPECT_EQ(env.task(c.task_uid).status, karton::Status::Finished) << c.id;
    }
    EXPECT_GT(routed, 50u);
    // The assigned metric counts every fork of every bind.
    std::int64_t assigned = 0;
    const auto m = env.harness().connection().command({"HGETALL", "karton.metrics.assigned"});
    for (std::size_t i = 1; i < m.as_array().size(); i += 2) {
        assigned += std::stoll(m.as_array()[i].as_string());
    }
    std::size_t total_forks = 0;
    for (const auto& c : cases) {
        total_forks += env.list(karton::names::queue_key("normal", "karton.case-" + c.id)).size();
    }
    EXPECT_EQ(static_cast<std::size_t>(assigned), total_forks);
}

// The unrouted task and binds exactly as the vector producer/consumers stored them.
struct FlowVector {
    std::string task_uid;
    std::string task_json;
    std::vector<std::pair<std::string, std::string>> binds;
    json::Object after_route;
};

FlowVector flow_vector() {
    FlowVector v;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "redis-flow.jsonl")) {
        const json::Value row = json::parse(line);
        const std::string& phase = row.as_object().at("phase").as_string();
        const auto& cmd = row.as_object().at("cmd").as_array();
        if (phase == "producer-send-task" && cmd[0].as_string() == "SET") {
            v.task_uid = std::string(*karton::names::task_uid_from_key(cmd[1].as_string()));
            v.task_json = cmd[2].as_string();
        }
        if ((phase == "consumer-a-register-bind" || phase == "consumer-b-register-bind") &&
            cmd[0].as_string() == "HSET") {
            v.binds.emplace_back(cmd[2].as_string(), cmd[3].as_string());
        }
    }
    std::ifstream in(test_support::vectors_dir() / "flow-tasks.json");
    std::stringstream ss;
    ss << in.rdbuf();
    v.after_route = json::parse(ss.str()).as_object().at("after-route").as_object();
    return v;
}

TEST_F(RouterFixture, ForkFieldsEqualFlowVector) {
    const FlowVector v = flow_vector();
    ASSERT_FALSE(v.task_uid.empty());
    ASSERT_EQ(v.binds.size(), 2u);
    env.harness().set_task(v.task_uid, v.task_json);
    env.harness().push_unrouted(v.task_uid);
    for (const auto& [id, text] : v.binds) {
        env.harness().connection().command({"HSET", "karton.binds", id, text});
    }
    Router r = router();
    const auto stats = r.step(false);
    EXPECT_EQ(stats.tasks, 1u);
    EXPECT_EQ(stats.forks, 2u);

    // Expected forks by receiver, from the vector.
    std::map<std::string, karton::Task> expected;
    std::optional<karton::Task> expected_finished;
    for (const auto& [key, text] : v.after_route) {
        karton::Task t = karton::parse_task(text.as_string(), clock);
        if (t.status == karton::Status::Spawned) {
            expected[t.headers.at("receiver").as_string()] = t;
        } else {
            expected_finished = t;
        }
    }
    ASSERT_EQ(expected.size(), 2u);
    ASSERT_TRUE(expected_finished);
    for (const auto& [id, text] : v.binds) {
        const auto queue = env.list(karton::names::queue_key("high", id));
        ASSERT_EQ(queue.size(), 1u) << id;
        karton::Task got = env.task(queue[0]);
        karton::Task want = expected.at(id);
        // Fresh uuid and clock: compare everything else field by field.
        EXPECT_EQ(got.uid.substr(0, want.root_uid.size() + 3), "{" + want.root_uid + "}:");
        EXPECT_EQ(got.root_uid, want.root_uid);
        EXPECT_EQ(got.parent_uid, want.parent_uid);
        EXPECT_EQ(got.orig_uid, want.orig_uid);
        EXPECT_EQ(got.status, want.status);
        EXPECT_EQ(got.priority, want.priority);
        EXPECT_EQ(got.error, want.error);
        EXPECT_EQ(got.headers, want.headers);
        EXPECT_EQ(got.headers_persistent, want.headers_persistent);
        EXPECT_EQ(got.payload, want.payload);
        EXPECT_EQ(got.payload_persistent, want.payload_persistent);
        // Same bytes once uid and last_update are the vector's.
        got.uid = want.uid;
        got.last_update = want.last_update;
        EXPECT_EQ(karton::serialize_task(got), karton::serialize_task(want));
    }
    karton::Task fin = env.task(v.task_uid);
    fin.last_update = expected_finished->last_update;
    EXPECT_EQ(karton::serialize_task(fin), karton::serialize_task(*expected_finished));
    // Outputs tracking member is the headers in insertion (stored) order.
    const auto members =
        env.harness().connection().command({"SMEMBERS", "karton.outputs:karton.vec-producer"});
    ASSERT_EQ(members.as_array().size(), 1u);
    EXPECT_EQ(members.as_array()[0].as_string(),
              "{\"kind\": \"raw\", \"origin\": \"karton.vec-producer\", \"tlp\": \"amber\", "
              "\"type\": \"sample\"}");
    const auto ttl =
        env.harness().connection().command({"TTL", "karton.outputs:karton.vec-producer"});
    EXPECT_GT(ttl.as_integer(), 2592000 - 100);
    EXPECT_EQ(env.harness()
                  .connection()
                  .command({"HGET", "karton.metrics.assigned", "karton.vec-a"})
                  .as_string(),
              "1");
}

TEST_F(RouterFixture, QueueByPriorityOrderAndNoMatch) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    const auto low = env.produce({{"type", "sample"}}, karton::Priority::Low);
    const auto n1 = env.produce({{"type", "sample"}});
    const auto none = env.produce({{"type", "other"}});
    const auto n2 = env.produce({{"type", "sample"}});
    Router r = router();
    drain(r);
    const auto qn = env.list("karton.queue.normal:karton.a");
    ASSERT_EQ(qn.size(), 2u);
    EXPECT_EQ(*env.task(qn[0]).orig_uid, n1);
    EXPECT_EQ(*env.task(qn[1]).orig_uid, n2);
    const auto ql = env.list("karton.queue.low:karton.a");
    ASSERT_EQ(ql.size(), 1u);
    EXPECT_EQ(*env.task(ql[0]).orig_uid, low);
    EXPECT_EQ(env.task(none).status, karton::Status::Finished);
    EXPECT_EQ(env.llen("karton.queue.high:karton.a"), 0);
}

TEST_F(RouterFixture, MissingAndUnparseableTasksAreNotRetried) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    env.harness().push_unrouted("{x}:missing");
    env.harness().set_task("{x}:garbage", "{not json");
    env.harness().push_unrouted("{x}:garbage");
    const auto ok = env.produce({{"type", "sample"}});
    Router r = router();
    const auto s = r.step(false);
    EXPECT_EQ(s.missing, 1u);
    EXPECT_EQ(s.unparseable, 1u);
    EXPECT_EQ(s.tasks, 1u);
    EXPECT_EQ(env.task(ok).status, karton::Status::Finished);
    EXPECT_EQ(env.list(drak_system::kUnparseableKey), std::vector<std::string>{"{x}:garbage"});
    EXPECT_EQ(env.llen("karton.tasks"), 0);
    EXPECT_EQ(env.llen(drak_system::processing_key("main")), 0);
    // The document itself is left for operators.
    EXPECT_EQ(*env.harness().get_task("{x}:garbage"), "{not json");
    EXPECT_TRUE(r.step(false).idle());
}

TEST_F(RouterFixture, BindChangesAreSeenNextBatch) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    Router r = router();
    env.produce({{"type", "sample"}});
    drain(r);
    EXPECT_EQ(env.llen("karton.queue.normal:karton.a"), 1);
    env.bind("karton.a", json::parse(R"([{"type": "other"}])"));
    env.produce({{"type", "sample"}});
    env.produce({{"type", "other"}});
    drain(r);
    EXPECT_EQ(env.llen("karton.queue.normal:karton.a"), 2);
    env.harness().connection().command({"HDEL", "karton.binds", "karton.a"});
    env.produce({{"type", "other"}});
    drain(r);
    EXPECT_EQ(env.llen("karton.queue.normal:karton.a"), 2);
    // A bind that cannot be read is skipped, others still route.
    env.harness().connection().command({"HSET", "karton.binds", "karton.bad", "{oops"});
    env.bind("karton.b", json::parse(R"([{}])"));
    env.produce({{"type", "x"}});
    drain(r);
    EXPECT_EQ(env.llen("karton.queue.normal:karton.b"), 1);
}

TEST_F(RouterFixture, ResumesUncommittedBatchExactlyOnce) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    const auto u1 = env.produce({{"type", "sample"}});
    const auto u2 = env.produce({{"type", "sample"}});
    // A crashed run left u1 in its processing list (taken, never committed).
    env.harness().connection().command(
        {"LMOVE", "karton.tasks", "karton.system.processing:main", "LEFT", "RIGHT"});
    Router r = router();
    drain(r);
    const auto q = env.list("karton.queue.normal:karton.a");
    ASSERT_EQ(q.size(), 2u);
    EXPECT_EQ(*env.task(q[0]).orig_uid, u1);
    EXPECT_EQ(*env.task(q[1]).orig_uid, u2);
}

TEST_F(RouterFixture, BlockingStepWaitsForATask) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    Router r = router();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(r.step(true).idle());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
    env.produce({{"type", "sample"}});
    const auto s = r.step(true);
    EXPECT_EQ(s.tasks, 1u);
    EXPECT_EQ(s.forks, 1u);
}

TEST_F(RouterFixture, LegacyOperationUpdatesEmbeddedTask) {
    // The legacy-operation-push body of the vector: the embedded task is written, not the
    // stored one (§12.1).
    std::string body;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "redis-flow.jsonl")) {
        const json::Value row = json::parse(line);
        if (row.as_object().at("phase").as_string() == "legacy-operation-push") {
            body = row.as_object().at("cmd").as_array()[2].as_string();
        }
    }
    ASSERT_FALSE(body.empty());
    const json::Value op = json::parse(body);
    const karton::Task embedded = karton::parse_task(op.as_object().at("task").as_string(), clock);
    env.harness().connection().command({"RPUSH", "karton.operations", body});
    env.harness().connection().command({"RPUSH", "karton.operations", "not json"});
    Router r = router();
    const auto s = r.step(false);
    EXPECT_EQ(s.operations, 1u);
    const karton::Task stored = env.task(embedded.uid);
    EXPECT_EQ(std::string(karton::to_string(stored.status)),
              op.as_object().at("status").as_string());
    EXPECT_EQ(stored.headers, embedded.headers);
    EXPECT_EQ(env.llen("karton.operations"), 0);
    EXPECT_EQ(env.llen(drak_system::operations_processing_key("main")), 0);
}

}  // namespace
