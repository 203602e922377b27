// Tests for karton/router.hpp: the routing plan reproduces karton-system's system-route and
// system-route-children phases of redis-flow.jsonl / flow-tasks.json byte for byte (§7.2), and
// the QueryError / FilterError split of §8.4.
#include "karton/router.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/paths.hpp"

namespace json = karton::json;
using karton::plan_routing;
using karton::RouteBind;
using karton::RoutePlan;

namespace {

using Command = std::vector<std::string>;

json::Value flow_tasks() {
    std::ifstream in(test_support::vectors_dir() / "flow-tasks.json");
    EXPECT_TRUE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

std::string stored(const std::string& label, const std::string& uid) {
    static const json::Value tasks = flow_tasks();
    return tasks.as_object().at(label).as_object().at("karton.task:" + uid).as_string();
}

// Commands of one phase issued by karton-system, as string lists.
std::vector<Command> phase_commands(const std::string& phase) {
    std::vector<Command> out;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "redis-flow.jsonl")) {
        const json::Value row = json::parse(line);
        if (row.as_object().at("phase").as_string() != phase) {
            continue;
        }
        Command c;
        for (const auto& a : row.as_object().at("cmd").as_array()) {
            c.push_back(a.as_string());
        }
        out.push_back(std::move(c));
    }
    return out;
}

// The binds exactly as registered by the two vector consumers.
std::vector<RouteBind> vector_binds(bool reverse = false) {
    std::vector<RouteBind> binds;
    for (const auto& c : phase_commands("consumer-b-register-bind")) {
        if (c[0] == "HSET") {
            binds.push_back(RouteBind::compile(c[2], json::parse(c[3]).as_object().at("filters")));
        }
    }
    for (const auto& c : phase_commands("consumer-a-register-bind")) {
        if (c[0] == "HSET") {
            binds.push_back(RouteBind::compile(c[2], json::parse(c[3]).as_object().at("filters")));
        }
    }
    EXPECT_EQ(binds.size(), 2u);
    if (reverse) {
        std::swap(binds[0], binds[1]);
    }
    return binds;
}

// Renders a plan as the Redis commands karton-system sends after HGETALL (logs excluded).
std::vector<Command> render(const RoutePlan& plan, std::int64_t ttl) {
    std::vector<Command> out;
    for (const auto& t : plan.tasks) {
        if (t.outputs_key) {
            out.push_back({"SADD", *t.outputs_key, t.outputs_member});
            out.push_back({"EXPIRE", *t.outputs_key, std::to_string(ttl)});
        }
        for (const auto& f : t.forks) {
            out.push_back({"SET", "karton.task:" + f.uid, f.task_json});
            out.push_back({"RPUSH", "karton.queue." + f.priority + ":" + f.identity, f.uid});
            out.push_back({"HINCRBY", "karton.metrics.assigned", f.identity, "1"});
        }
    }
    if (!plan.finished.empty()) {
        Command mset{"MSET"};
        for (const auto& [uid, text] : plan.finished) {
            mset.push_back("karton.task:" + uid);
            mset.push_back(text);
        }
        out.push_back(mset);
    }
    return out;
}

std::vector<Command> system_commands_after_hgetall(const std::string& phase) {
    std::vector<Command> out;
    bool after = false;
    for (auto& c : phase_commands(phase)) {
        if (c[0] == "HGETALL") {
            after = true;
            continue;
        }
        if (after && c[0] != "PUBLISH") {
            out.push_back(std::move(c));
        }
    }
    return out;
}

std::vector<std::string> log_messages(const std::string& phase) {
    std::vector<std::string> out;
    for (const auto& c : phase_commands(phase)) {
        if (c[0] == "PUBLISH") {
            out.push_back(json::parse(c[2]).as_object().at("message").as_string());
        }
    }
    return out;
}

const std::string kRoot = "{00000000-0000-4000-8000-000000000002}:";

std::string uid(const std::string& root_n, int n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
    return "{00000000-0000-4000-8000-" + root_n + "}:" + buf;
}

}  // namespace

