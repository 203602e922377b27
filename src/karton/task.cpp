// karton/task.cpp — task document model (spec §4, §5.2).
#include "karton/task.hpp"

#include <algorithm>
#include <vector>

namespace karton {

namespace {

constexpr std::string_view kHeadersPersistentKey = "__headers_persistent";

[[noreturn]] void task_error(const std::string& msg) { throw TaskError("task: " + msg); }

// member returns the value of `key` (callers may move out of it); nullptr when absent.
json::Value* member(json::Object& o, std::string_view key) { return o.find(key); }

json::Value& required(json::Object& o, std::string_view key) {
    json::Value* v = member(o, key);
    if (v == nullptr) {
        task_error("missing required key '" + std::string(key) + "'");
    }
    return *v;
}

std::string take_string(json::Object& o, std::string_view key) {
    json::Value& v = required(o, key);
    if (!v.is_string()) {
        task_error("'" + std::string(key) + "' must be a str, got " + json::type_name(v.type()));
    }
    return std::move(v.as_string());
}

std::optional<std::string> take_optional_string(json::Value* v, std::string_view key) {
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        task_error("'" + std::string(key) + "' must be a str or null, got " +
                   json::type_name(v->type()));
    }
    return std::move(v->as_string());
}

json::Object take_object(json::Value& v, std::string_view key) {
    if (!v.is_object()) {
        task_error("'" + std::string(key) + "' must be a dict, got " + json::type_name(v.type()));
    }
    return std::move(v.as_object());
}

bool is_falsy_number(const json::Value& v) {
    switch (v.type()) {
        case json::Value::Type::Null:
            return true;
        case json::Value::Type::Bool:
            return !v.as_bool();
        case json::Value::Type::Int:
            return v.as_int() == 0;
        case json::Value::Type::Float:
            return v.as_float() == 0.0;
        default:
            return false;
    }
}

void merge_into(json::Object& dst, const json::Object& src) {
    for (const auto& [k, v] : src) {
        dst.set(k, v);
    }
}

void append_optional_string(std::string& out, const std::optional<std::string>& s) {
    if (s) {
        json::dump_string_to(out, *s);
    } else {
        out.append("null");
    }
}

// Writes payload_persistent with "__headers_persistent" replaced by headers_persistent, keys
// sorted, without copying the payload.
void append_payload_persistent(std::string& out, const Task& t) {
    std::vector<const json::Object::Entry*> entries;
    entries.reserve(t.payload_persistent.size() + 1);
    for (const auto& e : t.payload_persistent) {
        if (e.first != kHeadersPersistentKey) {
            entries.push_back(&e);
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const json::Object::Entry* a, const json::Object::Entry* b) {
                  return a->first < b->first;
              });
    // "__headers_persistent" goes where it sorts among the others.
    auto pos = std::lower_bound(entries.begin(), entries.end(), kHeadersPersistentKey,
                                [](const json::Object::Entry* e, std::string_view k) {
                                    return std::string_view(e->first) < k;
                                });
    const auto special_index = static_cast<std::size_t>(pos - entries.begin());
    out.push_back('{');
    bool first = true;
    auto sep = [&] {
        if (!first) {
            out.append(", ");
        }
        first = false;
    };
    for (std::size_t i = 0; i <= entries.size(); ++i) {
        if (i == special_index) {
            sep();
            out.append("\"__headers_persistent\": ");
            json::dump_object_to(out, t.headers_persistent);
        }
        if (i < entries.size()) {
            sep();
            json::dump_string_to(out, entries[i]->first);
            out.append(": ");
            json::dump_to(out, entries[i]->second);
        }
    }
    out.push_back('}');
}

}  // namespace

std::string_view to_string(Status s) {
    switch (s) {
        case Status::Declared:
            return "Declared";
        case Status::Spawned:
            return "Spawned";
        case Status::Started:
            return "Started";
        case Status::Finished:
            return "Finished";
        case Status::Crashed:
            return "Crashed";
    }
    return "Declared";
}

std::string_view to_string(Priority p) {
    switch (p) {
        case Priority::High:
            return "high";
        case Priority::Normal:
            return "normal";
        case Priority::Low:
            return "low";
    }
    return "normal";
}

