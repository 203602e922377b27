// postprocess/postprocess.cpp — step registry and run() (spec/drakvuf-output.md §8.0).
#include "postprocess/postprocess.hpp"

#include <chrono>

#include "postprocess/apicall.hpp"
#include "postprocess/dumps.hpp"
#include "postprocess/internal/output_file.hpp"
#include "postprocess/log_index.hpp"
#include "postprocess/metadata.hpp"
#include "postprocess/py_json.hpp"
#include "postprocess/report.hpp"
#include "postprocess/split.hpp"
#include "postprocess/tls_keys.hpp"
#include "util/error.hpp"
#include "util/logging.hpp"

namespace postprocess {
namespace {

namespace fs = std::filesystem;

void require_regular(const fs::path& path) {
    if (!fs::is_regular_file(fs::symlink_status(path))) {
        throw util::InputError(path.string() + " is not a regular file (symlinks refused)");
    }
}

void step_split(Context& ctx) {
    const fs::path log = ctx.dir / "drakmon.log";
    require_regular(log);
    ctx.split = split_log_file(log, ctx.dir, ctx.options);
    if (!ctx.options.keep_drakmon_log) {
        fs::remove(log);
    }
}

void step_apicall(Context& ctx) {
    require_regular(ctx.dir / "apimon.log");
    process_apimon_log(ctx.dir / "apimon.log", ctx.dir / "apicall");
}

void step_tls(Context& ctx) {
    require_regular(ctx.dir / "tlsmon.log");
    generate_wireshark_key_file(ctx.dir / "tlsmon.log", ctx.dir / "wireshark_key_file.txt");
}

void step_tree(Context& ctx) {
    require_regular(ctx.dir / "procmon.log");
    ProcessTree tree = build_process_tree(ctx.dir / "procmon.log");
    auto log = util::logger("postprocess");
    // The service log gets a sample; report.json keeps the full (bounded) list.
    constexpr size_t kLoggedTreeWarnings = 20;
    for (size_t i = 0; i < tree.warnings.size(); ++i) {
        if (i < kLoggedTreeWarnings) {
            log->warn("process tree: {}", tree.warnings[i]);
        }
        ctx.warnings.push_back("process tree: " + tree.warnings[i]);
    }
    if (tree.warnings.size() > kLoggedTreeWarnings) {
        log->warn("process tree: {} more warnings (listed in report.json)",
                  tree.warnings.size() - kLoggedTreeWarnings);
    }
    internal::write_output(ctx.dir / "process_tree.json", process_tree_to_json(tree));
    ctx.tree = std::move(tree);
}

void step_dumps(Context& ctx) {
    DumpsResult r = crop_dumps(ctx.dir / "dumps", ctx.dir / "dumps.zip", ctx.options.dump_cap_bytes,
                               ctx.options.delete_dumps);
    if (r.dropped_files > 0) {
        ctx.warnings.push_back("dumps: " + std::to_string(r.dropped_files) +
                               " files dropped over the size cap");
    }
    ctx.step_metadata["dumps_metadata"] = std::move(r.metadata);
}

void step_index(Context& ctx) {
    index_logs(ctx.dir, ctx.options.index_chunk_size, ctx.split ? &ctx.split->indexes : nullptr);
}

void step_metadata(Context& ctx) {
    if (ctx.step_metadata.empty()) {
        return;
    }
    merge_metadata(ctx.dir / "metadata.json", ctx.step_metadata);
}

void step_report(Context& ctx) {
    internal::write_output(ctx.dir / "report.json", py_dumps(build_report(ctx)));
}

}  // namespace

uint64_t SplitStats::total_errors() const {
    uint64_t n = 0;
    for (const auto& [plugin, count] : errors_per_plugin) {
        n += count;
    }
    return n;
}

const std::vector<Step>& steps() {
    // One line per step (style rule 14). Order: §8.0 (graphs and ipt are not ours), then
    // metadata merge and report.
    static const std::vector<Step> kSteps = {
        {"split_drakmon_log", {"drakmon.log"}, {}, step_split},
        {"process_apimon_log", {"apimon.log"}, {"apicall"}, step_apicall},
        {"generate_wireshark_key_file", {"tlsmon.log"}, {"wireshark_key_file.txt"}, step_tls},
        {"build_process_tree", {"procmon.log"}, {"process_tree.json"}, step_tree},
        {"crop_dumps", {"dumps"}, {"dumps.zip"}, step_dumps},
        {"index_logs", {}, {"index"}, step_index},
        {"merge_metadata", {}, {}, step_metadata},
        {"write_report", {}, {}, step_report},  // always rewritten: it summarises the dir
    };
    return kSteps;
}

const char* to_string(StepState state) {
    switch (state) {
        case StepState::Ok:
            return "ok";
        case StepState::SkippedMissingInput:
            return "skipped_missing_input";
        case StepState::SkippedAlreadyDone:
            return "skipped_already_done";
        case StepState::Failed:
            return "failed";
    }
    return "unknown";
}

bool Summary::all_ok() const {
    for (const auto& s : steps) {
        if (s.state == StepState::Failed) {
            return false;
        }
    }
    return true;
}

Summary run(const fs::path& dir, const Options& options, ProgressFn progress) {
    if (!fs::is_directory(fs::symlink_status(dir))) {
        throw util::InputError(dir.string() + " is not a directory");
    }
    auto log = util::logger("postprocess");
    Context ctx;
    ctx.dir = dir;
    ctx.options = options;
    Summary summary;
    const auto& all = steps();
    for (size_t i = 0; i < all.size(); ++i) {
        const Step& step = all[i];
        if (progress) {
            progress(i, all.size(), step.name);
        }
        StepStatus status;
        status.name = step.name;
        for (const auto& req : step.requires_paths) {
            if (!fs::exists(fs::symlink_status(dir / req))) {
                status.state = StepState::SkippedMissingInput;
                status.message = "missing " + req;
                break;
            }
        }
        if (status.state == StepState::Ok && !options.force && !step.produces.empty()) {
            bool all_there = true;
            for (const auto& out : step.produces) {
                all_there = all_there && fs::exists(fs::symlink_status(dir / out));
            }
            if (all_there) {
                status.state = StepState::SkippedAlreadyDone;
                status.message = "output already present";
            }
        }
        if (status.state != StepState::Ok) {
            log->warn("{}: skipped ({})", step.name, status.message);
            summary.steps.push_back(std::move(status));
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        try {
            step.run(ctx);
        } catch (const std::exception& e) {
            status.state = StepState::Failed;
            status.message = e.what();
            log->error("{}: failed: {}", step.name, e.what());
            ctx.warnings.push_back(step.name + " failed: " + e.what());
        }
        status.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        summary.steps.push_back(std::move(status));
    }
    return summary;
}

}  // namespace postprocess
