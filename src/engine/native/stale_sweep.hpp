// engine/native/stale_sweep.hpp — start-up cleanup of what a killed native engine left behind
// (issue 3: "a stale-resource sweep at start-up"): cgroups, named network namespaces and
// scratch directories called "drak-<pid>-<n>" whose owning engine process no longer exists.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace engine::native {

// SweepReport lists what was removed (and what could not be).
struct SweepReport {
    std::vector<std::string> removed;
    std::vector<std::string> failed;
};

// owner_pid_of returns the engine pid encoded in a resource name "drak-<pid>-<rest>", or 0
// when the name is not one of ours.
long owner_pid_of(const std::string& name);

// sweep_stale_resources removes every resource whose owner pid is dead (or every one of ours
// when `all` is set — only for tests and `draksetup` on an idle host). `scratch_roots` are
// directories whose "drak-*" children are scratch dirs. Never throws.
SweepReport sweep_stale_resources(const std::vector<std::filesystem::path>& scratch_roots,
                                  bool all = false);

}  // namespace engine::native
