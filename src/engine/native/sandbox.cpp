// engine/native/sandbox.cpp — namespaces + mounts + cgroup + credentials for one sandboxed
// program (see sandbox.hpp). The child side runs only a precomputed plan of system calls.
#include "engine/native/sandbox.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "engine/native/syscall_filter.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {

namespace fs = std::filesystem;

namespace {

// One step of the child's set-up plan. Everything a step needs is computed in the parent:
// the engine is multithreaded, and a forked child must not allocate before execve() (another
// thread may have held an allocator lock at fork time; GCC 12's libasan does not reset its
// locks in the child, so the sanitizer build hung there). The child only reads these strings.
struct StepSpec {
    enum class Kind { Tmpfs, Bind, Proc, Overlay, MkdirP, Symlink, WriteFile, Touch } kind;
    std::string a;     // target (or source for Bind/Symlink)
    std::string b;     // target for Bind/Symlink
    std::string data;  // mount options / file content
    bool writable = false;
    unsigned long flags = 0;
};

struct Step : StepSpec {
    // Filled by prepare(): directories to create first (outermost first), and for Bind whether
    // the source is a directory (mount point: directory) or a file (mount point: empty file).
    std::vector<std::string> mkdirs;
    bool source_is_dir = false;
};

[[noreturn]] void child_fail(int err_fd, const char* what, const char* arg, int err) {
    // strerrordesc_np, unlike strerror, never allocates or loads a locale's message catalogue.
    const char* desc = ::strerrordesc_np(err);
    char buf[1024];
    int n = std::snprintf(buf, sizeof buf, "%s %s: %s", what, arg,
                          desc != nullptr ? desc : "unknown error");
    if (n > 0) {
        ssize_t w =
            ::write(err_fd, buf, static_cast<std::size_t>(n) < sizeof buf ? n : sizeof buf - 1);
        (void)w;
    }
    ::_exit(127);
}

// path_prefixes("/a/b/c") = {"/a", "/a/b", "/a/b/c"}: what `mkdir -p` creates, in order.
std::vector<std::string> path_prefixes(const std::string& path) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < path.size()) {
        auto next = path.find('/', pos + 1);
        std::string cur = path.substr(0, next);
        if (!cur.empty()) {
            out.push_back(std::move(cur));
        }
        if (next == std::string::npos) {
            break;
        }
        pos = next;
    }
    return out;
}

void prepare(Step& s) {
    switch (s.kind) {
        case Step::Kind::Tmpfs:
        case Step::Kind::Proc:
        case Step::Kind::Overlay:
        case Step::Kind::MkdirP:
            s.mkdirs = path_prefixes(s.a);
            return;
        case Step::Kind::Bind: {
            std::error_code ec;
            const auto st = fs::status(s.a, ec);
            if (ec || !fs::exists(st)) {
                throw util::Error("sandbox bind source " + s.a + " is missing: " +
                                  (ec ? ec.message() : std::string("no such file")));
            }
            s.source_is_dir = fs::is_directory(st);
            s.mkdirs = path_prefixes(s.source_is_dir ? s.b : s.b.substr(0, s.b.rfind('/')));
            return;
        }
        case Step::Kind::Symlink:
        case Step::Kind::WriteFile:
        case Step::Kind::Touch:
            return;
    }
}

void make_dirs(const Step& s, int err_fd) {
    for (const auto& dir : s.mkdirs) {
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            child_fail(err_fd, "mkdir", dir.c_str(), errno);
        }
    }
}

