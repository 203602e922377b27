// system/router.cpp — crash-safe routing iteration (spec §7.2) and legacy operations (§12.1).
#include "system/router.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "karton/bind.hpp"
#include "karton/filter.hpp"
#include "karton/names.hpp"
#include "karton/task.hpp"
#include "util/error.hpp"

namespace drak_system {

namespace {

using karton::LogLevel;

// kTakeScript moves uids from KEYS[1] to the tail of KEYS[2] until KEYS[2] holds ARGV[1]
// entries, atomically, and returns all of KEYS[2]. Leftovers of a crashed run stay in front,
// so they are routed first (and exactly once: their batch never committed).
constexpr const char* kTakeScript = R"lua(
local n = tonumber(ARGV[1])
local have = redis.call('LLEN', KEYS[2])
if have < n then
  local items = redis.call('LRANGE', KEYS[1], 0, n - have - 1)
  if #items > 0 then
    redis.call('LTRIM', KEYS[1], #items, -1)
    redis.call('RPUSH', KEYS[2], unpack(items))
  end
end
return redis.call('LRANGE', KEYS[2], 0, -1)
)lua";

constexpr std::size_t kMgetChunk = 1000;  // §7.2 step 3

std::vector<std::string> strings_of(const karton::Reply& r, const char* what) {
    if (r.is_error()) {
        throw karton::RedisReplyError(std::string(what) + ": " + r.str);
    }
    std::vector<std::string> out;
    out.reserve(r.as_array().size());
    for (const auto& e : r.as_array()) {
        out.push_back(e.as_string());
    }
    return out;
}

// Grouped keeps keys in first-appearance order with their accumulated values.
template <typename V>
class Grouped {
  public:
    V& at(const std::string& key) {
        auto [it, inserted] = index_.try_emplace(key, items_.size());
        if (inserted) {
            items_.emplace_back(key, V{});
        }
        return items_[it->second].second;
    }
    const std::vector<std::pair<std::string, V>>& items() const { return items_; }

  private:
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<std::pair<std::string, V>> items_;
};

void log_reply_errors(SystemLog& log, const std::vector<karton::Reply>& replies,
                      const std::vector<Command>& cmds) {
    for (std::size_t i = 0; i < replies.size() && i < cmds.size(); ++i) {
        if (replies[i].is_error()) {
            log.log(LogLevel::Error, "Redis rejected " + cmds[i][0] + " " +
                                         (cmds[i].size() > 1 ? cmds[i][1] : "") + ": " +
                                         replies[i].str);
        }
    }
}

}  // namespace

std::string processing_key(const std::string& instance) {
    return "karton.system.processing:" + instance;
}

std::string operations_processing_key(const std::string& instance) {
    return "karton.system.operations:" + instance;
}

Router::Router(karton::Backend& backend, SystemLog& log, util::Clock& clock, util::IdSource& ids,
               RouterConfig config)
    : backend_(backend),
      log_(log),
      clock_(clock),
      ids_(ids),
      config_(std::move(config)),
      processing_(processing_key(config_.instance)),
      ops_processing_(operations_processing_key(config_.instance)) {
    if (config_.batch < 1 || config_.batch > 5000 || config_.operations_batch < 1 ||
        config_.operations_batch > 5000) {
        throw util::Error("router batch sizes must be within 1..5000");
    }
    if (config_.poll_timeout < 1) {
        throw util::Error("router poll_timeout must be at least 1 second");
    }
}

std::vector<std::string> Router::take(const std::string& source, const std::string& dest,
                                      std::size_t n) {
    return strings_of(
        backend_.connection().command({"EVAL", kTakeScript, "2", source, dest, std::to_string(n)}),
        "EVAL take");
}

RouteStats Router::step(bool block) {
    RouteStats stats;
    karton::Connection& conn = backend_.connection();
    const std::string tasks_key(karton::names::kTasksQueue);
    const std::string ops_key(karton::names::kOperations);
    const auto replies = conn.pipeline(
        {{"EVAL", kTakeScript, "2", tasks_key, processing_, std::to_string(config_.batch)},
         {"EVAL", kTakeScript, "2", ops_key, ops_processing_,
          std::to_string(config_.operations_batch)}});
    std::vector<std::string> uids = strings_of(replies.at(0), "EVAL take tasks");
    std::vector<std::string> ops = strings_of(replies.at(1), "EVAL take operations");
    if (uids.empty() && ops.empty() && block) {
        // Block on the unrouted queue only; legacy operations are picked up by the next take
        // (at most poll_timeout later). BLMOVE keeps the uid in our processing list.
        int wait = config_.poll_timeout;
        const auto sock = conn.options().socket_timeout.count();
        if (sock > 0) {
            wait = std::max<int>(1, std::min<int>(wait, static_cast<int>(sock / 1000) - 1));
        }
        const auto r =
            conn.command({"BLMOVE", tasks_key, processing_, "LEFT", "RIGHT", std::to_string(wait)});
        if (r.is_nil()) {
            return stats;
        }
        uids = take(tasks_key, processing_, config_.batch);
    }
    if (!uids.empty()) {
        route_batch(uids, stats);
    }
    if (!ops.empty()) {
        handle_operations(ops, stats);
    }
    return stats;
}

const std::vector<const karton::RouteBind*>& Router::refresh_binds(const karton::Reply& hgetall) {
    if (hgetall.is_error()) {
        throw karton::RedisReplyError("HGETALL karton.binds: " + hgetall.str);
    }
    const auto& items = hgetall.as_array();
    binds_.clear();
    std::unordered_map<std::string, bool> seen;
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
        const std::string& identity = items[i].as_string();
        const std::string& text = items[i + 1].as_string();
        seen[identity] = true;
        auto it = bind_cache_.find(identity);
        if (it == bind_cache_.end() || it->second.text != text) {
            CachedBind cached;
            cached.text = text;
            try {
                const karton::Bind b = karton::parse_bind(identity, text);
                cached.bind = karton::RouteBind::compile(identity, b.filters);
            } catch (const std::exception& e) {
                log_.log(LogLevel::Error,
                         "Bind " + identity + " cannot be read, not routing to it: " + e.what());
            }
            it = bind_cache_.insert_or_assign(identity, std::move(cached)).first;
        }
        if (it->second.bind) {
            binds_.push_back(&*it->second.bind);
        }
    }
    for (auto it = bind_cache_.begin(); it != bind_cache_.end();) {
        it = seen.count(it->first) != 0 ? std::next(it) : bind_cache_.erase(it);
    }
    return binds_;
}

