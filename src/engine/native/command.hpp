// engine/native/command.hpp — run a host helper program (ip, iptables) to completion with its
// output captured; used to build the native engine's network namespaces. No shell involved.
#pragma once

#include <string>
#include <vector>

namespace engine::native {

// CommandResult: exit status and combined stdout+stderr (bounded to 64 KiB).
struct CommandResult {
    int exit_code = -1;  // 128+signal when killed by a signal
    std::string output;
};

// run_command executes argv[0] (looked up in PATH) with the given arguments, an empty stdin
// and the parent's environment; waits for it. Throws util::SystemError if it cannot start.
CommandResult run_command(const std::vector<std::string>& argv);

// run_checked runs the command and throws util::Error (with its output) unless it exits 0.
std::string run_checked(const std::vector<std::string>& argv);

}  // namespace engine::native
