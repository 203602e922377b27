// system/gc.cpp — task and resource garbage collection with bounded memory (spec §9).
#include "system/gc.hpp"

#include <map>
#include <sstream>
#include <utility>

#include "karton/bind.hpp"
#include "karton/names.hpp"
#include "karton/task.hpp"
#include "s3/error.hpp"

namespace drak_system {

namespace {

using karton::LogLevel;

// kPresentScript returns the ARGV uids that occur in any of the KEYS lists. It walks each list
// in pages inside the script (atomic, bounded server memory), so a uid moving from karton.tasks
// into a router's processing list cannot be missed.
constexpr const char* kPresentScript = R"lua(
local want = {}
local left = 0
for i = 1, #ARGV do
  if not want[ARGV[i]] then want[ARGV[i]] = true; left = left + 1 end
end
local found = {}
for k = 1, #KEYS do
  local len = redis.call('LLEN', KEYS[k])
  local start = 0
  while start < len and left > 0 do
    local page = redis.call('LRANGE', KEYS[k], start, start + 9999)
    for _, v in ipairs(page) do
      if want[v] then want[v] = nil; left = left - 1; found[#found + 1] = v end
    end
    start = start + 10000
  end
end
return found
)lua";

constexpr std::size_t kPresentBatch = 1000;

LogLevel level_of(const std::string& level) {
    if (level == "debug") {
        return LogLevel::Debug;
    }
    if (level == "warning") {
        return LogLevel::Warning;
    }
    if (level == "error") {
        return LogLevel::Error;
    }
    if (level == "critical") {
        return LogLevel::Critical;
    }
    return LogLevel::Info;
}

}  // namespace

std::unordered_set<std::string> online_identities(const std::string& client_list) {
    std::unordered_set<std::string> out;
    std::istringstream lines(client_list);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string field;
        while (fields >> field) {
            if (field.rfind("name=", 0) == 0) {
                const std::string name = field.substr(5);
                if (!name.empty()) {
                    out.emplace(karton::names::client_identity(name));
                }
                break;
            }
        }
    }
    return out;
}

void referenced_in_text(const std::string& text, const std::unordered_set<std::string>& listed,
                        std::unordered_set<std::string>& out) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '"') {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        while (j < text.size() && text[j] != '"') {
            j += text[j] == '\\' ? 2 : 1;
        }
        if (j >= text.size()) {
            break;
        }
        std::string literal = text.substr(i + 1, j - i - 1);
        if (listed.count(literal) != 0) {
            out.insert(std::move(literal));
        }
        i = j + 1;
    }
}

GarbageCollector::GarbageCollector(karton::Backend& backend, s3::S3Client* s3, SystemLog& log,
                                   util::Clock& clock, GcConfig config)
    : backend_(backend), s3_(s3), log_(log), clock_(clock), config_(std::move(config)) {
    if (config_.scan_count == 0) {
        config_.scan_count = 1000;
    }
    if (config_.pending_declared_limit == 0) {
        config_.pending_declared_limit = 1;
    }
}

