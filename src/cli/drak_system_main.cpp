// drak-system — karton-system compatible router + garbage collector (spec §7.2, §9, §12.1;
// flags of §1.6). Thin main (house rule 13): parse flags, load the config, run the service.
#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "karton/config.hpp"
#include "s3/error.hpp"
#include "system/service.hpp"
#include "system/settings.hpp"
#include "util/logging.hpp"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"drak-system: Karton router and garbage collector (karton-system compatible)"};
    const char* env_config = std::getenv("DRAKRUN_CONFIG");
    std::string config_file = env_config != nullptr ? env_config : "/etc/drakrun/config.ini";
    std::optional<std::string> log_level;
    bool disable_gc = false;
    bool disable_router = false;
    bool setup_bucket = false;
    std::optional<std::int64_t> gc_interval;
    std::optional<std::int64_t> dispatched;
    std::optional<std::int64_t> started;
    std::optional<std::int64_t> crashed;
    std::optional<std::string> instance;
    app.add_option("--config-file", config_file,
                   "configuration file (default /etc/drakrun/config.ini; env DRAKRUN_CONFIG)");
    app.add_option("--log-level", log_level, "DEBUG, INFO, WARNING, ERROR or CRITICAL");
    app.add_flag("--disable-gc", disable_gc, "do not run the garbage collector");
    app.add_flag("--disable-router", disable_router, "do not route tasks");
    app.add_flag("--setup-bucket", setup_bucket, "create the Karton bucket when it is missing");
    app.add_option("--gc-interval", gc_interval, "seconds between garbage collections")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--task-dispatched-timeout", dispatched, "seconds")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--task-started-timeout", started, "seconds")->check(CLI::NonNegativeNumber);
    app.add_option("--task-crashed-timeout", crashed, "seconds")->check(CLI::NonNegativeNumber);
    // Compat (§1.6): karton-system's flag of this name never takes effect; accepted and ignored.
    bool crash_flag_ignored = false;
    app.add_flag("--crash-started-task-on-timeout", crash_flag_ignored,
                 "accepted for compatibility; no effect");
    app.add_option("--instance", instance,
                   "router instance name (processing list suffix; unique per running router)");
    CLI11_PARSE(app, argc, argv);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        std::cerr << "drak-system: curl_global_init failed\n";
        return kExitFailure;
    }
    try {
        karton::Config::LoadOptions lo = karton::Config::default_options();
        lo.path = config_file;
        karton::Config cfg = karton::Config::load(lo);
        if (log_level) {
            cfg.set("logging", "level", *log_level, "--log-level");
        }
        if (instance) {
            cfg.set("system", "instance", *instance, "--instance");
        }
        drak_system::SystemConfig sc = drak_system::system_config(cfg);
        const karton::ServiceSettings settings = drak_system::service_settings(cfg, lo.env);
        util::set_log_level(cfg.get_string("logging", "level", "INFO"));
        sc.enable_gc = sc.enable_gc && !disable_gc;
        sc.enable_router = sc.enable_router && !disable_router;
        if (gc_interval) {
            sc.gc_interval = *gc_interval;
        }
        if (dispatched) {
            sc.timeouts.task_dispatched_timeout = static_cast<double>(*dispatched);
        }
        if (started) {
            sc.timeouts.task_started_timeout = static_cast<double>(*started);
        }
        if (crashed) {
            sc.timeouts.task_crashed_timeout = static_cast<double>(*crashed);
        }
        std::signal(SIGTERM, on_signal);
        std::signal(SIGINT, on_signal);
        drak_system::SystemService service(settings, sc, setup_bucket);
        service.run(g_stop);
    } catch (const karton::ConfigError& e) {
        std::cerr << "drak-system: configuration error: " << e.what() << "\n";
        curl_global_cleanup();
        return kExitConfig;
    } catch (const std::exception& e) {
        std::cerr << "drak-system: " << e.what() << "\n";
        curl_global_cleanup();
        return kExitFailure;
    }
    curl_global_cleanup();
    return kExitOk;
}
