// Tests for the task model against flow-tasks.json (spec §4.4, §5): every stored task at every
// inspection point round-trips byte for byte, and every state change of the scripted scenario
// (send, route fork, finish, derive + send from a consumer, crash, legacy start, retry, GC crash)
// is reproduced by the model from the previous state with the scenario's ids and clock.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "karton/json.hpp"
#include "karton/task.hpp"
#include "support/paths.hpp"
#include "util/fs.hpp"

namespace json = karton::json;
using karton::Status;
using karton::Task;

namespace {

constexpr double kT0 = 1700000000.0;

const json::Object& flow() {
    static const json::Value v =
        json::parse(util::read_file(test_support::vectors_dir() / "flow-tasks.json"));
    return v.as_object();
}

std::string uuid(int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012x", n);
    return buf;
}

std::string uid(int root, int own) { return "{" + uuid(root) + "}:" + uuid(own); }

// stored returns the exact text of task `task_uid` at inspection point `label`.
const std::string& stored(const std::string& label, const std::string& task_uid) {
    return flow().at(label).as_object().at("karton.task:" + task_uid).as_string();
}

Task load(const std::string& label, const std::string& task_uid) {
    util::FixedStepClock never(-1, 0);
    return karton::parse_task(stored(label, task_uid), never);
}

util::FixedStepClock clock_at(double after_t0) { return util::FixedStepClock(kT0 + after_t0, 0); }

json::Object obj(std::string_view text) { return json::parse(text).as_object(); }

}  // namespace

TEST(FlowTasks, EveryStoredTaskRoundTrips) {
    ASSERT_EQ(flow().size(), 9u);
    int count = 0;
    for (const auto& [label, tasks] : flow()) {
        for (const auto& [key, text] : tasks.as_object()) {
            util::FixedStepClock never(-1, 0);
            const Task t = karton::parse_task(text.as_string(), never);
            EXPECT_EQ(karton::serialize_task(t), text.as_string()) << label << " " << key;
            EXPECT_EQ(key, "karton.task:" + t.uid);
            ++count;
        }
    }
    EXPECT_EQ(count, 34);
}

TEST(FlowTasks, ProducerSend) {
    util::SequentialIdSource ids(1);
    auto c = clock_at(0.25);
    karton::Resource sample = karton::resource_from_bytes("sample.txt", "hello karton", ids);
    Task t = karton::new_task(obj(R"({"type": "sample", "kind": "raw"})"), ids, c,
                              {.payload_persistent = obj(R"({"uploader": "alice"})"),
                               .headers_persistent = obj(R"({"tlp": "amber"})"),
                               .priority = karton::Priority::High});
    t.payload.set("sample", t.attach_resource(sample));
    t.payload.set("tags", json::Array{"x"});
    // The producer uploads local resources to the default bucket before sending.
    karton::for_each_resource(t.payload,
                              [](json::Object& inner) { inner.set("bucket", "karton"); });
    auto send_clock = clock_at(0.375);
    karton::prepare_for_send(t, nullptr, "karton.vec-producer", send_clock);
    EXPECT_EQ(karton::serialize_task(t), stored("after-producer-send", uid(2, 2)));
}

TEST(FlowTasks, RouteForksAndFinishesTheUnroutedTask) {
    const Task u = load("after-producer-send", uid(2, 2));
    util::SequentialIdSource ids(3);
    auto c1 = clock_at(0.625);
    const Task to_b = karton::fork_for_bind(u, "karton.vec-b", ids, c1);
    EXPECT_EQ(karton::serialize_task(to_b), stored("after-route", uid(2, 3)));
    auto c2 = clock_at(0.875);
    const Task to_a = karton::fork_for_bind(u, "karton.vec-a", ids, c2);
    EXPECT_EQ(karton::serialize_task(to_a), stored("after-route", uid(2, 4)));
    Task finished = u;
    auto c3 = clock_at(1.0);
    EXPECT_TRUE(karton::set_status(finished, Status::Finished, c3));
    EXPECT_EQ(karton::serialize_task(finished), stored("after-route", uid(2, 2)));
}