void Router::route_batch(const std::vector<std::string>& uids, RouteStats& stats) {
    karton::Connection& conn = backend_.connection();
    // MGET chunks and HGETALL in one round trip (§7.2 steps 3-4).
    std::vector<Command> reads;
    for (std::size_t i = 0; i < uids.size(); i += kMgetChunk) {
        Command mget{"MGET"};
        for (std::size_t j = i; j < std::min(uids.size(), i + kMgetChunk); ++j) {
            mget.push_back(karton::names::task_key(uids[j]));
        }
        reads.push_back(std::move(mget));
    }
    reads.push_back({"HGETALL", std::string(karton::names::kBinds)});
    const auto read_replies = conn.pipeline(reads);
    const auto& binds = refresh_binds(read_replies.back());

    std::vector<Command> logs;
    Grouped<std::vector<std::string>> outputs;  // outputs key -> members
    Grouped<std::vector<std::string>> queues;   // queue key -> fork uids
    Grouped<std::int64_t> assigned;             // identity -> forks
    Command mset{"MSET"};
    std::vector<std::string> dead;

    for (std::size_t i = 0; i < uids.size(); ++i) {
        const karton::Reply& chunk = read_replies[i / kMgetChunk];
        if (chunk.is_error()) {
            throw karton::RedisReplyError("MGET: " + chunk.str);
        }
        const karton::Reply& value = chunk.as_array().at(i % kMgetChunk);
        if (value.is_nil()) {
            ++stats.missing;  // §7.2 step 3: silently skipped
            continue;
        }
        karton::Task task;
        try {
            task = karton::parse_task(value.as_string(), clock_);
        } catch (const std::exception& e) {
            // The reference would stop karton-system here (and lose the batch). We dead-letter
            // the uid and leave the document for operators; it is never retried.
            ++stats.unparseable;
            dead.push_back(uids[i]);
            log_.deferred(logs, LogLevel::Error,
                          "Task " + uids[i] + " cannot be parsed, not routed (kept in " +
                              kUnparseableKey + "): " + e.what());
            continue;
        }
        ++stats.tasks;
        log_.deferred(logs, LogLevel::Info,
                      "[" + task.root_uid + "] Processing task " + std::string(task.short_id()));
        if (config_.task_tracking) {
            karton::json::DumpOptions insertion_order;
            insertion_order.sort_keys = false;
            outputs.at(karton::outputs_key_for(task.headers))
                .push_back(karton::json::dump(karton::json::Value(task.headers), insertion_order));
        }
        for (const karton::RouteBind* bind : binds) {
            bool matched = false;
            try {
                matched = bind->matches(task.headers);
            } catch (const karton::QueryError& e) {
                log_.deferred(logs, LogLevel::Error,
                              "Task matching failed - invalid filters? (bind " + bind->identity() +
                                  ": " + e.what() + ")");
                continue;
            } catch (const karton::FilterError& e) {
                // Compat deviation: karton-system stops on these (§8.4); a router that stops
                // would replay the same batch forever, so we skip the bind for this task.
                log_.deferred(logs, LogLevel::Error,
                              "Filters of bind " + bind->identity() + " fail on task " + task.uid +
                                  " (" + e.what() + "); bind skipped for this task");
                continue;
            }
            if (!matched) {
                continue;
            }
            // Compat: the reference's Task() reads the clock, then route_task sets it again.
            (void)clock_.now();
            const karton::Task fork = karton::fork_for_bind(task, bind->identity(), ids_, clock_);
            mset.push_back(karton::names::task_key(fork.uid));
            mset.push_back(karton::serialize_task(fork));
            queues.at(karton::names::queue_key(karton::to_string(fork.priority), bind->identity()))
                .push_back(fork.uid);
            ++assigned.at(bind->identity());
            ++stats.forks;
        }
        karton::set_status(task, karton::Status::Finished, clock_);
        mset.push_back(karton::names::task_key(task.uid));
        mset.push_back(karton::serialize_task(task));
    }

    // One atomic commit: either all of the batch's effects exist or none (then the uids are
    // still in the processing list and the batch is routed again).
    std::vector<Command> tx;
    for (const auto& [key, members] : outputs.items()) {
        Command sadd{"SADD", key};
        sadd.insert(sadd.end(), members.begin(), members.end());
        tx.push_back(std::move(sadd));
        tx.push_back({"EXPIRE", key, std::to_string(config_.task_tracking_ttl)});
    }
    if (mset.size() > 1) {
        tx.push_back(std::move(mset));
    }
    for (const auto& [key, fork_uids] : queues.items()) {
        Command rpush{"RPUSH", key};
        rpush.insert(rpush.end(), fork_uids.begin(), fork_uids.end());
        tx.push_back(std::move(rpush));
    }
    for (const auto& [identity, n] : assigned.items()) {
        tx.push_back(
            {"HINCRBY", std::string(karton::names::kMetricAssigned), identity, std::to_string(n)});
    }
    for (auto& l : logs) {
        tx.push_back(std::move(l));
    }
    if (!dead.empty()) {
        Command lpush{"LPUSH", kUnparseableKey};
        lpush.insert(lpush.end(), dead.begin(), dead.end());
        tx.push_back(std::move(lpush));
        tx.push_back({"LTRIM", kUnparseableKey, "0", std::to_string(kUnparseableKeep - 1)});
    }
    tx.push_back({"DEL", processing_});
    log_reply_errors(log_, conn.transaction(tx), tx);
}

