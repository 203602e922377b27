// Integration tests for system/gc.hpp on real redis-server + s3rver: every task GC rule of
// §9.1 (dispatched/started/crashed timeouts, crash_started_tasks_on_timeout, Finished, Spawned
// kept, unrouted and in-flight Declared kept), offline non-persistent bind removal with queues
// and tasks (§6.4), GC metrics, bounded SCAN chunks, and resource GC (§9.2) that keeps
// referenced objects and never touches another bucket.
#include "system/gc.hpp"

#include <gtest/gtest.h>

#include "karton/resource.hpp"
#include "s3/client.hpp"
#include "support/s3_server.hpp"
#include "system/router.hpp"
#include "system_env.hpp"

namespace json = karton::json;
using drak_system::GarbageCollector;
using drak_system::GcConfig;

namespace {

constexpr double kNow = 1800000000.0;

struct GcFixture : ::testing::Test {
    system_test::RedisEnv env;
    std::unique_ptr<karton::Backend> sys = env.system_backend();
    system_test::ManualClock clock{kNow};
    drak_system::SystemLog log{*sys, clock, true, karton::LogLevel::Debug};

    GcConfig config(bool crash = false) {
        GcConfig c;
        c.timeouts.task_dispatched_timeout = 100;
        c.timeouts.task_started_timeout = 100;
        c.timeouts.task_crashed_timeout = 100;
        c.timeouts.crash_started_tasks_on_timeout = crash;
        c.bucket = "karton";
        c.scan_count = 3;  // many SCAN chunks even for a handful of tasks
        return c;
    }

    // store writes a task with `status`, `age` seconds old, optional receiver.
    std::string store(karton::Status status, double age, const std::string& receiver = "",
                      json::Object payload = {}) {
        karton::Task t = karton::new_task({{"type", "sample"}}, env.ids, env.clock);
        t.status = status;
        t.last_update = kNow - age;
        t.payload = std::move(payload);
        if (!receiver.empty()) {
            t.headers.set("receiver", json::Value(receiver));
        }
        env.harness().set_task(t.uid, karton::serialize_task(t));
        return t.uid;
    }

