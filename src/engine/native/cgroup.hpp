// engine/native/cgroup.hpp — per-analysis control groups for the native engine sandbox:
// memory/cpu/pids limits, freeze and kill of the whole process tree, removal; cgroup v1
// (memory, cpu, pids, freezer hierarchies) and v2 (unified). Names carry kResourcePrefix so a
// start-up sweep can find groups a killed engine left behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace engine::native {

// CgroupLimits: 0 means "no limit" for each field.
struct CgroupLimits {
    std::uint64_t memory_bytes = 1024ull << 20;  // hard memory limit (OOM kill inside)
    double cpus = 1.0;                           // CPU quota in cores
    std::uint64_t max_pids = 256;                // tasks limit (fork-bomb guard)
};

// Cgroup owns one named group (one directory per v1 hierarchy, or one v2 directory) below the
// engine's own cgroup. The destructor kills every task in it and removes it.
class Cgroup {
  public:
    // Creates `name` with `limits`. Throws util::Error when cgroups are unusable (not root,
    // missing controllers), naming what is missing.
    Cgroup(const std::string& name, const CgroupLimits& limits);
    ~Cgroup();
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;

    // add moves process `pid` into the group. Throws util::SystemError.
    void add(pid_t pid) const;
    // pids lists the tasks currently in the group (empty once everything has exited).
    std::vector<pid_t> pids() const;
    // freeze / thaw stop and resume every task (v1 freezer or v2 cgroup.freeze); freeze waits
    // (bounded, ~1 s) until the group reports FROZEN. Errors are logged, not thrown.
    void freeze() const;
    void thaw() const;
    // kill_all freezes the group, SIGKILLs every task, thaws, and waits up to `wait_s` seconds
    // until the group is empty. Returns whether it is empty. Never throws.
    bool kill_all(double wait_s = 5.0) const;
    // oom_killed says whether the memory controller killed a task for exceeding the limit.
    bool oom_killed() const;
    const std::string& name() const { return name_; }
    // v2 says whether the unified hierarchy is used.
    bool v2() const { return v2_; }

  private:
    std::string name_;
    bool v2_ = false;
    std::vector<std::filesystem::path> dirs_;  // created directories (v1: one per controller)
    std::filesystem::path procs_dir_;          // where cgroup.procs is read (pids or unified)
    std::filesystem::path freezer_dir_;
    std::filesystem::path memory_dir_;
};

// cgroup_version returns 2 when /sys/fs/cgroup is the unified hierarchy with memory, cpu and
// pids controllers available, 1 when the v1 memory/cpu/pids/freezer hierarchies are mounted,
// 0 when neither is usable.
int cgroup_version();

// cgroup_parent_dirs returns, for each hierarchy the engine uses, the directory under which
// its groups are created (the engine's own cgroup). Used by the stale sweep.
std::vector<std::filesystem::path> cgroup_parent_dirs();

// remove_cgroup_dir kills the tasks of a (possibly stale) group directory and removes it.
// Returns whether the directory is gone. Never throws.
bool remove_cgroup_dir(const std::filesystem::path& dir);

}  // namespace engine::native
