// engine/native/wine_debug_parser.hpp — turns Wine client debug-channel stderr lines
// (WINEDEBUG=+pid,+timestamp,+relay,+winsock,+virtual,+loaddll,+seh) into DRAKVUF records:
// apimon api_called (§2.2) from +relay Call/Ret pairs, socketmon (§2.7) from +winsock,
// librarymon (§2.11) from +loaddll, exmon (§2.13) from +seh, procmon-style virtual-memory
// records (§2.1) from +virtual, plus a callback asking for memory dumps. docs/tracing.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/native/hooks_list.hpp"
#include "engine/native/process_table.hpp"
#include "engine/native/record_sink.hpp"
#include "util/clock.hpp"

namespace engine::native {

// WineLine: the parsed prefix of one debug line. Pure parse, see parse_wine_line().
struct WineLine {
    std::optional<double> wine_time;  // "+timestamp" seconds (Wine's tick clock, not Unix time)
    std::int64_t pid = 0;             // Windows PID (hex in the line)
    std::int64_t tid = 0;             // Windows TID (hex in the line)
    std::string_view kind;      // "Call", "Ret", or the class: "trace", "warn", "fixme", "err"
    std::string_view channel;   // e.g. "winsock" (empty for Call/Ret)
    std::string_view function;  // e.g. "connect" (empty for Call/Ret)
    std::string_view message;   // rest of the line after "function " (or after "Call ")
};

// parse_wine_line splits a `[sss.mmm:]PPPP:TTTT:...` line; nullopt for lines without the
// +pid prefix (e.g. output of the Unix side before the process has a PID). Views point into
// `line`.
std::optional<WineLine> parse_wine_line(std::string_view line);

// ExecMemoryEvent: a private (non-image) memory region became executable.
struct ExecMemoryEvent {
    std::string method;  // "NtAllocateVirtualMemory" or "NtProtectVirtualMemory"
    std::int64_t pid = 0;
    std::int64_t tid = 0;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint32_t protect = 0;           // Windows PAGE_* value
    std::optional<ProcessInfo> process;  // from the ProcessTable (host_pid for the dumper)
};

struct WineDebugParserOptions {
    // Hooks list (data/hooks.txt): argument names/CLSID for apimon; when non-empty, relayed
    // calls to functions not in the list are not logged. Empty: every relayed call is logged.
    std::vector<HookEntry> hooks;
    util::Clock* clock = nullptr;  // TimeStamp source; nullptr = util::system_clock()
    // Supplies EventUID values shared with the other monitors; nullptr = a private counter.
    std::function<std::uint64_t()> next_event_uid;
    // Called (on the feeding thread) when private memory becomes executable: NtProtect with an
    // executable protection outside loaded images (dump now: the code is in place), or an
    // executable NtAllocateVirtualMemory (contents still zero: dump later, e.g. at exit).
    std::function<void(const ExecMemoryEvent&)> on_exec_memory;
};

// WineDebugParser consumes lines of one Wine client stderr stream (all processes of the
// analysis may share it). Not thread-safe: feed from one thread. Bounded memory: lines over
// 64 KiB are ignored, per-thread call stacks are capped at 256 frames, at most 4096 threads
// and 65536 sockets are tracked.
class WineDebugParser {
  public:
    // `processes` must outlive the parser; it supplies PPID/ProcessName/host pid per Windows PID.
    WineDebugParser(RecordSink sink, ProcessTable& processes, WineDebugParserOptions options);
    ~WineDebugParser();
    WineDebugParser(const WineDebugParser&) = delete;
    WineDebugParser& operator=(const WineDebugParser&) = delete;

    // feed_line handles one line (without the trailing newline; a trailing CR is ignored).
    // Never throws for malformed input: unknown lines are counted and ignored.
    void feed_line(std::string_view line);

    // finish flushes pending state (an exception whose register dump was the last output).
    void finish();

    // is_image reports whether [address, address+size) overlaps an image view of `pid` seen in
    // the +virtual dump_view output (loaded EXE/DLL sections, which Wine maps as anonymous).
    bool is_image(std::int64_t pid, std::uint64_t address, std::uint64_t size) const;

    std::uint64_t lines_parsed() const;   // lines with a +pid prefix
    std::uint64_t lines_ignored() const;  // lines without one, or too long

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// render_relay_argument converts one Wine relay argument (`14000a190 L"C:\\x"`, `00000040`)
// into apimon's Arguments element text: `<name>=0x14000a190:"C:\\x"` / `<name>=0x40` (§2.2).
// Pure.
std::string render_relay_argument(std::string_view name, std::string_view raw);

// split_relay_arguments splits the text between the parentheses of a relay Call line at
// top-level commas (commas inside quoted strings do not split). Pure.
std::vector<std::string_view> split_relay_arguments(std::string_view args);

}  // namespace engine::native
