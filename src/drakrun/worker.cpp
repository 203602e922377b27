#include "drakrun/worker.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <system_error>

#include "karton/errors.hpp"
#include "s3/error.hpp"
#include "util/crypto.hpp"
#include "util/error.hpp"
#include "util/logging.hpp"
#include "util/scope_exit.hpp"

namespace drakrun {

namespace fs = std::filesystem;
namespace json = karton::json;

namespace {

// Directory name for an analysis uid ("{root}:uuid" -> safe characters only).
std::string dir_name_for(const std::string& uid) {
    std::string out;
    for (char c : uid) {
        out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
    }
    return out;
}

karton::RedisOptions status_redis_options(const karton::ServiceSettings& s,
                                          const std::string& identity) {
    karton::RedisOptions o = s.redis;
    o.client_name = identity;  // liveness is judged by connection names (spec §2.1)
    return o;
}

json::Value nlohmann_to_json(const nlohmann::ordered_json& v) { return json::parse(v.dump()); }

// started_metadata is what the status record shows while the analysis runs.
nlohmann::ordered_json started_metadata(const TaskRequest& req) {
    nlohmann::ordered_json m;
    m["analysis_uid"] = req.analysis_uid;
    m["sample_sha256"] = req.sample.sha256.value_or("");
    m["file_name"] = req.file_name;
    m["timeout"] = req.timeout_s;
    m["plugins"] = req.plugins;
    return m;
}

}  // namespace

karton::ConsumerInfo consumer_info(const WorkerSettings& settings, const engine::Engine& engine) {
    karton::ConsumerInfo info;
    info.identity = settings.identity;
    json::Value filters = settings.filters.is_null()
                              ? default_filters(engine.supports_platform("linux"))
                              : settings.filters;
    if (settings.sample_testing) {
        json::Value test = settings.test_filters;
        if (test.is_null()) {
            test = json::Array{json::Object{{"type", "sample-test"}, {"platform", "win32"}},
                               json::Object{{"type", "sample-test"}, {"platform", "win64"}}};
        }
        for (const auto& f : test.as_array()) {
            filters.as_array().push_back(f);
        }
    }
    info.filters = filters;
    info.info = "DRAKVUF Sandbox analysis worker (" + engine.name() + " engine)";
    info.service_version = "0.1.0";
    info.persistent = true;
    return info;
}

Worker::Worker(const karton::ServiceSettings& service, WorkerSettings settings,
               std::unique_ptr<engine::Engine> engine, int instance,
               karton::ConsumerOptions options)
    : karton::Consumer(service, consumer_info(settings, *engine), options),
      settings_(std::move(settings)),
      engine_(std::move(engine)),
      instance_(instance),
      work_root_(fs::path(settings_.work_dir) / ("instance-" + std::to_string(instance))),
      status_redis_(status_redis_options(service, info().identity)),
      status_(status_redis_) {
    if (storage().client().ensure_bucket(settings_.artifacts_bucket)) {
        util::logger("drakrun")->info("created artifacts bucket '{}'", settings_.artifacts_bucket);
    }
    fs::create_directories(work_root_);
}

AnalysisOutcome Worker::analyze_with_retries(const AnalysisSpec& base, const ProgressFn& progress,
                                             spdlog::logger& log) {
    for (int attempt = 1;; ++attempt) {
        AnalysisSpec spec = base;
        std::error_code ec;
        fs::remove_all(spec.output_dir, ec);  // every attempt starts from an empty directory
        try {
            return run_analysis(*engine_, spec, progress);
        } catch (const engine::EngineError& e) {
            if (!e.retryable() || attempt >= settings_.attempts) {
                log.error("analysis failed (attempt {}/{}, {}): {}", attempt, settings_.attempts,
                          e.retryable() ? "retryable" : "not retryable", e.what());
                throw;
            }
            log.warn("attempt {}/{} failed, retrying: {}", attempt, settings_.attempts, e.what());
        }
    }
}

std::map<std::string, karton::Resource> Worker::upload_artifacts(const std::string& uid,
                                                                 const fs::path& dir) {
    std::map<std::string, karton::Resource> out;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none);
         it != fs::recursive_directory_iterator(); ++it) {
        // Never follow symlinks: artifacts are written by us, anything else is suspicious.
        if (it->is_symlink() || !it->is_regular_file()) {
            continue;
        }
        std::string rel = fs::relative(it->path(), dir).generic_string();
        karton::Resource r;
        r.uid = uid + "/" + rel;
        r.name = it->path().filename().string();
        r.bucket = settings_.artifacts_bucket;
        r.size = static_cast<std::int64_t>(it->file_size());
        r.sha256 = util::sha256_file_hex(it->path());
        r.metadata.set("sha256", *r.sha256);
        storage().client().put_file(settings_.artifacts_bucket, r.uid, it->path());
        out.emplace(rel, std::move(r));
    }
    return out;
}

void Worker::upload_log(const std::string& uid, const fs::path& log_file) {
    std::error_code ec;
    if (!fs::exists(log_file, ec)) {
        return;
    }
    try {
        storage().client().put_file(settings_.artifacts_bucket, uid + "/drakrun.log", log_file);
    } catch (const util::Error& e) {
        util::logger("drakrun")->error("[{}] cannot upload drakrun.log: {}", uid, e.what());
    }
}

