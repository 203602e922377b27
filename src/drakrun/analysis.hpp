// drakrun/analysis.hpp — one complete analysis on a local directory: inspect the sample,
// run the engine, postprocess, write metadata.json. Shared by `drakrun analyze` (no Redis/S3)
// and the Karton worker (which then uploads the directory). Metadata keys: seed
// karton-integration.rst + issue 5 (analysis_uid, start_command, plugins, engine).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "postprocess/postprocess.hpp"

namespace drakrun {

// AnalysisSpec: what to analyse and how. Strings come from hostile task payloads; they are
// validated here.
struct AnalysisSpec {
    std::filesystem::path sample_path;
    std::string analysis_uid;   // required
    std::string file_name;      // requested name (unsafe -> random safe name)
    std::string extension;      // `extension` header, may be empty
    std::string platform;       // win32/win64/linux; empty -> detected from the sample
    std::string start_command;  // user template with %f, or empty for the default
    std::vector<std::string> plugins;
    int timeout_s = 600;
    std::optional<std::filesystem::path> custom_hooks;
    std::filesystem::path output_dir;  // created if missing; must be empty
    postprocess::Options postprocess;
};

// AnalysisOutcome: what the run produced.
struct AnalysisOutcome {
    nlohmann::ordered_json metadata;  // as written to metadata.json (incl. dumps_metadata)
    postprocess::Summary postprocess;
    engine::AnalysisResult engine_result;
};

// ProgressFn receives (stage, message) lines for the user.
using ProgressFn = std::function<void(const std::string& stage, const std::string& message)>;

// AnalysisRejected: the request itself is invalid (unknown platform, unsupported by the
// engine, bad sample); retrying cannot help.
class AnalysisRejected : public util::InputError {
  public:
    using util::InputError::InputError;
};

// run_analysis runs the whole pipeline into spec.output_dir. Throws AnalysisRejected,
// engine::EngineError (retryable or not) or util::Error.
AnalysisOutcome run_analysis(engine::Engine& engine, const AnalysisSpec& spec,
                             const ProgressFn& progress);

// sample_metadata returns {sample_sha256, magic_output} for a file.
nlohmann::ordered_json sample_metadata(const std::filesystem::path& sample);

}  // namespace drakrun
