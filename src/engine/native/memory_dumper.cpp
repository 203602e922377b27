// engine/native/memory_dumper.cpp — see memory_dumper.hpp (spec drakvuf-output.md §2.9, §6.1).
#include "engine/native/memory_dumper.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/native/internal/records.hpp"
#include "util/crypto.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {

namespace {

constexpr std::uint64_t kPage = 4096;

bool parse_hex(std::string_view s, std::uint64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return ec == std::errc() && p == s.data() + s.size();
}

std::string_view next_field(std::string_view& line) {
    while (!line.empty() && line.front() == ' ') {
        line.remove_prefix(1);
    }
    auto sp = line.find(' ');
    std::string_view f = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp);
    return f;
}

// read_range reads [start, start+size) from an open /proc/<pid>/mem; pages that cannot be read
// stay zero (§6.1: unreadable pages are written as zeros).
std::string read_range(int fd, std::uint64_t start, std::uint64_t size) {
    std::string data(size, '\0');
    std::uint64_t done = 0;
    while (done < size) {
        std::uint64_t addr = start + done;
        std::uint64_t page_left = kPage - (addr % kPage);
        std::uint64_t want = std::min<std::uint64_t>(size - done, 1ull << 20);
        ssize_t got = ::pread(fd, data.data() + done, want, static_cast<off_t>(addr));
        if (got > 0) {
            done += static_cast<std::uint64_t>(got);
            continue;
        }
        // Skip the unreadable page (data already zero there).
        done += std::min(page_left, size - done);
    }
    return data;
}

// write_then_rename writes `data` to dir/dump.tmp.<pid> and renames it to dir/name, as DRAKVUF does
// (§6.1). No fsync: dumps are packed after the run, and fsync per dump tripled tracing time.
void write_then_rename(const std::filesystem::path& dir, const std::string& name,
                       std::string_view data) {
    // Per-process temp name: an ELF tracer and the engine may share one dumps dir.
    std::filesystem::path tmp = dir / ("dump.tmp." + std::to_string(::getpid()));
    util::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        util::throw_errno("open " + tmp.string());
    }
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            util::throw_errno("write " + tmp.string());
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd.release()) != 0) {
        util::throw_errno("close " + tmp.string());
    }
    if (::rename(tmp.c_str(), (dir / name).c_str()) != 0) {
        util::throw_errno("rename " + tmp.string() + " -> " + name);
    }
}

}  // namespace

std::string classify_dump(std::string_view data, bool writable) {
    if (data.substr(0, 2) == "MZ" || data.substr(0, 4) ==
                                         "\x7f"
                                         "ELF") {
        return "Possible binary detected";
    }
    return writable ? "Interesting RWX memory" : "Possible shellcode detected";
}

bool MemoryRegion::is_private_anonymous() const {
    if (shared) {
        return false;
    }
    return path.empty() || path == "[heap]" || path == "[stack]" || path.rfind("[anon:", 0) == 0 ||
           path.rfind("[stack:", 0) == 0;
}

std::vector<MemoryRegion> parse_maps(std::string_view text) {
    std::vector<MemoryRegion> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        std::string_view rest = line;
        std::string_view range = next_field(rest);
        std::string_view perms = next_field(rest);
        std::string_view offset = next_field(rest);
        next_field(rest);  // device
        std::string_view inode = next_field(rest);
        auto dash = range.find('-');
        MemoryRegion r;
        if (dash == std::string_view::npos || perms.size() < 4 ||
            !parse_hex(range.substr(0, dash), r.start) ||
            !parse_hex(range.substr(dash + 1), r.end) || r.end < r.start ||
            !parse_hex(offset, r.offset)) {
            continue;
        }
        auto [p, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), r.inode);
        if (ec != std::errc()) {
            continue;
        }
        r.read = perms[0] == 'r';
        r.write = perms[1] == 'w';
        r.exec = perms[2] == 'x';
        r.shared = perms[3] == 's';
        while (!rest.empty() && rest.front() == ' ') {
            rest.remove_prefix(1);
        }
        r.path = std::string(rest);
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<MemoryRegion> read_maps(std::int64_t host_pid) {
    std::ifstream in("/proc/" + std::to_string(host_pid) + "/maps");
    if (!in) {
        return {};
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_maps(ss.str());
}

MemoryDumper::MemoryDumper(std::filesystem::path dumps_dir, RecordSink sink, util::Clock& clock,
                           MemoryDumperOptions options)
    : dir_(std::move(dumps_dir)),
      sink_(std::move(sink)),
      clock_(clock),
      options_(std::move(options)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        throw util::SystemError("create dumps dir " + dir_.string(), ec.value());
    }
}

