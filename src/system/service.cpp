// system/service.cpp — drak-system service loop (spec §7.2, §9, §9.3).
#include "system/service.hpp"

#include <chrono>
#include <thread>

#include "util/logging.hpp"

namespace drak_system {

namespace {

const char* py_bool(bool b) { return b ? "True" : "False"; }

}  // namespace

SystemService::SystemService(const karton::ServiceSettings& settings, SystemConfig config,
                             bool setup_bucket, util::Clock& clock, util::IdSource& ids)
    : settings_(settings), config_(std::move(config)), setup_bucket_(setup_bucket), clock_(clock) {
    if (!config_.enable_router && !config_.enable_gc) {
        throw util::Error("both the router and the garbage collector are disabled");
    }
    backend_ = std::make_unique<karton::Backend>(settings_.redis);
    s3_ = std::make_unique<s3::S3Client>(settings_.s3);
    log_ = std::make_unique<SystemLog>(*backend_, clock_, settings_.enable_publish,
                                       settings_.log_level);
    if (config_.enable_router) {
        RouterConfig rc;
        rc.instance = config_.instance;
        rc.batch = config_.router_batch;
        rc.poll_timeout = config_.poll_timeout;
        rc.task_tracking = config_.enable_task_tracking;
        rc.task_tracking_ttl = config_.task_tracking_ttl;
        router_ = std::make_unique<Router>(*backend_, *log_, clock_, ids, rc);
    }
    if (config_.enable_gc) {
        GcConfig gc;
        gc.timeouts = config_.timeouts;
        gc.bucket = settings_.bucket;
        gc.enable_null_version_deletion = config_.enable_null_version_deletion;
        gc.scan_count = config_.gc_scan_count;
        gc.stranded_grace = static_cast<double>(config_.task_stranded_grace);
        gc_ = std::make_unique<GarbageCollector>(*backend_, s3_.get(), *log_, clock_, gc);
    }
}

SystemService::~SystemService() = default;

void SystemService::ensure_bucket() {
    if (s3_->bucket_exists(settings_.bucket)) {
        return;
    }
    if (!setup_bucket_) {
        log_->log(karton::LogLevel::Error,
                  "Bucket " + settings_.bucket +
                      " is missing. If you're sure that name is correct and you don't want to "
                      "create it, please use --setup-bucket flag");
        throw BucketMissingError("bucket " + settings_.bucket + " is missing");
    }
    if (s3_->create_missing_bucket(settings_.bucket)) {
        log_->log(karton::LogLevel::Info,
                  "Bucket " + settings_.bucket + " was missing. Created a new one.");
    }
}

void SystemService::log_config() {
    const auto& t = config_.timeouts;
    const auto secs = [](double v) { return std::to_string(static_cast<long long>(v)); };
    log_->log(
        karton::LogLevel::Info,
        "Effective config:\n gc_interval:\t" + std::to_string(config_.gc_interval) +
            "\n task_dispatched_timeout:\t" + secs(t.task_dispatched_timeout) +
            "\n task_started_timeout:\t" + secs(t.task_started_timeout) +
            "\n task_crashed_timeout:\t" + secs(t.task_crashed_timeout) + "\n enable_gc:\t" +
            py_bool(config_.enable_gc) + "\n enable_router:\t" + py_bool(config_.enable_router) +
            "\n enable_null_version_deletion:\t" + py_bool(config_.enable_null_version_deletion) +
            "\n enable_task_tracking:\t" + py_bool(config_.enable_task_tracking) +
            "\n task_tracking_ttl:\t" + std::to_string(config_.task_tracking_ttl) +
            "\n crash_started_tasks_on_timeout:\t" + py_bool(t.crash_started_tasks_on_timeout));
}

void SystemService::run(const std::atomic<bool>& stop) {
    backend_->connection().set_cancel([&stop] { return stop.load(); });
    ensure_bucket();
    log_config();
    double last_gc = clock_.now();
    while (!stop.load()) {
        if (router_) {
            try {
                router_->step(true);
            } catch (const karton::RedisIoError& e) {
                if (stop.load()) {
                    break;
                }
                log_->log(karton::LogLevel::Error,
                          std::string("Redis connection lost, reconnecting: ") + e.what());
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            } catch (const karton::RedisReplyError& e) {
                log_->log(karton::LogLevel::Error, std::string("Routing failed: ") + e.what());
                std::this_thread::sleep_for(std::chrono::seconds(1));
                continue;
            }
        } else {
            // GC-only instance: check once per second (§9), waking early on stop.
            for (int i = 0; i < 10 && !stop.load(); ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
        if (gc_ && !stop.load() &&
            clock_.now() - last_gc > static_cast<double>(config_.gc_interval)) {
            gc_->run();
            last_gc = clock_.now();
        }
    }
}

}  // namespace drak_system
