// engine/native/record_writer.cpp — DRAKVUF line writer (spec drakvuf-output.md §1, §3).
#include "engine/native/record_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "util/error.hpp"
#include "util/logging.hpp"

namespace engine::native {

namespace {

std::string dump_compact(const nlohmann::ordered_json& value) {
    return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::string format_timestamp(double unix_seconds) {
    if (!std::isfinite(unix_seconds) || unix_seconds < 0) {
        return "0.000000";
    }
    auto micros = static_cast<std::uint64_t>(std::llround(unix_seconds * 1e6));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%llu.%06llu", static_cast<unsigned long long>(micros / 1000000),
                  static_cast<unsigned long long>(micros % 1000000));
    return buf;
}

std::string format_hex(std::uint64_t value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

RecordWriter::RecordWriter(const std::filesystem::path& path, util::Clock& clock) : clock_(clock) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        util::throw_errno("open " + path.string());
    }
    fd_.reset(fd);
}

void RecordWriter::append_line(std::string line) {
    line.push_back('\n');
    std::lock_guard<std::mutex> lock(mu_);
    std::size_t off = 0;
    while (off < line.size()) {
        ssize_t n = ::write(fd_.get(), line.data() + off, line.size() - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            util::throw_errno("write drakmon.log");
        }
        off += static_cast<std::size_t>(n);
    }
    written_.fetch_add(1);
}

void RecordWriter::write(const nlohmann::ordered_json& record) {
    append_line(dump_compact(record));
}

void RecordWriter::write_inject(const nlohmann::ordered_json& record) {
    // Compat: DRAKVUF prints the inject line with printf and ", "/": " separators (§1.1).
    std::string line = "{";
    bool first = true;
    for (const auto& [key, value] : record.items()) {
        if (!first) {
            line += ", ";
        }
        first = false;
        line += dump_compact(nlohmann::ordered_json(key));
        line += ": ";
        line += dump_compact(value);
    }
    line += "}";
    append_line(std::move(line));
}

std::string RecordWriter::timestamp() { return format_timestamp(clock_.now()); }

std::string RecordWriter::next_event_uid() { return format_hex(event_uid_.fetch_add(1) + 1); }

nlohmann::ordered_json RecordWriter::make_record(const std::string& plugin,
                                                 const CommonFields& common) {
    nlohmann::ordered_json r;
    r["Plugin"] = plugin;
    r["TimeStamp"] = timestamp();
    r["PID"] = common.pid;
    r["PPID"] = common.ppid;
    r["TID"] = common.tid;
    r["UserId"] = common.user_id;
    r["ProcessName"] = common.process_name;
    if (common.method.empty()) {
        r["Method"] = nullptr;
    } else {
        r["Method"] = common.method;
    }
    r["EventUID"] = next_event_uid();
    return r;
}

RecordSink RecordWriter::sink() {
    return [this](nlohmann::ordered_json record) {
        try {
            write(record);
        } catch (const util::Error& e) {
            util::logger("engine")->error("dropping record: {}", e.what());
        }
    };
}

}  // namespace engine::native
