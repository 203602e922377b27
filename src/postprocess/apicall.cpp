// postprocess/apicall.cpp — §8.4 process_apimon_log.
#include "postprocess/apicall.hpp"

#include <map>
#include <set>

#include "postprocess/internal/line_reader.hpp"
#include "postprocess/internal/output_file.hpp"
#include "postprocess/py_json.hpp"
#include "util/logging.hpp"

namespace postprocess {
namespace {

constexpr size_t kBufferBudget = 16u << 20;

std::optional<std::string> apicall_line_with(PyObjectParser& parser, std::string_view line,
                                             int64_t& pid) {
    // Fast pre-filter: dll_discovered/dll_loaded lines are the majority; an api_called record
    // contains the literal text unless it is \u-escaped (then it is parsed anyway).
    if (line.find("api_called") == std::string_view::npos &&
        line.find("\\u") == std::string_view::npos) {
        return std::nullopt;
    }
    if (!parser.parse(line)) {
        return std::nullopt;
    }
    auto event = parser.get("Event");
    if (!event || *event != "\"api_called\"") {
        return std::nullopt;
    }
    auto pid_enc = parser.get("PID");
    auto pid_val = pid_enc ? py_decode_int(*pid_enc) : std::nullopt;
    if (!pid_val || *pid_val < 0) {
        return std::nullopt;
    }
    pid = *pid_val;
    auto or_null = [&](std::string_view key, std::string_view fallback) {
        auto v = parser.get(key);
        return v ? *v : fallback;
    };
    std::string out = "{\"pid\": ";
    out += std::to_string(pid);
    out += ", \"timestamp\": ";
    out += or_null("TimeStamp", "null");
    out += ", \"method\": ";
    out += or_null("Method", "null");
    out += ", \"arguments\": ";
    out += or_null("Arguments", "[]");
    out += ", \"returnvalue\": ";
    out += or_null("ReturnValue", "null");
    out += '}';
    return out;
}

}  // namespace

std::optional<std::string> apicall_line(std::string_view apimon_line, int64_t& pid) {
    PyObjectParser parser;
    return apicall_line_with(parser, apimon_line, pid);
}

ApicallStats process_apimon_log(const std::filesystem::path& apimon_log,
                                const std::filesystem::path& out_dir) {
    namespace fs = std::filesystem;
    if (fs::is_symlink(fs::symlink_status(out_dir))) {
        fs::remove(out_dir);
    }
    fs::create_directories(out_dir);
    PyObjectParser parser;
    ApicallStats stats;
    std::map<int64_t, std::string> pending;
    std::set<int64_t> created;
    size_t buffered = 0;
    auto flush_all = [&] {
        for (auto& [pid, data] : pending) {
            if (data.empty()) {
                continue;
            }
            const fs::path path = out_dir / (std::to_string(pid) + ".json");
            if (created.insert(pid).second) {
                internal::write_output(path, data);
            } else {
                internal::append_to_file(path, data);
            }
            data.clear();
        }
        buffered = 0;
    };
    internal::LineCallbacks cb;
    cb.on_line = [&](std::string_view line, bool) {
        int64_t pid = 0;
        auto out = apicall_line_with(parser, line, pid);
        if (!out) {
            if (line.find("api_called") != std::string_view::npos) {
                ++stats.skipped;
            }
            return;
        }
        std::string& buf = pending[pid];
        buf += *out;
        buf += '\n';
        buffered += out->size() + 1;
        ++stats.calls;
        if (buffered > kBufferBudget) {
            flush_all();
        }
    };
    cb.on_oversize = [&](std::string_view, bool, bool last, bool) {
        if (last) {
            ++stats.skipped;
        }
    };
    internal::for_each_line(apimon_log, 32ull << 20, cb);
    flush_all();
    stats.processes = created.size();
    if (stats.skipped > 0) {
        util::logger("postprocess")
            ->warn("apimon: {} api_called lines skipped (no usable PID or bad JSON)",
                   stats.skipped);
    }
    return stats;
}

}  // namespace postprocess
