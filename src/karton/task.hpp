// karton/task.hpp — the Karton task document (spec §4.1 fields, §4.2 reading rules, §4.4
// identifiers and derivation, §5 status changes): parse, byte-exact serialize, construct with
// injected ids/clock, derive, merge into a parent when sending, router fork and retry fork.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "karton/errors.hpp"
#include "karton/json.hpp"
#include "karton/resource.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"

namespace karton {

// Status is the task state of spec §5.1 (wire text "Declared", "Spawned", ...).
enum class Status { Declared, Spawned, Started, Finished, Crashed };
// Priority is the queue priority (wire text "high", "normal", "low").
enum class Priority { High, Normal, Low };

// to_string returns the exact wire text.
std::string_view to_string(Status s);
std::string_view to_string(Priority p);
// parse_status / parse_priority accept only the exact wire text; nullopt otherwise.
std::optional<Status> parse_status(std::string_view text);
std::optional<Priority> parse_priority(std::string_view text);

// Task is one task document. `headers` always contains the persistent headers too (effective
// headers, §4.1); use set_persistent_header to keep both maps consistent. `payload_persistent`
// may contain "__headers_persistent" after parsing; it is overwritten on serialization.
struct Task {
    std::string uid;
    std::string root_uid;
    std::optional<std::string> parent_uid;
    std::optional<std::string> orig_uid;
    Status status = Status::Declared;
    Priority priority = Priority::Normal;
    json::Object headers;
    json::Object headers_persistent;
    json::Object payload;
    json::Object payload_persistent;
    // last_update: Unix seconds; a Float normally, an Int when read as an integer (kept so the
    // document round-trips), BigInt only from hostile input.
    json::Value last_update = 0.0;
    // error: null, or (normally) a list of traceback lines (§5.3); kept opaque.
    json::Value error;
    // Local sources of resources created in this process and not uploaded yet, by resource uid.
    // Not serialized; the producer uploads these at send time and fills in their bucket.
    std::unordered_map<std::string, Resource> local_resources;

    // last_update_seconds returns last_update as a double.
    double last_update_seconds() const { return last_update.as_float(); }
    // set_persistent_header sets `key` in both headers and headers_persistent.
    void set_persistent_header(std::string key, json::Value value);
    // attach_resource returns the marker for `r` to place in payload/payload_persistent, and
    // records its local source (when it has one) in local_resources.
    json::Value attach_resource(Resource r);
    // short_id: the part after the last ':' of uid (the whole uid for legacy tasks).
    std::string_view short_id() const;
};

// short_id_of applies the short-id rule of §4.4 to any uid text.
std::string_view short_id_of(std::string_view uid);

// parse_task reads a stored task (spec §4.2). `clock` supplies last_update when it is absent,
// null or 0. Resource markers in payload and payload_persistent are normalized (§4.3).
// Throws TaskError naming the missing or wrong field (malformed JSON included).
Task parse_task(std::string_view text, util::Clock& clock);

// serialize_task writes the stored form: twelve keys, sorted, json.dumps byte rules (§3, §4.1);
// payload_persistent gets "__headers_persistent" = headers_persistent.
std::string serialize_task(const Task& t);
// serialize_task_to appends the same text to `out`.
void serialize_task_to(std::string& out, const Task& t);

struct NewTaskOptions {
    json::Object payload{};
    json::Object payload_persistent{};
    json::Object headers_persistent{};  // merged into headers as well
    Priority priority = Priority::Normal;
    std::optional<std::string> root_uid{};  // default: the new task's own UUID
    std::optional<std::string> parent_uid{};
    std::optional<std::string> orig_uid{};
};

// new_task builds a Declared task: X = ids.uuid4(), root = opts.root_uid or X,
// uid = "{root}:X", last_update = clock.now() (one reading each, §4.4).
Task new_task(json::Object headers, util::IdSource& ids, util::Clock& clock,
              NewTaskOptions opts = {});

// derive_task is the consumer convenience of §4.4: a new task with `headers` plus the parent's
// persistent headers, copies of the parent's payload and payload_persistent, fresh uid/root,
// normal priority.
Task derive_task(const Task& parent, json::Object headers, util::IdSource& ids, util::Clock& clock);

// prepare_for_send applies the send-time rules of §4.4 in place: when `processing` is the
// routed task being processed, the child takes its parent_uid (= processing.uid), root_uid and
// priority, merges persistent payload (removing those keys from payload) and persistent
// headers; then always last_update = clock.now() and headers.origin = `identity` (empty for an
// anonymous producer). The uid is not rewritten.
void prepare_for_send(Task& task, const Task* processing, std::string_view identity,
                      util::Clock& clock);

// fork_for_bind is the router's fork of unrouted task `u` for consumer `receiver` (§4.4):
// uid "{u.root_uid}:Z", orig_uid = u.uid, headers + receiver, status Spawned, error null,
// last_update = clock.now().
Task fork_for_bind(const Task& u, std::string_view receiver, util::IdSource& ids,
                   util::Clock& clock);

// retry_fork is the dashboard retry of crashed routed task `c` (§4.4): a fork under the same
// root keeping headers (receiver included) and parent_uid, orig_uid = c.orig_uid, status
// Spawned, error null. The caller also rewrites `c` as Finished (set_status) keeping its error.
Task retry_fork(const Task& c, util::IdSource& ids, util::Clock& clock);

// set_status changes the status and sets last_update = clock.now(); returns false (and changes
// nothing) when the status is already `s` (§5.2: unchanged status means no write).
bool set_status(Task& t, Status s, util::Clock& clock);

}  // namespace karton