    std::string metric(const std::string& name, const std::string& field) {
        const auto r =
            env.harness().connection().command({"HGET", "karton.metrics." + name, field});
        return r.is_nil() ? "" : r.as_string();
    }
};

TEST_F(GcFixture, EachTimeoutClass) {
    const auto declared_old = store(karton::Status::Declared, 200);
    const auto declared_fresh = store(karton::Status::Declared, 50);
    const auto declared_queued = store(karton::Status::Declared, 200);
    env.harness().push_unrouted(declared_queued);
    const auto declared_inflight = store(karton::Status::Declared, 200);
    env.harness().connection().command(
        {"RPUSH", drak_system::processing_key("other-router"), declared_inflight});
    const auto started_old = store(karton::Status::Started, 200, "karton.a");
    const auto started_fresh = store(karton::Status::Started, 50, "karton.a");
    const auto finished = store(karton::Status::Finished, 0, "karton.a");
    const auto crashed_old = store(karton::Status::Crashed, 200, "karton.a");
    const auto crashed_fresh = store(karton::Status::Crashed, 50, "karton.a");
    const auto spawned_ancient = store(karton::Status::Spawned, 1e8, "karton.a");
    env.harness().set_task("{x}:garbage", "not a task");

    GarbageCollector gc(*sys, nullptr, log, clock, config());
    const auto s = gc.collect_tasks();
    EXPECT_EQ(s.tasks_seen, 11u);
    EXPECT_EQ(s.unparseable, 1u);
    EXPECT_EQ(s.deleted, 4u);
    EXPECT_EQ(s.crashed, 0u);
    EXPECT_FALSE(env.exists(declared_old));
    EXPECT_TRUE(env.exists(declared_fresh));
    EXPECT_TRUE(env.exists(declared_queued));
    EXPECT_TRUE(env.exists(declared_inflight));
    EXPECT_FALSE(env.exists(started_old));
    EXPECT_TRUE(env.exists(started_fresh));
    EXPECT_FALSE(env.exists(finished));
    EXPECT_FALSE(env.exists(crashed_old));
    EXPECT_TRUE(env.exists(crashed_fresh));
    EXPECT_TRUE(env.exists(spawned_ancient));
    EXPECT_TRUE(env.harness().get_task("{x}:garbage").has_value());
    EXPECT_EQ(metric("garbage-collected", "karton.a"), "3");
    EXPECT_EQ(metric("garbage-collected", "unknown"), "1");
}

TEST_F(GcFixture, CrashStartedTasksOnTimeout) {
    const auto started_old = store(karton::Status::Started, 200, "karton.a");
    GarbageCollector gc(*sys, nullptr, log, clock, config(true));
    const auto s = gc.collect_tasks();
    EXPECT_EQ(s.crashed, 1u);
    EXPECT_EQ(s.deleted, 0u);
    const karton::Task t = env.task(started_old);
    EXPECT_EQ(t.status, karton::Status::Crashed);
    ASSERT_TRUE(t.error.is_array());
    EXPECT_EQ(t.error.as_array().at(0).as_string(), std::string(karton::kStartedTimeoutError));
    EXPECT_EQ(t.last_update_seconds(), kNow);
    EXPECT_EQ(metric("crashed", "karton.a"), "1");
    // Next cycle, once the crashed timeout passed, it is deleted.
    clock.set(kNow + 200);
    EXPECT_EQ(gc.collect_tasks().deleted, 1u);
    EXPECT_FALSE(env.exists(started_old));
}

TEST_F(GcFixture, OfflineNonPersistentBindIsRemovedWithQueuesAndTasks) {
    env.bind("karton.gone", json::parse(R"([{"type": "x"}])"), false);
    env.bind("karton.online", json::parse(R"([{"type": "x"}])"), false);
    env.bind("karton.persistent", json::parse(R"([{"type": "x"}])"), true);
    auto online = env.backend("karton.online");  // a live connection keeps the bind
    const auto gone_task = store(karton::Status::Spawned, 0, "karton.gone");
    const auto online_task = store(karton::Status::Spawned, 0, "karton.online");
    const auto persistent_task = store(karton::Status::Spawned, 0, "karton.persistent");
    env.harness().push_queue("normal", "karton.gone", gone_task);
    env.harness().connection().command({"RPUSH", "karton.gone", "legacy"});
    env.harness().push_queue("normal", "karton.persistent", persistent_task);

    GarbageCollector gc(*sys, nullptr, log, clock, config());
    const auto s = gc.collect_tasks();
    EXPECT_EQ(s.removed_binds, std::vector<std::string>{"karton.gone"});
    EXPECT_FALSE(env.harness().get_bind("karton.gone").has_value());
    EXPECT_TRUE(env.harness().get_bind("karton.online").has_value());
    EXPECT_TRUE(env.harness().get_bind("karton.persistent").has_value());
    EXPECT_EQ(env.llen("karton.queue.normal:karton.gone"), 0);
    EXPECT_EQ(env.llen("karton.gone"), 0);
    EXPECT_EQ(env.llen("karton.queue.normal:karton.persistent"), 1);
    EXPECT_FALSE(env.exists(gone_task));
    EXPECT_TRUE(env.exists(online_task));
    EXPECT_TRUE(env.exists(persistent_task));
    EXPECT_EQ(metric("garbage-collected", "karton.gone"), "1");
}

TEST_F(GcFixture, ManyTasksInBoundedChunks) {
    for (int i = 0; i < 250; ++i) {
        store(karton::Status::Finished, 0, "karton.a");
    }
    for (int i = 0; i < 20; ++i) {
        store(karton::Status::Spawned, 0, "karton.a");
    }
    GarbageCollector gc(*sys, nullptr, log, clock, config());
    const auto s = gc.collect_tasks();
    EXPECT_EQ(s.deleted, 250u);
    EXPECT_EQ(metric("garbage-collected", "karton.a"), "250");
    const auto keys = env.harness().connection().command({"DBSIZE"}).as_integer();
    EXPECT_EQ(keys, 20 + 1);  // the Spawned tasks + karton.metrics.garbage-collected
}

struct ResourceGcFixture : GcFixture {
    test_support::S3Server s3server;
    std::unique_ptr<s3::S3Client> s3;
    ResourceGcFixture() {
        s3::Options o;
        o.endpoint = s3server.endpoint();
        o.access_key = s3server.access_key();
        o.secret_key = s3server.secret_key();
        o.max_retries = 0;
        s3 = std::make_unique<s3::S3Client>(o);
        s3->create_bucket("karton");
        s3->create_bucket("drakrun");
    }

    json::Value resource_marker(const std::string& uid, const std::string& bucket) {
        return json::parse(R"({"__karton_resource__": {"bucket": ")" + bucket +
                           R"(", "flags": [], "metadata": {}, "name": "x", "sha256": null, )" +
                           R"("size": 1, "uid": ")" + uid + R"("}})");
    }
};

