// engine/native/sandbox.hpp — run a program isolated for analysis (issue 3 "Isolation"): new
// mount, PID, IPC, UTS, cgroup and network namespaces; a fresh tmpfs root with read-only host
// system dirs, a curated /etc with a fake passwd, tmpfs /tmp, only the listed paths writable;
// an unprivileged uid with no_new_privs; cgroup limits; hard timeout -> freeze -> SIGKILL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/native/cgroup.hpp"

namespace engine::native {

// kResourcePrefix starts the name of every host resource the engine creates (cgroups, netns,
// scratch dirs): "drak-<engine pid>-<n>", so the stale sweep can find them.
inline constexpr const char* kResourcePrefix = "drak-";

// kSandboxUid/kSandboxGid: the unprivileged identity samples run as (no host user has it).
inline constexpr uid_t kSandboxUid = 61000;
inline constexpr gid_t kSandboxGid = 61000;
inline constexpr const char* kSandboxUser = "user";

// BindMount: a host path visible inside the sandbox at `target` (absolute, in the sandbox).
struct BindMount {
    std::filesystem::path source;
    std::filesystem::path target;
    bool writable = false;
};

// OverlayMount: an overlayfs copy-on-write view of `lower` at `target`; writes go to `upper`
// (`work` is overlayfs scratch on the same filesystem as `upper`).
struct OverlayMount {
    std::filesystem::path lower;
    std::filesystem::path upper;
    std::filesystem::path work;
    std::filesystem::path target;
};

// SandboxSpec: everything about one sandboxed program except its argv.
struct SandboxSpec {
    std::string name;               // resource name, starts with kResourcePrefix
    std::filesystem::path scratch;  // host dir (must exist, empty) for the new root mount point
    std::vector<BindMount> binds;   // extra mounts (work dir writable, tools read-only)
    std::optional<OverlayMount> overlay;
    std::vector<std::string> env;  // the complete environment ("K=V")
    std::string cwd = "/";
    std::string hostname = "DESKTOP-7G3K1Q2";
    std::filesystem::path netns;  // netns file to join (/run/netns/x); empty: a new, empty one
    CgroupLimits limits;
    bool run_as_root = false;  // only for trusted set-up steps; samples never
};

// FdMapping: parent fd `parent_fd` becomes fd `child_fd` in the sandboxed program; every other
// fd is closed. stdin defaults to /dev/null when not mapped.
struct FdMapping {
    int parent_fd;
    int child_fd;
};

// ExitInfo: how the sandboxed program ended.
struct ExitInfo {
    int exit_code = -1;       // 128+signal when killed by a signal
    bool timed_out = false;   // killed by the hard timeout
    bool oom_killed = false;  // the memory limit killed a task
};

// SandboxProcess: a running sandboxed program (pid 1 of its PID namespace) and its cgroup.
// Destruction kills the whole tree and removes the cgroup (mounts vanish with the namespace).
class SandboxProcess {
  public:
    ~SandboxProcess();
    SandboxProcess(const SandboxProcess&) = delete;
    SandboxProcess& operator=(const SandboxProcess&) = delete;

    // wait waits until the program (pid 1) exits or `timeout` passes; on timeout the whole
    // tree is frozen and killed. In both cases every task in the cgroup is gone afterwards.
    ExitInfo wait(std::chrono::milliseconds timeout);
    // try_wait polls: returns the exit info if pid 1 has exited (tree then killed).
    std::optional<ExitInfo> try_wait();
    // kill freezes and SIGKILLs every task of the sandbox. Never throws.
    void kill();
    // host_pid is the pid of the helper process (in the host PID namespace) that waits for
    // pid 1; sandbox_pid1_host is pid 1's host pid (0 if unknown).
    pid_t helper_pid() const { return helper_; }
    pid_t pid1_host_pid() const { return pid1_host_; }
    const Cgroup& cgroup() const { return *cgroup_; }

  private:
    friend std::unique_ptr<SandboxProcess> spawn_sandboxed(const SandboxSpec&,
                                                           const std::vector<std::string>&,
                                                           const std::vector<FdMapping>&);
    SandboxProcess() = default;
    ExitInfo finish(int status, bool timed_out);

    std::unique_ptr<Cgroup> cgroup_;
    pid_t helper_ = -1;
    pid_t pid1_host_ = 0;
    std::optional<ExitInfo> exit_;
};

// spawn_sandboxed starts argv[0] (an absolute path inside the sandbox) in a new sandbox.
// Requires root. Throws util::Error naming the failed step (cgroup, namespace, mount, exec);
// set-up failures inside the child are reported back before this returns.
std::unique_ptr<SandboxProcess> spawn_sandboxed(const SandboxSpec& spec,
                                                const std::vector<std::string>& argv,
                                                const std::vector<FdMapping>& fds = {});

// fake_passwd / fake_group are the /etc/passwd and /etc/group the sandbox gets.
std::string fake_passwd();
std::string fake_group();

// new_resource_name returns a fresh "drak-<pid>-<n>" name unique within this process.
std::string new_resource_name();

}  // namespace engine::native
