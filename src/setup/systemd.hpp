// setup/systemd.hpp — which systemd units each component needs, installing and enabling them
// through systemctl, and scaling drakrun@N workers (issue 8: draksetup init --only, draksetup
// scale). Every path and the systemctl program are options, so tests run without systemd.
#pragma once

#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace drak_setup {

// Component is one part of the sandbox a host runs (draksetup init --only).
enum class Component { System, Web, Drakrun };

// parse_component maps "system" / "web" / "drakrun"; throws util::InputError otherwise.
Component parse_component(std::string_view name);

// Unit is one unit file and the name to enable ("drakrun@.service" / "drakrun@1.service").
struct Unit {
    std::string file;
    std::string enable_as;
};

// units_for returns the units of `components` in the order system, web, drakrun; an empty set
// means all three. drakrun selects the template drakrun@.service enabled as drakrun@1.service.
std::vector<Unit> units_for(const std::set<Component>& components);

struct SystemdOptions {
    // systemd is running when this directory exists (sd_booted()).
    std::filesystem::path run_dir = "/run/systemd/system";
    // Where missing unit files are installed, and where "*.wants" links are looked up.
    std::filesystem::path unit_dir = "/etc/systemd/system";
    // Unit files already installed here (by the deb) are not copied.
    std::vector<std::filesystem::path> system_unit_dirs = {"/lib/systemd/system",
                                                           "/usr/lib/systemd/system"};
    // Where draksetup finds unit files to install (empty: default_unit_source_dir()).
    std::filesystem::path unit_source_dir;
    std::string systemctl = "systemctl";
    // enable with --now (start the units too).
    bool start = true;
};

// default_unit_source_dir: <exe>/../lib/systemd/system when it holds drak-web.service, else
// /usr/share/drakrun/systemd, else the source tree's data/systemd.
std::filesystem::path default_unit_source_dir();

// systemd_available says whether systemd manages this host (options.run_dir exists).
bool systemd_available(const SystemdOptions& options);

// SetupError: a draksetup step failed; the message says what and how to fix it.
class SetupError : public util::Error {
  public:
    using util::Error::Error;
};

// run_program runs argv (PATH lookup), waits, and returns its exit status (128+signal when
// killed). Output goes to the caller's stdout/stderr. Throws util::SystemError if fork fails.
int run_program(const std::vector<std::string>& argv);

// install_units copies the unit files of `units` that are not installed yet into unit_dir,
// runs `systemctl daemon-reload` and `systemctl enable [--now] <names>`, logging to `out`.
// Throws SetupError when a unit file is missing or systemctl fails.
void install_units(const std::vector<Unit>& units, const SystemdOptions& options,
                   std::ostream& out);

// enabled_worker_instances lists N of every unit_dir/*.wants/drakrun@N.service link.
std::set<int> enabled_worker_instances(const SystemdOptions& options);

// kMaxWorkers bounds draksetup scale.
inline constexpr int kMaxWorkers = 256;

// scale_workers enables (and starts) drakrun@1..count and disables (and stops) enabled
// instances above count. Throws SetupError when systemd is absent (with an explanation),
// count is outside 0..kMaxWorkers, or systemctl fails.
void scale_workers(int count, const SystemdOptions& options, std::ostream& out);

}  // namespace drak_setup
