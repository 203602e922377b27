// engine/native/native_engine.hpp — the "native" Engine (engine/engine.hpp contract, issue 3):
// runs a Windows PE under Wine or a Linux ELF under drak-trace-elf on this host, isolated in
// the sandbox (sandbox.hpp) with the simulated network (netsim.hpp), and leaves drakmon.log
// (inject record first, spec drakvuf-output.md §3), dumps/ and dumps.pcap in the output dir.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/native/cgroup.hpp"
#include "util/clock.hpp"

namespace engine::native {

// NativeEngineOptions: configuration of the native engine (drakrun config [native] section).
struct NativeEngineOptions {
    std::filesystem::path golden_prefix = "/var/lib/drakrun/wine-prefix";
    std::filesystem::path scratch_root = "/var/lib/drakrun/native-scratch";
    // Directory holding drak-trace-elf; empty: next to the running executable, then
    // ../bin relative to it.
    std::filesystem::path tools_dir;
    // apimon hooks list (data/hooks.txt format); empty: <prefix>/share/drakrun/hooks.txt next
    // to the executable, then /usr/share/drakrun/hooks.txt (none found: apimon off, warned).
    std::filesystem::path hooks_file;
    CgroupLimits limits;
    bool sweep_on_start = true;  // remove resources of dead engines when constructed
    // Start Wine's infrastructure (wineboot, services.exe, winedevice, plugplay, svchost, the
    // explorer desktop) with a warm-up program before the sample, so the process tree shows
    // it beside the sample (as DRAKVUF shows system processes), not as the sample's children.
    bool warm_up = true;
    // false: run the sample untraced in the same sandbox and network (no `wineserver -d1`,
    // WINEDEBUG=-all, no relay, no key log; ELF without drak-trace-elf). Only the inject and
    // netsim records are written: a baseline for measuring tracing overhead (bench/native).
    bool tracing = true;
    // Wine runs: stop the sandbox 0.3 s after every reported process has exited (seen in the
    // server trace) instead of waiting for wineserver's persistence and service shutdown
    // (~2-3 s). Needs tracing.
    bool early_exit = true;
    // Size limit of everything the sample can write that is kept outside the sandbox's own
    // tmpfs dirs: the Wine overlay's upper layer (the copy-on-write C: drive and registry),
    // the ELF sample's home. A tmpfs (quota_fs.hpp): past it the sample gets ENOSPC and the
    // log gets a `sandbox` `disk_quota_exhausted` record. 0 = unlimited is not offered. Its
    // pages count toward limits.memory_bytes, so keep it below that.
    std::uint64_t writable_quota_bytes = 512ull << 20;
    std::uint64_t writable_quota_inodes = 262144;
    // ELF runs: size limit of /analysis/out, where drak-trace-elf writes trace.jsonl and memory
    // dumps (a tmpfs too: the sample runs as the same user and could write there). Past it the
    // trace is cut short and the log gets a disk_quota_exhausted record for that location.
    std::uint64_t trace_quota_bytes = 256ull << 20;
    // Extra seconds after `timeout_s` allowed for set-up and teardown before a hard kill.
    int grace_s = 20;
};

// NativeEngine implements Engine for "native". One analysis at a time per object.
class NativeEngine final : public Engine {
  public:
    // `clock` (TimeStamps, time_started/finished) must outlive the engine.
    NativeEngine(NativeEngineOptions options, util::Clock& clock);
    std::string name() const override { return "native"; }
    bool supports_platform(const std::string& platform) const override;
    // analyze throws EngineError: retryable for resource failures (namespaces, cgroups, disk),
    // not retryable for bad requests, a missing wine32 for 32-bit PEs, or a sample that
    // cannot be started.
    AnalysisResult analyze(const AnalysisRequest& request, const ProgressFn& progress) override;
    std::vector<SanityCheck> sanity() const override;

    // prepare builds the golden Wine prefix if missing (draksetup); returns its version.
    std::int64_t prepare();

  private:
    AnalysisResult run_wine(const AnalysisRequest& request, const ProgressFn& progress);
    AnalysisResult run_elf(const AnalysisRequest& request, const ProgressFn& progress);
    std::filesystem::path find_tool(const std::string& name) const;
    // hooks_list_for: the request's custom hooks, else hooks_file, else the packaged list.
    std::optional<std::filesystem::path> hooks_list_for(const AnalysisRequest& request) const;

    NativeEngineOptions options_;
    util::Clock& clock_;
};

// validate_guest_file_name accepts a sample file name for the guest: 1-200 bytes, no path
// separators, no control characters, not "." or "..". Throws EngineError (not retryable).
void validate_guest_file_name(const std::string& name);

}  // namespace engine::native
