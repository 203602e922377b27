#include "drakrun/analysis.hpp"

#include <cmath>
#include <system_error>

#include "drakrun/file_names.hpp"
#include "engine/sample_info.hpp"
#include "postprocess/metadata.hpp"
#include "util/clock.hpp"
#include "util/crypto.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"
#include "util/magic.hpp"

namespace drakrun {

namespace {

namespace fs = std::filesystem;

void prepare_output_dir(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec)) {
            throw AnalysisRejected("output directory " + dir.string() + " is not a directory");
        }
        if (!fs::is_empty(dir, ec)) {
            throw AnalysisRejected("output directory " + dir.string() +
                                   " is not empty (choose a new one; nothing is overwritten)");
        }
        return;
    }
    fs::create_directories(dir, ec);
    if (ec) {
        throw util::SystemError("create output directory " + dir.string(), ec.value());
    }
}

std::int64_t unix_seconds() {
    return static_cast<std::int64_t>(std::floor(util::system_clock().now()));
}

}  // namespace

nlohmann::ordered_json sample_metadata(const fs::path& sample) {
    nlohmann::ordered_json m;
    m["sample_sha256"] = util::sha256_file_hex(sample);
    m["magic_output"] = util::describe_file(sample);
    return m;
}

AnalysisOutcome run_analysis(engine::Engine& eng, const AnalysisSpec& spec,
                             const ProgressFn& progress) {
    auto log = util::logger("drakrun");
    auto say = [&](const std::string& stage, const std::string& msg) {
        log->info("[{}] {}: {}", spec.analysis_uid, stage, msg);
        if (progress) {
            progress(stage, msg);
        }
    };
    std::error_code ec;
    if (!fs::is_regular_file(spec.sample_path, ec)) {
        throw AnalysisRejected("sample " + spec.sample_path.string() + " is not a regular file");
    }
    if (fs::file_size(spec.sample_path, ec) == 0) {
        throw AnalysisRejected("sample " + spec.sample_path.string() + " is empty");
    }
    if (spec.timeout_s <= 0) {
        throw AnalysisRejected("timeout must be a positive number of seconds");
    }
    prepare_output_dir(spec.output_dir);

    AnalysisOutcome out;
    const std::int64_t time_started = unix_seconds();
    nlohmann::ordered_json sample = sample_metadata(spec.sample_path);
    const std::string magic = sample["magic_output"];
    auto info = engine::inspect_sample_file(spec.sample_path);
    std::string platform = spec.platform.empty() ? engine::platform_of(info) : spec.platform;
    if (platform.empty()) {
        // Not a PE nor an ELF: documents and scripts run on Windows through their handler.
        platform = "win64";
    }
    if (platform != "win32" && platform != "win64" && platform != "linux") {
        throw AnalysisRejected("unknown platform '" + platform +
                               "' (expected win32, win64 or linux)");
    }
    if (!eng.supports_platform(platform)) {
        throw AnalysisRejected("the " + eng.name() + " engine cannot run " + platform + " samples");
    }
    auto guest = choose_guest_file_name(spec.file_name, spec.extension, magic, platform);
    if (guest.replaced) {
        log->warn("[{}] unsafe sample file name replaced by {}", spec.analysis_uid, guest.name);
    }
    say("prepare", "sample " + sample["sample_sha256"].get<std::string>() + " (" + magic +
                       "), platform " + platform + ", guest name " + guest.name);

    engine::AnalysisRequest req;
    req.sample_path = spec.sample_path;
    req.file_name = guest.name;
    req.platform = platform;
    req.start_command = spec.start_command;
    req.plugins = spec.plugins;
    req.timeout_s = spec.timeout_s;
    req.custom_hooks = spec.custom_hooks;
    req.output_dir = spec.output_dir;
    say("engine", "running on the " + eng.name() + " engine, timeout " +
                      std::to_string(spec.timeout_s) + " s");
    out.engine_result = eng.analyze(req, [&](const std::string& stage, const std::string& msg) {
        say("engine/" + stage, msg);
    });

    // metadata.json first, so postprocessing merges dumps_metadata into it.
    nlohmann::ordered_json meta;
    meta["analysis_uid"] = spec.analysis_uid;
    meta["sample_sha256"] = sample["sample_sha256"];
    meta["magic_output"] = magic;
    meta["time_started"] =
        out.engine_result.time_started ? out.engine_result.time_started : time_started;
    meta["time_finished"] = unix_seconds();
    meta["snapshot_version"] = out.engine_result.snapshot_version;
    meta["start_command"] = out.engine_result.start_command;
    meta["plugins"] = spec.plugins;
    meta["engine"] = eng.name();
    meta["platform"] = platform;
    meta["file_name"] = guest.name;
    postprocess::merge_metadata(spec.output_dir / "metadata.json", meta);

    out.postprocess =
        postprocess::run(spec.output_dir, spec.postprocess,
                         [&](std::size_t i, std::size_t n, const std::string& step) {
                             say("postprocess", "step " + std::to_string(i + 1) + "/" +
                                                    std::to_string(n) + " " + step);
                         });
    for (const auto& s : out.postprocess.steps) {
        if (s.state == postprocess::StepState::Failed) {
            log->error("[{}] postprocess step {} failed: {}", spec.analysis_uid, s.name, s.message);
        }
    }
    postprocess::merge_metadata(spec.output_dir / "metadata.json",
                                {{"time_finished", unix_seconds()}});
    out.metadata =
        nlohmann::ordered_json::parse(util::read_file(spec.output_dir / "metadata.json"));
    say("done", "artifacts in " + spec.output_dir.string());
    return out;
}

}  // namespace drakrun