void Worker::process(karton::TaskContext& ctx) {
    const karton::Task& task = ctx.task();
    TaskRequest req;
    try {
        req = parse_task_request(task, settings_);
    } catch (const TaskRejected& e) {
        // Best effort: the analysis the web UI shows as pending gets the reason.
        if (const auto* o = task.payload.find("override_uid");
            o && o->is_string() && is_valid_analysis_uid(o->as_string())) {
            status_.set(o->as_string(), AnalysisState::Crashed, {{"error", e.what()}});
        }
        throw;
    }
    const std::string& uid = req.analysis_uid;

    // This analysis's own log (uploaded as <uid>/drakrun.log in every case).
    fs::path work = work_root_ / dir_name_for(uid);
    std::error_code ec;
    fs::remove_all(work, ec);  // leftovers of a previous crash of this instance
    fs::create_directories(work);
    util::ScopeExit cleanup([&] {
        std::error_code e2;
        fs::remove_all(work, e2);
    });
    fs::path log_file = work / "drakrun.log";
    auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string(), true);
    file_sink->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    spdlog::logger log("drakrun." + dir_name_for(uid), {file_sink, stderr_sink});
    log.set_level(spdlog::level::info);
    log.flush_on(spdlog::level::info);

    status_.set(uid, AnalysisState::Started, started_metadata(req));
    status_.set_vm_instance(uid, instance_);
    log.info("analysis {} of task {} started on instance {} ({} engine)", uid, task.uid, instance_,
             engine_->name());
    try {
        fs::path sample = work / "sample";
        // The task's own "size" is a claim; the download checks the stored object's size
        // (its HEAD) before fetching a byte.
        try {
            ctx.download_to_file(req.sample, sample, settings_.max_sample_size);
        } catch (const s3::S3Error& e) {
            if (e.code() == "ObjectTooLarge") {
                throw TaskRejected("sample is over [drakrun] max_sample_size (" +
                                   std::to_string(settings_.max_sample_size) +
                                   " bytes): stored " + e.message());
            }
            if (e.code() == "NoSuchKey" || e.code() == "NoSuchBucket") {
                throw TaskRejected("sample resource " + req.sample.uid +
                                   " does not exist in bucket " + req.sample.bucket.value_or("?"));
            }
            throw;
        }
        if (req.sample.sha256 && util::sha256_file_hex(sample) != *req.sample.sha256) {
            throw TaskRejected("sample content does not match its sha256 " + *req.sample.sha256);
        }
        AnalysisSpec spec;
        spec.sample_path = sample;
        spec.analysis_uid = uid;
        spec.file_name = req.file_name;
        spec.extension = req.extension;
        spec.platform = req.platform;
        spec.start_command = req.start_command;
        spec.plugins = req.plugins;
        spec.timeout_s = req.timeout_s;
        spec.output_dir = work / "output";
        spec.postprocess.dump_cap_bytes = settings_.dumps_max_size;
        if (req.custom_hooks) {
            spec.custom_hooks = work / "custom_hooks.txt";
            ctx.download_to_file(*req.custom_hooks, *spec.custom_hooks);
        }
        AnalysisOutcome outcome = analyze_with_retries(
            spec,
            [&](const std::string& stage, const std::string& msg) {
                log.info("{}: {}", stage, msg);
            },
            log);

        log.info("uploading artifacts to bucket {}", settings_.artifacts_bucket);
        auto artifacts = upload_artifacts(uid, spec.output_dir);

        // The analysis task: exactly the seed's payload structure, plus extras.
        bool test_run = task.headers.find("type") && task.headers.find("type")->is_string() &&
                        task.headers.find("type")->as_string() == "sample-test";
        karton::Task out = ctx.new_task(test_run ? settings_.test_headers : settings_.headers);
        out.payload.set("sample", req.sample_marker);
        out.payload.set("analysis_uid", uid);
        for (const auto& [rel, res] : artifacts) {
            bool top_level = rel.find('/') == std::string::npos;
            bool is_log = rel.size() > 4 && rel.ends_with(".log");
            if (top_level &&
                (is_log || rel == "dumps.zip" || rel == "dumps.pcap" ||
                 rel == "process_tree.json" || rel == "report.json" || rel == "metadata.json")) {
                if (rel == "dumps.pcap" && res.size == 0) {
                    continue;
                }
                out.payload.set(rel, res.to_marker());
            }
            if (rel == "wireshark_key_file.txt" && res.size.value_or(0) > 0) {
                out.payload.set(rel, res.to_marker());
            }
        }
        nlohmann::ordered_json metadata = outcome.metadata;
        json::Value dumps_metadata = json::Array{};
        if (metadata.contains("dumps_metadata")) {
            dumps_metadata = nlohmann_to_json(metadata["dumps_metadata"]);
            metadata.erase("dumps_metadata");
        }
        out.payload.set("dumps_metadata", dumps_metadata);
        out.payload.set("metadata", nlohmann_to_json(metadata));
        if (req.testcase) {
            out.payload.set("testcase", *req.testcase);
        }
        ctx.send(out);
        log.info("sent analysis task {} with {} artifacts", out.uid, artifacts.size());
        status_.set(uid, AnalysisState::Finished, outcome.metadata);
        upload_log(uid, log_file);
    } catch (const std::exception& e) {
        log.error("analysis {} failed: {}", uid, e.what());
        try {
            status_.set(uid, AnalysisState::Crashed, {{"error", e.what()}});
        } catch (const std::exception& e2) {
            log.error("cannot record crashed status: {}", e2.what());
        }
        upload_log(uid, log_file);
        throw;
    }
}

}  // namespace drakrun