void run_step(const Step& s, int err_fd) {
    make_dirs(s, err_fd);
    switch (s.kind) {
        case Step::Kind::Tmpfs:
            if (::mount("tmpfs", s.a.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | s.flags,
                        s.data.c_str()) != 0) {
                child_fail(err_fd, "mount tmpfs", s.a.c_str(), errno);
            }
            return;
        case Step::Kind::Proc:
            if (::mount("proc", s.a.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
                0) {
                child_fail(err_fd, "mount proc", s.a.c_str(), errno);
            }
            return;
        case Step::Kind::Bind: {
            if (!s.source_is_dir) {
                int fd = ::open(s.b.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0) {
                    child_fail(err_fd, "create bind target", s.b.c_str(), errno);
                }
                ::close(fd);
            }
            if (::mount(s.a.c_str(), s.b.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
                child_fail(err_fd, "bind", s.a.c_str(), errno);
            }
            unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | s.flags;
            if (!s.writable) {
                fl |= MS_RDONLY;
            }
            if (::mount(nullptr, s.b.c_str(), nullptr, fl, nullptr) != 0) {
                child_fail(err_fd, "remount bind", s.b.c_str(), errno);
            }
            return;
        }
        case Step::Kind::Overlay:
            if (::mount("overlay", s.a.c_str(), "overlay", MS_NOSUID | MS_NODEV, s.data.c_str()) !=
                0) {
                child_fail(err_fd, "mount overlay", s.a.c_str(), errno);
            }
            return;
        case Step::Kind::MkdirP:
            return;
        case Step::Kind::Symlink:
            if (::symlink(s.a.c_str(), s.b.c_str()) != 0 && errno != EEXIST) {
                child_fail(err_fd, "symlink", s.b.c_str(), errno);
            }
            return;
        case Step::Kind::WriteFile:
        case Step::Kind::Touch: {
            int fd = ::open(s.a.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0) {
                child_fail(err_fd, "write", s.a.c_str(), errno);
            }
            std::size_t off = 0;
            while (off < s.data.size()) {
                ssize_t n = ::write(fd, s.data.data() + off, s.data.size() - off);
                if (n <= 0) {
                    child_fail(err_fd, "write", s.a.c_str(), errno);
                }
                off += static_cast<std::size_t>(n);
            }
            ::close(fd);
            return;
        }
    }
}

const char* const kEtcEntries[] = {"ld.so.cache",   "ld.so.conf", "ld.so.conf.d",    "alternatives",
                                   "fonts",         "ssl",        "ca-certificates", "localtime",
                                   "nsswitch.conf", "gai.conf",   "host.conf",       "protocols",
                                   "services",      "mime.types", "magic",           "wine"};

const char* const kRootLinks[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

std::vector<Step> build_plan(const SandboxSpec& spec, const std::string& root) {
    std::vector<Step> plan;
    auto add = [&](StepSpec s) { plan.push_back(Step{std::move(s), {}, false}); };
    add({Step::Kind::Tmpfs, root, "", "mode=0755,size=64m", false, 0});
    for (const char* d : {"/usr", "/etc", "/dev", "/proc", "/tmp", "/home", "/run", "/var/tmp",
                          "/.oldroot", "/analysis"}) {
        add({Step::Kind::MkdirP, root + d, "", "", false, 0});
    }
    for (const char* l : kRootLinks) {
        fs::path host = fs::path("/") / l;
        std::error_code ec;
        if (fs::is_symlink(host, ec)) {
            add({Step::Kind::Symlink, fs::read_symlink(host, ec).string(), root + "/" + l, "",
                 false, 0});
        } else if (fs::is_directory(host, ec)) {
            add({Step::Kind::Bind, host.string(), root + "/" + l, "", false, MS_NODEV});
        }
    }
    add({Step::Kind::Bind, "/usr", root + "/usr", "", false, MS_NODEV});
    for (const char* e : kEtcEntries) {
        fs::path host = fs::path("/etc") / e;
        std::error_code ec;
        if (fs::exists(host, ec)) {
            add({Step::Kind::Bind, host.string(), root + "/etc/" + e, "", false, MS_NODEV});
        }
    }
    add({Step::Kind::WriteFile, root + "/etc/passwd", "", fake_passwd(), false, 0});
    add({Step::Kind::WriteFile, root + "/etc/group", "", fake_group(), false, 0});
    add({Step::Kind::WriteFile, root + "/etc/hostname", "", spec.hostname + "\n", false, 0});
    add({Step::Kind::WriteFile, root + "/etc/hosts", "",
         "127.0.0.1 localhost\n127.0.1.1 " + spec.hostname + "\n", false, 0});
    add({Step::Kind::WriteFile, root + "/etc/resolv.conf", "", "nameserver 10.13.0.1\n", false, 0});
    add({Step::Kind::WriteFile, root + "/etc/machine-id", "", "5f1c3a9e0b7d4e2f8a6c1d3b9e7f0a24\n",
         false, 0});
    for (const char* d : {"null", "zero", "full", "random", "urandom"}) {
        add({Step::Kind::Bind, std::string("/dev/") + d, root + "/dev/" + d, "", true, MS_NOEXEC});
    }
    add({Step::Kind::Tmpfs, root + "/dev/shm", "", "mode=1777,size=64m", false, 0});
    add({Step::Kind::Symlink, "/proc/self/fd", root + "/dev/fd", "", false, 0});
    add({Step::Kind::Symlink, "/proc/self/fd/0", root + "/dev/stdin", "", false, 0});
    add({Step::Kind::Symlink, "/proc/self/fd/1", root + "/dev/stdout", "", false, 0});
    add({Step::Kind::Symlink, "/proc/self/fd/2", root + "/dev/stderr", "", false, 0});
    add({Step::Kind::Tmpfs, root + "/tmp", "", "mode=1777,size=512m", false, 0});
    add({Step::Kind::Tmpfs, root + "/var/tmp", "", "mode=1777,size=64m", false, 0});
    add({Step::Kind::Tmpfs, root + "/home", "", "mode=0755,size=64m", false, 0});
    add({Step::Kind::Tmpfs, root + "/home/" + kSandboxUser, "",
         "mode=0755,size=512m,uid=" + std::to_string(kSandboxUid) +
             ",gid=" + std::to_string(kSandboxGid),
         false, 0});
    add({Step::Kind::Proc, root + "/proc", "", "", false, 0});
    for (const auto& b : spec.binds) {
        add({Step::Kind::Bind, b.source.string(), root + b.target.string(), "", b.writable,
             MS_NODEV});
    }
    if (spec.overlay) {
        const auto& o = *spec.overlay;
        add({Step::Kind::Overlay, root + o.target.string(), "",
             "lowerdir=" + o.lower.string() + ",upperdir=" + o.upper.string() +
                 ",workdir=" + o.work.string(),
             false, 0});
    }
    for (auto& step : plan) {
        prepare(step);
    }
    return plan;
}

void write_all_fd(int fd, const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

// What pid 1 needs besides the mount plan, laid out before fork() so the child allocates
// nothing (see Step).
struct ChildPlan {
    std::string root;
    std::string old_root;  // root + "/.oldroot", pivot_root's put_old
    std::vector<Step> steps;
    std::vector<char*> argv;  // null-terminated, points into the caller's argv strings
    std::vector<char*> envp;  // null-terminated, points into spec.env
    std::vector<int> moved_fds;  // scratch: one slot per FdMapping
    sock_fprog syscall_filter{};  // points into sandbox_syscall_filter()'s program
};

ChildPlan make_child_plan(const SandboxSpec& spec, const std::string& root,
                          const std::vector<std::string>& argv, const std::vector<FdMapping>& fds) {
    ChildPlan plan;
    plan.root = root;
    plan.old_root = root + "/.oldroot";
    plan.steps = build_plan(spec, root);
    for (const auto& a : argv) {
        plan.argv.push_back(const_cast<char*>(a.c_str()));
    }
    plan.argv.push_back(nullptr);
    for (const auto& e : spec.env) {
        plan.envp.push_back(const_cast<char*>(e.c_str()));
    }
    plan.envp.push_back(nullptr);
    plan.moved_fds.assign(fds.size(), -1);
    const auto& filter = sandbox_syscall_filter();
    plan.syscall_filter.len = static_cast<unsigned short>(filter.size());
    plan.syscall_filter.filter = const_cast<sock_filter*>(filter.data());
    return plan;
}

// The sandbox's pid 1: mounts, pivot_root, credentials, fds, exec. Never returns and never
// allocates (it runs in the child of a multithreaded process).
[[noreturn]] void run_pid1(const SandboxSpec& spec, ChildPlan& plan,
                           const std::vector<FdMapping>& fds, int err_fd) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        child_fail(err_fd, "make-rprivate", "/", errno);
    }
    for (const auto& s : plan.steps) {
        run_step(s, err_fd);
    }
    if (::syscall(SYS_pivot_root, plan.root.c_str(), plan.old_root.c_str()) != 0) {
        child_fail(err_fd, "pivot_root", plan.root.c_str(), errno);
    }
    if (::chdir("/") != 0) {
        child_fail(err_fd, "chdir", "/", errno);
    }
    if (::umount2("/.oldroot", MNT_DETACH) != 0) {
        child_fail(err_fd, "umount", "/.oldroot", errno);
    }
    ::rmdir("/.oldroot");
    if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                nullptr) != 0) {
        child_fail(err_fd, "remount ro", "/", errno);
    }
    if (::sethostname(spec.hostname.c_str(), spec.hostname.size()) != 0) {
        child_fail(err_fd, "sethostname", spec.hostname.c_str(), errno);
    }
    // Re-arrange fds: first move every source above all targets, then dup2 into place.
    int err_high = ::fcntl(err_fd, F_DUPFD_CLOEXEC, 1000);
    if (err_high < 0) {
        child_fail(err_fd, "dup", "err", errno);
    }
    err_fd = err_high;
    char fd_name[16];
    for (std::size_t i = 0; i < fds.size(); ++i) {
        int h = ::fcntl(fds[i].parent_fd, F_DUPFD_CLOEXEC, 1100);
        if (h < 0) {
            std::snprintf(fd_name, sizeof fd_name, "%d", fds[i].parent_fd);
            child_fail(err_fd, "dup", fd_name, errno);
        }
        plan.moved_fds[i] = h;
    }
    bool mapped[3] = {false, false, false};
    int max_target = 2;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        if (::dup2(plan.moved_fds[i], fds[i].child_fd) < 0) {
            std::snprintf(fd_name, sizeof fd_name, "%d", fds[i].child_fd);
            child_fail(err_fd, "dup2", fd_name, errno);
        }
        if (fds[i].child_fd < 3) {
            mapped[fds[i].child_fd] = true;
        }
        max_target = std::max(max_target, fds[i].child_fd);
    }
    for (int i = 0; i < 3; ++i) {
        if (!mapped[i]) {
            int fd = ::open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
            if (fd < 0 || ::dup2(fd, i) < 0) {
                child_fail(err_fd, "open", "/dev/null", errno);
            }
            if (fd != i) {
                ::close(fd);
            }
        }
    }
    ::syscall(SYS_close_range, max_target + 1, err_fd - 1, 0);
    ::syscall(SYS_close_range, err_fd + 1, ~0U, 0);
    if (!spec.run_as_root) {
        if (::setgroups(0, nullptr) != 0 ||
            ::setresgid(kSandboxGid, kSandboxGid, kSandboxGid) != 0 ||
            ::setresuid(kSandboxUid, kSandboxUid, kSandboxUid) != 0) {
            child_fail(err_fd, "drop privileges", "", errno);
        }
    }
    // Changing credentials cleared the parent-death signal; pid 1 must die with the helper
    // (and so with the engine) even when the engine is SIGKILLed.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        child_fail(err_fd, "pdeathsig", "", errno);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        child_fail(err_fd, "no_new_privs", "", errno);
    }
    if (::chdir(spec.cwd.c_str()) != 0) {
        child_fail(err_fd, "chdir", spec.cwd.c_str(), errno);
    }
    // Last step: the filter denies mount and friends, which the set-up above needed.
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &plan.syscall_filter) != 0) {
        child_fail(err_fd, "seccomp", "sandbox syscall filter", errno);
    }
    ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
    child_fail(err_fd, "execve", plan.argv[0], errno);
}