TEST_F(ResourceGcFixture, KeepsReferencedAndOtherBuckets) {
    for (const char* key : {"ref-spawned", "ref-crashed", "ref-garbage", "orphan-1", "orphan-2"}) {
        s3->put_object("karton", key, "data");
    }
    s3->put_object("drakrun", "orphan-1", "analysis artifact");
    s3->put_object("drakrun", "analysis/report.json", "{}");
    store(karton::Status::Spawned, 0, "karton.a",
          json::Object{{"sample", resource_marker("ref-spawned", "karton")}});
    // A Crashed task keeps its objects alive; a reference to another bucket protects nothing
    // in the Karton bucket.
    store(karton::Status::Crashed, 0, "karton.a",
          json::Object{{"a", resource_marker("ref-crashed", "karton")},
                       {"b", resource_marker("orphan-2", "drakrun")}});
    // An unparseable document mentioning a key protects it.
    env.harness().set_task("{x}:garbage", R"({"broken": ["ref-garbage")");

    GarbageCollector gc(*sys, s3.get(), log, clock, config());
    const auto s = gc.collect_resources();
    EXPECT_EQ(s.objects_listed, 5u);
    EXPECT_EQ(s.objects_deleted, 2u);
    EXPECT_EQ(s.object_delete_errors, 0u);
    std::set<std::string> left;
    for (const auto& o : s3->list_objects_v2("karton")) {
        left.insert(o.key);
    }
    EXPECT_EQ(left, (std::set<std::string>{"ref-spawned", "ref-crashed", "ref-garbage"}));
    std::set<std::string> drakrun;
    for (const auto& o : s3->list_objects_v2("drakrun")) {
        drakrun.insert(o.key);
    }
    EXPECT_EQ(drakrun, (std::set<std::string>{"orphan-1", "analysis/report.json"}));
}

TEST_F(ResourceGcFixture, ManyOrphansInBatches) {
    for (int i = 0; i < 230; ++i) {
        s3->put_object("karton", "orphan-" + std::to_string(i), "x");
    }
    GarbageCollector gc(*sys, s3.get(), log, clock, config());
    const auto s = gc.run();
    EXPECT_EQ(s.objects_deleted, 230u);
    EXPECT_TRUE(s3->list_objects_v2("karton").empty());
}

}  // namespace

TEST_F(GcFixture, StrandedSpawnedTaskIsPushedBackOnceAfterTheGrace) {
    // Stranded: Spawned, in no queue (a consumer popped it and died before writing Started).
    const auto stranded = store(karton::Status::Spawned, 5000, "karton.r");
    // Spawned and queued (a normal backlog), Started and out of the queue (being processed), and
    // stranded but picked up (Started) before the grace ends: none may be touched.
    const auto queued = store(karton::Status::Spawned, 5000, "karton.r");
    env.harness().connection().command({"RPUSH", "karton.queue.normal:karton.r", queued});
    const auto started = store(karton::Status::Started, 10, "karton.r");
    const auto late_start = store(karton::Status::Spawned, 5000, "karton.r");

    GcConfig c = config();
    c.stranded_grace = 60;
    GarbageCollector gc(*sys, nullptr, log, clock, c);
    auto queue = [&] {
        // Keep the reply alive while iterating over its elements.
        const karton::Reply r = env.harness().connection().command(
            {"LRANGE", "karton.queue.normal:karton.r", "0", "-1"});
        std::vector<std::string> out;
        for (const auto& v : r.as_array()) {
            out.push_back(v.as_string());
        }
        return out;
    };

    auto s = gc.collect_tasks();  // first sighting: only remembered
    EXPECT_EQ(s.stranded_seen, 2u);
    EXPECT_EQ(s.requeued, 0u);
    EXPECT_EQ(queue(), std::vector<std::string>{queued});

    karton::Task t = env.task(late_start);
    t.status = karton::Status::Started;
    env.harness().set_task(late_start, karton::serialize_task(t));
    clock.set(kNow + 30);  // within the grace: still nothing
    s = gc.collect_tasks();
    EXPECT_EQ(s.stranded_seen, 1u);
    EXPECT_EQ(s.requeued, 0u);

    clock.set(kNow + 61);
    s = gc.collect_tasks();
    EXPECT_EQ(s.requeued, 1u);
    EXPECT_EQ(queue(), (std::vector<std::string>{queued, stranded}));
    EXPECT_EQ(env.task(started).status, karton::Status::Started);

    clock.set(kNow + 200);  // queued now: never pushed twice
    s = gc.collect_tasks();
    EXPECT_EQ(s.stranded_seen, 0u);
    EXPECT_EQ(s.requeued, 0u);
    EXPECT_EQ(queue(), (std::vector<std::string>{queued, stranded}));
}

TEST_F(GcFixture, StrandedRecoveryCanBeDisabled) {
    const auto stranded = store(karton::Status::Spawned, 5000, "karton.r");
    GcConfig c = config();
    c.stranded_grace = 0;  // karton-system behaviour
    GarbageCollector gc(*sys, nullptr, log, clock, c);
    gc.collect_tasks();
    clock.set(kNow + 100000);
    const auto s = gc.collect_tasks();
    EXPECT_EQ(s.requeued, 0u);
    EXPECT_EQ(
        env.harness().connection().command({"LLEN", "karton.queue.normal:karton.r"}).as_integer(),
        0);
    EXPECT_EQ(env.task(stranded).status, karton::Status::Spawned);
}
