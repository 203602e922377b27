// engine/xen/process.hpp — child processes for the Xen engine: one-shot tools with a wall-clock
// limit and captured output (xl, injector, iptables...), and long-running ones (drakvuf,
// tcpdump, dnsmasq) owned by RAII handles. Each child leads its own process group so a stop
// reaches its descendants too (spec drakvuf-output.md §4.2 wall-clock limit, §5.3, §7.2).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace engine::xen {

// Child owns one running process (and its process group). The destructor SIGKILLs the group
// and reaps the child if it is still running, so no path leaks a process.
class Child {
  public:
    Child() = default;
    // spawn runs argv[0] (PATH lookup) with the given fds as stdin/stdout/stderr (-1: /dev/null)
    // in a new process group. Throws util::SystemError when fork fails; an exec failure shows
    // up as exit code 127.
    static Child spawn(const std::vector<std::string>& argv, int stdout_fd = -1,
                       int stderr_fd = -1);
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    bool running() const { return pid_ > 0 && !status_; }
    pid_t pid() const { return pid_; }
    // try_wait reaps without blocking; returns the exit code (128+signal when killed) once done.
    std::optional<int> try_wait();
    // wait_for waits up to `limit`; nullopt when still running afterwards.
    std::optional<int> wait_for(std::chrono::milliseconds limit);
    // signal_group sends `sig` to the whole process group (no-op once reaped).
    void signal_group(int sig);
    // stop sends SIGTERM to the group, waits `grace`, then SIGKILLs; returns the exit code.
    int stop(std::chrono::milliseconds grace);

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// ToolResult: outcome of a one-shot tool run.
struct ToolResult {
    int exit_code = -1;      // 128+signal when killed
    bool timed_out = false;  // the wall-clock limit was hit and the tool was stopped
    std::string out;         // stdout, bounded to 1 MiB
    std::string err;         // stderr, bounded to 64 KiB
};

// run_tool runs argv to completion or until `limit` passes (then SIGTERM, `grace`, SIGKILL).
ToolResult run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                    std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

// join_argv renders argv for logs and error messages (space separated, no quoting).
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace engine::xen
