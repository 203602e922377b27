// Tests for karton/gc_policy.hpp: each §9.1 rule and its precedence, the system-gc and
// system-gc-timeouts phases of the flow vectors, and the §9.2 deletion batches.
#include "karton/gc_policy.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/paths.hpp"

namespace json = karton::json;
using karton::GcAction;
using karton::GcTimeouts;
using karton::Status;
using karton::Task;

namespace {

using Command = std::vector<std::string>;

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

json::Object snapshot(const std::string& label) {
    std::ifstream in(test_support::vectors_dir() / "redis-flow-state.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const json::Value all = json::parse(ss.str());
    for (const auto& s : all.as_array()) {
        if (s.as_object().at("label").as_string() == label) {
            return s.as_object();
        }
    }
    ADD_FAILURE() << "no snapshot " << label;
    return {};
}

Task make_task(Status status, double last_update, json::Object headers = {}) {
    util::FixedStepClock clock(last_update, 0);
    util::SequentialIdSource ids;
    Task t = karton::new_task(std::move(headers), ids, clock);
    t.status = status;
    return t;
}

const std::unordered_set<std::string> kNone;

GcAction act(const Task& t, double now, const GcTimeouts& to = {},
             const std::unordered_set<std::string>& unrouted = kNone,
             const std::unordered_set<std::string>& removed = kNone) {
    return karton::decide_task_gc(t, now, to, unrouted, removed).action;
}

}  // namespace

TEST(GcPolicy, DeclaredDeletedOnlyWhenNotQueuedAndOlderThanDispatchedTimeout) {
    GcTimeouts to;
    to.task_dispatched_timeout = 10;
    const Task t = make_task(Status::Declared, 100);
    EXPECT_EQ(act(t, 110, to), GcAction::Keep);  // strictly greater is required
    EXPECT_EQ(act(t, 110.5, to), GcAction::Delete);
    EXPECT_EQ(act(t, 1e9, to, {t.uid}), GcAction::Keep);  // still waiting in karton.tasks
    const auto d = karton::decide_task_gc(t, 111, to, kNone, kNone);
    ASSERT_TRUE(d.log);
    EXPECT_EQ(d.log->level, "warning");
    EXPECT_EQ(d.log->message, "Task " + t.uid +
                                  " is in Dispatched state more than 10 seconds. Killed. "
                                  "(origin: <unknown>)");
    EXPECT_EQ(d.metric_identity, "unknown");
}

TEST(GcPolicy, StartedTimeoutDeletesOrCrashes) {
    GcTimeouts to;
    to.task_started_timeout = 5;
    const Task t = make_task(Status::Started, 100, {{"receiver", "karton.x"}});
    EXPECT_EQ(act(t, 105, to), GcAction::Keep);
    EXPECT_EQ(act(t, 106, to), GcAction::Delete);
    to.crash_started_tasks_on_timeout = true;
    const auto d = karton::decide_task_gc(t, 106, to, kNone, kNone);
    EXPECT_EQ(d.action, GcAction::Crash);
    EXPECT_EQ(d.metric_identity, "karton.x");
    EXPECT_EQ(d.log->level, "error");
    EXPECT_EQ(d.log->message, "Task " + t.uid +
                                  " is in Started state more than 5 seconds. Crashed. (receiver: "
                                  "karton.x)");
}

TEST(GcPolicy, FinishedAlwaysDeletedCrashedAfterTimeoutSpawnedNever) {
    GcTimeouts to;
    to.task_crashed_timeout = 50;
    EXPECT_EQ(act(make_task(Status::Finished, 100), 100, to), GcAction::Delete);
    EXPECT_EQ(act(make_task(Status::Crashed, 100), 150, to), GcAction::Keep);
    EXPECT_EQ(act(make_task(Status::Crashed, 100), 150.125, to), GcAction::Delete);
    GcTimeouts zero{0, 0, 0, true};
    EXPECT_EQ(act(make_task(Status::Spawned, 100), 1e12, zero), GcAction::Keep);
}

TEST(GcPolicy, RemovedReceiverWinsOverEveryOtherRule) {
    const std::unordered_set<std::string> removed{"karton.gone"};
    GcTimeouts to;
    to.crash_started_tasks_on_timeout = true;
    to.task_started_timeout = 0;
    for (Status s : {Status::Spawned, Status::Started, Status::Crashed, Status::Declared}) {
        const Task t = make_task(s, 100, {{"receiver", "karton.gone"}});
        const auto d = karton::decide_task_gc(t, 1000, to, {t.uid}, removed);
        EXPECT_EQ(d.action, GcAction::Delete);
        EXPECT_EQ(d.log->level, "info");
    }
    // A non-string receiver never equals an identity.
    EXPECT_EQ(act(make_task(Status::Spawned, 100, {{"receiver", 5}}), 1000, to, kNone, removed),
              GcAction::Keep);
}

TEST(GcPolicy, CrashRewriteMatchesVector) {
    // system-gc-timeouts: the stuck Started task is rewritten with the verbatim error.
    std::string started;
    for (const auto& c : phase_commands("simulate-stuck-started-task")) {
        if (c[0] == "SET" && c[2].find("\"Started\"") != std::string::npos) {
            started = c[2];
        }
    }
    ASSERT_FALSE(started.empty());
    util::FixedStepClock parse_clock(0, 0);
    Task t = karton::parse_task(started, parse_clock);
    util::FixedStepClock clock(1700000004.375, 0.125);
    karton::crash_for_started_timeout(t, clock);
    std::string expected;
    for (const auto& c : phase_commands("system-gc-timeouts")) {
        if (c[0] == "SET") {
            expected = c[2];
        }
    }
    EXPECT_EQ(karton::serialize_task(t), expected);
}

TEST(GcPolicy, SystemGcTimeoutsPhaseDecisions) {
    const json::Object snap = snapshot("before-gc-timeouts");
    GcTimeouts to{0, 0, 0, true};
    util::FixedStepClock parse_clock(0, 0);
    std::vector<std::string> deleted_metrics;
    std::vector<std::string> crashed_metrics;
    std::vector<std::string> error_logs;
    // MGET order of the phase.
    for (const auto& c : phase_commands("system-gc-timeouts")) {
        if (c[0] != "MGET") {
            continue;
        }
        for (std::size_t i = 1; i < c.size(); ++i) {
            const auto& key = snap.at("keys").as_object().at(c[i]).as_object();
            const Task t = karton::parse_task(key.at("value").as_string(), parse_clock);
            const auto d = karton::decide_task_gc(t, 1700000004.25, to, kNone, kNone);
            if (d.action == GcAction::Delete) {
                deleted_metrics.push_back(d.metric_identity);
            } else if (d.action == GcAction::Crash) {
                crashed_metrics.push_back(d.metric_identity);
                error_logs.push_back(d.log->message);
            }
        }
        break;
    }
    EXPECT_EQ(deleted_metrics, std::vector<std::string>{"unknown"});
    EXPECT_EQ(crashed_metrics, std::vector<std::string>{"karton.vec-a"});
    std::vector<std::string> published;
    for (const auto& c : phase_commands("system-gc-timeouts")) {
        if (c[0] == "PUBLISH" && c[1] == "karton.log.error.karton.system") {
            published.push_back(json::parse(c[2]).as_object().at("message").as_string());
        }
    }
    EXPECT_EQ(error_logs, published);
}

TEST(GcPolicy, SystemGcPhaseDecisionsAndResourceBatches) {
    const json::Object snap = snapshot("before-gc");
    const auto& keys = snap.at("keys").as_object();
    // Online identities: client names without the "?..." service-info suffix.
    std::unordered_set<std::string> online;
    for (const auto& n : snap.at("client_names").as_array()) {
        const std::string& name = n.as_string();
        online.insert(name.substr(0, name.find('?')));
    }
    std::vector<karton::BindLiveness> binds;
    for (const auto& [identity, text] :
         keys.at("karton.binds").as_object().at("value").as_object()) {
        binds.push_back(
            {identity, json::parse(text.as_string()).as_object().at("persistent").as_bool()});
    }
    const auto removed_list = karton::binds_to_remove(binds, online);
    EXPECT_EQ(removed_list, std::vector<std::string>{"karton.vec-b"});
    const std::unordered_set<std::string> removed(removed_list.begin(), removed_list.end());

    util::FixedStepClock parse_clock(0, 0);
    std::vector<Task> tasks;
    for (const auto& c : phase_commands("system-gc")) {
        if (c[0] == "MGET") {
            for (std::size_t i = 1; i < c.size(); ++i) {
                tasks.push_back(karton::parse_task(
                    keys.at(c[i]).as_object().at("value").as_string(), parse_clock));
            }
            break;
        }
    }
    ASSERT_EQ(tasks.size(), 7u);
    std::vector<std::string> metrics;
    std::vector<std::string> info_logs;
    std::unordered_set<std::string> referenced_before;
    for (const Task& t : tasks) {
        karton::collect_referenced_objects(t, "karton", referenced_before);
        const auto d = karton::decide_task_gc(t, 1700000003.0, GcTimeouts{}, kNone, removed);
        EXPECT_EQ(d.action, GcAction::Delete) << t.uid;
        metrics.push_back(d.metric_identity);
        if (d.log && d.log->level == "info") {
            info_logs.push_back(d.log->message);
        }
    }
    std::vector<std::string> expected_metrics;
    std::vector<std::string> expected_logs;
    for (const auto& c : phase_commands("system-gc")) {
        if (c[0] == "HINCRBY") {
            expected_metrics.push_back(c[2]);
        }
        if (c[0] == "PUBLISH") {
            const std::string msg = json::parse(c[2]).as_object().at("message").as_string();
            if (msg.rfind("Task ", 0) == 0) {
                expected_logs.push_back(msg);
            }
        }
    }
    EXPECT_EQ(metrics, expected_metrics);
    EXPECT_EQ(info_logs, expected_logs);

    // Resource GC: an unversioned bucket lists every key with version "null".
    const std::vector<karton::ObjectVersions> listing{
        {"00000000-0000-4000-8000-000000000001", {"null"}},
        {"00000000-0000-4000-8000-000000000006", {"null"}},
        {"orphan-object", {"null"}}};
    // While the tasks exist, only the orphan goes.
    EXPECT_EQ(referenced_before.size(), 2u);
    const auto while_alive = karton::plan_resource_gc(listing, referenced_before, false);
    ASSERT_EQ(while_alive.size(), 1u);
    EXPECT_EQ(while_alive[0], (std::vector<karton::DeleteEntry>{{"orphan-object", std::nullopt}}));
    // After task GC nothing references them: the DeleteObjects body of s3-flow.jsonl.
    const auto after = karton::plan_resource_gc(listing, {}, false);
    ASSERT_EQ(after.size(), 1u);
    std::string xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (const auto& e : after[0]) {
        xml += "<Object><Key>" + e.key + "</Key></Object>";
    }
    xml += "</Delete>";
    std::string vector_body;
    for (const auto& line :
         test_support::read_lines(test_support::vectors_dir() / "s3-flow.jsonl")) {
        const json::Value row = json::parse(line);
        if (row.as_object().at("phase").as_string() == "system-gc" &&
            row.as_object().at("method").as_string() == "POST") {
            vector_body = row.as_object().at("body").as_string();
        }
    }
    EXPECT_EQ(xml, vector_body);
}

TEST(GcPolicy, ResourceBatchesOfHundredAndNullVersions) {
    std::vector<karton::ObjectVersions> listing;
    for (int i = 0; i < 150; ++i) {
        listing.push_back({"k" + std::to_string(i), {"v1", "null"}});
    }
    listing.push_back({"k0", {"v2"}});  // a later page repeating a key merges into it
    const std::unordered_set<std::string> referenced{"k1"};
    const auto batches = karton::plan_resource_gc(listing, referenced, false);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[0].size(), 100u);
    EXPECT_EQ(batches[1].size(), 100u);
    EXPECT_EQ(batches[2].size(), 99u);  // 149 keys * 2 + 1 = 299 entries
    EXPECT_EQ(batches[0][0], (karton::DeleteEntry{"k0", "v1"}));
    EXPECT_EQ(batches[0][1], (karton::DeleteEntry{"k0", std::nullopt}));
    EXPECT_EQ(batches[0][2], (karton::DeleteEntry{"k0", "v2"}));
    EXPECT_EQ(batches[0][3], (karton::DeleteEntry{"k2", "v1"}));  // k1 referenced
    const auto explicit_null = karton::plan_resource_gc(listing, referenced, true);
    EXPECT_EQ(explicit_null[0][1], (karton::DeleteEntry{"k0", "null"}));
    EXPECT_TRUE(karton::plan_resource_gc({}, {}, false).empty());
    EXPECT_TRUE(karton::plan_resource_gc({{"x", {}}}, {}, false).empty());
    EXPECT_THROW(karton::plan_resource_gc(listing, {}, false, 0), util::Error);
}

TEST(GcPolicy, BindsToRemoveKeepsPersistentAndOnline) {
    const std::vector<karton::BindLiveness> binds{
        {"a", false}, {"b", true}, {"c", false}, {"d", false}};
    EXPECT_EQ(karton::binds_to_remove(binds, {"c"}), (std::vector<std::string>{"a", "d"}));
}
