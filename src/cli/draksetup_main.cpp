// draksetup — host set-up of the sandbox (issue 8): init (config, Redis/S3 checks, buckets,
// systemd units), sanity (engine prerequisites), scale (drakrun@N workers), install (native:
// golden Wine prefix). Thin: the logic lives in src/setup (library drak_setup).
#include <curl/curl.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "karton/config.hpp"
#include "karton/service_settings.hpp"
#include "setup/engine_setup.hpp"
#include "setup/init.hpp"
#include "setup/systemd.hpp"
#include "util/error.hpp"

namespace {

std::filesystem::path config_path(const std::string& explicit_path) {
    std::optional<std::filesystem::path> p;
    if (!explicit_path.empty()) p = explicit_path;
    return karton::resolve_config_path(p, karton::current_environment());
}

// load_optional_config: the config when it exists, else an empty one (sanity works without).
karton::Config load_optional_config(const std::filesystem::path& path) {
    return karton::Config::load_ini_file(path, /*must_exist=*/false);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"draksetup: set up DRAKVUF Sandbox on this host"};
    app.require_subcommand(1);
    std::string config_file;
    app.add_option("--config-file", config_file,
                   "config.ini (default $DRAKRUN_CONFIG or /etc/drakrun/config.ini)");

    drak_setup::InitOptions init;
    std::vector<std::string> only;
    std::string template_file;
    std::string redis_host, s3_address, s3_access, s3_secret;
    int redis_port = 0;
    bool s3_secure = false;
    bool no_units = false;
    auto* init_cmd = app.add_subcommand("init",
                                        "create or update the config, check Redis and S3, "
                                        "create buckets, enable systemd units");
    init_cmd->add_option("--only", only, "component to set up (repeatable): system, web, drakrun")
        ->check(CLI::IsMember({"system", "web", "drakrun"}));
    init_cmd->add_flag("--unattended", init.unattended, "never prompt; keep values not given");
    auto* o_host = init_cmd->add_option("--redis-host", redis_host, "Redis host");
    auto* o_port =
        init_cmd->add_option("--redis-port", redis_port, "Redis port")->check(CLI::Range(1, 65535));
    auto* o_addr = init_cmd->add_option("--s3-address", s3_address,
                                        "S3 endpoint (host:port or http(s)://host:port)");
    auto* o_access = init_cmd->add_option("--s3-access-key", s3_access, "S3 access key");
    auto* o_secret = init_cmd->add_option("--s3-secret-key", s3_secret, "S3 secret key");
    auto* o_secure = init_cmd->add_flag("--s3-secure,!--s3-insecure", s3_secure,
                                        "use https for the S3 endpoint");
    init_cmd->add_flag("--s3-make-buckets,!--no-s3-make-buckets", init.s3_make_buckets,
                       "create the karton and drakrun buckets (default on)");
    init_cmd->add_option("--template", template_file,
                         "config template (default /usr/share/drakrun/config.ini.example)");
    init_cmd->add_flag("--no-systemd", no_units, "do not install or enable systemd units");

    std::string engine_override;
    auto* sanity_cmd = app.add_subcommand("sanity", "check the engine's prerequisites");
    sanity_cmd->add_option("--engine", engine_override, "native or xen (default: [drakrun] engine)")
        ->check(CLI::IsMember({"native", "xen"}));

    int workers = 0;
    auto* scale_cmd = app.add_subcommand("scale", "run N drakrun@ workers (systemd)");
    scale_cmd->add_option("count", workers, "number of workers")
        ->required()
        ->check(CLI::Range(0, drak_setup::kMaxWorkers));

    auto* install_cmd =
        app.add_subcommand("install", "prepare the engine (native: build the golden Wine prefix)");
    install_cmd->add_option("--engine", engine_override, "native (default: [drakrun] engine)");

    CLI11_PARSE(app, argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        std::cerr << "draksetup: curl_global_init failed\n";
        return cli::kExitFailure;
    }
    try {
        auto path = config_path(config_file);
        if (init_cmd->parsed()) {
            init.config_path = path;
            init.template_path = template_file;
            for (const auto& c : only) init.components.insert(drak_setup::parse_component(c));
            if (*o_host) init.redis_host = redis_host;
            if (*o_port) init.redis_port = redis_port;
            if (*o_addr) init.s3_address = s3_address;
            if (*o_access) init.s3_access_key = s3_access;
            if (*o_secret) init.s3_secret_key = s3_secret;
            if (*o_secure) init.s3_secure = s3_secure;
            init.install_units = !no_units;
            drak_setup::run_init(init, std::cin, std::cout);
            std::cout << "done\n";
            return cli::kExitOk;
        }
        if (sanity_cmd->parsed()) {
            auto cfg = load_optional_config(path);
            auto name = drak_setup::engine_name(cfg, engine_override);
            std::cout << "engine: " << name << "\n";
            bool ok = drak_setup::print_sanity(drak_setup::sanity_checks(cfg, name), std::cout);
            return ok ? cli::kExitOk : cli::kExitEngine;
        }
        if (scale_cmd->parsed()) {
            drak_setup::scale_workers(workers, drak_setup::SystemdOptions{}, std::cout);
            return cli::kExitOk;
        }
        if (install_cmd->parsed()) {
            auto cfg = load_optional_config(path);
            drak_setup::install_engine(cfg, drak_setup::engine_name(cfg, engine_override),
                                       std::cout);
            return cli::kExitOk;
        }
    } catch (const karton::ConfigError& e) {
        std::cerr << "draksetup: configuration error: " << e.what() << "\n";
        return cli::kExitConfig;
    } catch (const util::InputError& e) {
        std::cerr << "draksetup: " << e.what() << "\n";
        return cli::kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "draksetup: " << e.what() << "\n";
        return cli::kExitFailure;
    }
    return cli::kExitUsage;
}
