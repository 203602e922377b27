#include "karton/consumer.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

#include "util/logging.hpp"
#include "util/scope_exit.hpp"

namespace karton {
namespace {

volatile std::sig_atomic_t g_signal_stop = 0;
volatile std::sig_atomic_t g_sigint_count = 0;

extern "C" void on_stop_signal(int sig) {
    if (sig == SIGINT) {
        if (g_sigint_count >= 1) {
            // Second SIGINT: abort now. The task being processed stays Started (GC recovers).
            ::_exit(128 + SIGINT);
        }
        g_sigint_count = g_sigint_count + 1;
    }
    g_signal_stop = 1;
}

// effective_info applies the [karton] overrides of the configuration to the service's own
// ConsumerInfo, in karton-core's order: identity override, persistence override, then debug
// mode (random identity suffix, non-persistent) on top (spec §1.6).
ConsumerInfo effective_info(const ServiceSettings& settings, ConsumerInfo info) {
    if (settings.identity) {
        info.identity = *settings.identity;
    }
    if (settings.persistent) {
        info.persistent = *settings.persistent;
    }
    if (settings.debug) {
        info.identity = debug_identity(info.identity, util::random_hex(4));
        info.persistent = false;
    }
    return info;
}

// TimeoutWatchdog waits on its own thread until `limit` passes or it is destroyed; on expiry it
// runs `expire` once. Destruction (process() returned) cancels it and joins the thread.
class TimeoutWatchdog {
  public:
    TimeoutWatchdog(std::chrono::seconds limit, std::function<void()> expire) {
        if (limit.count() <= 0) {
            return;
        }
        thread_ = std::thread([this, limit, expire = std::move(expire)] {
            std::unique_lock lock(mu_);
            if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
                lock.unlock();
                expire();
            }
        });
    }
    ~TimeoutWatchdog() {
        if (thread_.joinable()) {
            {
                std::lock_guard lock(mu_);
                done_ = true;
            }
            cv_.notify_all();
            thread_.join();
        }
    }
    TimeoutWatchdog(const TimeoutWatchdog&) = delete;
    TimeoutWatchdog& operator=(const TimeoutWatchdog&) = delete;

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

// SignalGuard installs the stop handlers for the duration of run() and restores the old ones.
class SignalGuard {
  public:
    explicit SignalGuard(bool enable) : enabled_(enable) {
        if (!enabled_) {
            return;
        }
        g_signal_stop = 0;
        g_sigint_count = 0;
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR and we re-check
        if (::sigaction(SIGTERM, &sa, &old_term_) != 0 ||
            ::sigaction(SIGINT, &sa, &old_int_) != 0) {
            util::throw_errno("sigaction(SIGTERM/SIGINT)");
        }
    }
    ~SignalGuard() {
        if (enabled_) {
            ::sigaction(SIGTERM, &old_term_, nullptr);
            ::sigaction(SIGINT, &old_int_, nullptr);
        }
    }
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;

