// web_bench — drak-web test environment and benchmark (bench/web/README.md).
//   web_bench env [--static-dir web/dist] [--port N]: starts redis-server, s3rver and drak-web
//     (in process) with a seeded finished analysis; prints one JSON line
//     {"url", "redis_port", "uid"} and serves until stdin closes.
//   web_bench ranges [--requests N] [--threads T] [--size BYTES]: random Range reads of
//     procmon.log through drak-web; prints requests per second and MiB/s.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"
#include "seed_analysis.hpp"
#include "web/server.hpp"

namespace {

const std::string kUid =
    "{0f5e2a9c-3b1d-4c6e-9a7b-1d2e3f4a5b6c}:0f5e2a9c-3b1d-4c6e-9a7b-1d2e3f4a5b6c";

struct Env {
    test_support::RedisServer redis;
    test_support::S3Server s3;
    util::TempDir work{"web-bench"};
    std::unique_ptr<drak_web::WebServer> server;

    Env(const std::filesystem::path& static_dir, int port, std::uint64_t chunk) {
        s3::Options o;
        o.endpoint = s3.endpoint();
        o.access_key = s3.access_key();
        o.secret_key = s3.secret_key();
        s3::S3Client s3c(o);
        s3c.create_bucket("drakrun");
        s3c.create_bucket("karton");
        auto dir = work.path() / "analysis";
        web_test::build_analysis_dir(test_support::shared_dir(), dir, kUid, chunk);
        web_test::upload_analysis(s3c, "drakrun", kUid, dir);
        karton::RedisOptions r;
        r.host = redis.host();
        r.port = redis.port();
        karton::Connection conn(r);
        web_test::mark_finished(conn, kUid, dir);
        drak_web::WebConfig c;
        c.web.port = port;
        c.web.static_dir = static_dir;
        c.service.redis = r;
        c.service.s3 = o;
        c.service.bucket = "karton";
        server = std::make_unique<drak_web::WebServer>(std::move(c));
        server->start();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

int run_env(const std::string& static_dir, int port) {
    Env env(static_dir, port, 65536);
    nlohmann::json line{{"url", env.url()}, {"redis_port", env.redis.port()}, {"uid", kUid}};
    std::cout << line.dump() << std::endl;
    std::string ignored;
    while (std::getline(std::cin, ignored)) {
    }
    env.server->stop();
    return 0;
}

int run_ranges(int requests, int threads, std::uint64_t size) {
    Env env({}, 0, 1048576);
    httplib::Client probe("127.0.0.1", env.server->port());
    std::string path = "/logs/" + httplib::detail::encode_query_param(kUid) + "/procmon";
    auto whole = probe.Get(path);
    if (!whole || whole->status != 200) {
        std::cerr << "cannot read the seeded log\n";
        return 1;
    }
    std::uint64_t total = whole->body.size();
    std::atomic<int> next{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<int> failures{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            httplib::Client c("127.0.0.1", env.server->port());
            c.set_keep_alive(true);
            std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
            while (next.fetch_add(1) < requests) {
                std::uint64_t first = rng() % (total > size ? total - size : 1);
                auto r = c.Get(path, {{"Range", "bytes=" + std::to_string(first) + "-" +
                                                    std::to_string(first + size - 1)}});
                if (!r || r->status != 206) {
                    ++failures;
                    continue;
                }
                bytes += r->body.size();
            }
        });
    }
    for (auto& th : pool) th.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << nlohmann::json{{"requests", requests},
                                {"threads", threads},
                                {"range_bytes", size},
                                {"seconds", secs},
                                {"req_per_s", requests / secs},
                                {"mib_per_s", static_cast<double>(bytes) / secs / 1048576.0},
                                {"failures", failures.load()}}
                     .dump()
              << std::endl;
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"drak-web test environment and range-read benchmark"};
    app.require_subcommand(1);
    auto* env = app.add_subcommand("env", "serve a seeded analysis until stdin closes");
    std::string static_dir;
    int port = 0;
    env->add_option("--static-dir", static_dir, "built UI (web/dist)");
    env->add_option("--port", port, "listen port (0 = free)");
    auto* ranges = app.add_subcommand("ranges", "benchmark Range reads of a log");
    int requests = 2000, threads = 4;
    std::uint64_t size = 65536;
    ranges->add_option("--requests", requests);
    ranges->add_option("--threads", threads);
    ranges->add_option("--size", size, "bytes per range");
    CLI11_PARSE(app, argc, argv);
    try {
        if (env->parsed()) return run_env(static_dir, port);
        return run_ranges(requests, threads, size);
    } catch (const std::exception& e) {
        std::cerr << "web_bench: " << e.what() << "\n";
        return 1;
    }
}