void MemoryDumper::exclude_image(std::int64_t host_pid, std::uint64_t start, std::uint64_t end) {
    std::lock_guard<std::mutex> lock(mu_);
    images_[host_pid].emplace_back(start, end);
}

std::uint64_t MemoryDumper::dumps_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
}

bool MemoryDumper::overlaps_image(std::int64_t host_pid, std::uint64_t start, std::uint64_t end,
                                  const std::vector<MemoryRegion>& maps) const {
    for (const auto& r : maps) {
        if (r.start < end && start < r.end && !r.is_private_anonymous()) {
            return true;
        }
    }
    auto it = images_.find(host_pid);
    if (it != images_.end()) {
        for (const auto& [s, e] : it->second) {
            if (s < end && start < e) {
                return true;
            }
        }
    }
    return false;
}

std::optional<DumpResult> MemoryDumper::dump(const DumpRequest& request) {
    auto maps = read_maps(request.host_pid);
    std::lock_guard<std::mutex> lock(mu_);
    return dump_locked(request, maps);
}

std::vector<DumpResult> MemoryDumper::dump_private_executable(const DumpRequest& request) {
    auto maps = read_maps(request.host_pid);
    std::vector<DumpResult> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : maps) {
        if (!r.exec || !r.is_private_anonymous() || r.path == "[stack]") {
            continue;
        }
        DumpRequest one = request;
        one.address = r.start;
        one.size = r.end - r.start;
        if (auto res = dump_locked(one, maps)) {
            out.push_back(*res);
        }
    }
    return out;
}

std::optional<DumpResult> MemoryDumper::dump_locked(const DumpRequest& request,
                                                    const std::vector<MemoryRegion>& maps) {
    std::uint64_t size = std::min(request.size, options_.max_dump_size);
    if (size == 0 || maps.empty() || request.address + size < request.address) {
        return std::nullopt;
    }
    if (count_ >= options_.max_dumps || total_bytes_ + size > options_.max_total_bytes) {
        return std::nullopt;
    }
    if (overlaps_image(request.host_pid, request.address, request.address + size, maps)) {
        return std::nullopt;
    }
    util::UniqueFd fd(::open(("/proc/" + std::to_string(request.host_pid) + "/mem").c_str(),
                             O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return std::nullopt;  // process gone (or not ours): an expected outcome
    }
    std::string data = read_range(fd.get(), request.address, size);
    std::string reason = request.reason;
    if (reason.empty()) {
        bool writable = false;
        for (const auto& r : maps) {
            writable |= r.write && r.start < request.address + size && request.address < r.end;
        }
        reason = classify_dump(data, writable);
    }
    std::uint64_t base = request.address & ~(kPage - 1);
    char base_hex[24];
    std::snprintf(base_hex, sizeof base_hex, "%llx", static_cast<unsigned long long>(base));
    std::string name = std::string(base_hex) + "_" + util::sha256_hex(data).substr(0, 16);
    // Temp file then rename, as DRAKVUF does: identical content at one base de-duplicates.
    write_then_rename(dir_, name, data);
    ++count_;
    total_bytes_ += size;
    char seq[32];
    std::snprintf(seq, sizeof seq, "memdump.%06llu.metadata",
                  static_cast<unsigned long long>(count_));
    nlohmann::ordered_json meta;
    meta["Method"] = request.method;
    meta["DumpReason"] = reason;
    meta["DumpAddress"] = internal::hex(base);
    meta["DumpSize"] = internal::hex(size);
    meta["PID"] = request.pid;
    meta["PPID"] = request.ppid;
    meta["ProcessName"] = request.process_name;
    meta["DataFileName"] = name;
    meta["SequenceNumber"] = count_;
    write_then_rename(dir_, seq, internal::json_c_spaced(meta));

    internal::CommonFields common;
    common.time = clock_.now();
    common.pid = request.pid;
    common.ppid = request.ppid;
    common.tid = request.tid;
    common.user_id = request.user_id;
    common.process_name = request.process_name;
    common.method = request.method;
    common.event_uid = options_.next_event_uid ? options_.next_event_uid() : ++private_event_uid_;
    auto rec = internal::make_record("memdump", common);
    rec["DumpReason"] = reason;
    rec["DumpPID"] = request.pid;
    rec["DumpAddr"] = internal::hex(base);
    rec["DumpSize"] = internal::hex(size);
    rec["DumpFilename"] = name;
    rec["DumpsCount"] = count_;
    if (sink_) {
        sink_(std::move(rec));
    }
    return DumpResult{name, count_, base, size};
}

}  // namespace engine::native