  private:
    bool enabled_;
    struct sigaction old_term_ {};
    struct sigaction old_int_ {};
};

void validate_identity(const std::string& identity) {
    if (identity.empty()) {
        throw InvalidIdentityError("consumer identity must not be empty");
    }
    if (identity.find(' ') != std::string::npos || identity.find('?') != std::string::npos) {
        throw InvalidIdentityError("identity '" + identity +
                                   "' must not contain a space or '?' (spec §2.1)");
    }
}

// root_of extracts <root> from "{<root>}:<id>"; the uid itself for legacy uids.
std::string root_of(const std::string& uid) {
    if (!uid.empty() && uid.front() == '{') {
        auto close = uid.find("}:");
        if (close != std::string::npos) {
            return uid.substr(1, close - 1);
        }
    }
    return uid;
}

}  // namespace

// --- TaskContext ---------------------------------------------------------------------------

Resource TaskContext::resource(std::string_view key) const {
    const json::Value* v = task_.payload.find(key);
    if (v == nullptr) {
        v = task_.payload_persistent.find(key);
    }
    if (v == nullptr) {
        throw ResourceError("task " + task_.uid + " has no payload key '" + std::string(key) + "'");
    }
    if (!is_resource_marker(*v)) {
        throw ResourceError("payload key '" + std::string(key) + "' of task " + task_.uid +
                            " is not a resource (got " + json::type_name(v->type()) + ")");
    }
    return resource_from_marker(*v);
}

std::string TaskContext::download(const Resource& r) { return consumer_.storage_->download(r); }

std::uint64_t TaskContext::download_to_file(const Resource& r, const std::filesystem::path& path,
                                            std::optional<std::uint64_t> max_size) {
    return consumer_.storage_->download_to_file(r, path, max_size);
}

std::size_t TaskContext::extract_directory(const Resource& r, const std::filesystem::path& dest) {
    return consumer_.storage_->extract_directory(r, dest);
}

Task TaskContext::new_task(json::Object headers, NewTaskOptions opts) {
    return karton::new_task(std::move(headers), consumer_.ids_, consumer_.clock_, std::move(opts));
}

Task TaskContext::derive_task(json::Object headers) {
    return karton::derive_task(task_, std::move(headers), consumer_.ids_, consumer_.clock_);
}

Resource TaskContext::resource_from_bytes(std::string name, std::string content) {
    return karton::resource_from_bytes(std::move(name), std::move(content), consumer_.ids_);
}

Resource TaskContext::resource_from_file(std::string name, const std::filesystem::path& path) {
    return karton::resource_from_file(std::move(name), path, consumer_.ids_);
}

void TaskContext::send(Task& t) {
    if (timed_out()) {
        throw TaskTimeoutError("task_timeout of " +
                               std::to_string(consumer_.settings_.task_timeout.count()) +
                               " s expired; not sending task " + t.uid);
    }
    consumer_.producer_->send_task(t, &task_);
}

bool TaskContext::timed_out() const { return consumer_.task_timed_out_.load(); }

LogPublisher& TaskContext::log() { return *consumer_.log_; }

// --- Consumer ------------------------------------------------------------------------------

Consumer::Consumer(const ServiceSettings& settings, ConsumerInfo info, ConsumerOptions options,
                   util::Clock& clock, util::IdSource& ids)
    : settings_(settings),
      info_(effective_info(settings, std::move(info))),
      options_(options),
      clock_(clock),
      ids_(ids),
      filter_([&] {
          validate_identity(info_.identity);
          if (info_.filters.is_null()) {
              throw FilterError("TypeError", "filters must not be null (spec §6.3)");
          }
          return Filter::compile(info_.filters);
      }()) {
    RedisOptions ro = settings_.redis;
    ro.client_name = info_.identity;
    backend_ = std::make_unique<Backend>(std::move(ro));
    backend_->connection().set_cancel([this] { return stop_requested(); });
    s3_ = std::make_unique<s3::S3Client>(settings_.s3);
    storage_ = std::make_unique<Storage>(*s3_, settings_.bucket);
    log_ = std::make_unique<LogPublisher>(*backend_, info_.identity, clock_,
                                          settings_.enable_publish, settings_.log_level);
    producer_ = std::make_unique<Producer>(*backend_, *storage_, info_.identity, clock_);
}

Consumer::~Consumer() = default;

bool Consumer::stop_requested() const {
    return stop_.load() || (options_.install_signal_handlers && g_signal_stop != 0);
}

Bind Consumer::bind() const {
    Bind b;
    b.identity = info_.identity;
    b.filters = info_.filters;
    b.info = info_.info;
    b.persistent = info_.persistent;
    b.service_version = info_.service_version;
    return b;
}

void Consumer::register_bind() {
    const std::string mine = bind_json();
    auto old = backend_->register_bind(info_.identity, mine);
    if (!old) {
        log_->info("Service binds created.");
    } else if (*old != mine) {
        log_->info("Binds changed, old service instances should exit soon.");
    }
    if (info_.filters.is_array()) {
        for (const auto& rule : info_.filters.as_array()) {
            log_->info("Binding on: " + json::python_str(rule));
        }
    }
}

bool Consumer::binds_still_ours() {
    auto stored = backend_->get_bind(info_.identity);
    if (!stored) {
        return false;  // Compat: the reference fails on a missing bind and stops as well
    }
    try {
        return binds_equal(parse_bind(info_.identity, *stored), bind());
    } catch (const BindError& e) {
        log_->warning(std::string("Stored bind is unreadable: ") + e.what());
        return false;
    }
}

void Consumer::write(const std::function<void()>& op) {
    for (;;) {
        try {
            op();
            return;
        } catch (const RedisIoError& e) {
            util::logger("karton")->warn("[{}] Redis write failed ({}); reconnecting",
                                         info_.identity, e.what());
            if (stop_requested()) {
                throw;
            }
            backend_->connection().reconnect([this] { return stop_requested(); });
        }
    }
}

void Consumer::crash_unparseable(const std::string& uid, const std::string& text,
                                 const ExceptionInfo& exc) {
    log_->error("Failed to parse task - " + uid, exc);
    Task t;
    t.uid = uid;
    t.root_uid = root_of(uid);
    t.status = Status::Crashed;
    t.last_update = clock_.now();
    json::Array lines;
    for (const auto& l : exc.traceback) {
        lines.emplace_back(l);
    }
    // Keep the unreadable original so nothing is lost (operators can repair and retry).
    lines.emplace_back("Original task text: " + text + "\n");
    t.error = std::move(lines);
    const std::string doc = serialize_task(t);
    write([&] { backend_->increment_metric(Metric::Crashed, info_.identity); });
    write([&] { backend_->increment_metric(Metric::Consumed, info_.identity); });
    write([&] { backend_->set_task(uid, doc); });
}

void Consumer::handle_task(const std::string& uid) {
    std::optional<std::string> text;
    write([&] { text = backend_->get_task(uid); });
    if (!text) {
        log_->warning("Task " + uid + " not found in Redis, skipping");
        return;
    }
    Task task;
    try {
        task = parse_task(*text, clock_);
    } catch (const std::exception&) {
        crash_unparseable(uid, *text, current_exception_info());
        return;
    }
    current_ = &task;
    auto clear = util::ScopeExit([this] {
        current_ = nullptr;
        log_->clear_task();
    });
    const std::string short_id(task.short_id());
    log_->set_task(short_id, *text);

    bool match = false;
    try {
        match = filter_.matches(task.headers);
    } catch (const std::exception&) {
        log_->error("Task matching failed - invalid filters?", current_exception_info());
    }
    if (!match) {
        log_->info("Task rejected because binds are no longer valid. Setting status to FINISHED.");
        if (set_status(task, Status::Finished, clock_)) {
            const std::string doc = serialize_task(task);
            write([&] { backend_->set_task(task.uid, doc); });
        }
        return;
    }

    log_->info("Received new task - " + task.uid);
    if (set_status(task, Status::Started, clock_)) {
        const std::string doc = serialize_task(task);
        write([&] { backend_->set_task(task.uid, doc); });
        log_->set_task(short_id, doc);
    }

    std::optional<ExceptionInfo> failure;
    bool failed_with_timeout = false;
    task_timed_out_.store(false);
    try {
        TimeoutWatchdog watchdog(settings_.task_timeout, [this] {
            task_timed_out_.store(true);
            on_task_timeout();
        });
        TaskContext ctx(*this, task);
        process(ctx);
    } catch (const TaskTimeoutError&) {
        failure = current_exception_info();
        failed_with_timeout = true;
    } catch (...) {
        failure = current_exception_info();
    }
    if (task_timed_out_.load() && !failed_with_timeout) {
        // Whatever process() did after the deadline, the task counts as timed out (karton-core
        // interrupts it with TaskTimeoutError at that moment).
        try {
            throw TaskTimeoutError("task_timeout of " +
                                   std::to_string(settings_.task_timeout.count()) +
                                   " s expired while processing the task");
        } catch (...) {
            failure = current_exception_info();
        }
    }
    // The task as the log records show it (the user may have changed it while processing).
    log_->set_task(short_id, serialize_task(task));
    if (!failure) {
        log_->info("Task done - " + task.uid);
    } else {
        write([&] { backend_->increment_metric(Metric::Crashed, info_.identity); });
        log_->error("Failed to process task - " + task.uid, failure);
    }
    write([&] { backend_->increment_metric(Metric::Consumed, info_.identity); });
    if (failure) {
        json::Array lines;
        for (const auto& l : failure->traceback) {
            lines.emplace_back(l);
        }
        task.error = std::move(lines);
    }
    set_status(task, failure ? Status::Crashed : Status::Finished, clock_);
    const std::string doc = serialize_task(task);
    write([&] { backend_->set_task(task.uid, doc); });
}

StopReason Consumer::run() {
    SignalGuard signals(options_.install_signal_handlers);
    stop_.store(false);
    auto local = util::logger("karton");
    log_->info("Service " + info_.identity + " started");
    bool registered = false;
    while (!stop_requested()) {
        try {
            if (!registered) {
                register_bind();
                registered = true;
            }
            if (!binds_still_ours()) {
                log_->info("Binds changed, shutting down.");
                return StopReason::BindsChanged;
            }
            auto uid = backend_->consume(info_.identity, options_.poll_timeout_seconds);
            if (!uid) {
                continue;
            }
            handle_task(*uid);
        } catch (const RedisIoError& e) {
            local->warn("[{}] Redis connection problem: {}", info_.identity, e.what());
            if (stop_requested()) {
                break;
            }
            try {
                backend_->connection().reconnect([this] { return stop_requested(); });
            } catch (const RedisIoError&) {
                continue;  // cancelled (stop requested) or gave up: loop condition decides
            }
            registered = false;  // the server may have lost our bind (restart without data)
        } catch (const std::exception& e) {
            // Unexpected (e.g. an error reply): keep the worker alive, but do not spin.
            local->error("[{}] consumer loop error: {}", info_.identity, e.what());
            for (int i = 0; i < 20 && !stop_requested(); ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
    }
    return StopReason::Requested;
}

}  // namespace karton
