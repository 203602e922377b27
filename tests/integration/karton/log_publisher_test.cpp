// Log records (spec §11, logs.jsonl): record shape and publishing on karton.log.<level>.<id>.
#include "karton/log_publisher.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/redis_server.hpp"

namespace {

using nlohmann::ordered_json;

// vector_record returns the parsed `data` of the first logs.jsonl row whose message starts
// with `prefix`.
ordered_json vector_record(const std::string& prefix) {
    for (const auto& line : test_support::read_lines(test_support::vectors_dir() / "logs.jsonl")) {
        auto row = nlohmann::json::parse(line);
        auto data = ordered_json::parse(row["data"].get<std::string>());
        if (data.contains("message") && data["message"].get<std::string>().starts_with(prefix)) {
            return data;
        }
    }
    throw std::runtime_error("no log vector starting with " + prefix);
}

std::vector<std::string> keys_of(const ordered_json& j) {
    std::vector<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) {
        out.push_back(it.key());
    }
    return out;
}

karton::RedisOptions options_for(const test_support::RedisServer& server, std::string name) {
    karton::RedisOptions o;
    o.host = server.host();
    o.port = server.port();
    o.client_name = std::move(name);
    o.socket_timeout = std::chrono::seconds(10);
    return o;
}

TEST(LogPublisher, PlainRecordHasVectorShape) {
    test_support::RedisServer server;
    karton::Backend backend(options_for(server, "karton.vec-a"));
    util::FixedStepClock clock(1795742459.25, 0.125);
    karton::LogPublisher pub(backend, "karton.vec-a", clock, true, karton::LogLevel::Info,
                             "worker-1");
    auto expected = vector_record("Service karton.vec-a started");
    auto got =
        ordered_json::parse(pub.record(karton::LogLevel::Info, "Service karton.vec-a started",
                                       std::nullopt, std::source_location::current()));
    EXPECT_EQ(keys_of(got), keys_of(expected));
    for (const char* k :
         {"name", "levelname", "levelno", "task_id", "message", "type", "hostname"}) {
        EXPECT_EQ(got[k], expected[k]) << k;
    }
    EXPECT_EQ(got["created"], 1795742459.25);
    EXPECT_EQ(got["filename"], "log_publisher_test.cpp");
    EXPECT_EQ(got["module"], "log_publisher_test");
    EXPECT_EQ(got["funcName"], "TestBody");
}

TEST(LogPublisher, CrashRecordWithTaskAndExceptionHasVectorShape) {
    test_support::RedisServer server;
    karton::Backend backend(options_for(server, "karton.vec-b"));
    util::FixedStepClock clock(1.0, 1.0);
    karton::LogPublisher pub(backend, "karton.vec-b", clock, true, karton::LogLevel::Info,
                             "worker-1");
    auto expected = vector_record("Failed to process task");
    karton::ExceptionInfo exc;
    exc.type = expected["excType"];
    exc.value = expected["excValue"];
    exc.traceback = expected["excTraceback"].get<std::vector<std::string>>();
    pub.set_task(expected["task_id"], expected["task"]);
    const std::string msg = expected["message"].get<std::string>().substr(
        0, expected["message"].get<std::string>().find('\n'));
    auto got = ordered_json::parse(
        pub.record(karton::LogLevel::Error, msg, exc, std::source_location::current()));
    EXPECT_EQ(keys_of(got), keys_of(expected));
    for (const char* k : {"name", "levelname", "levelno", "task_id", "message", "excText",
                          "excValue", "excTraceback", "excType", "type", "task", "hostname"}) {
        EXPECT_EQ(got[k], expected[k]) << k;
    }
    pub.clear_task();
    got = ordered_json::parse(
        pub.record(karton::LogLevel::Info, "x", std::nullopt, std::source_location::current()));
    EXPECT_EQ(got["task_id"], "(no task)");
    EXPECT_FALSE(got.contains("task"));
}

TEST(LogPublisher, PublishesOnLevelChannelAndHonoursSwitches) {
    test_support::RedisServer server;
    karton::Connection sub(options_for(server, ""));
    sub.command({"PSUBSCRIBE", "karton.log.*"});
    karton::Backend backend(options_for(server, "karton.svc"));
    util::FixedStepClock clock(1.0, 1.0);
    karton::LogPublisher off(backend, "karton.svc", clock, /*enabled=*/false);
    off.info("not published");
    karton::LogPublisher pub(backend, "karton.svc", clock, true, karton::LogLevel::Info);
    pub.log(karton::LogLevel::Debug, "below level");
    try {
        throw std::runtime_error("boom");
    } catch (...) {
        pub.error("Failed", karton::current_exception_info());
    }
    // The first message is the error record: the disabled and below-level ones never left.
    auto msg = sub.receive().as_array();
    ASSERT_EQ(msg.size(), 4u);
    EXPECT_EQ(msg[2].as_string(), "karton.log.error.karton.svc");
    auto rec = nlohmann::json::parse(msg[3].as_string());
    EXPECT_EQ(rec["excType"], "std::runtime_error");
    EXPECT_EQ(rec["excValue"], "boom");
    auto tb = rec["excTraceback"].get<std::vector<std::string>>();
    ASSERT_EQ(tb.size(), 3u);
    EXPECT_EQ(tb.front(), "Traceback (most recent call last):\n");
    EXPECT_EQ(tb.back(), "std::runtime_error: boom\n");
    EXPECT_NE(tb[1].find("log_publisher_test.cpp"), std::string::npos);
}

}  // namespace
