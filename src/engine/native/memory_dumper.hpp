// engine/native/memory_dumper.hpp — DRAKVUF-style memory dumps for the native engine: reads a
// live (stopped or frozen) process through /proc/<pid>/mem and writes `<base>_<hash16>` data
// files, `memdump.NNNNNN.metadata` sidecars and `memdump` records (spec drakvuf-output.md §2.9,
// §6.1). Used by drak-trace-elf and by the Wine path (WineDebugParser's dump callback).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/native/record_sink.hpp"
#include "util/clock.hpp"

namespace engine::native {

// MemoryRegion is one line of /proc/<pid>/maps.
struct MemoryRegion {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // exclusive
    bool read = false;
    bool write = false;
    bool exec = false;
    bool shared = false;
    std::uint64_t offset = 0;
    std::uint64_t inode = 0;
    std::string path;  // "" for anonymous memory; "[heap]", "[stack]", a file path...

    // is_private_anonymous: not backed by a file (anonymous, heap or stack) and not shared.
    bool is_private_anonymous() const;
};

// parse_maps parses /proc/<pid>/maps text; malformed lines are skipped. Pure.
std::vector<MemoryRegion> parse_maps(std::string_view text);

// read_maps reads /proc/<host_pid>/maps; an empty vector when the process is gone.
std::vector<MemoryRegion> read_maps(std::int64_t host_pid);

// classify_dump picks a DRAKVUF DumpReason (§2.9) for a dump: "Possible binary detected" when
// the data starts with an MZ or ELF header, else "Interesting RWX memory" if the region is
// writable, else "Possible shellcode detected". Pure.
std::string classify_dump(std::string_view data, bool writable);

// DumpRequest: what to dump and how to describe it in the record and the sidecar.
struct DumpRequest {
    std::int64_t host_pid = 0;  // process whose memory is read (engine pid namespace)
    std::uint64_t address = 0;  // first byte (need not be page aligned)
    std::uint64_t size = 0;     // requested length in bytes (capped by Options::max_dump_size)
    std::string reason;         // DumpReason; "" = classify_dump() on the data read
    std::string method;         // trap name, e.g. "NtProtectVirtualMemory" or "mprotect"
    // Common fields for the record (PID/PPID/TID as the logs carry them, §1.3).
    std::int64_t pid = 0;
    std::int64_t ppid = 0;
    std::int64_t tid = 0;
    std::int64_t user_id = 0;
    std::string process_name;
};

// DumpResult: where a dump went.
struct DumpResult {
    std::string file_name;       // `<base>_<hash16>` (bare name inside dumps_dir)
    std::uint64_t sequence = 0;  // DumpsCount / metadata sequence number
    std::uint64_t base = 0;      // page-aligned DumpAddr
    std::uint64_t size = 0;      // bytes written (after capping)
};

struct MemoryDumperOptions {
    std::uint64_t max_dump_size = 64ull << 20;   // a larger request is cut to this many bytes
    std::uint64_t max_total_bytes = 1ull << 30;  // budget per analysis; beyond it: no dumps
    std::uint64_t max_dumps = 10000;             // count budget per analysis
    // Supplies EventUID values shared with the other monitors; nullptr = a private counter.
    std::function<std::uint64_t()> next_event_uid;
};

// MemoryDumper writes dumps into one directory. Thread-safe.
class MemoryDumper {
  public:
    // Creates dumps_dir if needed (throws util::SystemError if that fails). `clock` must
    // outlive the dumper.
    MemoryDumper(std::filesystem::path dumps_dir, RecordSink sink, util::Clock& clock,
                 MemoryDumperOptions options = {});
    MemoryDumper(const MemoryDumper&) = delete;
    MemoryDumper& operator=(const MemoryDumper&) = delete;

    // dump reads [address, address+size) of host_pid (unreadable pages become zeros), writes the
    // data file, the sidecar and emits the memdump record. Returns nullopt (nothing written) when
    // size is 0, the range overlaps a mapped image (file-backed mapping or an excluded range),
    // the process is gone, or a budget is exhausted. Throws util::SystemError on write failure.
    std::optional<DumpResult> dump(const DumpRequest& request);

    // dump_private_executable dumps every private anonymous executable region of
    // request.host_pid (address/size of `request` are ignored), e.g. at process exit.
    std::vector<DumpResult> dump_private_executable(const DumpRequest& request);

    // exclude_image registers [start, end) of host_pid as a loaded image (Wine maps PE sections
    // into anonymous memory, so +loaddll/server mappings must be excluded explicitly).
    void exclude_image(std::int64_t host_pid, std::uint64_t start, std::uint64_t end);

    // dumps_count is the number of dumps written so far (last DumpsCount).
    std::uint64_t dumps_count() const;

    const std::filesystem::path& dumps_dir() const { return dir_; }

  private:
    bool overlaps_image(std::int64_t host_pid, std::uint64_t start, std::uint64_t end,
                        const std::vector<MemoryRegion>& maps) const;
    std::optional<DumpResult> dump_locked(const DumpRequest& request,
                                          const std::vector<MemoryRegion>& maps);

    std::filesystem::path dir_;
    RecordSink sink_;
    util::Clock& clock_;
    MemoryDumperOptions options_;
    mutable std::mutex mu_;
    std::uint64_t count_ = 0;
    std::uint64_t total_bytes_ = 0;
    std::uint64_t private_event_uid_ = 0;
    std::map<std::int64_t, std::vector<std::pair<std::uint64_t, std::uint64_t>>> images_;
};

}  // namespace engine::native