TEST(Router, SystemRoutePhaseMatchesVectorsByteForByte) {
    util::FixedStepClock parse_clock(0, 0);
    std::vector<karton::Task> batch{
        karton::parse_task(stored("after-producer-send", uid("000000000002", 2)), parse_clock)};
    // Clock and ids continue where the reference's fake sources were at that point.
    util::FixedStepClock clock(1700000000.5, 0.125);
    util::SequentialIdSource ids(3);
    const RoutePlan plan = plan_routing(batch, vector_binds(), ids, clock);

    ASSERT_FALSE(plan.abort_error);
    ASSERT_EQ(plan.tasks.size(), 1u);
    EXPECT_EQ(render(plan, 2592000), system_commands_after_hgetall("system-route"));
    ASSERT_EQ(plan.tasks[0].forks.size(), 2u);
    EXPECT_EQ(plan.tasks[0].forks[0].task_json, stored("after-route", uid("000000000002", 3)));
    EXPECT_EQ(plan.tasks[0].forks[1].task_json, stored("after-route", uid("000000000002", 4)));
    ASSERT_EQ(plan.finished.size(), 1u);
    EXPECT_EQ(plan.finished[0].second, stored("after-route", uid("000000000002", 2)));
    const auto logs = log_messages("system-route");
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0], plan.tasks[0].log_line);
}

TEST(Router, SystemRouteChildrenPhaseMatchesVectorsByteForByte) {
    util::FixedStepClock parse_clock(0, 0);
    std::vector<karton::Task> batch{
        karton::parse_task(stored("after-consumer-a", uid("000000000005", 5)), parse_clock),
        karton::parse_task(stored("after-consumer-a", uid("000000000007", 7)), parse_clock)};
    util::FixedStepClock clock(1700000002.125, 0.125);
    util::SequentialIdSource ids(8);
    const RoutePlan plan = plan_routing(batch, vector_binds(), ids, clock);

    ASSERT_FALSE(plan.abort_error);
    EXPECT_EQ(render(plan, 2592000), system_commands_after_hgetall("system-route-children"));
    ASSERT_EQ(plan.tasks.size(), 2u);
    ASSERT_EQ(plan.tasks[0].forks.size(), 1u);  // runnable sample: vec-b only
    EXPECT_EQ(plan.tasks[0].forks[0].identity, "karton.vec-b");
    EXPECT_TRUE(plan.tasks[1].forks.empty());  // a result matches nobody, still Finished
    EXPECT_EQ(plan.tasks[0].forks[0].task_json,
              stored("after-route-children", uid("000000000002", 8)));
    ASSERT_EQ(plan.finished.size(), 2u);
    EXPECT_EQ(plan.finished[0].second, stored("after-route-children", uid("000000000005", 5)));
    EXPECT_EQ(plan.finished[1].second, stored("after-route-children", uid("000000000007", 7)));
    const auto logs = log_messages("system-route-children");
    ASSERT_EQ(logs.size(), 2u);
    EXPECT_EQ(logs[0], plan.tasks[0].log_line);
    EXPECT_EQ(logs[1], plan.tasks[1].log_line);
}

TEST(Router, BindOrderOnlyChangesUuidAssignment) {
    util::FixedStepClock parse_clock(0, 0);
    const auto task =
        karton::parse_task(stored("after-producer-send", uid("000000000002", 2)), parse_clock);
    util::FixedStepClock clock(1700000000.5, 0.125);
    util::SequentialIdSource ids(3);
    const RoutePlan plan = plan_routing({task}, vector_binds(/*reverse=*/true), ids, clock);
    ASSERT_EQ(plan.tasks[0].forks.size(), 2u);
    const auto& first = plan.tasks[0].forks[0];
    EXPECT_EQ(first.identity, "karton.vec-a");
    // Same document as the vector's vec-a fork except uid (and its last_update reading).
    karton::Task expected =
        karton::parse_task(stored("after-route", uid("000000000002", 4)), parse_clock);
    EXPECT_EQ(first.task.uid, uid("000000000002", 3));
    EXPECT_TRUE(json::python_equal(json::Value(first.task.headers), json::Value(expected.headers)));
    EXPECT_EQ(first.task.orig_uid, expected.orig_uid);
    EXPECT_EQ(json::Value(first.task.payload), json::Value(expected.payload));
}

