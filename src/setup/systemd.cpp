// setup/systemd.cpp — units, systemctl and worker scaling (see systemd.hpp).
#include "setup/systemd.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <regex>

#include "util/fs.hpp"

namespace drak_setup {

namespace fs = std::filesystem;

Component parse_component(std::string_view name) {
    if (name == "system") return Component::System;
    if (name == "web") return Component::Web;
    if (name == "drakrun") return Component::Drakrun;
    throw util::InputError("unknown component: " + std::string(name) +
                           " (expected system, web or drakrun)");
}

std::vector<Unit> units_for(const std::set<Component>& components) {
    auto want = [&](Component c) { return components.empty() || components.count(c) > 0; };
    std::vector<Unit> units;
    if (want(Component::System)) units.push_back({"drak-system.service", "drak-system.service"});
    if (want(Component::Web)) units.push_back({"drak-web.service", "drak-web.service"});
    if (want(Component::Drakrun)) units.push_back({"drakrun@.service", "drakrun@1.service"});
    return units;
}

fs::path default_unit_source_dir() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto dir = exe.parent_path().parent_path() / "lib" / "systemd" / "system";
        if (fs::is_regular_file(dir / "drak-web.service", ec)) return dir;
    }
    if (fs::is_regular_file("/usr/share/drakrun/systemd/drak-web.service", ec)) {
        return "/usr/share/drakrun/systemd";
    }
    return fs::path(DRAK_SETUP_SOURCE_DIR) / "data" / "systemd";
}

bool systemd_available(const SystemdOptions& options) {
    std::error_code ec;
    return fs::is_directory(options.run_dir, ec);
}

int run_program(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw util::SystemError("fork", errno);
    if (pid == 0) {
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw util::SystemError("waitpid", errno);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

namespace {

void systemctl(const SystemdOptions& options, std::vector<std::string> args, std::ostream& out) {
    args.insert(args.begin(), options.systemctl);
    std::string shown;
    for (const auto& a : args) shown += (shown.empty() ? "" : " ") + a;
    out << "running: " << shown << "\n" << std::flush;
    int rc = run_program(args);
    if (rc != 0) {
        throw SetupError(shown + " failed (exit status " + std::to_string(rc) +
                         "); see `journalctl -xe`");
    }
}

bool installed(const fs::path& dir, const std::string& file) {
    std::error_code ec;
    return fs::is_regular_file(dir / file, ec);
}

}  // namespace

void install_units(const std::vector<Unit>& units, const SystemdOptions& options,
                   std::ostream& out) {
    fs::path source =
        options.unit_source_dir.empty() ? default_unit_source_dir() : options.unit_source_dir;
    for (const auto& u : units) {
        bool present = installed(options.unit_dir, u.file);
        for (const auto& d : options.system_unit_dirs) present = present || installed(d, u.file);
        if (present) continue;
        if (!installed(source, u.file)) {
            throw SetupError("unit file " + u.file + " not found in " + source.string() +
                             " (install the drakvuf-sandbox package)");
        }
        std::error_code ec;
        fs::create_directories(options.unit_dir, ec);
        util::write_file_atomic(options.unit_dir / u.file, util::read_file(source / u.file));
        out << "installed " << (options.unit_dir / u.file).string() << "\n";
    }
    if (units.empty()) return;
    systemctl(options, {"daemon-reload"}, out);
    std::vector<std::string> args = {"enable"};
    if (options.start) args.push_back("--now");
    for (const auto& u : units) args.push_back(u.enable_as);
    systemctl(options, args, out);
}

std::set<int> enabled_worker_instances(const SystemdOptions& options) {
    std::set<int> found;
    static const std::regex kName(R"(drakrun@([0-9]{1,4})\.service)");
    std::error_code ec;
    fs::directory_iterator it(options.unit_dir, ec);
    if (ec) return found;
    for (const auto& wants : it) {
        if (!wants.is_directory(ec) || wants.path().extension() != ".wants") continue;
        fs::directory_iterator inner(wants.path(), ec);
        if (ec) continue;
        for (const auto& link : inner) {
            std::smatch m;
            std::string name = link.path().filename().string();
            if (std::regex_match(name, m, kName)) found.insert(std::stoi(m[1].str()));
        }
    }
    return found;
}

void scale_workers(int count, const SystemdOptions& options, std::ostream& out) {
    if (count < 0 || count > kMaxWorkers) {
        throw util::InputError("worker count must be between 0 and " + std::to_string(kMaxWorkers) +
                               ", got " + std::to_string(count));
    }
    if (!systemd_available(options)) {
        throw SetupError(
            "systemd is not running on this host (" + options.run_dir.string() +
            " is missing), so drakrun@N services cannot be scaled; start workers by hand with "
            "`drakrun worker --instance N`");
    }
    auto enabled = enabled_worker_instances(options);
    std::vector<std::string> enable = {"enable"};
    std::vector<std::string> disable = {"disable"};
    if (options.start) {
        enable.push_back("--now");
        disable.push_back("--now");
    }
    for (int i = 1; i <= count; ++i) enable.push_back("drakrun@" + std::to_string(i) + ".service");
    for (int i : enabled) {
        if (i > count) disable.push_back("drakrun@" + std::to_string(i) + ".service");
    }
    if (enable.size() > (options.start ? 2u : 1u)) systemctl(options, enable, out);
    if (disable.size() > (options.start ? 2u : 1u)) systemctl(options, disable, out);
    out << count << " drakrun worker(s) enabled\n";
}

}  // namespace drak_setup
