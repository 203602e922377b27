// Integration tests of karton/redis.hpp against a real redis-server on loopback.
#include "karton/redis.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/redis_server.hpp"

namespace {

using karton::Connection;
using karton::RedisOptions;
using karton::Reply;

RedisOptions options_for(const test_support::RedisServer& server, std::string name = "") {
    RedisOptions o;
    o.host = server.host();
    o.port = server.port();
    o.client_name = std::move(name);
    o.socket_timeout = std::chrono::seconds(5);
    return o;
}

TEST(RedisConnection, SetsClientNameAndDecodesReplies) {
    test_support::RedisServer server;
    Connection c(options_for(server, "karton.vec-a"));
    EXPECT_EQ(c.command({"CLIENT", "GETNAME"}).as_string(), "karton.vec-a");

    EXPECT_TRUE(c.command({"GET", "t1:missing"}).is_nil());
    EXPECT_EQ(c.command({"GET", "t1:missing"}).as_optional_string(), std::nullopt);
    EXPECT_EQ(c.command({"SET", "t1:k", std::string_view("a\0b", 3)}).type, Reply::Type::Status);
    EXPECT_EQ(c.command({"GET", "t1:k"}).as_string(), std::string("a\0b", 3));
    EXPECT_EQ(c.command({"HINCRBY", "t1:h", "f", "1"}).as_integer(), 1);
    EXPECT_EQ(c.command({"HINCRBY", "t1:h", "f", "1"}).as_integer(), 2);
    c.command({"RPUSH", "t1:l", "x", "y"});
    auto arr = c.command({"LRANGE", "t1:l", "0", "-1"}).as_array();
    ASSERT_EQ(arr.size(), 2u);
    EXPECT_EQ(arr[1].as_string(), "y");
    // Type mismatches in accessors are errors, not silent defaults.
    EXPECT_THROW(c.command({"GET", "t1:k"}).as_integer(), karton::RedisError);
}

TEST(RedisConnection, ErrorReplyThrowsAndConnectionStaysUsable) {
    test_support::RedisServer server;
    Connection c(options_for(server));
    c.command({"SET", "t2:s", "v"});
    try {
        c.command({"LPUSH", "t2:s", "x"});
        FAIL() << "expected RedisReplyError";
    } catch (const karton::RedisReplyError& e) {
        EXPECT_NE(std::string(e.what()).find("WRONGTYPE"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(c.broken());
    EXPECT_EQ(c.command({"GET", "t2:s"}).as_string(), "v");
}

TEST(RedisConnection, PipelineReturnsRepliesInOrderWithErrorsAsValues) {
    test_support::RedisServer server;
    Connection c(options_for(server));
    auto r = c.pipeline(
        {{"SET", "t3:a", "1"}, {"INCR", "t3:a"}, {"HGET", "t3:a", "x"}, {"GET", "t3:a"}});
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[1].as_integer(), 2);
    EXPECT_TRUE(r[2].is_error());
    EXPECT_EQ(r[3].as_string(), "2");
}

TEST(RedisConnection, TransactionReturnsExecReplies) {
    test_support::RedisServer server;
    Connection c(options_for(server));
    auto r = c.transaction({{"HGET", "t4:binds", "id"}, {"HSET", "t4:binds", "id", "v1"}});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_TRUE(r[0].is_nil());
    EXPECT_EQ(r[1].as_integer(), 1);
    r = c.transaction({{"HGET", "t4:binds", "id"}, {"HSET", "t4:binds", "id", "v2"}});
    EXPECT_EQ(r[0].as_string(), "v1");
    // A command rejected at queue time aborts the whole transaction.
    EXPECT_THROW(c.transaction({{"SET", "t4:x", "1"}, {"NOSUCHCOMMAND"}}), karton::RedisReplyError);
    EXPECT_TRUE(c.command({"GET", "t4:x"}).is_nil());
}

TEST(RedisConnection, BlpopHonoursKeyOrderAndTimeout) {
    test_support::RedisServer server;
    auto o = options_for(server);
    o.socket_timeout = std::chrono::seconds(1);  // shorter than the BLPOP wait below
    Connection c(o);
    c.command({"RPUSH", "t5:normal", "n1"});
    c.command({"RPUSH", "t5:high", "h1", "h2"});
    auto v = c.blpop({"t5:legacy", "t5:high", "t5:normal"}, 1);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->first, "t5:high");
    EXPECT_EQ(v->second, "h1");
    c.blpop({"t5:high"}, 1);
    v = c.blpop({"t5:legacy", "t5:high", "t5:normal"}, 1);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->second, "n1");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(c.blpop({"t5:empty"}, 2), std::nullopt);  // longer than socket_timeout
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1900));
    EXPECT_FALSE(c.broken());
    EXPECT_EQ(c.command({"PING"}).as_string(), "PONG");
}