TEST(FlowTasks, ConsumerASendsChildrenAndFinishes) {
    Task routed = load("after-route", uid(2, 4));
    auto c_start = clock_at(1.125);
    EXPECT_TRUE(karton::set_status(routed, Status::Started, c_start));

    util::SequentialIdSource ids(5);
    auto c_derive = clock_at(1.25);
    Task child = karton::derive_task(routed, obj(R"({"type": "sample", "kind": "runnable"})"), ids,
                                     c_derive);
    auto c_send = clock_at(1.375);
    karton::prepare_for_send(child, &routed, "karton.vec-a", c_send);
    EXPECT_EQ(karton::serialize_task(child), stored("after-consumer-a", uid(5, 5)));

    // A fresh task with a new resource (uid 6); the marker is the one stored after upload.
    const Task stored_result = load("after-consumer-a", uid(7, 7));
    karton::Resource out = karton::find_resources(stored_result.payload).at(0);
    ASSERT_EQ(out.uid, uuid(6));
    ids = util::SequentialIdSource(7);
    auto c_new = clock_at(1.5);
    Task result = karton::new_task(obj(R"({"type": "result"})"), ids, c_new);
    result.payload.set("out", result.attach_resource(out));
    auto c_send2 = clock_at(1.625);
    karton::prepare_for_send(result, &routed, "karton.vec-a", c_send2);
    EXPECT_EQ(karton::serialize_task(result), stored("after-consumer-a", uid(7, 7)));
    EXPECT_EQ(result.short_id(), uuid(7));

    auto c_fin = clock_at(1.75);
    EXPECT_TRUE(karton::set_status(routed, Status::Finished, c_fin));
    EXPECT_EQ(karton::serialize_task(routed), stored("after-consumer-a", uid(2, 4)));
}

TEST(FlowTasks, ConsumerBCrashes) {
    Task t = load("after-route", uid(2, 3));
    const Task want = load("after-consumer-b", uid(2, 3));
    auto c_start = clock_at(1.875);
    karton::set_status(t, Status::Started, c_start);
    auto c_crash = clock_at(2.0);
    t.error = want.error;
    EXPECT_TRUE(karton::set_status(t, Status::Crashed, c_crash));
    EXPECT_EQ(karton::serialize_task(t), stored("after-consumer-b", uid(2, 3)));
    ASSERT_TRUE(t.error.is_array());
    EXPECT_EQ(t.error.as_array().front().as_string(), "Traceback (most recent call last):\n");
}

TEST(FlowTasks, RouteChildrenLegacyStartAndRetry) {
    const Task child = load("after-consumer-a", uid(5, 5));
    util::SequentialIdSource ids(8);
    auto c1 = clock_at(2.25);
    Task fork = karton::fork_for_bind(child, "karton.vec-b", ids, c1);
    EXPECT_EQ(karton::serialize_task(fork), stored("after-route-children", uid(2, 8)));
    // The router's fork is filed under the parent's root, not the child's own uid.
    EXPECT_EQ(fork.uid, uid(2, 8));
    EXPECT_EQ(fork.orig_uid, uid(5, 5));

    Task done = child;
    auto c2 = clock_at(2.375);
    karton::set_status(done, Status::Finished, c2);
    EXPECT_EQ(karton::serialize_task(done), stored("after-route-children", uid(5, 5)));
    Task result = load("after-consumer-a", uid(7, 7));
    auto c3 = clock_at(2.5);
    karton::set_status(result, Status::Finished, c3);
    EXPECT_EQ(karton::serialize_task(result), stored("after-route-children", uid(7, 7)));

    // Legacy operation: the embedded task is written with the requested status.
    auto c4 = clock_at(2.625);
    EXPECT_TRUE(karton::set_status(fork, Status::Started, c4));
    EXPECT_EQ(karton::serialize_task(fork), stored("after-legacy-operation", uid(2, 8)));

    // Retry of the crashed task (dashboard): fork, then the crashed task becomes Finished.
    Task crashed = load("after-legacy-operation", uid(2, 3));
    ASSERT_EQ(crashed.status, Status::Crashed);
    ids = util::SequentialIdSource(9);
    auto c5 = clock_at(2.75);
    const Task retry = karton::retry_fork(crashed, ids, c5);
    EXPECT_EQ(karton::serialize_task(retry), stored("after-restart", uid(2, 9)));
    auto c6 = clock_at(2.875);
    EXPECT_TRUE(karton::set_status(crashed, Status::Finished, c6));
    EXPECT_EQ(karton::serialize_task(crashed), stored("after-restart", uid(2, 3)));
}

TEST(FlowTasks, GcCrashesStartedTask) {
    const Task want = load("after-gc-timeouts", uid(10, 11));
    ASSERT_EQ(want.error.as_array().at(0).as_string(),
              "This task was STARTED too long (TASK_STARTED_TIMEOUT), so status was changes to "
              "CRASHED.");
    Task t = want;
    t.status = Status::Started;
    t.error = json::Value();
    auto c = clock_at(4.375);
    t.error = json::Array{
        "This task was STARTED too long (TASK_STARTED_TIMEOUT), so status was "
        "changes to CRASHED."};
    EXPECT_TRUE(karton::set_status(t, Status::Crashed, c));
    EXPECT_EQ(karton::serialize_task(t), stored("after-gc-timeouts", uid(10, 11)));
}