TEST(Router, QueryErrorSkipsTheBindOnly) {
    std::vector<RouteBind> binds{
        RouteBind::compile("bad", json::parse(R"([{"type": {"$regex": "["}}])")),
        RouteBind::compile("good", json::parse(R"([{"type": "sample"}])"))};
    util::FixedStepClock clock(100, 1);
    util::SequentialIdSource ids;
    karton::Task t = karton::new_task({{"type", "sample"}}, ids, clock);
    const RoutePlan plan = plan_routing({t}, binds, ids, clock);
    ASSERT_FALSE(plan.abort_error);
    ASSERT_EQ(plan.tasks.size(), 1u);
    EXPECT_EQ(plan.tasks[0].query_error_binds, std::vector<std::string>{"bad"});
    ASSERT_EQ(plan.tasks[0].forks.size(), 1u);
    EXPECT_EQ(plan.tasks[0].forks[0].identity, "good");
    EXPECT_EQ(plan.finished.size(), 1u);
    // No origin header: outputs go to "unknown".
    EXPECT_EQ(*plan.tasks[0].outputs_key, "karton.outputs:unknown");
}

TEST(Router, NonQueryErrorAbortsTheBatch) {
    std::vector<RouteBind> binds{
        RouteBind::compile("good", json::parse(R"([{"type": "sample"}])")),
        RouteBind::compile("mod", json::parse(R"([{"v": {"$mod": [3, 1]}}])"))};
    util::FixedStepClock clock(100, 1);
    util::SequentialIdSource ids;
    karton::Task t1 = karton::new_task({{"type", "sample"}, {"v", 4}}, ids, clock);
    karton::Task t2 = karton::new_task({{"type", "sample"}}, ids, clock);  // $mod on missing
    karton::Task t3 = karton::new_task({{"type", "sample"}, {"v", 4}}, ids, clock);
    const RoutePlan plan = plan_routing({t1, t2, t3}, binds, ids, clock);
    ASSERT_TRUE(plan.abort_error);
    EXPECT_EQ(plan.abort_error->python_type(), "TypeError");
    ASSERT_EQ(plan.tasks.size(), 2u);
    EXPECT_TRUE(plan.tasks[0].complete);
    EXPECT_EQ(plan.tasks[0].forks.size(), 2u);
    EXPECT_FALSE(plan.tasks[1].complete);
    EXPECT_TRUE(plan.tasks[1].forks.empty());  // its pipeline is dropped
    EXPECT_TRUE(plan.tasks[1].outputs_key);    // SADD/EXPIRE ran before the pipeline
    EXPECT_TRUE(plan.finished.empty());
}

TEST(Router, InvalidFilterStructureFailsPerTaskNotAtLoad) {
    const RouteBind bad = RouteBind::compile("broken", json::parse(R"({"type": "sample"})"));
    EXPECT_THROW(bad.matches({}), karton::FilterError);
    util::FixedStepClock clock(100, 1);
    util::SequentialIdSource ids;
    // An empty batch never evaluates it.
    const RoutePlan empty = plan_routing({}, {bad}, ids, clock);
    EXPECT_FALSE(empty.abort_error);
    karton::Task t = karton::new_task({{"origin", "p"}}, ids, clock);
    const RoutePlan plan = plan_routing({t}, {bad}, ids, clock);
    ASSERT_TRUE(plan.abort_error);
    EXPECT_EQ(plan.abort_error->python_type(), "AttributeError");
}

TEST(Router, TrackingDisabledAndNonStringOrigin) {
    util::FixedStepClock clock(100, 1);
    util::SequentialIdSource ids;
    karton::Task t = karton::new_task({{"origin", nullptr}, {"b", 1}}, ids, clock);
    const RoutePlan tracked = plan_routing({t}, {}, ids, clock);
    EXPECT_EQ(*tracked.tasks[0].outputs_key, "karton.outputs:None");
    EXPECT_EQ(tracked.tasks[0].outputs_member, R"({"origin": null, "b": 1})");
    karton::RouterOptions off;
    off.task_tracking = false;
    const RoutePlan untracked = plan_routing({t}, {}, ids, clock, off);
    EXPECT_FALSE(untracked.tasks[0].outputs_key);
    EXPECT_EQ(untracked.finished.size(), 1u);  // nothing matched, still Finished
}
