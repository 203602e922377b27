// reliability_env.hpp (test helper) — shared pieces of the fault-injection suite: a re-exec into
// a private network + mount namespace, real drak-system / drakrun child processes that can be
// SIGKILLed, their config file, a recording consumer, and the `fault-summary` line.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine_factory.hpp"
#include "integration/karton/karton_env.hpp"
#include "karton/consumer.hpp"
#include "karton/resource.hpp"
#include "support/isolation.hpp"
#include "support/paths.hpp"
#include "util/fs.hpp"

namespace reliability {

namespace fs = std::filesystem;

// Runs before main(): re-executes the test binary in a private network + mount namespace
// (root only), so samples never reach a network and tmpfs mounts never leak to the host.
inline const bool kReexecutedIsolated =
    test_support::reexec_isolated(test_support::Isolation::NetworkAndMounts);

inline bool isolated() { return test_support::in_isolated_namespaces(); }

// bring_up_loopback: `unshare --net` leaves lo down; our servers live on 127.0.0.1.
inline void bring_up_loopback() { ASSERT_EQ(std::system("ip link set lo up"), 0); }

// fault_summary prints the suite's summary line on stdout (scripts/test collects it).
inline void fault_summary(const std::string& name, int faults, int produced, int finished, int lost,
                          int duplicated, const std::string& extra = "") {
    std::printf(
        "fault-summary %s: faults injected %d, tasks produced %d, finished %d, lost %d, "
        "duplicated %d%s%s\n",
        name.c_str(), faults, produced, finished, lost, duplicated, extra.empty() ? "" : ", ",
        extra.c_str());
    std::fflush(stdout);
}

// Child is a real executable run as a child process (stdout+stderr to `log`), killable.
class Child {
  public:
    Child(std::vector<std::string> argv, fs::path log)
        : argv_(std::move(argv)), log_(std::move(log)) {
        start();
    }
    ~Child() { kill9(); }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    void start() {
        if (pid_ > 0) {
            return;
        }
        std::vector<char*> argv;
        for (auto& a : argv_) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        const pid_t pid = ::fork();
        if (pid == 0) {
            FILE* f = std::fopen(log_.c_str(), "ab");
            if (f != nullptr) {
                ::dup2(::fileno(f), STDOUT_FILENO);
                ::dup2(::fileno(f), STDERR_FILENO);
            }
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ASSERT_GT(pid, 0);
        pid_ = pid;
        ++starts_;
    }
    // kill9 SIGKILLs and reaps the child (a crash); no-op when not running.
    void kill9() {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    // terminate sends SIGTERM and waits up to `deadline` for a clean exit; returns the exit code
    // (-1: had to be killed).
    int terminate(std::chrono::seconds deadline = std::chrono::seconds(60)) {
        if (pid_ <= 0) {
            return exit_code_;
        }
        ::kill(pid_, SIGTERM);
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (std::chrono::steady_clock::now() < until) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return exit_code_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        kill9();
        return -1;
    }
    // alive: still running (reaps it and remembers the exit code when it has exited).
    bool alive() {
        if (pid_ <= 0) {
            return false;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return false;
        }
        return true;
    }
    int starts() const { return starts_; }
    std::string log_text() const {
        try {
            return util::read_file(log_);
        } catch (const std::exception&) {
            return "";
        }
    }
    const fs::path& log_path() const { return log_; }

  private:
    std::vector<std::string> argv_;
    fs::path log_;
    pid_t pid_ = -1;
    int starts_ = 0;
    int exit_code_ = -1;
};

// write_config writes the config.ini the child processes read: the env's Redis and S3, plus
// `extra` (section -> lines "key = value").
inline fs::path write_config(const fs::path& dir, const karton_test::KartonEnv& env,
                             const std::map<std::string, std::vector<std::string>>& extra) {
    fs::path path = dir / "config.ini";
    std::ofstream out(path);
    out << "[redis]\nhost = " << env.redis.host() << "\nport = " << env.redis.port() << "\n";
    out << "[s3]\naddress = " << env.s3.endpoint() << "\naccess_key = " << env.s3.access_key()
        << "\nsecret_key = " << env.s3.secret_key() << "\nbucket = " << karton_test::kBucket
        << "\n";
    for (const auto& [section, lines] : extra) {
        out << "[" << section << "]\n";
        for (const auto& l : lines) {
            out << l << "\n";
        }
    }
    return path;
}

inline std::string bin(const char* name) {
    return (test_support::binary_dir() / "bin" / name).string();
}
inline fs::path program(const char* name) { return test_support::binary_dir() / "programs" / name; }

// native_engine: the native engine of the build tree, scratch space under `scratch`.
inline std::unique_ptr<engine::Engine> native_engine(const fs::path& scratch) {
    return engine::make_engine(
        "native", {{"scratch_root", scratch.string()},
                   {"tools_dir", (test_support::binary_dir() / "bin").string()},
                   {"hooks_file",
                    (test_support::binary_dir() / "share" / "drakrun" / "hooks.txt").string()}});
}

// send_elf_sample produces the ELF ground-truth program as a recognized linux sample with
// `analysis_uid` as override_uid, routes it to `identity` and returns the routed copy's uid.
inline std::string send_elf_sample(karton_test::KartonEnv& env, const std::string& identity,
                                   const std::string& analysis_uid) {
    karton::Producer producer(env.settings, "karton.fi-producer");
    auto t = karton::new_task(
        {{"type", "sample"}, {"stage", "recognized"}, {"platform", "linux"}, {"kind", "runnable"}},
        env.ids, env.clock);
    t.payload.set(
        "sample",
        t.attach_resource(karton::resource_from_file(
            "elf_behaviour", test_support::binary_dir() / "programs" / "elf_behaviour", env.ids)));
    t.payload.set("override_uid", analysis_uid);
    producer.send_task(t);
    auto routed = env.route(identity);
    EXPECT_EQ(routed.size(), 1u);
    return routed.empty() ? std::string() : routed[0];
}

// native_section: the [native] options for the build tree.
inline std::vector<std::string> native_section(const fs::path& scratch) {
    return {"scratch_root = " + scratch.string(),
            "tools_dir = " + (test_support::binary_dir() / "bin").string(),
            "hooks_file = " +
                (test_support::binary_dir() / "share" / "drakrun" / "hooks.txt").string()};
}

// write_worker_config writes config_dir/config.ini for a drakrun worker `worker_id` (and the
// drak-system beside it): quiet logging, `system` lines, a 2 s analysis with work and scratch
// space under `data_dir`.
inline fs::path write_worker_config(const fs::path& config_dir, const fs::path& data_dir,
                                    const karton_test::KartonEnv& env, const std::string& worker_id,
                                    const std::vector<std::string>& system = {}) {
    std::map<std::string, std::vector<std::string>> sections{
        {"logging", {"level = WARNING"}},
        {"drakrun",
         {"identity = " + worker_id, "work_dir = " + (data_dir / "work").string(),
          "analysis_timeout = 2", "plugins = procmon,filetracer,socketmon"}},
        {"native", native_section(data_dir / "scratch")}};
    if (!system.empty()) {
        sections["system"] = system;
    }
    return write_config(config_dir, env, sections);
}

// consumer_info: identity + filters (JSON text), the other fields default.
inline karton::ConsumerInfo consumer_info(const std::string& identity,
                                          const std::string& filters_json) {
    karton::ConsumerInfo info;
    info.identity = identity;
    info.filters = karton::json::parse(filters_json);
    return info;
}

// Recorder is a Karton consumer of ours (in-process, own thread) that records, per key taken
// from each task it processes, how often it saw it, and the uids of the tasks.
class Recorder {
  public:
    using KeyFn = std::function<std::string(const karton::Task&)>;
    Recorder(const karton::ServiceSettings& settings, const std::string& identity,
             const std::string& filters_json, KeyFn key)
        : key_(std::move(key)),
          consumer_(settings, consumer_info(identity, filters_json),
                    [this](karton::TaskContext& ctx) {
                        std::lock_guard<std::mutex> lock(mu_);
                        ++seen_[key_(ctx.task())];
                        uids_.push_back(ctx.task().uid);
                    },
                    {.poll_timeout_seconds = 1, .install_signal_handlers = false}) {
        thread_ = std::thread([this] {
            consumer_.run();
            returned_.store(true);
        });
    }
    ~Recorder() { stop(); }
    void stop() {
        consumer_.request_stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    // running: run() has not returned (the consumer never gave up).
    bool running() const { return !returned_.load(); }
    std::map<std::string, int> seen() {
        std::lock_guard<std::mutex> lock(mu_);
        return seen_;
    }
    std::vector<std::string> uids() {
        std::lock_guard<std::mutex> lock(mu_);
        return uids_;
    }
    std::size_t distinct() {
        std::lock_guard<std::mutex> lock(mu_);
        return seen_.size();
    }

  private:
    KeyFn key_;
    std::mutex mu_;
    std::map<std::string, int> seen_;
    std::vector<std::string> uids_;
    karton::FunctionConsumer consumer_;
    std::atomic<bool> returned_{false};
    std::thread thread_;
};

// bind_registered: the identity's bind is in karton.binds.
inline bool bind_registered(karton_test::KartonEnv& env, const std::string& identity) {
    try {
        return env.backend()
                   ->connection()
                   .command({"HEXISTS", "karton.binds", identity})
                   .as_integer() == 1;
    } catch (const std::exception&) {
        return false;
    }
}

// count_outcome compares recorded keys with the produced ones.
struct Outcome {
    int lost = 0;
    int duplicated = 0;
    int finished = 0;
};
inline Outcome compare(const std::vector<std::string>& produced,
                       const std::map<std::string, int>& seen) {
    Outcome o;
    for (const auto& k : produced) {
        auto it = seen.find(k);
        if (it == seen.end()) {
            ++o.lost;
        } else {
            ++o.finished;
            o.duplicated += it->second - 1;
        }
    }
    return o;
}

// Stranded counts routed copies for `receivers` that are Spawned but in no queue: a consumer
// popped them (BLPOP) and Redis was SIGKILLed after persisting the pop (appendfsync always) but
// before the reply reached the consumer. karton-core's consumer protocol (§10) is at-most-once
// there, in Python as here; see docs/reliability.md. Everything else unprocessed is `other`.
struct Stranded {
    int stranded = 0;
    int other = 0;
};

// classify_unprocessed looks at every task document routed to one of `receivers` whose key
// (`key_of`) the matching recorder's `seen` lacks, and prints where it is.
inline Stranded classify_unprocessed(
    karton_test::KartonEnv& env, const std::map<std::string, std::map<std::string, int>>& seen,
    const std::function<std::string(const karton::Task&)>& key_of) {
    Stranded out;
    auto b = env.backend();
    auto& c = b->connection();
    std::string cursor = "0";
    do {
        auto r = c.command({"SCAN", cursor, "MATCH", "karton.task:*", "COUNT", "500"});
        cursor = r.as_array()[0].as_string();
        for (const auto& key : r.as_array()[1].as_array()) {
            auto text = c.command({"GET", key.as_string()});
            if (text.is_nil()) {
                continue;
            }
            karton::Task t = karton::parse_task(text.as_string(), env.clock);
            const auto* recv = t.headers.find("receiver");
            if (recv == nullptr || !recv->is_string() || seen.count(recv->as_string()) == 0) {
                continue;
            }
            const std::string who = recv->as_string();
            const std::string k = key_of(t);
            if (seen.at(who).count(k) > 0 || t.status == karton::Status::Finished) {
                continue;
            }
            const bool queued = !c.command({"LPOS", "karton.queue.normal:" + who, t.uid}).is_nil();
            const bool stranded = t.status == karton::Status::Spawned && !queued;
            (stranded ? out.stranded : out.other) += 1;
            std::printf("unprocessed %s: task %s receiver %s status %s, queued %s%s\n", k.c_str(),
                        t.uid.c_str(), who.c_str(),
                        std::string(karton::to_string(t.status)).c_str(), queued ? "yes" : "no",
                        stranded ? " (stranded: popped, reply lost in the Redis kill)" : "");
        }
    } while (cursor != "0");
    return out;
}

// llen of a key (0 when Redis is unreachable for a moment).
inline std::int64_t llen(karton_test::KartonEnv& env, const std::string& key) {
    return env.backend()->connection().command({"LLEN", key}).as_integer();
}

}  // namespace reliability
