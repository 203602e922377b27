// engine/native/command.cpp — helper-program runner (posix_spawn + pipe).
#include "engine/native/command.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.hpp"
#include "util/fs.hpp"

extern char** environ;

namespace engine::native {

CommandResult run_command(const std::vector<std::string>& argv) {
    if (argv.empty()) {
        throw util::Error("run_command: empty argv");
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd rd(fds[0]);
    util::UniqueFd wr(fds[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        throw util::SystemError("spawn " + argv[0], rc);
    }
    wr.reset();
    CommandResult result;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (result.output.size() < 65536) {
            result.output.append(buf, static_cast<std::size_t>(n));
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            util::throw_errno("waitpid " + argv[0]);
        }
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string run_checked(const std::vector<std::string>& argv) {
    auto r = run_command(argv);
    if (r.exit_code != 0) {
        std::string cmd;
        for (const auto& a : argv) {
            cmd += (cmd.empty() ? "" : " ") + a;
        }
        throw util::Error(cmd + " failed (exit " + std::to_string(r.exit_code) + "): " + r.output);
    }
    return r.output;
}

}  // namespace engine::native
