// postprocess/report.cpp — report.json builder.
#include "postprocess/report.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "postprocess/internal/line_reader.hpp"
#include "postprocess/py_json.hpp"
#include "postprocess/split.hpp"

namespace postprocess {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A list with de-duplication and a size cap.
class CappedList {
  public:
    void add(const std::string& dedup_key, Json item) {
        if (!seen_.insert(dedup_key).second) {
            return;
        }
        if (items_.size() >= kReportListLimit) {
            truncated_ = true;
            return;
        }
        items_.push_back(std::move(item));
    }
    Json json() const { return items_; }
    bool truncated() const { return truncated_; }

  private:
    std::set<std::string> seen_;
    Json items_ = Json::array();
    bool truncated_ = false;
};

struct Record {
    PyObjectParser& p;
    std::optional<std::string> str(std::string_view key) const {
        auto v = p.get(key);
        if (!v || v->empty() || v->front() != '"') {
            return std::nullopt;
        }
        return py_decode_string(*v);
    }
    std::optional<int64_t> num(std::string_view key) const {
        auto v = p.get(key);
        return v ? py_decode_int(*v) : std::nullopt;
    }
    Json str_or_null(std::string_view key) const {
        auto s = str(key);
        return s ? Json(*s) : Json(nullptr);
    }
    Json num_or_null(std::string_view key) const {
        auto n = num(key);
        return n ? Json(*n) : Json(nullptr);
    }
};

template <typename Fn>
void for_each_record(const fs::path& log, Fn&& fn) {
    if (!fs::is_regular_file(fs::symlink_status(log))) {
        return;
    }
    PyObjectParser parser;
    internal::LineCallbacks cb;
    cb.on_line = [&](std::string_view line, bool) {
        if (parser.parse(line)) {
            fn(Record{parser});
        }
    };
    cb.on_oversize = [](std::string_view, bool, bool, bool) {};
    internal::for_each_line(log, 32ull << 20, cb);
}

uint64_t count_lines(const fs::path& log) {
    uint64_t n = 0;
    internal::LineCallbacks cb;
    cb.on_line = [&](std::string_view, bool) { ++n; };
    cb.on_oversize = [&](std::string_view, bool, bool last, bool) { n += last ? 1 : 0; };
    internal::for_each_line(log, 1u << 20, cb);
    return n;
}

std::string pid_key(const Json& pid, const std::string& s) {
    return (pid.is_null() ? std::string("-") : pid.dump()) + "\x1f" + s;
}

}  // namespace