void Router::handle_operations(const std::vector<std::string>& bodies, RouteStats& stats) {
    Command mset{"MSET"};
    std::vector<Command> publishes;
    karton::json::DumpOptions insertion_order;
    insertion_order.sort_keys = false;
    for (const std::string& body : bodies) {
        try {
            const karton::json::Value op = karton::json::parse(body);
            const auto& obj = op.as_object();
            const auto* status_v = obj.find("status");
            const auto* task_v = obj.find("task");
            if (status_v == nullptr || !status_v->is_string() || task_v == nullptr ||
                !task_v->is_string()) {
                throw util::InputError("operation needs string fields status and task");
            }
            const auto status = karton::parse_status(status_v->as_string());
            if (!status) {
                throw util::InputError("unknown status '" + status_v->as_string() + "'");
            }
            karton::Task task = karton::parse_task(task_v->as_string(), clock_);
            if (karton::set_status(task, *status, clock_)) {
                mset.push_back(karton::names::task_key(task.uid));
                mset.push_back(karton::serialize_task(task));
            }
            publishes.push_back({"PUBLISH", "karton.log.info.karton.operations",
                                 karton::json::dump(op, insertion_order)});
            ++stats.operations;
        } catch (const std::exception& e) {
            log_.log(LogLevel::Error,
                     std::string("Legacy operation ignored (cannot be parsed): ") + e.what());
        }
    }
    std::vector<Command> tx;
    if (mset.size() > 1) {
        tx.push_back(std::move(mset));
    }
    if (log_.publishing()) {
        for (auto& p : publishes) {
            tx.push_back(std::move(p));
        }
    }
    tx.push_back({"DEL", ops_processing_});
    log_reply_errors(log_, backend_.connection().transaction(tx), tx);
}

}  // namespace drak_system
