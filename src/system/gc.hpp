// system/gc.hpp — drak-system's garbage collector (spec §9): task timeouts, Finished removal,
// offline non-persistent binds with their queues and tasks (§6.4), GC metrics, and resource GC
// of the Karton bucket only (§9.2: list object versions first, then the task scan). Task keys
// are read with SCAN in bounded chunks, never all at once.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "karton/backend.hpp"
#include "karton/gc_policy.hpp"
#include "s3/client.hpp"
#include "system/system_log.hpp"
#include "util/clock.hpp"

namespace drak_system {

// GcConfig: the [system] GC options plus the Karton bucket.
struct GcConfig {
    karton::GcTimeouts timeouts{};
    std::string bucket;  // [s3] bucket: the only bucket whose objects may be deleted
    bool enable_null_version_deletion = false;
    std::size_t scan_count = 1000;  // SCAN COUNT hint and MGET chunk size
    // Declared tasks past the dispatched timeout wait in memory (uids only) until this many are
    // pending, then their presence in karton.tasks / processing lists is checked on the server.
    std::size_t pending_declared_limit = 10000;
    // Stranded-task recovery (drak-system only; karton-system has no such rule). A Spawned task
    // in none of its receiver's queues was popped by a consumer that never wrote Started: the
    // consumer died right after BLPOP, or Redis died after the pop before the reply reached it.
    // karton-core leaves such a task Spawned forever (lost). When the same task is still
    // stranded `stranded_grace` seconds after GC first saw it so, it is pushed back onto its
    // queue (atomically re-checked on the server). 0 disables the rule.
    double stranded_grace = 600;
    // Receivers with more Spawned tasks than this per run are not checked (bounded memory).
    std::size_t stranded_check_limit = 100000;
};

// GcStats counts one run.
struct GcStats {
    std::size_t tasks_seen = 0;
    std::size_t deleted = 0;
    std::size_t crashed = 0;
    std::size_t unparseable = 0;  // task documents that could not be parsed (kept)
    std::vector<std::string> removed_binds;
    std::size_t objects_listed = 0;
    std::size_t objects_deleted = 0;
    std::size_t object_delete_errors = 0;
    std::size_t stranded_seen = 0;  // Spawned tasks found in no queue this run
    std::size_t requeued = 0;       // of those, pushed back onto their queue
};

// online_identities parses a CLIENT LIST reply: every connection's name cut at the first '?'
// (§2.1). Connections without a name are ignored. Never throws.
std::unordered_set<std::string> online_identities(const std::string& client_list);

// referenced_in_text adds every JSON string literal of `text` (content between unescaped
// quotes) that is a key of `listed` to `out`. Used for task documents that cannot be parsed,
// so an object they might reference is never deleted.
void referenced_in_text(const std::string& text, const std::unordered_set<std::string>& listed,
                        std::unordered_set<std::string>& out);

// GarbageCollector runs §9 on one connection. Not thread-safe.
class GarbageCollector {
  public:
    // `backend`, `log`, `clock` and `s3` (when not null) must outlive the collector; with a null
    // `s3` resource GC is skipped.
    GarbageCollector(karton::Backend& backend, s3::S3Client* s3, SystemLog& log, util::Clock& clock,
                     GcConfig config);

    // collect_tasks runs §9.1 once (now = one clock reading). Throws karton::RedisError.
    GcStats collect_tasks();
    // collect_resources runs §9.2 once. Throws s3::S3Error, karton::RedisError.
    GcStats collect_resources();
    // run = collect_tasks then collect_resources; a failure of either is logged (ERROR) and
    // ends that part of the cycle (§9). Never throws for Redis/S3 failures.
    GcStats run();

  private:
    struct Pending {
        std::string uid;
        std::string metric_identity;
        std::optional<karton::GcLog> log;
    };
    // for_each_task calls `fn(key, text)` for every karton.task:* value, SCAN chunk by chunk;
    // `after_chunk` runs after each chunk (for applying decisions with bounded memory).
    template <typename Fn, typename After>
    void scan_tasks(Fn&& fn, After&& after_chunk);
    void flush_pending(std::vector<Pending>& pending, GcStats& stats);
    void delete_tasks(const std::vector<Pending>& victims, GcStats& stats);
    std::vector<std::string> processing_lists();

    // SpawnedTasks: per receiver, the Spawned tasks seen by one scan (uid -> priority).
    struct SpawnedTasks {
        std::size_t count = 0;
        bool truncated = false;  // more than stranded_check_limit: not checked this run
        std::unordered_map<std::string, std::string> priority_of;
    };
    void recover_stranded(std::unordered_map<std::string, SpawnedTasks>& spawned, double now,
                          GcStats& stats);

    karton::Backend& backend_;
    s3::S3Client* s3_;
    SystemLog& log_;
    util::Clock& clock_;
    GcConfig config_;
    // uid -> when GC first found it stranded (kept only while it stays stranded).
    std::unordered_map<std::string, double> stranded_since_;
};

}  // namespace drak_system
