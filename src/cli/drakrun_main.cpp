// drakrun — the analysis worker and local analysis tool.
//   drakrun analyze FILE [--output-dir D] [--timeout S] [--plugins a,b] [--engine native|xen]
//   drakrun postprocess DIR
//   drakrun worker [--config-file F] [--instance N]
#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "cli/exit_codes.hpp"
#include "drakrun/analysis.hpp"
#include "drakrun/settings.hpp"
#include "drakrun/worker.hpp"
#include "engine/engine_factory.hpp"
#include "karton/errors.hpp"
#include "karton/service_settings.hpp"
#include "s3/error.hpp"
#include "util/ids.hpp"
#include "util/logging.hpp"

namespace fs = std::filesystem;

namespace {

// Progress on stderr: one line per stage, so long analyses show where they are.
void print_progress(const std::string& stage, const std::string& message) {
    std::fprintf(stderr, "\033[1m[%s]\033[0m %s\n", stage.c_str(), message.c_str());
}

std::vector<std::string> split_csv(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            if (!cur.empty()) {
                out.push_back(cur);
            }
            cur.clear();
        } else if (c != ' ') {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) {
        out.push_back(cur);
    }
    return out;
}

// Optional config for `analyze`: used when present, never required (no Redis/S3 needed).
std::optional<karton::Config> optional_config(const std::optional<fs::path>& explicit_path) {
    auto path = karton::resolve_config_path(explicit_path, karton::current_environment());
    std::error_code ec;
    if (!explicit_path && !fs::exists(path, ec)) {
        return std::nullopt;
    }
    return karton::load_service_config(path, false);
}

int run_analyze(const fs::path& sample, fs::path output_dir, int timeout, const std::string& plugins,
                const std::string& engine_name, const std::string& start_command,
                const std::string& file_name, const std::optional<fs::path>& config_file) {
    drakrun::WorkerSettings ws;
    engine::EngineOptions eopts;
    if (auto cfg = optional_config(config_file)) {
        ws = drakrun::worker_settings(*cfg);
        eopts = drakrun::engine_options(*cfg, engine_name.empty() ? ws.engine : engine_name);
    }
    std::string name = engine_name.empty() ? ws.engine : engine_name;
    auto eng = engine::make_engine(name, eopts);

    drakrun::AnalysisSpec spec;
    spec.sample_path = sample;
    spec.analysis_uid = util::random_ids().uuid4();
    spec.file_name = file_name.empty() ? sample.filename().string() : file_name;
    spec.start_command = start_command;
    spec.plugins = plugins.empty() ? ws.plugins : split_csv(plugins);
    spec.timeout_s = timeout > 0 ? timeout : 60;
    if (output_dir.empty()) {
        output_dir = fs::path("analyses") / spec.analysis_uid;
    }
    spec.output_dir = output_dir;
    spec.postprocess.dump_cap_bytes = ws.dumps_max_size;
    auto outcome = drakrun::run_analysis(*eng, spec, print_progress);
    // stdout is for data: the metadata of the finished analysis.
    std::cout << outcome.metadata.dump(2) << std::endl;
    return outcome.postprocess.all_ok() ? cli::kExitOk : cli::kExitFailure;
}

int run_postprocess(const fs::path& dir) {
    auto summary = postprocess::run(dir, postprocess::Options{},
                                    [](std::size_t i, std::size_t n, const std::string& step) {
                                        print_progress("postprocess", "step " + std::to_string(i + 1) +
                                                                         "/" + std::to_string(n) +
                                                                         " " + step);
                                    });
    for (const auto& s : summary.steps) {
        std::fprintf(stderr, "  %-28s %-22s %s\n", s.name.c_str(), postprocess::to_string(s.state),
                     s.message.c_str());
    }
    return summary.all_ok() ? cli::kExitOk : cli::kExitFailure;
}

int run_worker(const std::optional<fs::path>& config_file, int instance) {
    auto env = karton::current_environment();
    auto cfg = karton::load_service_config(karton::resolve_config_path(config_file, env), true, env);
    auto service = karton::service_settings(cfg, env);
    auto ws = drakrun::worker_settings(cfg);
    auto eng = engine::make_engine(ws.engine, drakrun::engine_options(cfg, ws.engine));
    drakrun::Worker worker(service, ws, std::move(eng), instance);
    auto reason = worker.run();
    return reason == karton::StopReason::BindsChanged ? cli::kExitFailure : cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CLI::App app{"drakrun — DRAKVUF Sandbox analysis worker"};
    app.require_subcommand(1);
    std::string log_level = "info";
    app.add_option("--log-level", log_level, "debug, info, warning, error");
    std::optional<fs::path> config_file;
    app.add_option("--config-file", config_file,
                   "configuration (default: $DRAKRUN_CONFIG or /etc/drakrun/config.ini)");

    auto* analyze = app.add_subcommand("analyze", "analyse one file locally (no Redis/S3 needed)");
    fs::path sample, output_dir;
    int timeout = 60;
    std::string plugins, engine_name, start_command, file_name;
    analyze->add_option("file", sample, "sample to analyse")->required()->check(CLI::ExistingFile);
    analyze->add_option("--output-dir,-o", output_dir, "output directory (new or empty)");
    analyze->add_option("--timeout,-t", timeout, "seconds the sample may run")->check(CLI::Range(1, 3600));
    analyze->add_option("--plugins", plugins, "comma-separated DRAKVUF plugins");
    analyze->add_option("--engine", engine_name, "native or xen")->check(CLI::IsMember({"native", "xen"}));
    analyze->add_option("--start-command", start_command, "start command; %f = sample path in the guest");
    analyze->add_option("--file-name", file_name, "file name of the sample in the guest");

    auto* post = app.add_subcommand("postprocess", "re-run postprocessing on an output directory");
    fs::path post_dir;
    post->add_option("dir", post_dir)->required()->check(CLI::ExistingDirectory);

    auto* worker = app.add_subcommand("worker", "run the Karton worker (drakrun@N)");
    int instance = 1;
    worker->add_option("--instance", instance, "instance number N")->check(CLI::Range(1, 999));

    CLI11_PARSE(app, argc, argv);
    try {
        util::set_log_level(log_level);
        if (*analyze) {
            return run_analyze(sample, output_dir, timeout, plugins, engine_name, start_command,
                               file_name, config_file);
        }
        if (*post) {
            return run_postprocess(post_dir);
        }
        return run_worker(config_file, instance);
    } catch (const karton::ConfigError& e) {
        std::fprintf(stderr, "drakrun: configuration error: %s\n", e.what());
        return cli::kExitConfig;
    } catch (const drakrun::AnalysisRejected& e) {
        std::fprintf(stderr, "drakrun: %s\n", e.what());
        return cli::kExitInput;
    } catch (const engine::EngineError& e) {
        std::fprintf(stderr, "drakrun: engine error (%s): %s\n",
                     e.retryable() ? "retryable" : "not retryable", e.what());
        return cli::kExitEngine;
    } catch (const util::InputError& e) {
        std::fprintf(stderr, "drakrun: %s\n", e.what());
        return cli::kExitInput;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "drakrun: %s\n", e.what());
        return cli::kExitFailure;
    }
}