template <typename Fn, typename After>
void GarbageCollector::scan_tasks(Fn&& fn, After&& after_chunk) {
    karton::Connection& conn = backend_.connection();
    const std::string pattern = std::string(karton::names::kTaskKeyPrefix) + "*";
    const std::string count = std::to_string(config_.scan_count);
    std::string cursor = "0";
    do {
        const karton::Reply r = conn.command({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
        const auto& parts = r.as_array();
        if (parts.size() != 2) {
            throw karton::RedisError("SCAN: unexpected reply shape");
        }
        cursor = parts[0].as_string();
        const auto& keys = parts[1].as_array();
        for (std::size_t i = 0; i < keys.size(); i += config_.scan_count) {
            std::vector<std::string_view> mget{"MGET"};
            const std::size_t end = std::min(keys.size(), i + config_.scan_count);
            for (std::size_t j = i; j < end; ++j) {
                mget.push_back(keys[j].as_string());
            }
            const karton::Reply values = conn.command(mget);
            for (std::size_t j = i; j < end; ++j) {
                const karton::Reply& v = values.as_array().at(j - i);
                if (!v.is_nil()) {
                    fn(keys[j].as_string(), v.as_string());
                }
            }
            after_chunk();
        }
    } while (cursor != "0");
}

std::vector<std::string> GarbageCollector::processing_lists() {
    std::vector<std::string> lists{std::string(karton::names::kTasksQueue)};
    backend_.connection().scan(
        "karton.system.processing:*", [&](const std::string& k) { lists.push_back(k); }, 1000);
    return lists;
}

void GarbageCollector::delete_tasks(const std::vector<Pending>& victims, GcStats& stats) {
    if (victims.empty()) {
        return;
    }
    karton::Connection& conn = backend_.connection();
    std::vector<Command> cmds;
    for (const Pending& p : victims) {
        if (p.log) {
            log_.deferred(cmds, level_of(p.log->level), p.log->message);
        }
    }
    Command del{"DEL"};
    for (const Pending& p : victims) {
        del.push_back(karton::names::task_key(p.uid));
    }
    cmds.push_back(std::move(del));
    conn.pipeline(cmds);
    std::vector<Command> metrics;
    for (const Pending& p : victims) {
        metrics.push_back({"HINCRBY", std::string(karton::names::kMetricGarbageCollected),
                           p.metric_identity, "1"});
    }
    conn.transaction(metrics);
    stats.deleted += victims.size();
}

void GarbageCollector::flush_pending(std::vector<Pending>& pending, GcStats& stats) {
    if (pending.empty()) {
        return;
    }
    const std::vector<std::string> lists = processing_lists();
    std::unordered_set<std::string> present;
    for (std::size_t i = 0; i < pending.size(); i += kPresentBatch) {
        Command eval{"EVAL", kPresentScript, std::to_string(lists.size())};
        eval.insert(eval.end(), lists.begin(), lists.end());
        for (std::size_t j = i; j < std::min(pending.size(), i + kPresentBatch); ++j) {
            eval.push_back(pending[j].uid);
        }
        std::vector<std::string_view> argv(eval.begin(), eval.end());
        const karton::Reply found = backend_.connection().command(argv);
        for (const auto& v : found.as_array()) {
            present.insert(v.as_string());
        }
    }
    std::vector<Pending> victims;
    for (Pending& p : pending) {
        if (present.count(p.uid) == 0) {
            victims.push_back(std::move(p));
        }
    }
    pending.clear();
    delete_tasks(victims, stats);
}

namespace {

// Re-queues a stranded task only if, at this instant on the server, it still exists, is still
// Spawned and is in none of its receiver's queues. KEYS: task key, then the receiver's bare and
// priority queues; ARGV: uid, target queue key (one of KEYS).
constexpr const char* kRequeueScript = R"lua(
local doc = redis.call('GET', KEYS[1])
if not doc then return 0 end
local ok, task = pcall(cjson.decode, doc)
if not ok or type(task) ~= 'table' or task['status'] ~= 'Spawned' then return 0 end
for i = 2, #KEYS do
  if redis.call('LPOS', KEYS[i], ARGV[1]) then return 0 end
end
redis.call('RPUSH', ARGV[2], ARGV[1])
return 1
)lua";

}  // namespace

void GarbageCollector::recover_stranded(std::unordered_map<std::string, SpawnedTasks>& spawned,
                                        double now, GcStats& stats) {
    karton::Connection& conn = backend_.connection();
    std::unordered_map<std::string, double> still_stranded;
    for (auto& [receiver, tasks] : spawned) {
        const std::vector<std::string> queues{receiver, karton::names::queue_key("high", receiver),
                                              karton::names::queue_key("normal", receiver),
                                              karton::names::queue_key("low", receiver)};
        std::size_t queued = 0;
        for (const auto& q : queues) {
            queued += static_cast<std::size_t>(conn.command({"LLEN", q}).as_integer());
        }
        if (tasks.count <= queued) {
            continue;  // every Spawned task can be in a queue: nothing stranded
        }
        if (tasks.truncated) {
            log_.log(LogLevel::Warning, "GC: " + std::to_string(tasks.count) +
                                            " Spawned tasks for " + receiver +
                                            " exceed the stranded-task check limit; not checked");
            continue;
        }
        // Fewer queued entries than Spawned tasks: read the queues (smaller than the candidate
        // set, so memory stays bounded by stranded_check_limit) and keep what is in none.
        constexpr std::int64_t kChunk = 10000;
        for (const auto& q : queues) {
            for (std::int64_t start = 0;; start += kChunk) {
                const auto part = conn.command({"LRANGE", q, std::to_string(start),
                                                std::to_string(start + kChunk - 1)})
                                      .as_array();
                for (const auto& uid : part) {
                    tasks.priority_of.erase(uid.as_string());
                }
                if (static_cast<std::int64_t>(part.size()) < kChunk) {
                    break;
                }
            }
        }
        for (const auto& [uid, priority] : tasks.priority_of) {
            ++stats.stranded_seen;
            auto seen = stranded_since_.find(uid);
            const double since = seen == stranded_since_.end() ? now : seen->second;
            if (now - since < config_.stranded_grace) {
                still_stranded.emplace(uid, since);
                continue;
            }
            const std::string target = karton::names::queue_key(priority, receiver);
            const karton::Reply r =
                conn.command({"EVAL", kRequeueScript, "5", karton::names::task_key(uid), queues[0],
                              queues[1], queues[2], queues[3], uid, target});
            if (r.type == karton::Reply::Type::Integer && r.as_integer() == 1) {
                ++stats.requeued;
                log_.log(LogLevel::Warning,
                         "GC: task " + uid + " was Spawned but in no queue of " + receiver +
                             " (popped by a consumer that died, or lost in a Redis crash); "
                             "pushed back onto " +
                             target);
            }
        }
    }
    stranded_since_ = std::move(still_stranded);
}

GcStats GarbageCollector::collect_tasks() {
    GcStats stats;
    karton::Connection& conn = backend_.connection();
    const double now = clock_.now();

    // §9.1 steps 2-3: online identities, offline non-persistent binds.
    const auto online = online_identities(conn.command({"CLIENT", "LIST"}).as_string());
    std::vector<karton::BindLiveness> binds;
    const auto all = conn.command({"HGETALL", std::string(karton::names::kBinds)}).as_array();
    for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
        const std::string& identity = all[i].as_string();
        try {
            const karton::Bind b = karton::parse_bind(identity, all[i + 1].as_string());
            binds.push_back({identity, b.persistent});
        } catch (const std::exception& e) {
            log_.log(LogLevel::Warning,
                     "Bind " + identity + " cannot be read, leaving it alone: " + e.what());
        }
    }
    std::unordered_set<std::string> removed;
    for (const std::string& id : karton::binds_to_remove(binds, online)) {
        log_.log(LogLevel::Info, "Non-persistent: removing bind " + id);
        conn.command({"HDEL", karton::names::kBinds, id});
        const auto q = [&](const char* p) { return karton::names::queue_key(p, id); };
        conn.command({"DEL", id, q("high"), q("normal"), q("low")});
        removed.insert(id);
        stats.removed_binds.push_back(id);
    }

    // §9.1 step 4-6, applied per SCAN chunk.
    const std::unordered_set<std::string> no_unrouted;
    std::vector<Pending> deletions;
    std::vector<Pending> pending_declared;
    std::vector<std::pair<karton::Task, Pending>> crashes;
    std::unordered_map<std::string, SpawnedTasks> spawned;
    std::size_t spawned_candidates = 0;
    std::size_t unparseable_logged = 0;
    scan_tasks(
        [&](const std::string& key, const std::string& text) {
            ++stats.tasks_seen;
            karton::Task task;
            try {
                task = karton::parse_task(text, clock_);
            } catch (const std::exception& e) {
                // Kept: we cannot tell what it is; its resources are protected (§9.2 below).
                ++stats.unparseable;
                if (unparseable_logged++ < 10) {
                    log_.log(LogLevel::Warning,
                             "GC: " + key + " cannot be parsed, kept: " + e.what());
                }
                return;
            }
            karton::GcDecision d =
                karton::decide_task_gc(task, now, config_.timeouts, no_unrouted, removed);
            Pending p{task.uid, std::move(d.metric_identity), std::move(d.log)};
            switch (d.action) {
                case karton::GcAction::Keep:
                    if (task.status == karton::Status::Spawned && config_.stranded_grace > 0) {
                        const auto* receiver = task.headers.find("receiver");
                        if (receiver != nullptr && receiver->is_string()) {
                            SpawnedTasks& st = spawned[receiver->as_string()];
                            ++st.count;
                            if (spawned_candidates < config_.stranded_check_limit) {
                                st.priority_of.emplace(
                                    task.uid, std::string(karton::to_string(task.priority)));
                                ++spawned_candidates;
                            } else {
                                st.truncated = true;
                            }
                        }
                    }
                    break;
                case karton::GcAction::Delete: {
                    const auto* receiver = task.headers.find("receiver");
                    const bool removed_receiver = receiver != nullptr && receiver->is_string() &&
                                                  removed.count(receiver->as_string()) != 0;
                    if (task.status == karton::Status::Declared && !removed_receiver) {
                        pending_declared.push_back(std::move(p));
                    } else {
                        deletions.push_back(std::move(p));
                    }
                    break;
                }
                case karton::GcAction::Crash:
                    crashes.emplace_back(std::move(task), std::move(p));
                    break;
            }
        },
        [&]() {
            delete_tasks(deletions, stats);
            deletions.clear();
            if (!crashes.empty()) {
                std::vector<Command> cmds;
                std::vector<Command> metrics;
                for (auto& [task, p] : crashes) {
                    if (p.log) {
                        log_.deferred(cmds, level_of(p.log->level), p.log->message);
                    }
                    karton::crash_for_started_timeout(task, clock_);
                    cmds.push_back(
                        {"SET", karton::names::task_key(task.uid), karton::serialize_task(task)});
                    metrics.push_back({"HINCRBY", std::string(karton::names::kMetricCrashed),
                                       p.metric_identity, "1"});
                }
                conn.pipeline(cmds);
                conn.transaction(metrics);
                stats.crashed += crashes.size();
                crashes.clear();
            }
            if (pending_declared.size() >= config_.pending_declared_limit) {
                flush_pending(pending_declared, stats);
            }
        });
    flush_pending(pending_declared, stats);
    if (config_.stranded_grace > 0) {
        recover_stranded(spawned, now, stats);
    }
    if (stats.unparseable > 0) {
        log_.log(LogLevel::Warning,
                 "GC: " + std::to_string(stats.unparseable) + " task documents cannot be parsed");
    }
    return stats;
}

