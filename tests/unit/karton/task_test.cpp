// Tests for karton/task.hpp against every row of tasks.jsonl (spec §4): byte-exact
// round trips, and each case rebuilt from scratch with the model (construction, send, derive,
// router fork, crash) using the vectors' id/clock sequences.
#include "karton/task.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "support/paths.hpp"
#include "util/fs.hpp"

namespace json = karton::json;
using karton::Priority;
using karton::Status;
using karton::Task;

namespace {

constexpr double kT0 = 1700000000.0;

std::map<std::string, json::Object> load_rows() {
    std::map<std::string, json::Object> rows;
    for (const auto& line : test_support::read_lines(test_support::vectors_dir() / "tasks.jsonl")) {
        json::Value v = json::parse(line);
        std::string id = v.as_object().at("id").as_string();
        rows.emplace(std::move(id), std::move(v.as_object()));
    }
    return rows;
}

const std::map<std::string, json::Object>& rows() {
    static const auto r = load_rows();
    return r;
}

const std::string& serialized(const std::string& id) {
    return rows().at(id).at("serialized").as_string();
}

json::Object obj(std::string_view text) { return json::parse(text).as_object(); }

// Clock whose first reading is kT0 + step * n (the vectors' fake clock at reading n).
util::FixedStepClock clock_at(double seconds_after_t0) {
    return util::FixedStepClock(kT0 + seconds_after_t0, 0.125);
}

// Emulates the producer's upload step: local resources without a bucket get `bucket`.
void fill_buckets(Task& t, const std::string& bucket) {
    karton::for_each_resource(t.payload, [&](json::Object& inner) {
        if (inner.at("bucket").is_null()) {
            inner.set("bucket", bucket);
        }
    });
}

Task parse(const std::string& id) {
    util::FixedStepClock never(0, 0);
    return karton::parse_task(serialized(id), never);
}

}  // namespace

TEST(TaskVectors, EveryRowRoundTripsByteForByte) {
    ASSERT_EQ(rows().size(), 18u);
    for (const auto& [id, row] : rows()) {
        util::FixedStepClock clock(1, 1);
        const std::string& text = row.at("serialized").as_string();
        Task t = karton::parse_task(text, clock);
        EXPECT_TRUE(row.at("reserialized_equal").as_bool()) << id;
        EXPECT_EQ(karton::serialize_task(t), text) << id;
        if (const json::Value* parsed = row.find("parsed")) {
            EXPECT_EQ(json::parse(text), *parsed) << id;
        }
        // last_update was present: the clock must not have been read.
        EXPECT_EQ(clock.now(), 1.0) << id;
    }
    // The consumer-side re-serialization equals the producer-side text.
    EXPECT_TRUE(rows().at("resource_remote_roundtrip").at("identical_to_previous").as_bool());
    EXPECT_EQ(serialized("resource_remote_roundtrip"), serialized("resource_local_declared"));
}

TEST(TaskVectors, SimpleConstructedAndSent) {
    util::SequentialIdSource ids(1);
    auto clock = clock_at(0.125);
    Task t = karton::new_task(obj(R"({"type": "sample", "kind": "raw"})"), ids, clock,
                              {.payload = obj(R"({"data": 1, "text": "x"})")});
    EXPECT_EQ(karton::serialize_task(t), serialized("simple_constructed"));
    EXPECT_EQ(t.short_id(), "00000000-0000-4000-8000-000000000001");

    Task s = karton::new_task(obj(R"({"type": "sample", "kind": "raw"})"), ids, clock,
                              {.payload = obj(R"({"data": 1})")});
    karton::prepare_for_send(s, nullptr, "karton.producer", clock);
    EXPECT_EQ(karton::serialize_task(s), serialized("simple_sent"));
}

TEST(TaskVectors, LocalResourceDeclaredAndRemoteRoundTrip) {
    util::SequentialIdSource ids(3);
    auto clock = clock_at(0.5);
    karton::Resource r = karton::resource_from_bytes("sample.exe", "hello world", ids);
    EXPECT_TRUE(r.is_local());
    Task t = karton::new_task(obj(R"({"type": "sample", "kind": "raw"})"), ids, clock);
    t.payload.set("sample", t.attach_resource(r));
    ASSERT_EQ(t.local_resources.count("00000000-0000-4000-8000-000000000003"), 1u);
    fill_buckets(t, "karton.test");
    karton::prepare_for_send(t, nullptr, "karton.producer", clock);
    EXPECT_EQ(karton::serialize_task(t), serialized("resource_local_declared"));

    Task remote = parse("resource_remote_roundtrip");
    EXPECT_TRUE(remote.local_resources.empty());
    auto found = karton::find_resources(remote.payload);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_FALSE(found[0].is_local());
    EXPECT_EQ(found[0].bucket, "karton.test");
    EXPECT_EQ(found[0].size, 11);
    EXPECT_TRUE(
        found[0].same_reference(karton::resource_from_marker(rows()
                                                                 .at("resource_local_declared")
                                                                 .at("parsed")
                                                                 .as_object()
                                                                 .at("payload")
                                                                 .as_object()
                                                                 .at("sample"))));
}

