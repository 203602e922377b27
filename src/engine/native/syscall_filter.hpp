// engine/native/syscall_filter.hpp — the seccomp filter every sandboxed program runs under: a
// deny-list of kernel interfaces an unprivileged process can still reach and that samples do not
// need, chosen to shrink the kernel attack surface (where sandbox escapes come from). Above all
// user namespaces: with them (on by default in Debian 12) a sample becomes "root" in a new
// namespace and reaches mount, netfilter and other code meant for privileged users.
//
// Denied with EPERM: unshare/clone with CLONE_NEWUSER, setns, bpf, userfaultfd,
// perf_event_open, keyctl/add_key/request_key, io_uring_*, the new mount API (fsopen, fsconfig,
// fsmount, fspick, open_tree, move_mount, mount_setattr), mount/umount2/pivot_root,
// kexec/module loading, open_by_handle_at, name_to_handle_at, quotactl, acct, swapon/off,
// reboot, clock/time setting. clone3 answers ENOSYS (its flags live in memory, so seccomp
// cannot inspect them; glibc then falls back to clone, which is filtered). Rules cover the
// x86-64, i386 (32-bit Wine) and x32 ABIs.
#pragma once

#include <linux/filter.h>

#include <vector>

namespace engine::native {

// sandbox_syscall_filter returns the compiled BPF program (built once, with libseccomp, in the
// engine: installing it in the forked child is then a single allocation-free seccomp(2) call).
// Throws util::Error when libseccomp fails.
const std::vector<sock_filter>& sandbox_syscall_filter();

}  // namespace engine::native