TEST(RedisConnection, ScanVisitsAllMatchingKeys) {
    test_support::RedisServer server;
    Connection c(options_for(server));
    for (int i = 0; i < 250; ++i) {
        c.command({"SET", "t6:task:" + std::to_string(i), "x"});
    }
    c.command({"SET", "t6:other", "x"});
    std::set<std::string> seen;
    c.scan(
        "t6:task:*", [&](const std::string& k) { seen.insert(k); }, 10);
    EXPECT_EQ(seen.size(), 250u);
    EXPECT_FALSE(seen.contains("t6:other"));
    seen.clear();
    c.scan("t6:task:1*", [&](const std::string& k) { seen.insert(k); });
    EXPECT_EQ(seen.size(), 1u + 10u + 100u);
}

TEST(RedisConnection, SslIsRefusedClearly) {
    RedisOptions o;
    o.ssl = true;
    try {
        Connection c(o);
        FAIL() << "expected RedisError";
    } catch (const karton::RedisIoError&) {
        FAIL() << "must not even try to connect";
    } catch (const karton::RedisError& e) {
        EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos);
    }
}

TEST(RedisConnection, UnreachableServerIsIoError) {
    RedisOptions o;
    o.port = test_support::free_loopback_port();
    EXPECT_THROW(Connection c(o), karton::RedisIoError);
}

TEST(RedisConnection, ReconnectsAfterServerRestart) {
    test_support::RedisServer server;
    auto o = options_for(server, "karton.restart");
    o.backoff.initial = std::chrono::milliseconds(20);
    o.backoff.max = std::chrono::milliseconds(200);
    o.backoff.max_attempts = 50;
    Connection c(o);
    c.command({"SET", "t7:k", "v"});
    server.restart();
    // The next command notices the socket the server closed and reconnects before sending
    // (naming the connection again); data is gone (no persistence).
    EXPECT_TRUE(c.command({"GET", "t7:k"}).is_nil());
    EXPECT_FALSE(c.broken());
    EXPECT_EQ(c.command({"CLIENT", "GETNAME"}).as_string(), "karton.restart");
}

TEST(RedisConnection, ReconnectWaitsWithBackoffUntilServerReturns) {
    test_support::RedisServer server;
    auto o = options_for(server);
    o.backoff.initial = std::chrono::milliseconds(20);
    o.backoff.max = std::chrono::milliseconds(100);
    Connection c(o);
    server.stop();
    std::thread restarter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        server.start();
    });
    // The command finds the socket closed by the server and reconnects with backoff until the
    // server is back (nothing was sent, so nothing is repeated).
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(c.command({"PING"}).as_string(), "PONG");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(400));
    restarter.join();
    server.stop();
    EXPECT_THROW(c.reconnect([] { return true; }), karton::RedisIoError);
    server.start();
    c.reconnect();
    EXPECT_EQ(c.command({"PING"}).as_string(), "PONG");
}

