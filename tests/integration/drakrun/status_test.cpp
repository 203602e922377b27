#include "drakrun/status.hpp"

#include <gtest/gtest.h>

#include "support/redis_server.hpp"

using drakrun::AnalysisState;
using drakrun::StatusStore;

namespace {
karton::Connection connect(const test_support::RedisServer& server) {
    karton::RedisOptions o;
    o.host = server.host();
    o.port = server.port();
    return karton::Connection(o);
}
}  // namespace

TEST(StatusStore, LifecycleAndWireFormat) {
    test_support::RedisServer server;
    auto redis = connect(server);
    StatusStore store(redis);
    EXPECT_TRUE(store.create_pending("uid-1"));
    EXPECT_FALSE(store.create_pending("uid-1"));
    EXPECT_EQ(redis.command({"GET", "drakrun.analysis:uid-1"}).as_string(),
              R"({"status": "pending", "metadata": {}})");
    store.set("uid-1", AnalysisState::Started, {{"sample_sha256", "ab"}});
    auto st = store.get("uid-1");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, AnalysisState::Started);
    EXPECT_EQ(st->metadata["sample_sha256"], "ab");
    store.set("uid-1", AnalysisState::Finished, {{"time_finished", 5}});
    EXPECT_EQ(redis.command({"GET", "drakrun.analysis:uid-1"}).as_string(),
              R"({"status": "finished", "metadata": {"time_finished": 5}})");
    EXPECT_FALSE(store.get("missing"));
}

TEST(StatusStore, WorkerCreatesRecordForTasksNotFromWeb) {
    test_support::RedisServer server;
    auto redis = connect(server);
    StatusStore store(redis);
    store.set("from-python", AnalysisState::Started, nlohmann::ordered_json::object());
    auto recent = store.recent();
    ASSERT_EQ(recent.size(), 1u);
    EXPECT_EQ(recent[0].uid, "from-python");
    EXPECT_EQ(recent[0].state, AnalysisState::Started);
}

TEST(StatusStore, KeepsNewestHundredAndTrimsTheList) {
    test_support::RedisServer server;
    auto redis = connect(server);
    StatusStore store(redis);
    for (int i = 0; i < 130; ++i) {
        ASSERT_TRUE(store.create_pending("a" + std::to_string(i)));
    }
    EXPECT_EQ(redis.command({"LLEN", "drakrun.analyses"}).as_integer(), 100);
    EXPECT_TRUE(redis.command({"GET", "drakrun.analysis:a0"}).is_nil());
    EXPECT_FALSE(redis.command({"GET", "drakrun.analysis:a129"}).is_nil());
    auto recent = store.recent(5);
    ASSERT_EQ(recent.size(), 5u);
    EXPECT_EQ(recent[0].uid, "a129");
    EXPECT_EQ(recent[4].uid, "a125");
}

TEST(StatusStore, UnreadableRecordIsReportedNotThrown) {
    test_support::RedisServer server;
    auto redis = connect(server);
    redis.command({"SET", "drakrun.analysis:bad", "{not json"});
    StatusStore store(redis);
    auto st = store.get("bad");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, AnalysisState::Crashed);
}
