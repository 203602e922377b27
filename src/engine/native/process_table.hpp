// engine/native/process_table.hpp — what the native engine knows about the sample's processes,
// shared by the monitors: the wineserver trace (creates/updates entries), the Wine client
// debug-channel parser and the memory dumper (read entries to fill DRAKVUF common fields
// PID/PPID/ProcessName, spec drakvuf-output.md §1.3, and to find the host pid to dump).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace engine::native {

// ProcessInfo: one process as DRAKVUF would describe it. `pid`/`ppid` are the numbers the logs
// carry (Windows PIDs under Wine; pids inside the sandbox pid namespace for ELF samples).
struct ProcessInfo {
    std::int64_t pid = 0;
    std::int64_t ppid = 0;
    std::string process_name;  // full image path, Windows form under Wine ("C:\\...\\a.exe")
    std::string command_line;
    std::int64_t host_pid = 0;  // pid in the engine's (host) pid namespace; 0 = unknown
    std::int64_t sandbox_pid = 0;  // pid inside the sandbox pid namespace; 0 = unknown
    double started = 0;            // Unix time
    std::optional<double> exited;  // Unix time
};

// ProcessTable is a thread-safe map pid -> ProcessInfo (latest process for a reused pid).
class ProcessTable {
public:
    // upsert inserts or replaces the entry for info.pid.
    void upsert(const ProcessInfo& info) {
        std::lock_guard<std::mutex> lock(mu_);
        procs_[info.pid] = info;
    }
    // update applies `fn` to the entry for `pid` if present; returns whether it was.
    template <typename Fn>
    bool update(std::int64_t pid, Fn&& fn) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = procs_.find(pid);
        if (it == procs_.end()) {
            return false;
        }
        fn(it->second);
        return true;
    }
    // find returns a copy of the entry for `pid`, or nullopt.
    std::optional<ProcessInfo> find(std::int64_t pid) const {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = procs_.find(pid);
        if (it == procs_.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    // snapshot returns a copy of all entries ordered by pid.
    std::map<std::int64_t, ProcessInfo> snapshot() const {
        std::lock_guard<std::mutex> lock(mu_);
        return procs_;
    }

private:
    mutable std::mutex mu_;
    std::map<std::int64_t, ProcessInfo> procs_;
};

}  // namespace engine::native