std::optional<Status> parse_status(std::string_view text) {
    for (Status s :
         {Status::Declared, Status::Spawned, Status::Started, Status::Finished, Status::Crashed}) {
        if (to_string(s) == text) {
            return s;
        }
    }
    return std::nullopt;
}

std::optional<Priority> parse_priority(std::string_view text) {
    for (Priority p : {Priority::High, Priority::Normal, Priority::Low}) {
        if (to_string(p) == text) {
            return p;
        }
    }
    return std::nullopt;
}

void Task::set_persistent_header(std::string key, json::Value value) {
    headers.set(key, value);
    headers_persistent.set(std::move(key), std::move(value));
}

json::Value Task::attach_resource(Resource r) {
    json::Value marker = r.to_marker();
    if (r.is_local()) {
        std::string uid = r.uid;
        local_resources.insert_or_assign(std::move(uid), std::move(r));
    }
    return marker;
}

std::string_view short_id_of(std::string_view uid) {
    const std::size_t pos = uid.rfind(':');
    return pos == std::string_view::npos ? uid : uid.substr(pos + 1);
}

std::string_view Task::short_id() const { return short_id_of(uid); }

Task parse_task(std::string_view text, util::Clock& clock) {
    json::Value doc;
    try {
        doc = json::parse(text);
    } catch (const json::JsonError& e) {
        task_error(std::string("not valid JSON: ") + e.what());
    }
    if (!doc.is_object()) {
        task_error(std::string("document must be a dict, got ") + json::type_name(doc.type()));
    }
    json::Object& o = doc.as_object();
    Task t;
    t.uid = take_string(o, "uid");
    t.root_uid = take_string(o, "root_uid");
    t.parent_uid = take_optional_string(&required(o, "parent_uid"), "parent_uid");
    {
        json::Value& s = required(o, "status");
        std::optional<Status> st = s.is_string() ? parse_status(s.as_string()) : std::nullopt;
        if (!st) {
            task_error("'status': " + json::dump(s) + " is not a valid TaskState");
        }
        t.status = *st;
    }
    json::Object headers = take_object(required(o, "headers"), "headers");
    t.payload = take_object(required(o, "payload"), "payload");
    t.payload_persistent = take_object(required(o, "payload_persistent"), "payload_persistent");
    t.orig_uid = take_optional_string(member(o, "orig_uid"), "orig_uid");
    if (json::Value* p = member(o, "priority")) {
        std::optional<Priority> pr = p->is_string() ? parse_priority(p->as_string()) : std::nullopt;
        if (!pr) {
            task_error("'priority': " + json::dump(*p) + " is not a valid TaskPriority");
        }
        t.priority = *pr;
    }
    if (json::Value* e = member(o, "error")) {
        t.error = std::move(*e);
    }
    json::Value* lu = member(o, "last_update");
    if (lu == nullptr || is_falsy_number(*lu)) {
        t.last_update = clock.now();
    } else if (lu->is_number() || lu->is_bool()) {
        t.last_update = lu->is_bool() ? json::Value(1) : std::move(*lu);
    } else {
        task_error(std::string("'last_update' must be a number, got ") +
                   json::type_name(lu->type()));
    }
    if (json::Value* hp = member(o, "headers_persistent")) {
        if (!hp->is_null()) {
            t.headers_persistent = take_object(*hp, "headers_persistent");
        }
    } else if (json::Value* legacy = t.payload_persistent.find(kHeadersPersistentKey)) {
        if (!legacy->is_null()) {
            if (!legacy->is_object()) {
                task_error("'payload_persistent.__headers_persistent' must be a dict, got " +
                           std::string(json::type_name(legacy->type())));
            }
            t.headers_persistent = legacy->as_object();
        }
    }
    t.headers = std::move(headers);
    merge_into(t.headers, t.headers_persistent);
    try {
        normalize_resources(t.payload);
        normalize_resources(t.payload_persistent);
    } catch (const ResourceError& e) {
        task_error(e.what());
    }
    return t;
}

