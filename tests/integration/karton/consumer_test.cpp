// Consumer (spec §10, §6.3, §5, §11) against real redis-server + s3rver: a 20 MB resource end
// to end, crash path, Redis restart mid-task, S3 failures, malformed tasks, signals.
#include "karton/consumer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "karton_env.hpp"
#include "monitor.hpp"
#include "support/paths.hpp"
#include "util/crypto.hpp"

namespace {

using karton::Status;
using karton::TaskContext;
using karton_test::KartonEnv;

karton::ConsumerInfo info_for(const std::string& identity,
                              const std::string& filters = R"([{"type": "sample"}])") {
    karton::ConsumerInfo info;
    info.identity = identity;
    info.filters = karton::json::parse(filters);
    info.info = "test consumer";
    info.service_version = "1.0.0";
    return info;
}

karton::ConsumerOptions quick(bool signals = false) {
    karton::ConsumerOptions o;
    o.poll_timeout_seconds = 1;
    o.install_signal_handlers = signals;
    return o;
}

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& c : out) {
        c = static_cast<char>(gen());
    }
    return out;
}

// produce sends a "sample" task (optionally with a resource) as karton.test-producer.
karton::Task produce(KartonEnv& env, const std::string& content = "",
                     karton::json::Object extra_headers = {}) {
    karton::Producer producer(env.settings, "karton.test-producer");
    karton::json::Object headers{{"type", "sample"}, {"kind", "raw"}};
    for (const auto& [k, v] : extra_headers) {
        headers.set(k, v);
    }
    karton::Task t = karton::new_task(std::move(headers), env.ids, env.clock);
    if (!content.empty()) {
        t.payload.set("sample", t.attach_resource(
                                    karton::resource_from_bytes("sample.bin", content, env.ids)));
    }
    producer.send_task(t);
    return t;
}

// RunningConsumer runs consumer.run() on a thread; stops and joins on destruction.
class RunningConsumer {
  public:
    explicit RunningConsumer(karton::Consumer& c)
        : c_(c), t_([this] {
              reason_ = c_.run();
              done_ = true;
          }) {}
    // done: run() returned on its own (or after join()).
    bool done() const { return done_.load(); }
    ~RunningConsumer() { join(); }
    karton::StopReason join() {
        if (t_.joinable()) {
            c_.request_stop();
            t_.join();
        }
        return reason_;
    }

  private:
    karton::Consumer& c_;
    karton::StopReason reason_ = karton::StopReason::Requested;
    std::atomic<bool> done_{false};
    std::thread t_;
};

bool has_status(KartonEnv& env, const std::string& uid, Status s) {
    try {
        auto text = env.backend()->get_task(uid);
        return text && karton::parse_task(*text, env.clock).status == s;
    } catch (const karton::RedisError&) {
        return false;  // server restarting under the test: poll again
    }
}

TEST(Consumer, TwentyMegabyteResourceEndToEnd) {
    KartonEnv env;
    const std::string content = random_bytes(20 * 1024 * 1024, 7);
    const std::string digest = util::sha256_hex(content);
    karton::Task sent = produce(env, content);
    auto routed = env.route("karton.hasher");
    ASSERT_EQ(routed.size(), 1u);

    std::string got_sha, file_sha;
    std::string child_uid;
    util::TempDir dir("consumer-test");
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.hasher"),
        [&](TaskContext& ctx) {
            auto r = ctx.resource("sample");
            EXPECT_EQ(r.sha256, digest);
            EXPECT_EQ(r.size, static_cast<std::int64_t>(content.size()));
            got_sha = util::sha256_hex(ctx.download(r));
            ctx.download_to_file(r, dir.path() / "sample.bin");
            file_sha = util::sha256_file_hex((dir.path() / "sample.bin").string());
            karton::Task out = ctx.new_task({{"type", "hash"}});
            out.payload.set("sha256", got_sha);
            out.payload.set("report", out.attach_resource(ctx.resource_from_bytes("r.txt", "ok")));
            ctx.send(out);
            child_uid = out.uid;
        },
        quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Finished); },
                                std::chrono::seconds(60)));
    }
    EXPECT_EQ(got_sha, digest);
    EXPECT_EQ(file_sha, digest);
    EXPECT_EQ(env.metric("consumed", "karton.hasher"), "1");
    EXPECT_EQ(env.metric("crashed", "karton.hasher"), "");
    EXPECT_EQ(env.metric("produced", "karton.hasher"), "1");
    // The child went to karton.tasks with the parent link and our origin, and its resource
    // is in the default bucket.
    karton::Task child = env.task(child_uid);
    EXPECT_EQ(child.status, Status::Declared);
    EXPECT_EQ(child.parent_uid, routed[0]);
    EXPECT_EQ(child.root_uid, sent.root_uid);
    EXPECT_EQ(child.headers.find("origin")->as_string(), "karton.hasher");
    auto report = karton::resource_from_marker(*child.payload.find("report"));
    s3::S3Client client(env.settings.s3);
    EXPECT_EQ(client.get_object(*report.bucket, report.uid), "ok");
    // The bind is the exact §6.1 text.
    EXPECT_EQ(env.backend()->get_bind("karton.hasher"), consumer.bind_json());
    EXPECT_EQ(consumer.bind_json(),
              "{\"filters\": [{\"type\": \"sample\"}], \"info\": \"test consumer\", "
              "\"is_async\": false, \"persistent\": true, \"service_version\": \"1.0.0\", "
              "\"version\": \"5.9.1\"}");
}

