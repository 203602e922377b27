#include "drakrun/task_options.hpp"

#include <algorithm>
#include <cctype>

#include "drakrun/file_names.hpp"

namespace drakrun {

namespace json = karton::json;

namespace {

constexpr std::size_t kMaxStartCommand = 4096;
constexpr std::size_t kMaxPlugins = 64;

const json::Value* find_payload(const karton::Task& t, std::string_view key) {
    if (const auto* v = t.payload.find(key)) {
        return v;
    }
    return t.payload_persistent.find(key);
}

std::string header_string(const karton::Task& t, std::string_view key) {
    const auto* v = t.headers.find(key);
    return (v != nullptr && v->is_string()) ? v->as_string() : std::string();
}

}  // namespace

bool is_valid_analysis_uid(std::string_view uid) {
    if (uid.empty() || uid.size() > 128 || uid.front() == '.' ||
        uid.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(uid.begin(), uid.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '{' || c == '}' || c == ':' ||
               c == '.' || c == '_' || c == '-';
    });
}

json::Value default_filters(bool with_linux) {
    json::Array out;
    std::vector<std::string> platforms = {"win32", "win64"};
    if (with_linux) {
        platforms.push_back("linux");
    }
    for (const auto& p : platforms) {
        out.push_back(json::Object{
            {"type", "sample"}, {"stage", "recognized"}, {"platform", p}, {"execute", "!False"}});
    }
    return out;
}

TaskRequest parse_task_request(const karton::Task& task, const WorkerSettings& settings) {
    TaskRequest r;
    const auto* sample = find_payload(task, "sample");
    if (sample == nullptr) {
        throw TaskRejected("task " + task.uid + " has no 'sample' in its payload");
    }
    if (!karton::is_resource_marker(*sample)) {
        throw TaskRejected("payload 'sample' of task " + task.uid + " is not a Karton resource");
    }
    r.sample = karton::resource_from_marker(*sample);
    r.sample_marker = *sample;
    if (!r.sample.bucket) {
        throw TaskRejected("payload 'sample' of task " + task.uid + " has no bucket");
    }
    if (const auto* hooks = find_payload(task, "custom_hooks");
        hooks != nullptr && !hooks->is_null()) {
        if (!karton::is_resource_marker(*hooks)) {
            throw TaskRejected("payload 'custom_hooks' is not a Karton resource");
        }
        r.custom_hooks = karton::resource_from_marker(*hooks);
    }

    std::string quality = header_string(task, "quality");
    r.quality = quality == "low" ? "low" : "high";
    r.platform = header_string(task, "platform");
    if (!r.platform.empty() && r.platform != "win32" && r.platform != "win64" &&
        r.platform != "linux") {
        throw TaskRejected("unsupported platform header '" + r.platform + "'");
    }
    if (auto ext = normalize_extension(header_string(task, "extension"))) {
        r.extension = *ext;
    }

    r.timeout_s = r.quality == "low" ? settings.analysis_low_timeout : settings.analysis_timeout;
    if (const auto* t = find_payload(task, "timeout"); t != nullptr && !t->is_null()) {
        if (!t->is_int()) {
            throw TaskRejected("payload 'timeout' must be an integer number of seconds, got " +
                               std::string(json::type_name(t->type())));
        }
        auto v = t->as_int();
        if (v <= 0) {
            throw TaskRejected("payload 'timeout' must be positive, got " + std::to_string(v));
        }
        if (v > settings.max_timeout) {
            throw TaskRejected("payload 'timeout' of " + std::to_string(v) +
                               " s exceeds the maximum of " + std::to_string(settings.max_timeout) +
                               " s");
        }
        r.timeout_s = static_cast<int>(v);
    }
    r.timeout_s = std::min(r.timeout_s, settings.max_timeout);

    const auto& allowed = r.quality == "low" ? settings.plugins_low : settings.plugins;
    r.plugins = allowed;
    if (const auto* p = find_payload(task, "plugins"); p != nullptr && !p->is_null()) {
        if (!p->is_array() || p->as_array().size() > kMaxPlugins) {
            throw TaskRejected("payload 'plugins' must be a list of at most 64 plugin names");
        }
        r.plugins.clear();
        for (const auto& name : p->as_array()) {
            if (!name.is_string()) {
                throw TaskRejected("payload 'plugins' must contain only strings");
            }
            // Intersected with the configured list for the task's quality (as upstream).
            if (std::find(allowed.begin(), allowed.end(), name.as_string()) != allowed.end() &&
                std::find(r.plugins.begin(), r.plugins.end(), name.as_string()) ==
                    r.plugins.end()) {
                r.plugins.push_back(name.as_string());
            }
        }
        if (r.plugins.empty()) {
            throw TaskRejected("none of the requested plugins is enabled for quality '" +
                               r.quality + "'");
        }
    }

    if (const auto* s = find_payload(task, "start_command"); s != nullptr && !s->is_null()) {
        if (!s->is_string()) {
            throw TaskRejected("payload 'start_command' must be a string");
        }
        const auto& cmd = s->as_string();
        if (cmd.size() > kMaxStartCommand || std::any_of(cmd.begin(), cmd.end(), [](char c) {
                return c == '\0' || c == '\n' || c == '\r';
            })) {
            throw TaskRejected(
                "payload 'start_command' is too long or contains control characters");
        }
        r.start_command = cmd;
    }
    if (const auto* f = find_payload(task, "file_name"); f != nullptr && !f->is_null()) {
        if (!f->is_string()) {
            throw TaskRejected("payload 'file_name' must be a string");
        }
        r.file_name = f->as_string();
    }
    if (r.file_name.empty()) {
        r.file_name = r.sample.name;
    }
    if (const auto* tc = find_payload(task, "testcase")) {
        r.testcase = *tc;
    }

    if (const auto* o = find_payload(task, "override_uid"); o != nullptr && !o->is_null()) {
        if (!o->is_string() || !is_valid_analysis_uid(o->as_string())) {
            throw TaskRejected("payload 'override_uid' is not a valid analysis id");
        }
        r.analysis_uid = o->as_string();
    } else if (settings.use_root_uid) {
        r.analysis_uid = task.root_uid;
    } else {
        r.analysis_uid = task.uid;
    }
    if (!is_valid_analysis_uid(r.analysis_uid)) {
        throw TaskRejected("analysis id '" + r.analysis_uid + "' is not usable as an object key");
    }
    return r;
}

}  // namespace drakrun
