// engine/native/wineserver_trace.hpp — turns the request trace of a private `wineserver -f -d1`
// into DRAKVUF records (spec drakvuf-output.md §2.1 procmon, §2.3 filetracer, §2.6 regmon) and
// keeps the ProcessTable (Windows pid/ppid, image, command line, unix pid) up to date.
// Pure line-by-line state machine: feed it lines in the order the server printed them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/native/process_table.hpp"
#include "engine/native/record_writer.hpp"

namespace engine::native {

// decode_wine_string decodes the body of a wineserver trace string literal L"..." (without
// the quotes): \\ \" \a \b \t \n \v \f \r \e \xNN \uNNNN (UTF-16 units, surrogate pairs
// combined) -> UTF-8. Malformed escapes are kept literally; lone surrogates become U+FFFD.
std::string decode_wine_string(const std::string& body);

// c_escape applies DRAKVUF procmon's CommandLine pre-escaping (§2.1): \ -> \\, " -> \",
// control chars -> \n \t \r or \ooo, bytes >= 0x7f -> 3-digit octal \ooo.
std::string c_escape(const std::string& s);

// ntstatus_name maps a few NTSTATUS codes to DRAKVUF's ExitStatusStr form (§2.1);
// unknown codes as "SEVERITY:C:FACILITY:0xCODE".
std::string ntstatus_name(std::uint32_t status);

// WineserverTraceOptions: what the trace cannot know by itself.
struct WineserverTraceOptions {
    // Image path of the first process of the session (the sample started by `wine`), which
    // the server never sees being created.
    std::string first_image;
    std::string first_command_line;
    // Only emit records for processes descending from the first process (Wine's own
    // services are still tracked in the ProcessTable).
    bool sample_tree_only = true;
    // Processes started from Unix (by `wine64`, not by a traced new_process: their
    // init_first_thread carries info_size=0) that precede the sample: the engine's warm-up
    // run, which starts Wine's infrastructure (wineboot, services.exe, winedevice, plugplay,
    // svchost, the explorer desktop) before the sample so none of it is the sample's child.
    // The first Unix-started process after these is the sample. Processes created after the
    // sample started are reported whoever creates them (e.g. a service the sample starts,
    // child of services.exe); what the warm-up's tree does itself is not.
    int skip_unix_started = 0;
    // Bitness of the first process (the sample: 32 for win32 under the 32-bit loader).
    int first_bitness = 64;
    // image_bitness(windows image path, creator is 32-bit) -> 32, 64, or 0 (unknown: 64 is
    // reported). The engine reads the image's PE header inside the sandbox (guest_image.hpp);
    // unset, every new process is reported as 64-bit.
    std::function<int(const std::string&, bool)> image_bitness;
};

// WineserverTrace consumes trace lines and writes records through `writer`.
class WineserverTrace {
  public:
    WineserverTrace(RecordWriter& writer, ProcessTable& processes, WineserverTraceOptions options);

    // feed_line parses one trace line (without the newline). Unknown, malformed or
    // over-long lines are ignored. Never throws on bad input.
    void feed_line(const std::string& line);

    // finish writes what is still held back (a process-creation record waiting for the
    // creator's new_thread reply). Call it once the trace has ended; the destructor does too.
    void finish();
    ~WineserverTrace();
    WineserverTrace(const WineserverTrace&) = delete;
    WineserverTrace& operator=(const WineserverTrace&) = delete;

    // first_pid is the Windows pid of the session's first process (the sample), once seen.
    std::optional<std::int64_t> first_pid() const { return first_pid_; }
    // first_tid is the first thread of that process (0 until seen).
    std::int64_t first_tid() const { return first_tid_; }
    // records counts records emitted.
    std::uint64_t records() const { return records_; }
    // sample_tree_exited: the sample has started and every reported process (the sample, its
    // descendants, anything created after it started) has been seen to exit. Thread-safe
    // (the engine polls it while a reader thread feeds lines).
    bool sample_tree_exited() const { return sample_started_.load() && live_count_.load() == 0; }

  private:
    struct Pending {
        std::string request;
        std::map<std::string, std::string> args;
    };
    struct ProcState {
        std::map<std::uint32_t, std::string> keys;    // registry handle -> full key path
        std::map<std::uint32_t, std::string> files;   // file handle -> NT path
        std::map<std::uint32_t, std::int64_t> procs;  // process handle -> pid
    };

    void on_request(std::uint32_t tid, const std::string& name, const std::string& args);
    void on_reply(std::uint32_t tid, const std::string& name, const std::string& status,
                  const std::string& results);
    bool traced(std::int64_t pid) const;
    nlohmann::ordered_json record(const std::string& plugin, std::int64_t pid, std::uint32_t tid,
                                  const std::string& method);
    void emit(nlohmann::ordered_json r, std::int64_t pid);
    std::string key_path(std::int64_t pid, std::uint32_t root, const std::string& name);
    std::int64_t pid_of(std::uint32_t tid) const;

    RecordWriter& writer_;
    ProcessTable& processes_;
    WineserverTraceOptions options_;
    std::map<std::uint32_t, std::int64_t> tid_pid_;
    std::map<std::uint32_t, Pending> pending_;
    std::map<std::int64_t, ProcState> state_;
    std::map<std::int64_t, bool> in_tree_;
    std::set<std::int64_t> created_;  // pids created by a traced new_process
    std::map<std::int64_t, int> bitness_;  // pid -> 32/64 when known (default 64)
    // NtCreateUserProcess records held until the creating thread's next request: Wine creates
    // the first thread with a separate new_thread(process=<handle>) right after new_process,
    // and its reply gives NewTid / NewThreadHandle. Keyed by the creating thread.
    struct HeldCreate {
        nlohmann::ordered_json record;
        std::uint32_t process_handle = 0;
    };
    std::map<std::uint32_t, HeldCreate> held_creates_;
    void release_held(std::uint32_t tid);
    std::set<std::int64_t> live_;     // reported processes not yet seen to exit
    std::atomic<bool> sample_started_{false};
    std::atomic<std::size_t> live_count_{0};
    int unix_started_ = 0;
    std::optional<std::int64_t> first_pid_;
    std::int64_t first_tid_ = 0;
    std::uint64_t records_ = 0;
};

// parse_trace_args splits "k1=v1, k2={...}, k3=L\"...\"" into a map (values raw; nested
// braces and quoted strings kept intact). Exposed for tests.
std::map<std::string, std::string> parse_trace_args(const std::string& args);

}  // namespace engine::native