TEST(Consumer, DirectoryResourceIsExtractedSafely) {
    KartonEnv env;
    util::TempDir src("dir-src");
    std::filesystem::create_directories(src.path() / "sub");
    util::write_file_atomic(src.path() / "a.txt", "alpha");
    util::write_file_atomic(src.path() / "sub" / "b.bin", std::string(100000, 'b'));
    karton::Producer producer(env.settings, "karton.test-producer");
    karton::Task t = karton::new_task({{"type", "sample"}}, env.ids, env.clock);
    t.payload.set("dir",
                  t.attach_resource(karton::resource_from_directory("dump", src.path(), env.ids)));
    producer.send_task(t);
    auto routed = env.route("karton.unzip");
    util::TempDir dest("dir-dest");
    size_t files = 0;
    std::string not_dir_error;
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.unzip"),
        [&](TaskContext& ctx) {
            files = ctx.extract_directory(ctx.resource("dir"), dest.path());
            karton::Resource plain = ctx.resource("dir");
            plain.flags.clear();
            try {
                ctx.extract_directory(plain, dest.path());
            } catch (const karton::ResourceError& e) {
                not_dir_error = e.what();
            }
        },
        quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Finished); }));
    }
    EXPECT_EQ(files, 2u);
    EXPECT_EQ(util::read_file(dest.path() / "a.txt"), "alpha");
    EXPECT_EQ(util::read_file(dest.path() / "sub" / "b.bin"), std::string(100000, 'b'));
    EXPECT_NE(not_dir_error.find("not a directory resource"), std::string::npos);
}

