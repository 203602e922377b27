// engine/xen/process.cpp — fork/exec children in their own process group, poll-based capture.
#include "engine/xen/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::xen {

namespace {

int decode_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Child Child::spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
    if (argv.empty()) {
        throw util::Error("spawn: empty argv");
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    util::UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) {
        util::throw_errno("open /dev/null");
    }
    int out = stdout_fd >= 0 ? stdout_fd : devnull.get();
    int err = stderr_fd >= 0 ? stderr_fd : devnull.get();
    pid_t pid = ::fork();
    if (pid < 0) {
        util::throw_errno("fork " + argv[0]);
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(devnull.get(), 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::signal(SIGPIPE, SIG_DFL);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // also from the parent: no race with an early signal_group
    Child c;
    c.pid_ = pid;
    return c;
}

Child::Child(Child&& other) noexcept : pid_(other.pid_), status_(other.status_) { other.pid_ = -1; }

Child& Child::operator=(Child&& other) noexcept {
    if (this != &other) {
        if (running()) {
            stop(std::chrono::milliseconds(0));
        }
        pid_ = other.pid_;
        status_ = other.status_;
        other.pid_ = -1;
    }
    return *this;
}

Child::~Child() {
    if (running()) {
        signal_group(SIGKILL);
        int st = 0;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
    }
}

std::optional<int> Child::try_wait() {
    if (status_ || pid_ <= 0) {
        return status_;
    }
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = decode_status(st);
    }
    return status_;
}

std::optional<int> Child::wait_for(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (auto s = try_wait()) {
            return s;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void Child::signal_group(int sig) {
    if (running()) {
        ::kill(-pid_, sig);
    }
}

int Child::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) {
        return -1;
    }
    if (!running()) {
        return *status_;
    }
    signal_group(SIGTERM);
    if (auto s = wait_for(grace)) {
        signal_group(SIGKILL);  // stragglers of the group
        return *s;
    }
    signal_group(SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = decode_status(st);
    return *status_;
}

ToolResult run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                    std::chrono::milliseconds grace) {
    int po[2];
    int pe[2];
    if (::pipe2(po, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd out_r(po[0]);
    util::UniqueFd out_w(po[1]);
    if (::pipe2(pe, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd err_r(pe[0]);
    util::UniqueFd err_w(pe[1]);
    Child child = Child::spawn(argv, out_w.get(), err_w.get());
    out_w.reset();
    err_w.reset();
    ToolResult r;
    auto deadline = std::chrono::steady_clock::now() + limit;
    bool out_open = true;
    bool err_open = true;
    char buf[8192];
    while (out_open || err_open) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            r.timed_out = true;
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0},
                         {err_open ? err_r.get() : -1, POLLIN, 0}};
        int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 200)));
        if (n < 0 && errno != EINTR) {
            util::throw_errno("poll");
        }
        for (int i = 0; i < 2 && n > 0; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got <= 0) {
                (i == 0 ? out_open : err_open) = false;
                continue;
            }
            std::string& dst = i == 0 ? r.out : r.err;
            std::size_t cap = i == 0 ? (1u << 20) : (64u << 10);
            if (dst.size() < cap) {
                dst.append(buf,
                           std::min<std::size_t>(static_cast<std::size_t>(got), cap - dst.size()));
            }
        }
    }
    if (r.timed_out) {
        r.exit_code = child.stop(grace);
        return r;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (auto s = child.wait_for(std::max(left, std::chrono::milliseconds(0)))) {
        r.exit_code = *s;
    } else {
        r.timed_out = true;
        r.exit_code = child.stop(grace);
    }
    return r;
}

std::string join_argv(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) {
        s += (s.empty() ? "" : " ") + a;
    }
    return s;
}

}  // namespace engine::xen
