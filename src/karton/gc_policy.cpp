// karton/gc_policy.cpp — pure GC decisions (spec §9).
#include "karton/gc_policy.hpp"

#include <unordered_map>

#include "karton/resource.hpp"
#include "util/error.hpp"

namespace karton {

namespace {

// header_text is Python's "%s" of headers.get(name, fallback).
std::string header_text(const Task& t, std::string_view name, std::string_view fallback) {
    const json::Value* v = t.headers.find(name);
    if (v == nullptr) {
        return std::string(fallback);
    }
    return json::python_str(*v);
}

// seconds_d is Python's "%d" of a timeout (truncation toward zero).
std::string seconds_d(double timeout) { return std::to_string(static_cast<long long>(timeout)); }

}  // namespace

GcDecision decide_task_gc(const Task& task, double now, const GcTimeouts& timeouts,
                          const std::unordered_set<std::string>& unrouted_uids,
                          const std::unordered_set<std::string>& removed_identities) {
    GcDecision d;
    d.metric_identity = header_text(task, "receiver", "unknown");
    const json::Value* receiver = task.headers.find("receiver");
    const double last_update = task.last_update_seconds();
    if (receiver != nullptr && receiver->is_string() &&
        removed_identities.count(receiver->as_string()) > 0) {
        d.action = GcAction::Delete;
        d.log = GcLog{"info", "Task " + task.uid +
                                  " is abandoned by inactive non-persistent consumer.Killed. "
                                  "(receiver: " +
                                  header_text(task, "receiver", "<unknown>") + ")"};
        return d;
    }
    if (task.status == Status::Declared && unrouted_uids.count(task.uid) == 0 &&
        now > last_update + timeouts.task_dispatched_timeout) {
        d.action = GcAction::Delete;
        d.log = GcLog{"warning", "Task " + task.uid + " is in Dispatched state more than " +
                                     seconds_d(timeouts.task_dispatched_timeout) +
                                     " seconds. Killed. (origin: " +
                                     header_text(task, "origin", "<unknown>") + ")"};
        return d;
    }
    if (task.status == Status::Started && now > last_update + timeouts.task_started_timeout) {
        const bool crash = timeouts.crash_started_tasks_on_timeout;
        d.action = crash ? GcAction::Crash : GcAction::Delete;
        d.log = GcLog{"error", "Task " + task.uid + " is in Started state more than " +
                                   seconds_d(timeouts.task_started_timeout) + " seconds. " +
                                   (crash ? "Crashed" : "Killed") + ". (receiver: " +
                                   header_text(task, "receiver", "<unknown>") + ")"};
        return d;
    }
    if (task.status == Status::Finished) {
        d.action = GcAction::Delete;
        d.log = GcLog{"debug", "GC: Finished task " + task.uid};
        return d;
    }
    if (task.status == Status::Crashed && now > last_update + timeouts.task_crashed_timeout) {
        d.action = GcAction::Delete;
        d.log = GcLog{"debug", "GC: Task " + task.uid + " is in Crashed state more than " +
                                   seconds_d(timeouts.task_crashed_timeout) +
                                   " seconds. Killed. (receiver: " +
                                   header_text(task, "receiver", "<unknown>") + ")"};
        return d;
    }
    d.action = GcAction::Keep;
    return d;
}

void crash_for_started_timeout(Task& task, util::Clock& clock) {
    task.error = json::Value(json::Array{json::Value(kStartedTimeoutError)});
    if (!set_status(task, Status::Crashed, clock)) {
        // Already Crashed cannot happen for a Started task; keep last_update semantics anyway.
        task.last_update = clock.now();
    }
}

std::vector<std::string> binds_to_remove(const std::vector<BindLiveness>& binds,
                                         const std::unordered_set<std::string>& online) {
    std::vector<std::string> out;
    for (const BindLiveness& b : binds) {
        if (!b.persistent && online.count(b.identity) == 0) {
            out.push_back(b.identity);
        }
    }
    return out;
}

void collect_referenced_objects(const Task& task, std::string_view default_bucket,
                                std::unordered_set<std::string>& out) {
    for (const json::Object* part : {&task.payload, &task.payload_persistent}) {
        for (const Resource& r : find_resources(*part)) {
            if (r.bucket && *r.bucket == default_bucket) {
                out.insert(r.uid);
            }
        }
    }
}

std::vector<std::vector<DeleteEntry>> plan_resource_gc(
    const std::vector<ObjectVersions>& listing,
    const std::unordered_set<std::string>& referenced_uids, bool enable_null_version_deletion,
    std::size_t batch_size) {
    if (batch_size == 0) {
        throw util::Error("plan_resource_gc: batch_size must be positive");
    }
    // Pages may repeat a key: merge its versions at the key's first position (the reference
    // accumulates a dict key -> versions).
    std::vector<std::pair<const std::string*, std::vector<const std::string*>>> merged;
    std::unordered_map<std::string_view, std::size_t> index;
    for (const ObjectVersions& obj : listing) {
        auto [it, inserted] = index.emplace(obj.key, merged.size());
        if (inserted) {
            merged.emplace_back(&obj.key, std::vector<const std::string*>{});
        }
        for (const std::string& v : obj.version_ids) {
            merged[it->second].second.push_back(&v);
        }
    }
    std::vector<std::vector<DeleteEntry>> batches;
    for (const auto& [key, versions] : merged) {
        if (referenced_uids.count(*key) > 0) {
            continue;
        }
        for (const std::string* version_ptr : versions) {
            const std::string& version = *version_ptr;
            if (batches.empty() || batches.back().size() >= batch_size) {
                batches.emplace_back();
            }
            DeleteEntry e{*key, std::nullopt};
            if (version != "null" || enable_null_version_deletion) {
                e.version_id = version;
            }
            batches.back().push_back(std::move(e));
        }
    }
    return batches;
}

}  // namespace karton
