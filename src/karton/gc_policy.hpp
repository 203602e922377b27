// karton/gc_policy.hpp — karton-system garbage-collection decisions, pure (no I/O): per-task
// Keep / Delete / Crash with the reference's rule order and log lines (spec §9.1), removal of
// offline non-persistent binds (§6.4, §9.1 step 3) and the object-version deletion batches of
// resource GC (§9.2). The drak-system I/O layer runs SCAN/MGET/DEL/HINCRBY/DeleteObjects.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "karton/task.hpp"
#include "util/clock.hpp"

namespace karton {

// kStartedTimeoutError is the single `error` line of a task crashed by GC (§5.3; the typo
// "changes" is verbatim).
inline constexpr std::string_view kStartedTimeoutError =
    "This task was STARTED too long (TASK_STARTED_TIMEOUT), so status was changes to CRASHED.";

// GcTimeouts are the [system] options of §1.6, in seconds.
struct GcTimeouts {
    double task_dispatched_timeout = 86400;
    double task_started_timeout = 86400;
    double task_crashed_timeout = 259200;
    bool crash_started_tasks_on_timeout = false;
};

enum class GcAction { Keep, Delete, Crash };

// GcLog is a log record karton-system emits for a decision ("info", "warning", "error",
// "debug"), message already formatted.
struct GcLog {
    std::string level;
    std::string message;
};

struct GcDecision {
    GcAction action = GcAction::Keep;
    // metric_identity: the HINCRBY field for karton.metrics.garbage-collected (Delete) or
    // karton.metrics.crashed (Crash): the receiver header, or "unknown".
    std::string metric_identity;
    std::optional<GcLog> log;
};

// decide_task_gc applies the first matching rule of §9.1 step 4 to `task`:
// 1. receiver in `removed_identities` → Delete; 2. Declared, uid not in `unrouted_uids`, and
// now > last_update + dispatched timeout → Delete; 3. Started and now > last_update + started
// timeout → Crash if crash_started_tasks_on_timeout else Delete; 4. Finished → Delete;
// 5. Crashed and now > last_update + crashed timeout → Delete; 6. Keep (Spawned never ages).
// `now` is Unix seconds read once per GC run. Never throws.
GcDecision decide_task_gc(const Task& task, double now, const GcTimeouts& timeouts,
                          const std::unordered_set<std::string>& unrouted_uids,
                          const std::unordered_set<std::string>& removed_identities);

// crash_for_started_timeout rewrites `task` as GC does before its SET (§9.1 step 6):
// error = [kStartedTimeoutError], status Crashed, last_update = clock.now().
void crash_for_started_timeout(Task& task, util::Clock& clock);

// BindLiveness is what GC needs to know about one registered bind.
struct BindLiveness {
    std::string identity;
    bool persistent = true;
};

// binds_to_remove returns, in input (HGETALL) order, the identities of non-persistent binds
// with no online connection (§9.1 step 3); their bind, queues and tasks are then removed.
std::vector<std::string> binds_to_remove(const std::vector<BindLiveness>& binds,
                                         const std::unordered_set<std::string>& online);

// collect_referenced_objects adds the uid of every resource in task.payload and
// task.payload_persistent whose bucket equals `default_bucket` (§9.2 step 2).
void collect_referenced_objects(const Task& task, std::string_view default_bucket,
                                std::unordered_set<std::string>& out);

// ObjectVersions is one key of the ListObjectVersions result (versions and delete markers),
// in listing order.
struct ObjectVersions {
    std::string key;
    std::vector<std::string> version_ids;
};

// DeleteEntry is one <Object> of a DeleteObjects request; version_id nullopt = <Key> only.
struct DeleteEntry {
    std::string key;
    std::optional<std::string> version_id;
    bool operator==(const DeleteEntry&) const = default;
};

// kDeleteBatch is the reference's DeleteObjects batch size.
inline constexpr std::size_t kDeleteBatch = 100;

// plan_resource_gc returns the DeleteObjects batches (each at most `batch_size` entries, listing
// order kept, repeated keys merged) for every listed version of a key that no task references
// (§9.2 step 3). Version
// id "null" is sent as the key alone unless `enable_null_version_deletion`. Keys with no version
// ids yield nothing. Throws util::Error when batch_size is 0.
std::vector<std::vector<DeleteEntry>> plan_resource_gc(
    const std::vector<ObjectVersions>& listing,
    const std::unordered_set<std::string>& referenced_uids, bool enable_null_version_deletion,
    std::size_t batch_size = kDeleteBatch);

}  // namespace karton
