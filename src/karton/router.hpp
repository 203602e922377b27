// karton/router.hpp — karton-system's routing decision for one batch, pure (no I/O): which
// binds each unrouted task matches, the forks to store and queue, the karton.outputs members,
// metric increments and the Finished rewrites (spec §4.4 router fork, §7.2 routing, §8.4).
// The drak-system I/O layer executes the plan with the exact command order of §7.2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "karton/filter.hpp"
#include "karton/json.hpp"
#include "karton/task.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"

namespace karton {

// RouteBind is one bind as the router sees it: identity plus compiled filters.
class RouteBind {
  public:
    // compile never throws: when the reference would fail converting these filters, the
    // FilterError is kept and raised again for every task routed against this bind (the
    // reference converts per task, so the router aborts only when a task arrives).
    static RouteBind compile(std::string identity, const json::Value& filters);
    const std::string& identity() const { return identity_; }
    // matches evaluates the bind on task headers; throws QueryError or FilterError (§8.4).
    bool matches(const json::Object& headers) const;

  private:
    std::string identity_;
    std::optional<Filter> filter_;
    std::optional<FilterError> error_;
};

struct RouterOptions {
    bool task_tracking = true;                 // [system] enable_task_tracking
    std::int64_t task_tracking_ttl = 2592000;  // [system] task_tracking_ttl, seconds
};

// RoutedFork is one matched bind: SET karton.task:<uid> <json>, RPUSH
// karton.queue.<priority>:<identity> <uid>, HINCRBY karton.metrics.assigned <identity> 1.
struct RoutedFork {
    std::string identity;
    std::string uid;
    std::string priority;   // "high" / "normal" / "low"
    std::string task_json;  // serialize_task of the fork
    Task task;
};

// RoutedTask is the per-task part of the plan, in batch order.
struct RoutedTask {
    std::string uid;
    std::string log_line;  // "[<root_uid>] Processing task <short id>" (INFO)
    // outputs tracking (only when RouterOptions::task_tracking): SADD outputs_key
    // outputs_member, then EXPIRE outputs_key ttl; executed whether or not anything matched.
    std::optional<std::string> outputs_key;      // "karton.outputs:<origin or unknown>"
    std::string outputs_member;                  // headers JSON, insertion order
    std::vector<RoutedFork> forks;               // bind order; one non-transactional pipeline
    std::vector<std::string> query_error_binds;  // identities skipped: log
                                                 // "Task matching failed - invalid filters?"
    // complete=false marks the task at which routing aborted: execute its log line and
    // outputs commands only (the reference drops the pipeline when the exception propagates).
    bool complete = true;
};

// RoutePlan is the whole batch decision.
struct RoutePlan {
    std::vector<RoutedTask> tasks;
    // finished: (uid, task json) for one MSET, every task of the batch now Finished with a
    // fresh last_update; empty when aborted.
    std::vector<std::pair<std::string, std::string>> finished;
    // abort_error: set when a bind raised a non-QueryError (FilterError); karton-system must
    // execute `tasks` as described and then stop (the popped uids are lost, as in the
    // reference).
    std::optional<FilterError> abort_error;
};

// plan_routing decides one batch (§7.2 step 5-6). `batch` holds the tasks read by MGET (missing
// ones already skipped), `binds` is in HGETALL order. Ids/clock readings happen in the
// reference's order: per fork one uuid4 and two clock readings (Compat: the reference's Task
// constructor reads the clock and route_task sets last_update again), then one reading per
// Finished rewrite. Never throws for filter errors (see abort_error); TaskError cannot occur.
RoutePlan plan_routing(std::vector<Task> batch, const std::vector<RouteBind>& binds,
                       util::IdSource& ids, util::Clock& clock, const RouterOptions& options = {});

// outputs_key_for returns "karton.outputs:" + Python str() of headers.origin, or
// "karton.outputs:unknown" when there is no origin (§7.2 step 5.2).
std::string outputs_key_for(const json::Object& headers);

}  // namespace karton