TEST(Consumer, CrashPathWritesErrorListMetricsAndCommandOrder) {
    KartonEnv env;
    produce(env);
    auto routed = env.route("karton.crasher");
    karton::Connection sub(env.settings.redis);
    sub.command({"PSUBSCRIBE", "karton.log.error.*"});
    karton_test::Monitor monitor(env.redis);
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.crasher"),
        [](TaskContext&) { throw std::runtime_error("boom"); }, quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Crashed); }));
    }
    karton::Task t = env.task(routed[0]);
    ASSERT_TRUE(t.error.is_array());
    const auto& lines = t.error.as_array();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].as_string(), "Traceback (most recent call last):\n");
    EXPECT_NE(lines[1].as_string().find("in handle_task"), std::string::npos);
    EXPECT_EQ(lines[2].as_string(), "std::runtime_error: boom\n");
    EXPECT_EQ(env.metric("crashed", "karton.crasher"), "1");
    EXPECT_EQ(env.metric("consumed", "karton.crasher"), "1");

    // Observed order for a crash (§10): SET Started, HINCRBY crashed, PUBLISH error,
    // HINCRBY consumed, SET Crashed.
    auto cmds = karton_test::Monitor::of_client(monitor.drain(), "karton.crasher");
    std::vector<std::string> tail;
    bool after_get = false;
    for (const auto& c : cmds) {
        if (c[0] == "GET") {
            after_get = true;
            continue;
        }
        if (!after_get) {
            continue;
        }
        if (c[0] == "PUBLISH") {
            tail.push_back("PUBLISH " + c[1]);
        } else if (c[0] == "SET") {
            const auto status = karton::parse_task(c[2], env.clock).status;
            tail.push_back("SET " + std::string(karton::to_string(status)));
        } else if (c[0] == "HINCRBY") {
            tail.push_back("HINCRBY " + c[1]);
        }
        if (tail.size() == 6) {
            break;
        }
    }
    EXPECT_EQ(tail, (std::vector<std::string>{
                        "PUBLISH karton.log.info.karton.crasher",  // Received new task
                        "SET Started", "HINCRBY karton.metrics.crashed",
                        "PUBLISH karton.log.error.karton.crasher",
                        "HINCRBY karton.metrics.consumed", "SET Crashed"}));
    // The error record carries the exception and the task as it was (Started).
    auto msg = sub.receive().as_array();
    auto rec = nlohmann::json::parse(msg.at(3).as_string());
    EXPECT_EQ(rec["excType"], "std::runtime_error");
    EXPECT_EQ(rec["task_id"], std::string(karton::short_id_of(routed[0])));
    EXPECT_EQ(nlohmann::json::parse(rec["task"].get<std::string>())["status"], "Started");
}

TEST(Consumer, RedisRestartDuringProcessingLosesNoTask) {
    // AOF so the restarted server still has the data (a restart, not a wipe).
    KartonEnv env({"--appendonly", "yes", "--appendfsync", "always"});
    produce(env);
    auto first = env.route("karton.restart");
    std::atomic<int> calls{0};
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.restart"),
        [&](TaskContext&) {
            if (calls++ == 0) {
                env.redis.restart();  // the consumer's connection breaks mid-task
            }
        },
        quick());
    RunningConsumer run(consumer);
    ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, first[0], Status::Finished); }));
    // The loop survived: a second task after the restart is processed too.
    produce(env);
    auto second = env.route("karton.restart");
    ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, second[0], Status::Finished); }));
    EXPECT_EQ(calls.load(), 2);
    EXPECT_EQ(env.metric("consumed", "karton.restart"), "2");
    EXPECT_EQ(run.join(), karton::StopReason::Requested);
}

TEST(Consumer, RedisWipedWhileIdleReRegistersBindAndContinues) {
    KartonEnv env;  // no persistence: the restart loses the bind
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.wiped"), [](TaskContext&) {}, quick());
    RunningConsumer run(consumer);
    ASSERT_TRUE(
        KartonEnv::wait_for([&] { return env.backend()->get_bind("karton.wiped").has_value(); }));
    env.redis.restart();
    ASSERT_TRUE(
        KartonEnv::wait_for([&] { return env.backend()->get_bind("karton.wiped").has_value(); }));
    produce(env);
    auto routed = env.route("karton.wiped");
    ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Finished); }));
}

TEST(Consumer, S3WrongSecretCrashesTaskWithClearError) {
    KartonEnv env;
    produce(env, "payload bytes");
    auto routed = env.route("karton.s3bad");
    auto settings = env.settings;
    settings.s3.secret_key = "wrong-secret";
    karton::FunctionConsumer consumer(
        settings, info_for("karton.s3bad"),
        [](TaskContext& ctx) { ctx.download(ctx.resource("sample")); }, quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Crashed); }));
    }
    karton::Task t = env.task(routed[0]);
    const std::string last = t.error.as_array().back().as_string();
    EXPECT_NE(last.find("s3::S3Error"), std::string::npos) << last;
    EXPECT_NE(last.find("SignatureDoesNotMatch"), std::string::npos) << last;
    // Not lost: the task document (payload included) is still there for a retry.
    EXPECT_NE(t.payload.find("sample"), nullptr);
}