void serialize_task_to(std::string& out, const Task& t) {
    out.append("{\"error\": ");
    json::dump_to(out, t.error);
    out.append(", \"headers\": ");
    json::dump_object_to(out, t.headers);
    out.append(", \"headers_persistent\": ");
    json::dump_object_to(out, t.headers_persistent);
    out.append(", \"last_update\": ");
    json::dump_to(out, t.last_update);
    out.append(", \"orig_uid\": ");
    append_optional_string(out, t.orig_uid);
    out.append(", \"parent_uid\": ");
    append_optional_string(out, t.parent_uid);
    out.append(", \"payload\": ");
    json::dump_object_to(out, t.payload);
    out.append(", \"payload_persistent\": ");
    append_payload_persistent(out, t);
    out.append(", \"priority\": \"");
    out.append(to_string(t.priority));
    out.append("\", \"root_uid\": ");
    json::dump_string_to(out, t.root_uid);
    out.append(", \"status\": \"");
    out.append(to_string(t.status));
    out.append("\", \"uid\": ");
    json::dump_string_to(out, t.uid);
    out.push_back('}');
}

std::string serialize_task(const Task& t) {
    std::string out;
    out.reserve(1024);
    serialize_task_to(out, t);
    return out;
}

Task new_task(json::Object headers, util::IdSource& ids, util::Clock& clock, NewTaskOptions opts) {
    Task t;
    const std::string x = ids.uuid4();
    t.root_uid = opts.root_uid ? *opts.root_uid : x;
    t.uid = "{" + t.root_uid + "}:" + x;
    t.parent_uid = std::move(opts.parent_uid);
    t.orig_uid = std::move(opts.orig_uid);
    t.priority = opts.priority;
    t.status = Status::Declared;
    t.headers = std::move(headers);
    merge_into(t.headers, opts.headers_persistent);
    t.headers_persistent = std::move(opts.headers_persistent);
    t.payload = std::move(opts.payload);
    t.payload_persistent = std::move(opts.payload_persistent);
    t.last_update = clock.now();
    return t;
}

Task derive_task(const Task& parent, json::Object headers, util::IdSource& ids,
                 util::Clock& clock) {
    NewTaskOptions opts;
    opts.payload = parent.payload;
    opts.payload_persistent = parent.payload_persistent;
    opts.headers_persistent = parent.headers_persistent;
    return new_task(std::move(headers), ids, clock, std::move(opts));
}

void prepare_for_send(Task& task, const Task* processing, std::string_view identity,
                      util::Clock& clock) {
    if (processing != nullptr) {
        task.parent_uid = processing->uid;
        task.root_uid = processing->root_uid;
        task.priority = processing->priority;
        for (const auto& [k, v] : processing->payload_persistent) {
            task.payload_persistent.set(k, v);
            task.payload.erase(k);
        }
        merge_into(task.headers, processing->headers_persistent);
        merge_into(task.headers_persistent, processing->headers_persistent);
    }
    task.last_update = clock.now();
    task.headers.set("origin", std::string(identity));
}

namespace {

Task fork_of(const Task& u, std::optional<std::string> orig_uid, util::IdSource& ids,
             util::Clock& clock) {
    NewTaskOptions opts;
    opts.payload = u.payload;
    opts.payload_persistent = u.payload_persistent;
    opts.headers_persistent = u.headers_persistent;
    opts.priority = u.priority;
    opts.root_uid = u.root_uid;
    opts.parent_uid = u.parent_uid;
    opts.orig_uid = std::move(orig_uid);
    Task f = new_task(u.headers, ids, clock, std::move(opts));
    f.status = Status::Spawned;
    return f;
}

}  // namespace

Task fork_for_bind(const Task& u, std::string_view receiver, util::IdSource& ids,
                   util::Clock& clock) {
    Task f = fork_of(u, u.uid, ids, clock);
    f.headers.set("receiver", std::string(receiver));
    return f;
}

Task retry_fork(const Task& c, util::IdSource& ids, util::Clock& clock) {
    return fork_of(c, c.orig_uid, ids, clock);
}

bool set_status(Task& t, Status s, util::Clock& clock) {
    if (t.status == s) {
        return false;
    }
    t.status = s;
    t.last_update = clock.now();
    return true;
}

}  // namespace karton