GcStats GarbageCollector::collect_resources() {
    GcStats stats;
    if (s3_ == nullptr) {
        return stats;
    }
    // §9.2 step 1: list before scanning, so objects uploaded later survive this cycle.
    const std::vector<s3::ObjectVersion> versions = s3_->list_object_versions(config_.bucket);
    stats.objects_listed = versions.size();
    std::vector<karton::ObjectVersions> listing;
    std::map<std::string, std::size_t> index;
    std::unordered_set<std::string> listed;
    for (const auto& v : versions) {
        auto [it, inserted] = index.try_emplace(v.key, listing.size());
        if (inserted) {
            listing.push_back({v.key, {}});
            listed.insert(v.key);
        }
        listing[it->second].version_ids.push_back(v.version_id);
    }
    if (listing.empty()) {
        return stats;
    }
    std::unordered_set<std::string> referenced;
    std::unordered_set<std::string> scratch;
    scan_tasks(
        [&](const std::string&, const std::string& text) {
            ++stats.tasks_seen;
            try {
                const karton::Task task = karton::parse_task(text, clock_);
                scratch.clear();
                karton::collect_referenced_objects(task, config_.bucket, scratch);
                for (const auto& uid : scratch) {
                    if (listed.count(uid) != 0) {
                        referenced.insert(uid);
                    }
                }
            } catch (const std::exception&) {
                ++stats.unparseable;
                referenced_in_text(text, listed, referenced);
            }
        },
        [] {});
    const auto batches = karton::plan_resource_gc(
        listing, referenced, config_.enable_null_version_deletion, karton::kDeleteBatch);
    for (const auto& batch : batches) {
        std::vector<s3::ObjectId> ids;
        ids.reserve(batch.size());
        for (const auto& e : batch) {
            ids.push_back({e.key, e.version_id.value_or("")});
        }
        const s3::DeleteResult r = s3_->delete_objects(config_.bucket, ids, karton::kDeleteBatch);
        stats.objects_deleted += r.deleted.size();
        stats.object_delete_errors += r.errors.size();
        for (const auto& err : r.errors) {
            log_.log(LogLevel::Warning, "GC: could not delete object " + err.key + " (" + err.code +
                                            ": " + err.message + ")");
        }
    }
    return stats;
}

GcStats GarbageCollector::run() {
    GcStats total;
    try {
        total = collect_tasks();
    } catch (const std::exception& e) {
        log_.log(LogLevel::Error, std::string("Task garbage collection failed: ") + e.what());
        return total;
    }
    try {
        const GcStats r = collect_resources();
        total.objects_listed = r.objects_listed;
        total.objects_deleted = r.objects_deleted;
        total.object_delete_errors = r.object_delete_errors;
    } catch (const std::exception& e) {
        log_.log(LogLevel::Error, std::string("Resource garbage collection failed: ") + e.what());
    }
    return total;
}

}  // namespace drak_system
