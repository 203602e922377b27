// The consumer's Redis command sequence compared with redis-flow.jsonl (phases
// consumer-a-init, consumer-a-register-bind and consumer-a-process, connection 3), using
// MONITOR on a real redis-server. Task/log texts differ (uids, timestamps), so SET and
// PUBLISH are compared by key/channel and task status; everything else argument by argument.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "karton/consumer.hpp"
#include "karton_env.hpp"
#include "monitor.hpp"
#include "support/paths.hpp"

namespace {

using Cmd = std::vector<std::string>;

std::vector<Cmd> flow(const std::vector<std::string>& phases, int conn) {
    std::vector<Cmd> out;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "redis-flow.jsonl")) {
        auto row = nlohmann::json::parse(line);
        for (const auto& p : phases) {
            if (row["phase"] == p && row["conn"] == conn) {
                out.push_back(row["cmd"].get<Cmd>());
            }
        }
    }
    return out;
}

// normalize keeps what must match exactly and abstracts what cannot (uids, times).
Cmd normalize(const Cmd& c, const std::string& identity) {
    util::SystemClock clock;
    if (c[0] == "PUBLISH") {
        auto rec = nlohmann::json::parse(c[2]);
        std::string msg = rec.value("message", "");
        msg = msg.substr(0, msg.find(" - "));  // "Received new task - <uid>" -> prefix
        return {"PUBLISH", c[1], msg};
    }
    if (c[0] == "SET") {
        karton::Task t = karton::parse_task(c[2], clock);
        const bool own = t.headers.find("receiver") != nullptr &&
                         t.headers.find("receiver")->as_string() == identity;
        return {"SET", own ? "<routed task>" : "<child task>",
                std::string(karton::to_string(t.status))};
    }
    if (c[0] == "RPUSH") {
        return {"RPUSH", c[1]};
    }
    if (c[0] == "GET") {
        return {"GET", "<routed task>"};
    }
    return c;
}

TEST(ConsumerFlow, CommandSequenceMatchesReference) {
    karton_test::KartonEnv env;
    // The bind as karton.vec-a registered it in the capture (HSET argument).
    std::string vector_bind;
    for (const auto& c : flow({"consumer-a-register-bind"}, 3)) {
        if (c[0] == "HSET") {
            vector_bind = c[3];
        }
    }
    ASSERT_FALSE(vector_bind.empty());
    karton::ConsumerInfo info;
    info.identity = "karton.vec-a";
    info.filters = karton::json::parse(R"([{"type": "sample", "kind": "raw"}])");
    info.info = "Vector consumer A: accepts raw samples and emits children";
    info.service_version = "1.0.0";
    karton::ConsumerOptions opts;
    opts.install_signal_handlers = false;  // default poll timeout 5 s, as captured

    // First start: init + bind registration (no tasks queued yet).
    karton_test::Monitor monitor(env.redis);
    auto process = [&](karton::TaskContext& ctx) {
        auto r = ctx.resource("sample");
        std::string bytes = ctx.download(r);
        ctx.log().info("Got " + std::to_string(bytes.size()) + " bytes from " + r.name);
        karton::Task child = ctx.derive_task({{"type", "sample"}, {"kind", "runnable"}});
        ctx.send(child);
        karton::Task out = ctx.new_task({{"type", "result"}});
        out.payload.set("out",
                        out.attach_resource(ctx.resource_from_bytes("out.txt", "hello, world")));
        ctx.send(out);
    };
    {
        karton::FunctionConsumer first(env.settings, info, process, opts);
        EXPECT_EQ(first.bind_json(), vector_bind);
        std::thread t([&] { first.run(); });
        ASSERT_TRUE(karton_test::KartonEnv::wait_for(
            [&] { return env.backend()->get_bind("karton.vec-a").has_value(); }));
        first.request_stop();
        t.join();
    }
    auto seen = karton_test::Monitor::of_client(monitor.drain(), "karton.vec-a");
    auto expected = flow({"consumer-a-init", "consumer-a-register-bind"}, 3);
    ASSERT_GE(seen.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(normalize(seen[i], "karton.vec-a"), normalize(expected[i], "karton.vec-a"))
            << "command " << i;
    }

    // Second start with a routed task waiting: the consumer-a-process phase.
    karton::Producer producer(env.settings, "karton.vec-producer");
    karton::Task t = karton::new_task({{"type", "sample"}, {"kind", "raw"}}, env.ids, env.clock);
    t.payload.set("sample", t.attach_resource(karton::resource_from_bytes(
                                "sample.txt", "hello world!", env.ids)));
    producer.send_task(t);
    auto routed = env.route("karton.vec-a");
    monitor.drain();  // forget the set-up traffic
    {
        karton::FunctionConsumer second(env.settings, info, process, opts);
        std::thread th([&] { second.run(); });
        ASSERT_TRUE(karton_test::KartonEnv::wait_for([&] {
            auto text = env.backend()->get_task(routed[0]);
            return text && karton::parse_task(*text, env.clock).status == karton::Status::Finished;
        }));
        second.request_stop();
        th.join();
    }
    seen = karton_test::Monitor::of_client(monitor.drain(), "karton.vec-a");
    expected = flow({"consumer-a-process"}, 3);
    // seen starts with CLIENT SETNAME + PING (consumer-a-init of this second process).
    ASSERT_GE(seen.size(), expected.size() + 2);
    EXPECT_EQ(seen[0], (Cmd{"CLIENT", "SETNAME", "karton.vec-a"}));
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(normalize(seen[i + 2], "karton.vec-a"), normalize(expected[i], "karton.vec-a"))
            << "command " << i;
    }
}

}  // namespace