TEST(Consumer, S3ServerStoppedCrashesTaskAndLoopContinues) {
    KartonEnv env;
    produce(env, "payload bytes");
    auto first = env.route("karton.s3down");
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.s3down"),
        [](TaskContext& ctx) {
            if (ctx.task().payload.find("sample") != nullptr) {
                ctx.download(ctx.resource("sample"));
            }
        },
        quick());
    env.s3.stop();
    RunningConsumer run(consumer);
    ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, first[0], Status::Crashed); }));
    const std::string last = env.task(first[0]).error.as_array().back().as_string();
    EXPECT_NE(last.find("s3::S3Error"), std::string::npos) << last;
    // A task without resources is still processed afterwards.
    {
        auto b = env.backend("karton.test-producer");
        karton::Task t = karton::new_task({{"type", "sample"}}, env.ids, env.clock);
        b->set_task(t.uid, karton::serialize_task(t));
        b->push_unrouted(t.uid);
    }
    auto second = env.route("karton.s3down");
    ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, second[0], Status::Finished); }));
}

TEST(Consumer, MalformedTasksAreCrashedWithOriginalTextAndLoopContinues) {
    KartonEnv env;
    auto b = env.backend();
    const std::string valid =
        karton::serialize_task(karton::new_task({{"type", "sample"}}, env.ids, env.clock));
    auto with = [&](const std::string& key, const std::string& value) {
        auto v = karton::json::parse(valid);
        v.as_object().set(key, karton::json::parse(value));
        return karton::json::dump(v);
    };
    auto without = [&](const std::string& key) {
        auto v = karton::json::parse(valid);
        v.as_object().erase(key);
        return karton::json::dump(v);
    };
    struct Case {
        std::string uid;
        std::string text;
        std::string expect_in_error;
    };
    std::vector<Case> bad = {
        {"{r1}:not-json", "{\"uid\": ", "TaskError"},
        {"{r2}:missing-payload", without("payload"), "payload"},
        {"{r3}:wrong-status-type", with("status", "5"), "status"},
        {"{r4}:wrong-headers-type", with("headers", "[1, 2]"), "headers"},
        {"{r5}:empty-resource", with("payload", R"({"s": {"__karton_resource__": {}}})"), "Error"},
        {"{r6}:not-an-object", "[1, 2, 3]", "TaskError"},
    };
    for (const auto& c : bad) {
        b->set_task(c.uid, c.text);
        b->push_queue("normal", "karton.robust", c.uid);
    }
    b->push_queue("normal", "karton.robust", "{r7}:no-such-task");
    // Unknown extra fields are tolerated (and the task is processed).
    const std::string ok_uid = "{r8}:unknown-fields";
    {
        auto v = karton::json::parse(with("future_field", "{\"x\": 1}"));
        v.as_object().set("uid", ok_uid);
        b->set_task(ok_uid, karton::json::dump(v));
        b->push_queue("normal", "karton.robust", ok_uid);
    }
    std::vector<std::string> processed;
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.robust"),
        [&](TaskContext& ctx) { processed.push_back(ctx.task().uid); }, quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, ok_uid, Status::Finished); }));
    }
    EXPECT_EQ(processed, std::vector<std::string>{ok_uid});
    for (const auto& c : bad) {
        auto stored = b->get_task(c.uid);
        ASSERT_TRUE(stored) << c.uid;
        karton::Task t = karton::parse_task(*stored, env.clock);  // now readable
        EXPECT_EQ(t.status, Status::Crashed) << c.uid;
        EXPECT_EQ(t.uid, c.uid);
        const auto& lines = t.error.as_array();
        ASSERT_GE(lines.size(), 4u);
        EXPECT_NE(lines[2].as_string().find(c.expect_in_error), std::string::npos)
            << c.uid << ": " << lines[2].as_string();
        EXPECT_EQ(lines.back().as_string(), "Original task text: " + c.text + "\n") << c.uid;
    }
    EXPECT_EQ(env.metric("crashed", "karton.robust"), std::to_string(bad.size()));
    EXPECT_EQ(env.metric("consumed", "karton.robust"), std::to_string(bad.size() + 1));
}

TEST(Consumer, FiltersNoLongerMatchingRejectsTaskAsFinished) {
    KartonEnv env;
    produce(env);
    auto routed = env.route("karton.picky");
    bool called = false;
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.picky", R"([{"type": "other"}])"),
        [&](TaskContext&) { called = true; }, quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Finished); }));
    }
    EXPECT_FALSE(called);
    EXPECT_EQ(env.metric("consumed", "karton.picky"), "");
}

