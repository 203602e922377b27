// karton/consumer.hpp — a Karton service runner (spec §10 consumer protocol, §6.3 bind
// registration and supervision, §5 status writes, §11 log publishing): register the bind, poll
// the queues, re-check filters, Started / Finished / Crashed with a Python-style error list,
// metrics, clean SIGTERM/SIGINT shutdown, Redis reconnection with backoff.
//
// A complete service (settings come from karton.ini, e.g. via karton/service_settings.hpp):
//
//   class Hasher : public karton::Consumer {
//   public:
//       using Consumer::Consumer;
//       void process(karton::TaskContext& ctx) override {
//           std::string bytes = ctx.download(ctx.resource("sample"));
//           karton::Task out = ctx.new_task({{"type", "hash"}});
//           out.payload.set("sha256", util::sha256_hex(bytes));
//           ctx.send(out);  // child of the task being processed (§4.4 merge)
//       }
//   };
//   int main() {
//       karton::ConsumerInfo info{.identity = "karton.hasher",
//                                 .filters = karton::json::parse(R"([{"type": "sample"}])")};
//       Hasher service(settings, info);
//       service.run();  // returns on SIGTERM/SIGINT or when another replica changed the binds
//   }
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "karton/backend.hpp"
#include "karton/bind.hpp"
#include "karton/filter.hpp"
#include "karton/log_publisher.hpp"
#include "karton/producer.hpp"
#include "karton/storage.hpp"
#include "karton/task.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"

namespace karton {

// ConsumerInfo is what a service declares about itself (spec §6.1 bind fields).
struct ConsumerInfo {
    std::string identity;
    json::Value filters = json::Array{};  // list of filter objects (§8)
    std::optional<std::string> info;      // free description ("info")
    std::optional<std::string> service_version;
    bool persistent = true;
};

// ConsumerOptions tune the loop (defaults are the reference's).
struct ConsumerOptions {
    int poll_timeout_seconds = 5;  // BLPOP timeout (§10 step 2)
    // install SIGTERM/SIGINT handlers during run(): first signal = stop after the current
    // task; a second SIGINT exits the process immediately (_exit(130)) leaving the task
    // Started for GC/operators (§10 "Signals").
    bool install_signal_handlers = true;
};

// StopReason says why run() returned.
enum class StopReason { Requested, BindsChanged };

class Consumer;

// TaskContext is what process() gets: the task, resource access, sending children, logging.
class TaskContext {
  public:
    Task& task() { return task_; }
    const Task& task() const { return task_; }

    // resource returns the resource stored under payload[key] (then payload_persistent[key]).
    // Throws ResourceError when the key is missing or is not a resource marker.
    Resource resource(std::string_view key) const;
    // download returns the resource content (GetObject). Throws s3::S3Error / ResourceError.
    std::string download(const Resource& r);
    // download_to_file writes the content to `path`; returns bytes written. `max_size`: see
    // Storage::download_to_file.
    std::uint64_t download_to_file(const Resource& r, const std::filesystem::path& path,
                                   std::optional<std::uint64_t> max_size = std::nullopt);
    // extract_directory unpacks a directory resource into the existing directory `dest`.
    std::size_t extract_directory(const Resource& r, const std::filesystem::path& dest);

    // new_task / derive_task create outgoing tasks with the service's ids and clock (§4.4).
    Task new_task(json::Object headers, NewTaskOptions opts = {});
    Task derive_task(json::Object headers);
    // resource_from_bytes / resource_from_file create local resources (uploaded by send()).
    Resource resource_from_bytes(std::string name, std::string content);
    Resource resource_from_file(std::string name, const std::filesystem::path& path);
    // send sends `t` as a child of the task being processed (§7.1 with parent merge).
    // Throws TaskTimeoutError once [karton] task_timeout has expired: like karton-core, where
    // the timeout interrupts process(), nothing is sent after the deadline.
    void send(Task& t);