TEST(RedisConnection, ReconnectGivesUpAfterMaxAttemptsOrCancel) {
    test_support::RedisServer server;
    auto o = options_for(server);
    o.backoff.initial = std::chrono::milliseconds(10);
    o.backoff.max = std::chrono::milliseconds(40);
    o.backoff.max_attempts = 3;
    Connection c(o);
    server.stop();
    EXPECT_THROW(c.command({"PING"}), karton::RedisIoError);
    try {
        c.command({"PING"});
        FAIL();
    } catch (const karton::RedisIoError& e) {
        EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(c.reconnect([] { return true; }), karton::RedisIoError);
}

TEST(RedisConnection, SelectsDatabaseAndReplaysItOnReconnect) {
    test_support::RedisServer server;
    auto o = options_for(server);
    o.db = 3;
    Connection c(o);
    c.command({"SET", "t8:k", "in-db-3"});
    Connection c0(options_for(server));
    EXPECT_TRUE(c0.command({"GET", "t8:k"}).is_nil());
    c0.command({"SELECT", "3"});
    EXPECT_EQ(c0.command({"GET", "t8:k"}).as_string(), "in-db-3");
}

TEST(RedisConnection, UnixSocketUrl) {
    test_support::RedisServer server;
    RedisOptions o;
    o.apply_url("unix://" + server.unix_socket() + "?db=2");
    EXPECT_EQ(o.db, 2);
    Connection c(o);
    c.command({"SET", "t9:k", "v"});
    Connection tcp(options_for(server));
    tcp.command({"SELECT", "2"});
    EXPECT_EQ(tcp.command({"GET", "t9:k"}).as_string(), "v");
}

TEST(RedisConnection, AuthWithPasswordAndAclUser) {
    test_support::RedisServer server({"--requirepass", "s3cret"});
    auto o = options_for(server, "authed");
    o.password = "s3cret";
    Connection c(o);
    EXPECT_EQ(c.command({"PING"}).as_string(), "PONG");
    c.command({"ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all"});
    auto oa = options_for(server);
    oa.username = "alice";
    oa.password = "pw";
    Connection ca(oa);
    EXPECT_EQ(ca.command({"ACL", "WHOAMI"}).as_string(), "alice");
    // Without credentials the server refuses: the PING error is a reply error, not I/O.
    EXPECT_THROW(Connection(options_for(server)), karton::RedisReplyError);
}

TEST(RedisConnection, AuthErrorFallsBackToNoCredentials) {
    // §1.6: credentials configured but the server has no auth -> reconnect without them.
    test_support::RedisServer server;
    auto o = options_for(server, "fallback");
    o.password = "not-configured-on-server";
    Connection c(o);
    EXPECT_EQ(c.command({"PING"}).as_string(), "PONG");
    EXPECT_EQ(c.command({"CLIENT", "GETNAME"}).as_string(), "fallback");
    EXPECT_FALSE(c.options().password.has_value());
    // Empty credentials count as absent.
    auto e = options_for(server);
    e.username = "";
    e.password = "";
    Connection ce(e);
    EXPECT_FALSE(ce.options().password.has_value());
}

TEST(RedisOptions, ParsesUrls) {
    RedisOptions o;
    o.apply_url("redis://user:p%40ss@example.org:6380/4");
    EXPECT_EQ(o.host, "example.org");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.db, 4);
    EXPECT_EQ(o.username, "user");
    EXPECT_EQ(o.password, "p@ss");
    RedisOptions d;
    d.apply_url("redis://localhost");
    EXPECT_EQ(d.port, 6379);
    EXPECT_EQ(d.db, 0);
    EXPECT_FALSE(d.password);
    RedisOptions v6;
    v6.apply_url("redis://[::1]:7000");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 7000);
    RedisOptions bad;
    EXPECT_THROW(bad.apply_url("rediss://host"), karton::RedisError);
    try {
        bad.apply_url("rediss://host");
    } catch (const karton::RedisError& e) {
        EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos);
    }
    EXPECT_THROW(bad.apply_url("http://host"), karton::RedisError);
    EXPECT_THROW(bad.apply_url("host:6379"), karton::RedisError);
    EXPECT_THROW(bad.apply_url("redis://host:notaport"), karton::RedisError);
    EXPECT_THROW(bad.apply_url("redis://host:99999"), karton::RedisError);
    EXPECT_THROW(bad.apply_url("redis://host/x"), karton::RedisError);
    EXPECT_THROW(bad.apply_url("unix://relative/path"), karton::RedisError);
}

TEST(RedisClientName, ExtendedNameMatchesVectors) {
    int checked = 0;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "client-names.jsonl")) {
        auto row = nlohmann::json::parse(line);
        if (!row.contains("client_name") || !row.contains("identity")) {
            continue;  // rows about parsing back / rejected identities
        }
        std::optional<std::string> sv;
        if (!row["service_version"].is_null()) {
            sv = row["service_version"].get<std::string>();
        }
        EXPECT_EQ(karton::client_name_with_info(row["identity"].get<std::string>(),
                                                row["karton_version"].get<std::string>(), sv),
                  row["client_name"].get<std::string>());
        ++checked;
    }
    EXPECT_GE(checked, 3);
    EXPECT_EQ(karton::client_name_with_info("karton.system", "5.9.1", std::string("5.9.1")),
              "karton.system?karton_version=5.9.1&service_version=5.9.1");
    EXPECT_EQ(karton::client_name_with_info("karton.x", "5.9.1", std::nullopt),
              "karton.x?karton_version=5.9.1");
    EXPECT_EQ(karton::client_name_with_info("k", "5.9.1", std::string("1.0 beta&x")),
              "k?karton_version=5.9.1&service_version=1.0+beta%26x");
}

}  // namespace