Json build_report(const Context& ctx) {
    const fs::path& dir = ctx.dir;
    Json report = Json::object();
    report["version"] = 1;

    // Processes.
    ProcessTree fallback;
    const ProcessTree* tree = ctx.tree ? &*ctx.tree : nullptr;
    if (tree == nullptr && fs::is_regular_file(fs::symlink_status(dir / "procmon.log"))) {
        fallback = build_process_tree(dir / "procmon.log");
        tree = &fallback;
    }
    Json processes = Json::array();
    bool processes_truncated = false;
    if (tree != nullptr) {
        for (const Process& p : tree->processes) {
            if (p.mocked) {
                continue;
            }
            if (processes.size() >= kReportListLimit) {
                processes_truncated = true;
                break;
            }
            Json j = Json::object();
            j["pid"] = p.pid;
            j["ppid"] = p.ppid;
            j["name"] = p.procname;
            j["command_line"] = p.command_line;
            j["start"] = p.ts_from;
            j["end"] = p.ts_to ? Json(*p.ts_to) : Json(nullptr);
            processes.push_back(std::move(j));
        }
    }
    report["processes"] = std::move(processes);

    // Files.
    CappedList written, deleted, renamed;
    for_each_record(dir / "filetracer.log", [&](const Record& r) {
        const auto method = r.str("Method").value_or("");
        const Json pid = r.num_or_null("PID");
        if (method == "NtWriteFile") {
            if (auto name = r.str("FileName")) {
                written.add(pid_key(pid, *name),
                            {{"path", *name}, {"pid", pid}, {"source", "filetracer"}});
            }
        } else if (method == "NtSetInformationFile") {
            const auto op = r.str("Operation").value_or("");
            if (op == "FileDispositionInformation") {
                if (auto name = r.str("FileName")) {
                    deleted.add(pid_key(pid, *name),
                                {{"path", *name}, {"pid", pid}, {"source", "filetracer"}});
                }
            } else if (op == "FileRenameInformation") {
                auto src = r.str("FileSrc");
                auto dst = r.str("FileDst");
                if (src && dst) {
                    renamed.add(pid_key(pid, *src + "\x1f" + *dst),
                                {{"from", *src}, {"to", *dst}, {"pid", pid}});
                }
            }
        }
    });
    for_each_record(dir / "fileextractor.log", [&](const Record& r) {
        const auto reason = r.str("Reason").value_or("");
        const Json pid = r.num_or_null("PID");
        auto name = r.str("FileName");
        if (!name) {
            return;
        }
        if (reason == "WriteFile") {
            written.add(pid_key(pid, *name),
                        {{"path", *name}, {"pid", pid}, {"source", "fileextractor"}});
        } else if (reason == "DeleteFile") {
            deleted.add(pid_key(pid, *name),
                        {{"path", *name}, {"pid", pid}, {"source", "fileextractor"}});
        }
    });
    report["files"] = {
        {"written", written.json()}, {"deleted", deleted.json()}, {"renamed", renamed.json()}};

    // Registry.
    CappedList reg_set, reg_deleted;
    for_each_record(dir / "regmon.log", [&](const Record& r) {
        const auto method = r.str("Method").value_or("");
        const Json pid = r.num_or_null("PID");
        auto key = r.str("Key");
        if (!key) {
            return;
        }
        if (method == "NtSetValueKey") {
            Json vn = r.str_or_null("ValueName");
            Json v = r.str_or_null("Value");
            reg_set.add(pid_key(pid, *key + "\x1f" + vn.dump() + "\x1f" + v.dump()),
                        {{"key", *key}, {"value_name", vn}, {"value", v}, {"pid", pid}});
        } else if (method == "NtDeleteKey" || method == "NtDeleteValueKey") {
            Json vn = r.str_or_null("ValueName");
            reg_deleted.add(pid_key(pid, *key + "\x1f" + vn.dump()),
                            {{"key", *key}, {"value_name", vn}, {"pid", pid}});
        }
    });
    report["registry"] = {{"set", reg_set.json()}, {"deleted", reg_deleted.json()}};

    // Network: socketmon connections and DNS names (from any record carrying DnsName).
    CappedList endpoints, dns;
    for_each_record(dir / "socketmon.log", [&](const Record& r) {
        Json pid = r.num_or_null("OwnerPID");
        if (pid.is_null()) {
            pid = r.num_or_null("PID");
        }
        if (auto name = r.str("DnsName")) {
            dns.add(pid_key(pid, *name), {{"name", *name}, {"pid", pid}});
            return;
        }
        const auto proto = r.str("Protocol").value_or("");
        auto ip = r.str("RemoteIp");
        auto port = r.num("RemotePort");
        if (!ip && proto.rfind("UDP", 0) == 0) {
            // Legacy UDP records carry the destination in LocalIp/LocalPort (spec §2.7 Bug).
            ip = r.str("LocalIp");
            port = r.num("LocalPort");
        }
        if (!ip) {
            return;
        }
        Json j = {{"protocol", proto},
                  {"ip", *ip},
                  {"port", port ? Json(*port) : Json(nullptr)},
                  {"pid", pid}};
        if (auto state = r.str("TcpState")) {
            j["tcp_state"] = *state;
        }
        endpoints.add(pid_key(pid, proto + "\x1f" + *ip + "\x1f" + j["port"].dump()), j);
    });
    report["network"] = {{"endpoints", endpoints.json()}, {"dns", dns.json()}};

    // Dumps.
    Json dumps = ctx.step_metadata.contains("dumps_metadata") ? ctx.step_metadata["dumps_metadata"]
                                                              : Json::array();
    report["dumps"] = {{"count", dumps.size()}, {"files", dumps}};

    // Counts per plugin and parse errors.
    Json plugins = Json::object();
    Json errors = Json::object();
    uint64_t error_total = 0;
    if (ctx.split) {
        for (const auto& [name, n] : ctx.split->lines_per_plugin) {
            plugins[name] = n;
        }
        for (const auto& [name, n] : ctx.split->errors_per_plugin) {
            errors[name] = n;
            error_total += n;
        }
    } else {
        std::vector<fs::path> logs;
        for (const auto& e : fs::directory_iterator(dir)) {
            if (fs::is_regular_file(e.symlink_status()) && e.path().extension() == ".log" &&
                e.path().filename() != "drakmon.log") {
                logs.push_back(e.path());
            }
        }
        std::sort(logs.begin(), logs.end());
        for (const auto& log : logs) {
            const std::string stem = log.stem().string();
            if (stem == "parse_errors") {
                internal::LineCallbacks cb;
                cb.on_line = [&](std::string_view line, bool) {
                    const std::string plugin = attribute_failed_line(line);
                    errors[plugin] = errors.value(plugin, uint64_t{0}) + 1;
                    ++error_total;
                };
                cb.on_oversize = [&](std::string_view, bool, bool last, bool) {
                    if (last) {
                        errors["unknown"] = errors.value("unknown", uint64_t{0}) + 1;
                        ++error_total;
                    }
                };
                internal::for_each_line(log, 1u << 20, cb);
            } else {
                plugins[stem] = count_lines(log);
            }
        }
    }
    report["plugins"] = plugins;
    report["parse_errors"] = {{"total", error_total}, {"by_plugin", errors}};

    Json truncated = Json::array();
    auto flag = [&](const char* name, bool t) {
        if (t) {
            truncated.push_back(name);
        }
    };
    flag("processes", processes_truncated);
    flag("files.written", written.truncated());
    flag("files.deleted", deleted.truncated());
    flag("files.renamed", renamed.truncated());
    flag("registry.set", reg_set.truncated());
    flag("registry.deleted", reg_deleted.truncated());
    flag("network.endpoints", endpoints.truncated());
    flag("network.dns", dns.truncated());
    report["truncated"] = truncated;
    Json warnings = Json::array();
    for (const auto& w : ctx.warnings) {
        if (warnings.size() >= 1000) {
            break;
        }
        warnings.push_back(w);
    }
    report["warnings"] = warnings;
    return report;
}

}  // namespace postprocess