TEST(TaskVectors, ResourceExplicitFields) {
    util::SequentialIdSource ids(5);
    auto clock = clock_at(0.75);
    karton::Resource r = karton::resource_from_bytes(
        "report.json", R"({"a": 1})", ids,
        {.bucket = "other-bucket",
         .uid = "custom-object-key",
         .metadata = obj(R"({"magic": "JSON data", "sha256": "ignored"})"),
         .sha256 = std::string(64, '0')});
    Task t = karton::new_task(obj(R"({"type": "report"})"), ids, clock);
    t.payload.set("report", t.attach_resource(r));
    EXPECT_EQ(karton::serialize_task(t), serialized("resource_explicit_fields"));
}

TEST(TaskVectors, ResourceDirectoryShape) {
    // The archive bytes depend on file times, so size/sha256 are taken from the vector; every
    // other byte of the document is produced by the model.
    util::TempDir dir("model-dumps");
    util::write_file_atomic(dir.path() / "a.txt", "aaaa");
    util::SequentialIdSource ids(6);
    auto clock = clock_at(0.875);
    karton::Resource r = karton::resource_from_directory("dumps", dir.path(), ids);
    EXPECT_TRUE(r.is_directory());
    EXPECT_EQ(r.flags, std::vector<std::string>{"Directory"});
    Task t = karton::new_task(obj(R"({"type": "analysis"})"), ids, clock);
    const auto vec = karton::find_resources(parse("resource_directory").payload);
    ASSERT_EQ(vec.size(), 1u);
    r.size = vec[0].size;
    r.sha256 = vec[0].sha256;
    t.payload.set("dumps", t.attach_resource(r));
    EXPECT_EQ(karton::serialize_task(t), serialized("resource_directory"));
}

TEST(TaskVectors, NestedResources) {
    util::SequentialIdSource ids(8);
    auto clock = clock_at(1.0);
    auto f1 = karton::resource_from_bytes("file1", "one", ids);
    auto f2 = karton::resource_from_bytes("file2", "two", ids);
    auto f3 = karton::resource_from_bytes("file3", "three", ids);
    Task t = karton::new_task(obj(R"({"type": "analysis", "kind": "artifacts"})"), ids, clock);
    json::Object inner;
    inner.set("inner", t.attach_resource(f2));
    json::Object deep;
    deep.set("deep", t.attach_resource(f3));
    inner.set("n", json::Array{1, 2, deep});
    t.payload.set("artifacts", json::Array{t.attach_resource(f1), inner});
    t.payload.set("pair", json::Array{"a", t.attach_resource(f1)});
    t.payload.set("plain", obj(R"({"x": null, "y": [true, false], "z": 1.5})"));
    EXPECT_EQ(karton::serialize_task(t), serialized("nested_resources"));
    EXPECT_EQ(t.local_resources.size(), 3u);
    // find_resources walks lists and dicts at any depth, duplicates kept.
    const auto found = karton::find_resources(t.payload);
    ASSERT_EQ(found.size(), 4u);
    EXPECT_EQ(found[0].name, "file1");
    EXPECT_EQ(found[1].name, "file2");
    EXPECT_EQ(found[2].name, "file3");
    EXPECT_EQ(found[3].name, "file1");
}

TEST(TaskVectors, Priorities) {
    util::SequentialIdSource ids(12);
    auto clock = clock_at(1.125);
    const std::pair<Priority, const char*> cases[] = {{Priority::High, "priority_high"},
                                                      {Priority::Low, "priority_low"},
                                                      {Priority::Normal, "priority_normal"}};
    for (const auto& [p, id] : cases) {
        Task t = karton::new_task(obj(R"({"type": "sample"})"), ids, clock, {.priority = p});
        EXPECT_EQ(karton::serialize_task(t), serialized(id)) << id;
        EXPECT_EQ(parse(id).priority, p);
    }
}

TEST(TaskVectors, PersistentPayloadAndHeaders) {
    util::SequentialIdSource ids(15);
    auto clock = clock_at(1.5);
    Task t = karton::new_task(
        obj(R"({"type": "sample", "kind": "raw", "quality": "low"})"), ids, clock,
        {.payload = obj(R"({"a": 1, "common": "from-payload"})"),
         .payload_persistent = obj(R"({"common": "from-persistent", "uploader": "alice"})"),
         .headers_persistent = obj(R"({"tlp": "amber", "quality": "high"})")});
    EXPECT_EQ(karton::serialize_task(t), serialized("persistent_payload_and_headers"));
}

