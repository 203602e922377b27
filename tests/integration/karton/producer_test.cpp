// Producer (spec §7.1) against real redis-server + s3rver: byte-exact task text and command
// order of redis-flow.jsonl (producer-send-task), upload of local resources, default bucket.
#include "karton/producer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "karton_env.hpp"
#include "monitor.hpp"
#include "support/paths.hpp"
#include "util/crypto.hpp"

namespace {

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

TEST(Producer, SendTaskMatchesFlowVectorByteForByte) {
    karton_test::KartonEnv env;
    karton_test::Monitor monitor(env.redis);
    util::SequentialIdSource ids;  // resource gets ...01, task ...02 as in the capture
    util::FixedStepClock create_clock(1700000000.25, 0.125);
    util::FixedStepClock send_clock(1700000000.375, 0.125);

    karton::LocalResourceOptions ro;
    ro.sha256 = "82114dfef49b2b4f854cbac2315436662c35719844605e049c5bb698a43a28a8";
    const std::string content = "twelve bytes";  // size 12 as in the vector; sha given explicitly
    karton::Resource sample = karton::resource_from_bytes("sample.txt", content, ids, ro);
    karton::NewTaskOptions opts;
    opts.priority = karton::Priority::High;
    opts.headers_persistent.set("tlp", "amber");
    opts.payload_persistent.set("uploader", "alice");
    karton::Task t =
        karton::new_task({{"type", "sample"}, {"kind", "raw"}}, ids, create_clock, opts);
    t.payload.set("sample", t.attach_resource(sample));
    t.payload.set("tags", karton::json::Array{"x"});

    karton::Producer producer(env.settings, "karton.vec-producer", send_clock);
    producer.send_task(t);

    const auto expected = flow_commands("producer-send-task", 5);
    auto seen = karton_test::Monitor::of_client(monitor.drain(), "karton.vec-producer");
    std::vector<std::vector<std::string>> want = flow_commands("producer-init", 5);
    want.insert(want.end(), expected.begin(), expected.end());
    EXPECT_EQ(seen, want);

    s3::S3Client client(env.settings.s3);
    EXPECT_EQ(client.get_object("karton", "00000000-0000-4000-8000-000000000001"), content);
    EXPECT_EQ(env.metric("produced", "karton.vec-producer"), "1");
}

TEST(Producer, LocalResourceWithoutAnyBucketIsAClearError) {
    karton_test::KartonEnv env;
    auto settings = env.settings;
    settings.bucket.clear();
    karton::Producer producer(settings, "karton.p");
    util::RandomIdSource ids;
    util::SystemClock clock;
    karton::Task t = karton::new_task({{"type", "x"}}, ids, clock);
    t.payload.set("f", t.attach_resource(karton::resource_from_bytes("f", "data", ids)));
    try {
        producer.send_task(t);
        FAIL() << "expected ResourceError";
    } catch (const karton::ResourceError& e) {
        EXPECT_NE(std::string(e.what()).find("no default [s3] bucket"), std::string::npos);
    }
    // Nothing was stored: the check happens before the SET.
    EXPECT_EQ(env.backend()->get_task(t.uid), std::nullopt);
}

TEST(Producer, ExplicitBucketAndRemoteResourcesAreNotRebucketedOrUploaded) {
    karton_test::KartonEnv env;
    s3::S3Client client(env.settings.s3);
    client.create_bucket("other");
    karton::Producer producer(env.settings, "karton.p");
    util::RandomIdSource ids;
    util::SystemClock clock;
    karton::LocalResourceOptions ro;
    ro.bucket = "other";
    karton::Task t = karton::new_task({{"type", "x"}}, ids, clock);
    auto local = karton::resource_from_bytes("a", "AAAA", ids, ro);
    t.payload.set("a", t.attach_resource(local));
    // A remote reference (as received from another task): forwarded, never uploaded.
    karton::Resource remote = local;
    remote.uid = "remote-object-that-does-not-exist";
    remote.local = std::monostate{};
    remote.bucket = "karton";
    t.payload.set("r", t.attach_resource(remote));
    producer.send_task(t);
    EXPECT_EQ(client.get_object("other", local.uid), "AAAA");
    EXPECT_FALSE(client.head_object("karton", remote.uid).has_value());
    auto stored = env.task(t.uid);
    auto a = karton::resource_from_marker(*stored.payload.find("a"));
    EXPECT_EQ(a.bucket, "other");
    EXPECT_EQ(env.backend()
                  ->connection()
                  .command({"LRANGE", "karton.tasks", "0", "-1"})
                  .as_array()
                  .at(0)
                  .as_string(),
              t.uid);
}

TEST(Producer, FileResourceIsStreamedAndVerifiable) {
    karton_test::KartonEnv env;
    util::TempDir dir("producer-test");
    std::string content(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < content.size(); ++i) {
        content[i] = static_cast<char>((i * 131) ^ (i >> 9));
    }
    util::write_file_atomic(dir.path() / "blob.bin", content);
    util::RandomIdSource ids;
    util::SystemClock clock;
    karton::Task t = karton::new_task({{"type", "x"}}, ids, clock);
    auto r = karton::resource_from_file("blob.bin", dir.path() / "blob.bin", ids);
    t.payload.set("blob", t.attach_resource(r));
    karton::Producer producer(env.settings, "karton.p");
    producer.send_task(t);
    s3::S3Client client(env.settings.s3);
    const std::string got = client.get_object("karton", r.uid);
    EXPECT_EQ(got.size(), content.size());
    EXPECT_EQ(util::sha256_hex(got), r.sha256.value_or(""));
}

}  // namespace
