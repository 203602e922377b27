// engine/engine.hpp — the analysis engine interface: run one sample, leave DRAKVUF-format raw
// output in a directory. Two implementations: NativeEngine (Wine / ELF on this host, in
// namespaces) and XenEngine (DRAKVUF on Xen). Output layout: shared spec drakvuf-output.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace engine {

// EngineError: the analysis could not be run. `retryable` says whether another attempt may
// succeed (transient resource problem) or not (bad sample, missing wine32, injection failure).
class EngineError : public util::Error {
public:
    EngineError(const std::string& what, bool retryable) : util::Error(what), retryable_(retryable) {}
    bool retryable() const { return retryable_; }

private:
    bool retryable_;
};

// AnalysisRequest describes one run. Paths are host paths.
struct AnalysisRequest {
    std::filesystem::path sample_path;   // the sample's bytes on the host (read-only input)
    std::string file_name;               // validated safe name the sample gets inside the guest
    std::string platform;                // "win32", "win64" or "linux"
    std::string start_command;           // empty: default for the extension; "%f" = guest path
    std::vector<std::string> plugins;    // DRAKVUF plugin names to enable (procmon, apimon, ...)
    int timeout_s = 600;                 // run time of the sample before everything is killed
    bool net_enable = false;             // xen only: allow Internet; native never allows it
    std::optional<std::filesystem::path> custom_hooks;  // hooks.txt-style apimon list
    std::filesystem::path output_dir;    // must exist and be empty; raw output goes here
};

// AnalysisResult: facts the worker puts into metadata.
struct AnalysisResult {
    std::int64_t time_started = 0;      // Unix seconds
    std::int64_t time_finished = 0;     // Unix seconds
    std::int64_t snapshot_version = 0;  // Unix seconds of the VM snapshot / golden prefix
    std::string start_command;          // the command actually used to start the sample
    std::int64_t injected_pid = 0;      // PID of the started sample as logs report it
};

// ProgressFn receives human-readable progress lines ("stage", "message") during long work.
using ProgressFn = std::function<void(const std::string& stage, const std::string& message)>;

// SanityCheck: one prerequisite of an engine and how to fix it when missing.
struct SanityCheck {
    std::string name;
    bool ok = false;
    std::string detail;  // what was found, or what is missing and how to fix it
};

// Engine runs analyses. Implementations must be safe to use from one thread at a time;
// several engines (one per worker instance) may run on one host concurrently.
class Engine {
public:
    virtual ~Engine() = default;
    // name is "native" or "xen".
    virtual std::string name() const = 0;
    // supports_platform says whether samples for `platform` (win32/win64/linux) can run.
    virtual bool supports_platform(const std::string& platform) const = 0;
    // analyze runs the sample and fills request.output_dir with drakmon.log, dumps/,
    // dumps.pcap (and any engine-specific extras). Throws EngineError.
    virtual AnalysisResult analyze(const AnalysisRequest& request, const ProgressFn& progress) = 0;
    // sanity lists prerequisites and whether each is met (draksetup sanity).
    virtual std::vector<SanityCheck> sanity() const = 0;
};

}  // namespace engine
