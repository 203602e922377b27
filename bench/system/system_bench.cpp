// system_bench — routing throughput of drak-system's Router (issue 6): N unrouted tasks, 3
// binds of which 2 match; prints tasks/s and peak RSS. Needs a running redis-server (run.sh).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "karton/bind.hpp"
#include "karton/names.hpp"
#include "karton/task.hpp"
#include "system/router.hpp"
#include "util/logging.hpp"

int main(int argc, char** argv) {
    CLI::App app{"drak-system routing benchmark"};
    int port = 6379;
    int tasks = 100000;
    std::size_t batch = 101;
    std::string level = "WARNING";
    app.add_option("--port", port);
    app.add_option("--tasks", tasks);
    app.add_option("--batch", batch);
    app.add_option("--log-level", level, "INFO publishes one record per routed task");
    CLI11_PARSE(app, argc, argv);
    util::set_log_level(level);

    karton::RedisOptions o;
    o.port = port;
    o.client_name = "karton.bench-producer";
    karton::Backend producer(o);
    producer.connection().command({"FLUSHDB"});
    const auto bind = [&](const std::string& id, const char* filters) {
        karton::Bind b;
        b.identity = id;
        b.filters = karton::json::parse(filters);
        producer.connection().command({"HSET", "karton.binds", id, karton::serialize_bind(b)});
    };
    bind("karton.bench-a", R"([{"type": "sample", "kind": "raw"}])");
    bind("karton.bench-b", R"([{"type": "sample", "platform": "win*"}])");
    bind("karton.bench-c", R"([{"type": "analysis"}])");
    util::SystemClock clock;
    util::RandomIdSource ids;
    std::vector<std::vector<std::string>> cmds;
    for (int i = 0; i < tasks; ++i) {
        karton::Task t = karton::new_task(
            {{"type", "sample"}, {"kind", "raw"}, {"platform", "win64"}, {"origin", "bench"}}, ids,
            clock);
        t.payload.set("n", karton::json::Value(i));
        cmds.push_back({"SET", karton::names::task_key(t.uid), karton::serialize_task(t)});
        cmds.push_back({"RPUSH", "karton.tasks", t.uid});
        if (cmds.size() >= 2000) {
            producer.connection().pipeline(cmds);
            cmds.clear();
        }
    }
    if (!cmds.empty()) {
        producer.connection().pipeline(cmds);
    }
    cmds.clear();
    cmds.shrink_to_fit();

    o.client_name = "karton.system?karton_version=5.9.1&service_version=5.9.1";
    karton::Backend backend(o);
    karton::LogLevel min = level == "INFO" ? karton::LogLevel::Info : karton::LogLevel::Warning;
    drak_system::SystemLog log(backend, clock, true, min);
    drak_system::RouterConfig rc;
    rc.batch = batch;
    drak_system::Router router(backend, log, clock, ids, rc);
    std::size_t routed = 0;
    std::size_t forks = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (routed < static_cast<std::size_t>(tasks)) {
        const auto s = router.step(false);
        if (s.idle()) {
            break;
        }
        routed += s.tasks;
        forks += s.forks;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "routed=%zu forks=%zu seconds=%.3f tasks_per_s=%.0f batch=%zu log=%s "
        "max_rss_kib=%ld\n",
        routed, forks, secs, static_cast<double>(routed) / secs, batch, level.c_str(),
        ru.ru_maxrss);
    return routed == static_cast<std::size_t>(tasks) && forks == 2 * routed ? 0 : 1;
}