std::string read_all_fd(int fd) {
    std::string out;
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

std::string fake_passwd() {
    return "root:x:0:0:root:/root:/bin/sh\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" +
           std::string(kSandboxUser) + ":x:" + std::to_string(kSandboxUid) + ":" +
           std::to_string(kSandboxGid) + ":" + kSandboxUser + ":/home/" + kSandboxUser +
           ":/bin/sh\n";
}

std::string fake_group() {
    return "root:x:0:\nnogroup:x:65534:\n" + std::string(kSandboxUser) +
           ":x:" + std::to_string(kSandboxGid) + ":\n";
}

std::string new_resource_name() {
    static std::atomic<unsigned> counter{0};
    return std::string(kResourcePrefix) + std::to_string(::getpid()) + "-" +
           std::to_string(counter.fetch_add(1));
}

std::unique_ptr<SandboxProcess> spawn_sandboxed(const SandboxSpec& spec,
                                                const std::vector<std::string>& argv,
                                                const std::vector<FdMapping>& fds) {
    if (::geteuid() != 0) {
        throw util::Error("the native sandbox needs root (namespaces, mounts, cgroups)");
    }
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
        throw util::Error("sandbox argv[0] must be an absolute path");
    }
    if (spec.name.rfind(kResourcePrefix, 0) != 0) {
        throw util::Error("sandbox name must start with " + std::string(kResourcePrefix));
    }
    fs::path root_dir = spec.scratch / "root";
    fs::create_directories(root_dir);
    const std::string root = root_dir.string();
    ChildPlan plan = make_child_plan(spec, root, argv, fds);

    util::UniqueFd netns;
    if (!spec.netns.empty()) {
        int nfd = ::open(spec.netns.c_str(), O_RDONLY | O_CLOEXEC);
        if (nfd < 0) {
            util::throw_errno("open netns " + spec.netns.string());
        }
        netns.reset(nfd);
    }

    auto proc = std::unique_ptr<SandboxProcess>(new SandboxProcess());
    proc->cgroup_ = std::make_unique<Cgroup>(spec.name, spec.limits);

    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd sync_r(p[0]), sync_w(p[1]);
    if (::pipe2(p, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd err_r(p[0]), err_w(p[1]);
    if (::pipe2(p, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd pid_r(p[0]), pid_w(p[1]);

    pid_t engine_tid = ::getpid();
    pid_t helper = ::fork();
    if (helper < 0) {
        util::throw_errno("fork");
    }
    if (helper == 0) {
        // Helper (host PID namespace): waits for set-up approval, unshares, forks pid 1.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != engine_tid) {
            ::_exit(127);
        }
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
        if (!netns) {
            flags |= CLONE_NEWNET;
        }
        if (::unshare(flags) != 0) {
            child_fail(err_w.get(), "unshare", "namespaces", errno);
        }
        if (netns && ::setns(netns.get(), CLONE_NEWNET) != 0) {
            child_fail(err_w.get(), "setns", spec.netns.c_str(), errno);
        }
        pid_t pid1 = ::fork();
        if (pid1 < 0) {
            child_fail(err_w.get(), "fork", "pid1", errno);
        }
        if (pid1 == 0) {
            // getppid() is 0 here (the parent is outside the new PID namespace), so the
            // parent-death race cannot be checked; the helper's own death signal covers it.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            pid_w.reset();
            sync_w.reset();
            // Wait until the engine has moved us into the cgroup, then hide the host's
            // cgroup tree behind a cgroup namespace rooted at our group.
            char c = 0;
            if (::read(sync_r.get(), &c, 1) != 1) {
                ::_exit(127);
            }
            if (::unshare(CLONE_NEWCGROUP) != 0) {
                child_fail(err_w.get(), "unshare", "cgroup namespace", errno);
            }
            run_pid1(spec, plan, fds, err_w.get());
        }
        err_w.reset();
        write_all_fd(pid_w.get(), &pid1, sizeof pid1);
        pid_w.reset();
        int status = 0;
        while (::waitpid(pid1, &status, 0) < 0) {
            if (errno != EINTR) {
                ::_exit(127);
            }
        }
        ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    proc->helper_ = helper;
    sync_r.reset();
    err_w.reset();
    pid_w.reset();
    pid_t pid1 = 0;
    std::string pid_bytes = read_all_fd(pid_r.get());
    if (pid_bytes.size() == sizeof pid1) {
        std::memcpy(&pid1, pid_bytes.data(), sizeof pid1);
    }
    proc->pid1_host_ = pid1;
    if (pid1 > 0) {
        try {
            proc->cgroup_->add(pid1);
        } catch (...) {
            ::kill(pid1, SIGKILL);
            int st = 0;
            ::waitpid(helper, &st, 0);
            proc->helper_ = -1;
            throw;
        }
        char go = 1;
        write_all_fd(sync_w.get(), &go, 1);
    }
    sync_w.reset();
    std::string err = read_all_fd(err_r.get());
    if (!err.empty()) {
        proc->kill();
        int st = 0;
        ::waitpid(helper, &st, 0);
        proc->helper_ = -1;
        throw util::Error("sandbox set-up failed: " + err);
    }
    return proc;
}

SandboxProcess::~SandboxProcess() {
    kill();
    if (helper_ > 0 && !exit_) {
        int st = 0;
        ::waitpid(helper_, &st, 0);
    }
}

void SandboxProcess::kill() {
    if (cgroup_) {
        cgroup_->kill_all();
    }
}

ExitInfo SandboxProcess::finish(int status, bool timed_out) {
    ExitInfo info;
    info.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    info.timed_out = timed_out;
    // pid 1 exiting tears the PID namespace down; the cgroup sweep makes sure.
    kill();
    info.oom_killed = cgroup_ && cgroup_->oom_killed();
    exit_ = info;
    return info;
}

std::optional<ExitInfo> SandboxProcess::try_wait() {
    if (exit_) {
        return exit_;
    }
    int status = 0;
    pid_t r = ::waitpid(helper_, &status, WNOHANG);
    if (r == helper_) {
        return finish(status, false);
    }
    return std::nullopt;
}

ExitInfo SandboxProcess::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto e = try_wait()) {
            return *e;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            kill();
            int status = 0;
            while (::waitpid(helper_, &status, 0) < 0 && errno == EINTR) {
            }
            return finish(status, true);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace engine::native
