// setup/engine_setup.cpp — draksetup sanity / install (see engine_setup.hpp).
#include "setup/engine_setup.hpp"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "drakrun/settings.hpp"
#include "engine/engine_factory.hpp"
#include "engine/native/wine_prefix.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace drak_setup {

namespace fs = std::filesystem;

std::string engine_name(const karton::Config& cfg, const std::optional<std::string>& override) {
    if (override && !override->empty()) return *override;
    return cfg.get_string("drakrun", "engine", "native");
}


std::vector<engine::SanityCheck> sanity_checks(const karton::Config& cfg,
                                               const std::string& engine) {
    // Each engine knows its own prerequisites (native: root, namespaces, Wine...; xen: the
    // hypervisor, xl, drakvuf, the VM snapshot...).
    return engine::make_engine(engine, drakrun::engine_options(cfg, engine))->sanity();
}

bool print_sanity(const std::vector<engine::SanityCheck>& checks, std::ostream& out) {
    bool all = true;
    for (const auto& c : checks) {
        out << (c.ok ? "[ ok ] " : "[FAIL] ") << c.name << ": " << c.detail << "\n";
        all = all && c.ok;
    }
    out << (all ? "all prerequisites are met\n" : "some prerequisites are missing (see above)\n");
    return all;
}

void install_engine(const karton::Config& cfg, const std::string& engine, std::ostream& out,
                    std::chrono::seconds tick) {
    if (engine != "native") {
        throw util::InputError("draksetup install supports the native engine only (got " + engine +
                               ")");
    }
    auto opts = drakrun::engine_options(cfg, engine);
    fs::path prefix = opts.count("golden_prefix") ? fs::path(opts["golden_prefix"])
                                                  : fs::path(engine::native::kDefaultGoldenPrefix);
    fs::path scratch = opts.count("scratch_root") ? fs::path(opts["scratch_root"])
                                                  : fs::path("/var/lib/drakrun/scratch");
    if (auto v = engine::native::golden_prefix_version(prefix)) {
        out << "golden Wine prefix at " << prefix.string() << " is complete (version " << *v
            << ")\n";
        return;
    }
    out << "building the golden Wine prefix at " << prefix.string() << " (usually 10-20 s)...\n"
        << std::flush;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    auto started = std::chrono::steady_clock::now();
    std::thread ticker([&] {
        std::unique_lock lock(mu);
        while (!cv.wait_for(lock, tick, [&] { return done; })) {
            auto s = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::steady_clock::now() - started);
            out << "  still building... " << s.count() << " s\n" << std::flush;
        }
    });
    auto stop = [&] {
        {
            std::lock_guard lock(mu);
            done = true;
        }
        cv.notify_all();
        ticker.join();
    };
    std::int64_t version = 0;
    try {
        fs::create_directories(scratch);
        version = engine::native::ensure_golden_prefix(prefix, scratch);
    } catch (...) {
        stop();
        throw;
    }
    stop();
    auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                              started);
    out << "golden Wine prefix ready (version " << version << ", " << s.count() << " s)\n";
}

}  // namespace drak_setup
