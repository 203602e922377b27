// drak-web — the REST API and web UI of the sandbox (issue 7, spec drakvuf-output.md §10).
// Reads /etc/drakrun/config.ini (or --config-file / $DRAKRUN_CONFIG): [web], [redis], [s3].
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "karton/config.hpp"
#include "util/logging.hpp"
#include "web/server.hpp"
#include "web/settings.hpp"

namespace {
drak_web::WebServer* g_server = nullptr;

std::filesystem::path default_static_dir() {
    for (const char* p : {"/usr/share/drakrun/web", "web/dist"})
        if (std::filesystem::is_regular_file(std::filesystem::path(p) / "index.html")) return p;
    return {};
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"drak-web: REST API and web UI for DRAKVUF Sandbox analyses"};
    std::string config_file;
    std::string listen;
    std::string static_dir;
    app.add_option("--config-file", config_file,
                   "config.ini (default $DRAKRUN_CONFIG or /etc/drakrun/config.ini)");
    app.add_option("--listen", listen, "override [web] listen (host:port)");
    app.add_option("--static-dir", static_dir, "built UI (web/dist) to serve");
    CLI11_PARSE(app, argc, argv);
    auto log = util::logger("drak-web");
    try {
        if (config_file.empty()) {
            const char* env = std::getenv("DRAKRUN_CONFIG");
            config_file = env && *env ? env : "/etc/drakrun/config.ini";
        }
        auto cfg = karton::Config::load_ini_file(config_file);
        auto config = drak_web::web_config_from(cfg, karton::current_environment());
        if (!listen.empty()) drak_web::parse_listen(listen, config.web.host, config.web.port);
        if (!static_dir.empty()) config.web.static_dir = static_dir;
        if (config.web.static_dir.empty()) config.web.static_dir = default_static_dir();
        if (config.web.static_dir.empty()) log->warn("no built UI found; serving the API only");

        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        drak_web::WebServer server(std::move(config));
        g_server = &server;
        std::thread waiter([&set] {
            int sig = 0;
            sigwait(&set, &sig);
            if (g_server) g_server->stop();
        });
        waiter.detach();
        server.run();
        g_server = nullptr;
        return 0;
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        return 1;
    }
}
