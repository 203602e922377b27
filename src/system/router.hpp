// system/router.hpp — drak-system's router: karton-system's routing iteration (spec §7.2) and
// legacy karton.operations handling (§12.1) over a real Redis connection, made crash safe:
// uids move atomically from karton.tasks into a per-instance processing list and every batch
// commits (forks, queue pushes, metrics, outputs, Finished, processing-list removal) in one
// MULTI/EXEC, so a SIGKILL at any moment neither loses a task nor routes it twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "karton/backend.hpp"
#include "karton/router.hpp"
#include "system/system_log.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"

namespace drak_system {

// RouterConfig tunes one router instance (see SystemConfig for the defaults' rationale).
struct RouterConfig {
    std::string instance = "main";
    std::size_t batch = 101;              // unrouted tasks per batch (1..5000)
    std::size_t operations_batch = 1000;  // legacy operations per batch (§12.1)
    int poll_timeout = 1;                 // seconds of a blocking wait (>= 1)
    bool task_tracking = true;            // [system] enable_task_tracking
    std::int64_t task_tracking_ttl = 2592000;
};

// RouteStats counts what one step() did.
struct RouteStats {
    std::size_t tasks = 0;        // unrouted tasks routed (marked Finished)
    std::size_t forks = 0;        // routed copies queued
    std::size_t missing = 0;      // uids whose task key did not exist (skipped, §7.2 step 3)
    std::size_t unparseable = 0;  // task documents that could not be parsed (dead-lettered)
    std::size_t operations = 0;   // legacy operation bodies handled
    bool idle() const { return tasks + missing + unparseable + operations == 0; }
};

// processing_key returns "karton.system.processing:<instance>" (uids being routed).
std::string processing_key(const std::string& instance);
// operations_processing_key returns "karton.system.operations:<instance>".
std::string operations_processing_key(const std::string& instance);
// kUnparseableKey is the bounded dead-letter list (newest first, at most kUnparseableKeep
// uids) of unrouted uids whose task document could not be parsed.
inline constexpr const char* kUnparseableKey = "karton.system.unparseable";
inline constexpr std::int64_t kUnparseableKeep = 10000;

// Router routes batches. One thread; it owns no connection (uses `backend`). Not copyable.
class Router {
  public:
    // `backend`, `log`, `clock` and `ids` must outlive the router. Throws util::Error when
    // the config is out of range.
    Router(karton::Backend& backend, SystemLog& log, util::Clock& clock, util::IdSource& ids,
           RouterConfig config);

    // step runs one iteration: take (or resume, after a crash) a batch of unrouted uids and
    // legacy operations; when there is nothing and `block`, wait up to poll_timeout seconds
    // for a new unrouted uid (BLMOVE) and take its batch. Routes the batch (§7.2 steps 3-6)
    // and handles operations (§12.1). Returns what was done (idle() on timeout).
    // Throws karton::RedisError on connection failures: nothing of the uncommitted batch is
    // lost, the next step() after a reconnect resumes it.
    RouteStats step(bool block = true);

    const RouterConfig& config() const { return config_; }

  private:
    struct CachedBind {
        std::string text;
        std::optional<karton::RouteBind> bind;  // nullopt: bind JSON could not be parsed
    };

    std::vector<std::string> take(const std::string& source, const std::string& dest,
                                  std::size_t n);
    void route_batch(const std::vector<std::string>& uids, RouteStats& stats);
    void handle_operations(const std::vector<std::string>& bodies, RouteStats& stats);
    const std::vector<const karton::RouteBind*>& refresh_binds(const karton::Reply& hgetall);

    karton::Backend& backend_;
    SystemLog& log_;
    util::Clock& clock_;
    util::IdSource& ids_;
    RouterConfig config_;
    std::string processing_;
    std::string ops_processing_;
    std::map<std::string, CachedBind> bind_cache_;  // identity -> last seen bind
    std::vector<const karton::RouteBind*> binds_;   // current HGETALL order
};

}  // namespace drak_system