    // timed_out: [karton] task_timeout expired for this task. Long-running process()
    // implementations should poll it (or override Consumer::on_task_timeout) and give up.
    bool timed_out() const;

    LogPublisher& log();

  private:
    friend class Consumer;
    TaskContext(Consumer& c, Task& t) : consumer_(c), task_(t) {}
    Consumer& consumer_;
    Task& task_;
};

// Consumer is the base of a Karton service; implement process(). One thread.
class Consumer {
  public:
    // Connects to Redis as info.identity and creates the S3 client. Throws
    // InvalidIdentityError (empty identity, space or '?'), FilterError (filters null / not
    // convertible, §6.3), RedisError / s3::S3Error on connection set-up.
    Consumer(const ServiceSettings& settings, ConsumerInfo info, ConsumerOptions options = {},
             util::Clock& clock = util::system_clock(), util::IdSource& ids = util::random_ids());
    virtual ~Consumer();
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    // process handles one task. Throwing (anything) marks the task Crashed with the exception
    // as error lines; returning marks it Finished.
    virtual void process(TaskContext& ctx) = 0;

    // on_task_timeout is called from a watchdog thread when [karton] task_timeout expires
    // while process() runs. C++ cannot interrupt process() the way karton-core's SIGALRM does,
    // so the task is crashed with TaskTimeoutError when process() returns, and sends after the
    // deadline are refused; override this to cut the work short. Must be thread-safe.
    virtual void on_task_timeout() {}

    // run: log start, register the bind, then loop (§10) until request_stop()/a signal, or the
    // stored bind differs from ours (another replica deployed different binds). Redis I/O
    // errors are logged, the connection is re-established with backoff, the bind registered
    // again, and the loop continues. Never throws for per-task problems.
    StopReason run();

    // request_stop asks run() to return after the current iteration (thread/signal-safe).
    void request_stop() { stop_.store(true); }
    bool stop_requested() const;

    // bind returns our bind record (§6.1); bind_json its exact text in karton.binds.
    Bind bind() const;
    std::string bind_json() const { return serialize_bind(bind()); }

    const ConsumerInfo& info() const { return info_; }
    LogPublisher& log() { return *log_; }
    Backend& backend() { return *backend_; }
    Storage& storage() { return *storage_; }
    util::Clock& clock() { return clock_; }
    util::IdSource& ids() { return ids_; }

  private:
    friend class TaskContext;
    void register_bind();
    bool binds_still_ours();
    void handle_task(const std::string& uid);
    void crash_unparseable(const std::string& uid, const std::string& text,
                           const ExceptionInfo& exc);
    // write retries a Redis write across reconnects until it succeeds or a stop is requested.
    void write(const std::function<void()>& op);
    void recover_connection();

    ServiceSettings settings_;
    ConsumerInfo info_;
    ConsumerOptions options_;
    util::Clock& clock_;
    util::IdSource& ids_;
    Filter filter_;
    std::unique_ptr<Backend> backend_;
    std::unique_ptr<s3::S3Client> s3_;
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<LogPublisher> log_;
    std::unique_ptr<Producer> producer_;
    Task* current_ = nullptr;
    std::atomic<bool> stop_{false};
    std::atomic<bool> task_timed_out_{false};
};

// FunctionConsumer runs a callable as process() (for small services and tests).
class FunctionConsumer : public Consumer {
  public:
    using Process = std::function<void(TaskContext&)>;
    FunctionConsumer(const ServiceSettings& settings, ConsumerInfo info, Process fn,
                     ConsumerOptions options = {}, util::Clock& clock = util::system_clock(),
                     util::IdSource& ids = util::random_ids())
        : Consumer(settings, std::move(info), options, clock, ids), fn_(std::move(fn)) {}
    void process(TaskContext& ctx) override { fn_(ctx); }

  private:
    Process fn_;
};

}  // namespace karton