TEST(Consumer, StopsWhenAnotherReplicaRegistersDifferentBinds) {
    KartonEnv env;
    karton::FunctionConsumer old_replica(
        env.settings, info_for("karton.deploy"), [](TaskContext&) {}, quick());
    RunningConsumer run(old_replica);
    ASSERT_TRUE(
        KartonEnv::wait_for([&] { return env.backend()->get_bind("karton.deploy").has_value(); }));
    auto newer = info_for("karton.deploy", R"([{"type": "sample", "kind": "raw"}])");
    karton::FunctionConsumer new_replica(
        env.settings, newer, [](TaskContext&) {}, quick());
    env.backend("karton.deploy")->register_bind("karton.deploy", new_replica.bind_json());
    // The old replica notices within one poll interval and leaves on its own.
    ASSERT_TRUE(KartonEnv::wait_for([&] { return run.done(); }, std::chrono::seconds(5)));
    EXPECT_EQ(run.join(), karton::StopReason::BindsChanged);
}

TEST(Consumer, RejectsBadIdentityAndNullFilters) {
    KartonEnv env;
    auto noop = [](TaskContext&) {};
    EXPECT_THROW(karton::FunctionConsumer(env.settings, info_for("bad identity"), noop, quick()),
                 karton::InvalidIdentityError);
    EXPECT_THROW(karton::FunctionConsumer(env.settings, info_for("bad?id"), noop, quick()),
                 karton::InvalidIdentityError);
    auto info = info_for("karton.nullf");
    info.filters = nullptr;
    EXPECT_THROW(karton::FunctionConsumer(env.settings, info, noop, quick()), karton::FilterError);
}

TEST(Consumer, SigtermMidTaskFinishesTaskThenStops) {
    KartonEnv env;
    produce(env);
    auto routed = env.route("karton.term");
    produce(env);
    auto second = env.route("karton.term");
    int calls = 0;
    karton::FunctionConsumer consumer(
        env.settings, info_for("karton.term"),
        [&](TaskContext&) {
            ++calls;
            ::raise(SIGTERM);  // delivered to this thread; the handler only sets a flag
        },
        quick(/*signals=*/true));
    EXPECT_EQ(consumer.run(), karton::StopReason::Requested);
    EXPECT_EQ(calls, 1);  // stopped after the current task
    EXPECT_TRUE(has_status(env, routed[0], Status::Finished));
    EXPECT_TRUE(has_status(env, second[0], Status::Spawned));  // still queued, not lost
    EXPECT_EQ(env.backend()
                  ->connection()
                  .command({"LLEN", "karton.queue.normal:karton.term"})
                  .as_integer(),
              1);
    // Handlers were restored: SIGTERM is back to its previous disposition.
    struct sigaction now {};
    ::sigaction(SIGTERM, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(Consumer, SecondSigintAbortsAndLeavesTaskStarted) {
    KartonEnv env;
    produce(env);
    auto routed = env.route("karton.int");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        try {
            karton::FunctionConsumer consumer(
                env.settings, info_for("karton.int"),
                [](TaskContext&) {
                    ::raise(SIGINT);  // first: stop after this task
                    ::raise(SIGINT);  // second: abort now
                },
                quick(/*signals=*/true));
            consumer.run();
        } catch (...) {
        }
        ::_exit(1);  // only reached if the second SIGINT did not abort
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
    EXPECT_TRUE(has_status(env, routed[0], Status::Started));
}

}  // namespace

namespace {

class TimeoutAwareConsumer : public karton::Consumer {
  public:
    using Consumer::Consumer;
    std::atomic<int> timeouts{0};
    std::atomic<bool> send_refused{false};
    void on_task_timeout() override { ++timeouts; }
    void process(TaskContext& ctx) override {
        // Works "forever" but polls the timeout (bounded so a broken watchdog fails the test).
        for (int i = 0; i < 100 && !ctx.timed_out(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        karton::Task child = ctx.new_task({{"type", "late-result"}});
        try {
            ctx.send(child);
        } catch (const karton::TaskTimeoutError&) {
            send_refused = true;
            throw;
        }
    }
};

}  // namespace

TEST(Consumer, TaskTimeoutCrashesTheTaskAndRefusesLateSends) {
    KartonEnv env;
    produce(env);
    auto routed = env.route("karton.slow");
    karton::ServiceSettings settings = env.settings;
    settings.task_timeout = std::chrono::seconds(1);
    TimeoutAwareConsumer consumer(settings, info_for("karton.slow"), quick());
    const auto started = std::chrono::steady_clock::now();
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Crashed); }));
    }
    // The watchdog fired once, about when configured (not after the 5 s the work would take).
    EXPECT_EQ(consumer.timeouts.load(), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
    EXPECT_TRUE(consumer.send_refused.load());
    karton::Task t = env.task(routed[0]);
    ASSERT_TRUE(t.error.is_array());
    const std::string last = t.error.as_array().back().as_string();
    EXPECT_EQ(
        last.rfind("karton::TaskTimeoutError: task_timeout of 1 s expired; not sending task ", 0),
        0u)
        << last;
    EXPECT_EQ(env.metric("crashed", "karton.slow"), "1");
    // Nothing was sent after the deadline.
    EXPECT_TRUE(env.backend()->connection().command({"LLEN", "karton.tasks"}).as_integer() == 0);
}