TEST(TaskVectors, DeriveSendForkAndCrash) {
    util::SequentialIdSource ids(16);
    // Unrouted parent as constructed (reading at 1.625), routed by fork at 1.75.
    auto clock = clock_at(1.625);
    auto sample = karton::resource_from_bytes("sample.exe", "MZ...", ids);
    Task unrouted = karton::new_task(
        obj(R"({"type": "sample", "kind": "raw"})"), ids, clock,
        {.payload_persistent = obj(R"({"tmp": "persistent-wins", "uploader": "alice"})"),
         .headers_persistent = obj(R"({"tlp": "amber"})"),
         .priority = Priority::High});
    unrouted.payload.set("sample", unrouted.attach_resource(sample));
    unrouted.payload.set("tmp", 1);
    Task routed = karton::fork_for_bind(unrouted, "karton.classifier", ids, clock);
    EXPECT_EQ(karton::serialize_task(routed), serialized("derive_parent_routed"));
    EXPECT_EQ(routed.orig_uid, unrouted.uid);

    // The consumer reads its task from Redis.
    Task parent = karton::parse_task(karton::serialize_task(routed), clock);
    Task child =
        karton::derive_task(parent, obj(R"({"type": "sample", "kind": "runnable"})"), ids, clock);
    EXPECT_EQ(karton::serialize_task(child), serialized("derive_child_before_send"));
    karton::prepare_for_send(child, &parent, "karton.classifier", clock);
    EXPECT_EQ(karton::serialize_task(child), serialized("derive_child_sent"));

    Task fresh = karton::new_task(obj(R"({"type": "config"})"), ids, clock,
                                  {.payload = obj(R"({"cfg": {"k": "v"}, "tmp": 2})")});
    karton::prepare_for_send(fresh, &parent, "karton.classifier", clock);
    EXPECT_EQ(karton::serialize_task(fresh), serialized("child_fresh_task_sent"));
    // The uid keeps its own UUID in braces while root_uid is the parent's.
    EXPECT_EQ(fresh.uid,
              "{00000000-0000-4000-8000-000000000014}:00000000-0000-4000-8000-000000000014");
    EXPECT_EQ(fresh.root_uid, parent.root_uid);

    auto fork_clock = clock_at(2.5);
    Task forked = karton::fork_for_bind(child, "karton.consumer-a", ids, fork_clock);
    EXPECT_EQ(karton::serialize_task(forked), serialized("router_fork"));

    forked.status = Status::Crashed;
    forked.error = json::Array{"Traceback (most recent call last):\n",
                               "  File \"x.py\", line 1, in process\n", "RuntimeError: boom\n"};
    EXPECT_EQ(karton::serialize_task(forked), serialized("crashed_with_error"));
}

TEST(TaskVectors, EncodingEdgeCasesBuiltFromValues) {
    const json::Object& parsed = rows().at("json_encoding_edge_cases").at("parsed").as_object();
    util::SequentialIdSource ids(22);
    auto clock = clock_at(2.625);
    Task t = karton::new_task(parsed.at("headers").as_object(), ids, clock,
                              {.payload = parsed.at("payload").as_object()});
    EXPECT_EQ(karton::serialize_task(t), serialized("json_encoding_edge_cases"));
}

TEST(Task, EnumsAndShortId) {
    for (auto s :
         {Status::Declared, Status::Spawned, Status::Started, Status::Finished, Status::Crashed}) {
        EXPECT_EQ(karton::parse_status(karton::to_string(s)), s);
    }
    for (auto p : {Priority::High, Priority::Normal, Priority::Low}) {
        EXPECT_EQ(karton::parse_priority(karton::to_string(p)), p);
    }
    EXPECT_FALSE(karton::parse_status("declared"));
    EXPECT_FALSE(karton::parse_priority("HIGH"));
    EXPECT_EQ(karton::short_id_of("{r}:abc"), "abc");
    EXPECT_EQ(karton::short_id_of("plain-uuid"), "plain-uuid");
}

TEST(Task, SetStatusSkipsUnchangedAndRetryFork) {
    Task crashed = parse("crashed_with_error");
    util::SequentialIdSource ids(100);
    auto clock = clock_at(10);
    EXPECT_FALSE(karton::set_status(crashed, Status::Crashed, clock));
    EXPECT_EQ(crashed.last_update_seconds(), kT0 + 2.5);
    Task retry = karton::retry_fork(crashed, ids, clock);
    EXPECT_EQ(retry.status, Status::Spawned);
    EXPECT_EQ(retry.orig_uid, crashed.orig_uid);
    EXPECT_EQ(retry.parent_uid, crashed.parent_uid);
    EXPECT_TRUE(retry.error.is_null());
    EXPECT_EQ(retry.headers.at("receiver").as_string(), "karton.consumer-a");
    EXPECT_EQ(retry.uid, "{" + crashed.root_uid + "}:00000000-0000-4000-8000-000000000064");
    EXPECT_TRUE(karton::set_status(crashed, Status::Finished, clock));
    EXPECT_EQ(crashed.last_update_seconds(), kT0 + 10.125);
    EXPECT_TRUE(crashed.error.is_array());
}

TEST(Task, PersistentHeaderHelper) {
    util::SequentialIdSource ids;
    auto clock = clock_at(0);
    Task t = karton::new_task({}, ids, clock);
    t.set_persistent_header("tlp", "red");
    EXPECT_EQ(t.headers.at("tlp").as_string(), "red");
    EXPECT_EQ(t.headers_persistent.at("tlp").as_string(), "red");
    EXPECT_NE(karton::serialize_task(t).find(
                  R"("payload_persistent": {"__headers_persistent": {"tlp": "red"}})"),
              std::string::npos);
}
