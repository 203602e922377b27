// Integration tests of karton/backend.hpp: the Karton Redis operations against a real
// redis-server, with command sequences compared to redis-flow.jsonl via MONITOR.
#include "karton/backend.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "monitor.hpp"
#include "support/paths.hpp"
#include "support/redis_server.hpp"

namespace {

using karton::Backend;
using karton::Metric;

karton::RedisOptions options_for(const test_support::RedisServer& server, std::string name) {
    karton::RedisOptions o;
    o.host = server.host();
    o.port = server.port();
    o.client_name = std::move(name);
    o.socket_timeout = std::chrono::seconds(10);
    return o;
}

// flow_commands returns the commands of one phase/connection in redis-flow.jsonl.
std::vector<std::vector<std::string>> flow_commands(const std::string& phase, int conn) {
    std::vector<std::vector<std::string>> out;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "redis-flow.jsonl")) {
        auto row = nlohmann::json::parse(line);
        if (row["phase"] == phase && row["conn"] == conn) {
            out.push_back(row["cmd"].get<std::vector<std::string>>());
        }
    }
    return out;
}

TEST(KartonKeys, NamesMatchSpec) {
    auto row = nlohmann::json::parse(
        test_support::read_lines(test_support::vectors_dir() / "queue-names.jsonl").at(0));
    EXPECT_EQ(karton::internal::redis_keys::consume_order(row["identity"].get<std::string>()),
              row["consume_order"].get<std::vector<std::string>>());
    EXPECT_EQ(karton::internal::redis_keys::task_key("{R}:X"), "karton.task:{R}:X");
    EXPECT_EQ(karton::internal::redis_keys::metric_key(Metric::GarbageCollected),
              "karton.metrics.garbage-collected");
    EXPECT_EQ(karton::internal::redis_keys::log_channel("ERROR", "karton.vec-b"),
              "karton.log.error.karton.vec-b");
}

TEST(KartonBackend, RegisterBindMatchesFlowVector) {
    test_support::RedisServer server;
    karton_test::Monitor monitor(server);
    const auto expected_all = flow_commands("consumer-a-register-bind", 3);
    // The HSET argument of the vector is the exact bind text; replay it.
    std::string bind_json;
    for (const auto& c : expected_all) {
        if (c[0] == "HSET") {
            bind_json = c[3];
        }
    }
    ASSERT_FALSE(bind_json.empty());
    Backend b(options_for(server, "karton.vec-a"));
    EXPECT_EQ(b.register_bind("karton.vec-a", bind_json), std::nullopt);
    EXPECT_EQ(b.register_bind("karton.vec-a", bind_json), bind_json);
    EXPECT_EQ(b.get_bind("karton.vec-a"), bind_json);
    EXPECT_EQ(b.get_bind("karton.nobody"), std::nullopt);
    auto all = b.get_binds();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].first, "karton.vec-a");

    auto seen = karton_test::Monitor::of_client(monitor.drain(), "karton.vec-a");
    std::vector<std::vector<std::string>> expected = flow_commands("consumer-a-init", 3);
    for (const auto& c : expected_all) {
        if (c[0] != "PUBLISH") {  // log records are the consumer's business, not the backend's
            expected.push_back(c);
        }
    }
    ASSERT_GE(seen.size(), expected.size());
    seen.resize(expected.size());
    EXPECT_EQ(seen, expected);
}

TEST(KartonBackend, ProducerWritesMatchFlowVector) {
    test_support::RedisServer server;
    karton_test::Monitor monitor(server);
    const auto expected = flow_commands("producer-send-task", 5);
    ASSERT_EQ(expected.size(), 3u);
    const std::string uid = expected[1][2];
    const std::string task_json = expected[0][2];
    Backend b(options_for(server, "karton.vec-producer"));
    b.set_task(uid, task_json);
    b.push_unrouted(uid);
    EXPECT_EQ(b.increment_metric(Metric::Produced, "karton.vec-producer"), 1);
    auto seen = karton_test::Monitor::of_client(monitor.drain(), "karton.vec-producer");
    ASSERT_EQ(seen.size(), 2u + 3u);  // CLIENT SETNAME, PING, then the send
    EXPECT_EQ(seen[0], (std::vector<std::string>{"CLIENT", "SETNAME", "karton.vec-producer"}));
    EXPECT_EQ(seen[1], (std::vector<std::string>{"PING"}));
    EXPECT_EQ(std::vector(seen.begin() + 2, seen.end()), expected);
    EXPECT_EQ(b.get_task(uid), task_json);
}

TEST(KartonBackend, ConsumePollsQueuesInOrder) {
    test_support::RedisServer server;
    Backend b(options_for(server, "karton.c"));
    EXPECT_EQ(b.consume("karton.c", 1), std::nullopt);
    b.push_queue("low", "karton.c", "u-low");
    b.push_queue("normal", "karton.c", "u-normal");
    b.push_queue("high", "karton.c", "u-high1");
    b.push_queue("high", "karton.c", "u-high2");
    b.connection().command({"RPUSH", "karton.c", "u-legacy"});
    std::vector<std::string> got;
    while (auto u = b.consume("karton.c", 1)) {
        got.push_back(*u);
    }
    EXPECT_EQ(got,
              (std::vector<std::string>{"u-legacy", "u-high1", "u-high2", "u-normal", "u-low"}));
}

TEST(KartonBackend, TasksMetricsAndLogs) {
    test_support::RedisServer server;
    Backend b(options_for(server, "karton.t"));
    b.set_tasks({{"a", "{\"x\": 1}"}, {"b", "{\"x\": 2}"}});
    b.set_tasks({});
    auto got = b.get_tasks({"a", "missing", "b"});
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], "{\"x\": 1}");
    EXPECT_EQ(got[1], std::nullopt);
    EXPECT_EQ(got[2], "{\"x\": 2}");
    EXPECT_TRUE(b.get_tasks({}).empty());
    EXPECT_EQ(b.increment_metric(Metric::Crashed, "karton.t"), 1);
    EXPECT_EQ(b.increment_metric(Metric::Crashed, "karton.t"), 2);
    EXPECT_EQ(b.connection().command({"HGET", "karton.metrics.crashed", "karton.t"}).as_string(),
              "2");

    karton::RedisOptions so = options_for(server, "");
    karton::Connection sub(so);
    sub.command({"PSUBSCRIBE", "karton.log.*"});
    EXPECT_EQ(b.publish_log("INFO", "karton.t", "{\"type\": \"log\"}"), 1);
    auto msg = sub.receive().as_array();
    ASSERT_EQ(msg.size(), 4u);
    EXPECT_EQ(msg[0].as_string(), "pmessage");
    EXPECT_EQ(msg[2].as_string(), "karton.log.info.karton.t");
    EXPECT_EQ(msg[3].as_string(), "{\"type\": \"log\"}");
}

}  // namespace