TEST(Consumer, TaskTimeoutAppliesEvenWhenProcessIgnoresIt) {
    KartonEnv env;
    produce(env);
    auto routed = env.route("karton.oblivious");
    karton::ServiceSettings settings = env.settings;
    settings.task_timeout = std::chrono::seconds(1);
    karton::FunctionConsumer consumer(
        settings, info_for("karton.oblivious"),
        [](TaskContext&) { std::this_thread::sleep_for(std::chrono::milliseconds(1500)); },
        quick());
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Crashed); }));
    }
    karton::Task t = env.task(routed[0]);
    ASSERT_TRUE(t.error.is_array());
    EXPECT_EQ(t.error.as_array().back().as_string(),
              "karton::TaskTimeoutError: task_timeout of 1 s expired while processing the task\n");

    // Within the limit the same consumer finishes tasks normally.
    produce(env);
    auto second = env.route("karton.oblivious");
    karton::FunctionConsumer quick_one(
        settings, info_for("karton.oblivious"), [](TaskContext&) {}, quick());
    RunningConsumer run(quick_one);
    ASSERT_TRUE(KartonEnv::wait_for([&] { return has_status(env, second[0], Status::Finished); }));
}

TEST(Consumer, DebugModeUsesADevIdentityNonPersistentBindAndNoLogPublishing) {
    KartonEnv env;
    karton::ServiceSettings settings = env.settings;
    settings.debug = true;
    settings.enable_publish = false;  // as service_settings() derives it for debug = true
    karton::FunctionConsumer consumer(
        settings, info_for("karton.debugged"), [](TaskContext&) {}, quick());
    const std::string id = consumer.info().identity;
    ASSERT_EQ(id.size(), std::string("karton.debugged-01234567-dev").size()) << id;
    EXPECT_EQ(id.rfind("karton.debugged-", 0), 0u) << id;
    EXPECT_EQ(id.substr(id.size() - 4), "-dev");
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 16), id.size() - 4) << id;

    karton_test::Monitor monitor(env.redis);
    produce(env);
    auto routed = env.route(id);
    {
        RunningConsumer run(consumer);
        ASSERT_TRUE(
            KartonEnv::wait_for([&] { return has_status(env, routed[0], Status::Finished); }));
        auto stored = env.backend()->get_bind(id);
        ASSERT_TRUE(stored.has_value());
        EXPECT_FALSE(karton::parse_bind(id, *stored).persistent);
    }
    size_t commands = 0;
    for (const auto& c : monitor.drain()) {
        ++commands;
        ASSERT_FALSE(c.argv.empty());
        EXPECT_NE(c.argv[0], "PUBLISH") << "debug mode must not publish logs";
    }
    EXPECT_GT(commands, 5u);  // the monitor did see the consumer's traffic
    // A configured identity is overridden the same way before the debug suffix.
    settings.identity = "karton.renamed";
    karton::FunctionConsumer renamed(
        settings, info_for("karton.debugged"), [](TaskContext&) {}, quick());
    EXPECT_EQ(renamed.info().identity.rfind("karton.renamed-", 0), 0u);
}
