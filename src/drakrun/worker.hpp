// drakrun/worker.hpp — the drakrun Karton service (issue 5; seed karton-integration.rst):
// consumes {type: sample, stage: recognized, platform: win32|win64[|linux]} tasks, runs the
// analysis (engine + postprocessing), uploads every artifact to the `drakrun` bucket under
// <analysis_uid>/<name> and sends one {type: analysis, kind: drakrun} task whose payload has
// exactly the seed's structure, keeping the analysis status records (§9.5) up to date.
#pragma once

#include <filesystem>
#include <map>
#include <memory>

#include <spdlog/logger.h>

#include "drakrun/analysis.hpp"
#include "drakrun/status.hpp"
#include "drakrun/task_options.hpp"
#include "engine/engine.hpp"
#include "karton/consumer.hpp"

namespace drakrun {

// consumer_info builds the bind (identity, filters, version) for `settings`. The default
// filters cover win32/win64, plus linux when the engine runs ELF samples; test filters are
// added in sample_testing mode.
karton::ConsumerInfo consumer_info(const WorkerSettings& settings, const engine::Engine& engine);

// Worker is one drakrun@N instance. Work directories are <work_dir>/instance-<N>/, so several
// instances on one host never share one.
class Worker : public karton::Consumer {
  public:
    // Throws as karton::Consumer, and s3::S3Error when the artifacts bucket cannot be
    // created.
    Worker(const karton::ServiceSettings& service, WorkerSettings settings,
           std::unique_ptr<engine::Engine> engine, int instance,
           karton::ConsumerOptions options = {});

    void process(karton::TaskContext& ctx) override;

  private:
    // analyze_with_retries runs up to settings_.attempts attempts, each in a fresh output dir.
    AnalysisOutcome analyze_with_retries(const AnalysisSpec& base, const ProgressFn& progress,
                                         spdlog::logger& log);
    // upload_artifacts puts every regular file under `dir` into the artifacts bucket and returns
    // relative path -> remote resource.
    std::map<std::string, karton::Resource> upload_artifacts(const std::string& uid,
                                                             const std::filesystem::path& dir);
    void upload_log(const std::string& uid, const std::filesystem::path& log_file);

    WorkerSettings settings_;
    std::unique_ptr<engine::Engine> engine_;
    int instance_;
    std::filesystem::path work_root_;
    karton::Connection status_redis_;
    StatusStore status_;
};

}  // namespace drakrun
