// engine/native/syscall_filter.cpp — see syscall_filter.hpp.
#include "engine/native/syscall_filter.hpp"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/scope_exit.hpp"

namespace engine::native {

namespace {

const char* const kDenied[] = {
    "setns",           "bpf",           "userfaultfd",     "perf_event_open",
    "keyctl",          "add_key",       "request_key",     "io_uring_setup",
    "io_uring_enter",  "io_uring_register", "fsopen",      "fsconfig",
    "fsmount",         "fspick",        "open_tree",       "move_mount",
    "mount_setattr",   "mount",         "umount2",         "umount",
    "pivot_root",      "kexec_load",    "kexec_file_load", "init_module",
    "finit_module",    "delete_module", "open_by_handle_at", "name_to_handle_at",
    "quotactl",        "acct",          "swapon",          "swapoff",
    "reboot",          "settimeofday",  "clock_settime",   "clock_adjtime",
    "adjtimex",        "stime",         "lookup_dcookie",  "vhangup",
};

void check(int rc, const char* what) {
    if (rc < 0) {
        throw util::Error(std::string("seccomp filter: ") + what + ": " + std::strerror(-rc));
    }
}

std::vector<sock_filter> build() {
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == nullptr) {
        throw util::Error("seccomp filter: seccomp_init failed");
    }
    util::ScopeExit release([&] { ::seccomp_release(ctx); });
    // The engine runs on x86-64; 32-bit Wine programs enter the kernel through the i386 ABI.
    for (const auto arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
        const int rc = ::seccomp_arch_add(ctx, arch);
        if (rc != 0 && rc != -EEXIST) {
            check(rc, "seccomp_arch_add");
        }
    }
    const auto deny = SCMP_ACT_ERRNO(EPERM);
    for (const char* name : kDenied) {
        const int nr = ::seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            continue;  // not a syscall on these architectures
        }
        check(::seccomp_rule_add(ctx, deny, nr, 0), name);
    }
    check(::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3");
    // (SCMP_A0() is a C compound literal; spelled out for C++.)
    const auto newuser = static_cast<scmp_datum_t>(CLONE_NEWUSER);
    const scmp_arg_cmp flags_has_newuser{0, SCMP_CMP_MASKED_EQ, newuser, newuser};
    check(::seccomp_rule_add_array(ctx, deny, SCMP_SYS(unshare), 1, &flags_has_newuser),
          "unshare");
    check(::seccomp_rule_add_array(ctx, deny, SCMP_SYS(clone), 1, &flags_has_newuser), "clone");

    // Export the compiled program through a memfd (libseccomp 2.5 has no in-memory export).
    util::UniqueFd mem(::memfd_create("drak-seccomp", MFD_CLOEXEC));
    if (!mem) {
        util::throw_errno("memfd_create");
    }
    check(::seccomp_export_bpf(ctx, mem.get()), "seccomp_export_bpf");
    const off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
        throw util::Error("seccomp filter: unexpected BPF size " + std::to_string(size));
    }
    std::vector<sock_filter> prog(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), prog.data(), static_cast<std::size_t>(size), 0) != size) {
        util::throw_errno("read seccomp BPF");
    }
    return prog;
}

}  // namespace

const std::vector<sock_filter>& sandbox_syscall_filter() {
    static std::once_flag once;
    static std::vector<sock_filter> prog;
    std::call_once(once, [] { prog = build(); });
    return prog;
}

}  // namespace engine::native
