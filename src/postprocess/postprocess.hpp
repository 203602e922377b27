// postprocess/postprocess.hpp — entry point of analysis postprocessing: options, the step
// registry and run(), which turns a DRAKVUF output directory into the artifact set of
// spec/drakvuf-output.md §8.10 (split logs, apicall/, process_tree.json, index/, dumps.zip,
// wireshark_key_file.txt, metadata.json) plus our report.json (docs/postprocess.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postprocess/log_index.hpp"
#include "postprocess/process_tree.hpp"

namespace postprocess {

// Tunables of every step. Defaults reproduce DS 0.19a1 except where docs/postprocess.md says.
struct Options {
    // Index chunk size in bytes (§8.3); upstream 1 MiB.
    uint64_t index_chunk_size = 1048576;
    // Total byte budget of files packed into dumps.zip (§6.2); upstream 300 MiB.
    uint64_t dump_cap_bytes = 314572800;
    // Keep drakmon.log after splitting (upstream deletes it).
    bool keep_drakmon_log = false;
    // Delete files in dumps/ after packing (upstream: yes).
    bool delete_dumps = true;
    // Lines longer than this are not parsed but streamed raw to parse_errors.log (bounded RAM).
    uint64_t max_line_bytes = 32ull << 20;
    // Maximum number of distinct <plugin>.log files; further plugin names go to unknown.log.
    size_t max_plugins = 256;
    // Re-run steps whose outputs already exist (upstream skips them).
    bool force = false;
};

// Per-plugin counters produced by the split step.
struct SplitStats {
    std::map<std::string, uint64_t> lines_per_plugin;   // lines written to <plugin>.log
    std::map<std::string, uint64_t> errors_per_plugin;  // lines sent to parse_errors.log
    uint64_t bytes_read = 0;
    // Index of every file written (key: file name, e.g. "apimon.log"), computed on the fly
    // with Options::index_chunk_size so index_logs need not re-read them.
    std::map<std::string, PrecomputedIndex> indexes;
    uint64_t total_errors() const;
};

// Mutable state shared by the steps of one run().
struct Context {
    std::filesystem::path dir;
    Options options;
    std::optional<SplitStats> split;  // set by split_drakmon_log
    std::optional<ProcessTree> tree;  // set by build_process_tree
    nlohmann::ordered_json step_metadata = nlohmann::ordered_json::object();  // merged into
                                                                              // metadata.json
    std::vector<std::string> warnings;  // collected for report.json
};

// A postprocessing step (style rule 14: one line in the registry table per step).
struct Step {
    std::string name;
    std::vector<std::string> requires_paths;  // relative to dir; any missing ⇒ skipped
    std::vector<std::string> produces;        // relative; all present ⇒ skipped unless force
    std::function<void(Context&)> run;        // throws on failure
};

// The registry in execution order (§8.0 order, our extra steps last).
const std::vector<Step>& steps();

enum class StepState { Ok, SkippedMissingInput, SkippedAlreadyDone, Failed };
const char* to_string(StepState state);

struct StepStatus {
    std::string name;
    StepState state = StepState::Ok;
    std::string message;  // missing path, exception text, or empty
    double seconds = 0.0;
};

struct Summary {
    std::vector<StepStatus> steps;
    bool all_ok() const;  // true when no step Failed (skips are fine)
};

// Called before each step with (step index, step count, step name).
using ProgressFn = std::function<void(size_t, size_t, const std::string&)>;

// Runs every registered step on `dir` in order. A step whose required input is missing is
// skipped with a warning; an exception in a step is logged, recorded as Failed and the next
// step runs. Throws util::InputError only if `dir` is not a directory.
Summary run(const std::filesystem::path& dir, const Options& options, ProgressFn progress = {});

}  // namespace postprocess
