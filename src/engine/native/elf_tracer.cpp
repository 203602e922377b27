// engine/native/elf_tracer.cpp — see elf_tracer.hpp. x86_64 only (register layout).
#include "engine/native/elf_tracer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "engine/native/internal/records.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"

extern char** environ;

namespace engine::native {

namespace {

#if !defined(__x86_64__)
#error "ElfTracer supports x86_64 hosts only"
#endif

constexpr std::size_t kMaxString = 4096;
constexpr std::size_t kMaxArgs = 256;
constexpr std::size_t kMaxDnsBytes = 512;

// ArgKind: how a syscall argument is rendered in the `syscall` record (§2.10).
enum class ArgKind { Hex, Path };

struct SyscallSpec {
    long nr;
    const char* name;
    std::vector<std::pair<const char*, ArgKind>> args;
};

const std::vector<SyscallSpec>& syscall_specs() {
    using K = ArgKind;
    static const std::vector<SyscallSpec> kSpecs = {
        {SYS_open, "open", {{"filename", K::Path}, {"flags", K::Hex}, {"mode", K::Hex}}},
        {SYS_openat,
         "openat",
         {{"dfd", K::Hex}, {"filename", K::Path}, {"flags", K::Hex}, {"mode", K::Hex}}},
        {SYS_creat, "creat", {{"pathname", K::Path}, {"mode", K::Hex}}},
        {SYS_unlink, "unlink", {{"pathname", K::Path}}},
        {SYS_unlinkat, "unlinkat", {{"dfd", K::Hex}, {"pathname", K::Path}, {"flag", K::Hex}}},
        {SYS_rename, "rename", {{"oldname", K::Path}, {"newname", K::Path}}},
        {SYS_renameat,
         "renameat",
         {{"olddfd", K::Hex}, {"oldname", K::Path}, {"newdfd", K::Hex}, {"newname", K::Path}}},
        {SYS_renameat2,
         "renameat2",
         {{"olddfd", K::Hex},
          {"oldname", K::Path},
          {"newdfd", K::Hex},
          {"newname", K::Path},
          {"flags", K::Hex}}},
        {SYS_execve, "execve", {{"filename", K::Path}, {"argv", K::Hex}, {"envp", K::Hex}}},
        {SYS_execveat,
         "execveat",
         {{"fd", K::Hex},
          {"filename", K::Path},
          {"argv", K::Hex},
          {"envp", K::Hex},
          {"flags", K::Hex}}},
        {SYS_connect, "connect", {{"fd", K::Hex}, {"uservaddr", K::Hex}, {"addrlen", K::Hex}}},
        {SYS_sendto,
         "sendto",
         {{"fd", K::Hex},
          {"buff", K::Hex},
          {"len", K::Hex},
          {"flags", K::Hex},
          {"addr", K::Hex},
          {"addr_len", K::Hex}}},
        {SYS_sendmsg, "sendmsg", {{"fd", K::Hex}, {"msg", K::Hex}, {"flags", K::Hex}}},
        {SYS_sendmmsg,
         "sendmmsg",
         {{"fd", K::Hex}, {"mmsg", K::Hex}, {"vlen", K::Hex}, {"flags", K::Hex}}},
        {SYS_mmap,
         "mmap",
         {{"addr", K::Hex},
          {"len", K::Hex},
          {"prot", K::Hex},
          {"flags", K::Hex},
          {"fd", K::Hex},
          {"off", K::Hex}}},
        {SYS_mprotect, "mprotect", {{"start", K::Hex}, {"len", K::Hex}, {"prot", K::Hex}}},
        {SYS_munmap, "munmap", {{"addr", K::Hex}, {"len", K::Hex}}},
    };
    return kSpecs;
}

const SyscallSpec* find_spec(long nr) {
    for (const auto& s : syscall_specs()) {
        if (s.nr == nr) {
            return &s;
        }
    }
    return nullptr;
}

std::string read_link(const std::string& path) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
        return {};
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

std::string read_small_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// status_field returns the first number of a /proc/<pid>/status field ("Tgid", "Uid").
std::int64_t status_field(std::int64_t pid, std::string_view field) {
    std::string text = read_small_file("/proc/" + std::to_string(pid) + "/status");
    std::string key = std::string(field) + ":";
    auto pos = text.find("\n" + key);
    if (text.rfind(key, 0) == 0) {
        pos = 0;
    } else if (pos != std::string::npos) {
        pos += 1;
    } else {
        return -1;
    }
    return std::strtoll(text.c_str() + pos + key.size(), nullptr, 10);
}

std::string ip_string(const sockaddr_storage& ss, int& port, std::string& family) {
    char buf[64] = {0};
    if (ss.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        port = ntohs(a->sin_port);
        family = "v4";
        return buf;
    }
    if (ss.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        // §2.7: 8 groups of 4 lower-case hex digits, no zero compression.
        std::string out;
        for (int i = 0; i < 8; ++i) {
            std::snprintf(buf, sizeof buf, "%02x%02x", a->sin6_addr.s6_addr[2 * i],
                          a->sin6_addr.s6_addr[2 * i + 1]);
            out += (i ? ":" : "") + std::string(buf);
        }
        port = ntohs(a->sin6_port);
        family = "v6";
        return out;
    }
    port = 0;
    family.clear();
    return {};
}

std::string flag_names(std::uint64_t flags,
                       const std::vector<std::pair<std::uint64_t, const char*>>& names) {
    std::string out;
    for (const auto& [bit, name] : names) {
        if ((flags & bit) == bit && bit != 0) {
            out += (out.empty() ? "" : " | ") + std::string(name);
        }
    }
    // Compat: an empty C++ std::string prints as "(null)" in DRAKVUF's printer (§1.2).
    return out.empty() ? "(null)" : out;
}

struct Thread {
    std::int64_t tgid = 0;
    bool attached = false;    // initial SIGSTOP seen
    bool in_syscall = false;  // waiting for the exit stop of `nr`
    long nr = -1;
    std::uint64_t args[6] = {};
    // Values captured at entry for use at exit.
    std::string path1, path2;
    std::vector<std::string> exec_argv;
    std::uint64_t event_uid = 0;
};

struct Process {
    std::int64_t pid = 0;
    std::int64_t ppid = 0;
    std::int64_t uid = 0;
    std::string image;
    std::string command_line;    // raw (not yet C-escaped)
    bool root_pre_exec = false;  // the forked tracer copy before its first execve
    bool exit_dumped = false;
};

struct Socket {
    int type = 0;
    std::string remote_ip;
    int remote_port = 0;
};

class Session {
  public:
    Session(ElfTracer& owner, RecordSink& sink, util::Clock& clock, ProcessTable& table,
            MemoryDumper& dumper, const ElfTracerOptions& options)
        : sink_(sink), clock_(clock), table_(table), dumper_(dumper), options_(options) {
        (void)owner;
    }

    ElfTraceResult run();

  private:
    // Time and ids.
    double now() {
        double t = clock_.now();
        // Strictly increasing timestamps keep exec's "old image ended" before "new image
        // started" (§8.2 lifetimes would otherwise overlap at equal microseconds).
        if (t <= last_time_ + 0.0000005) {
            t = last_time_ + 0.000001;
        }
        last_time_ = t;
        return t;
    }
    std::uint64_t next_uid() {
        return options_.next_event_uid ? options_.next_event_uid() : ++private_uid_;
    }
    internal::CommonFields common(std::int64_t tid, const Process& p, std::string method,
                                  std::uint64_t uid) {
        internal::CommonFields c;
        c.time = now();
        c.pid = p.pid;
        c.ppid = p.ppid;
        c.tid = tid;
        c.user_id = p.uid;
        c.process_name = p.image;
        c.method = std::move(method);
        c.event_uid = uid;
        return c;
    }
    void emit(nlohmann::ordered_json rec) {
        if (sink_) {
            sink_(std::move(rec));
        }
    }

    // Tracee memory.
    std::string read_mem(std::int64_t tid, std::uint64_t addr, std::size_t len);
    std::string read_string(std::int64_t tid, std::uint64_t addr);
    std::vector<std::string> read_argv(std::int64_t tid, std::uint64_t addr);
    std::string resolve_path(std::int64_t tid, std::int64_t dirfd, const std::string& path);
    std::optional<sockaddr_storage> read_sockaddr(std::int64_t tid, std::uint64_t addr,
                                                  std::uint64_t len);
    int dup_tracee_fd(std::int64_t tgid, int fd);

    // Events.
    void on_new_thread(std::int64_t parent_tid, std::int64_t tid);
    void on_seccomp(std::int64_t tid);
    void on_syscall_exit(std::int64_t tid);
    void on_exec(std::int64_t tid, std::int64_t former_tid);
    void on_exit_event(std::int64_t tid);
    void on_gone(std::int64_t tid, int status);

    void emit_syscall(std::int64_t tid, Thread& t, const SyscallSpec& spec);
    void emit_create(std::int64_t creator_tid, const Process& creator, const Process& child,
                     std::int64_t new_tid);
    void emit_file(std::int64_t tid, Thread& t, long ret);
    void emit_socket(std::int64_t tid, Thread& t, long ret);
    void emit_dns(std::int64_t tid, const Process& p, const char* method, std::string_view pkt);
    void maybe_dump_exec(std::int64_t tid, Thread& t, long ret);
    void dump_region_before_unmap(std::int64_t tid, Thread& t);
    DumpRequest dump_request(std::int64_t tid, const Process& p, const char* method);

    Process* process_of(std::int64_t tid) {
        auto it = threads_.find(tid);
        if (it == threads_.end()) {
            return nullptr;
        }
        auto pit = procs_.find(it->second.tgid);
        return pit == procs_.end() ? nullptr : &pit->second;
    }
    void publish(const Process& p) {
        ProcessInfo info;
        info.pid = p.pid;
        info.ppid = p.ppid;
        info.process_name = p.image;
        info.command_line = p.command_line;
        info.host_pid = p.pid;
        info.sandbox_pid = p.pid;
        info.started = last_time_;
        table_.upsert(info);
    }

    void kill_all() {
        std::lock_guard<std::mutex> lock(live_mu_);
        for (auto tid : live_) {
            ::kill(static_cast<pid_t>(tid), SIGKILL);
        }
    }

    RecordSink& sink_;
    util::Clock& clock_;
    ProcessTable& table_;
    MemoryDumper& dumper_;
    const ElfTracerOptions& options_;
    double last_time_ = 0;
    std::uint64_t private_uid_ = 0;
    std::map<std::int64_t, Thread> threads_;
    std::map<std::int64_t, Process> procs_;
    std::map<std::pair<std::int64_t, int>, Socket> sockets_;
    std::set<std::int64_t> early_stops_;  // children whose SIGSTOP arrived before the event
    std::int64_t root_ = 0;
    int root_status_ = 0;
    bool root_done_ = false;
    std::uint64_t process_count_ = 0;
    std::mutex live_mu_;
    std::set<std::int64_t> live_;
    std::atomic<bool> timed_out_{false};
    std::shared_ptr<spdlog::logger> log_ = util::logger("engine");
};

std::string Session::read_mem(std::int64_t tid, std::uint64_t addr, std::size_t len) {
    std::string out(len, '\0');
    if (len == 0) {
        return out;
    }
    iovec local{out.data(), len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    ssize_t n = ::process_vm_readv(static_cast<pid_t>(tid), &local, 1, &remote, 1, 0);
    if (n <= 0) {
        return {};
    }
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string Session::read_string(std::int64_t tid, std::uint64_t addr) {
    std::string out;
    if (addr == 0) {
        return out;
    }
    while (out.size() < kMaxString) {
        // Read up to the end of the current page so an unmapped next page does not fail us.
        std::size_t chunk = 4096 - ((addr + out.size()) % 4096);
        std::string part = read_mem(tid, addr + out.size(), chunk);
        if (part.empty()) {
            break;
        }
        auto nul = part.find('\0');
        if (nul != std::string::npos) {
            out.append(part, 0, nul);
            return out;
        }
        out += part;
    }
    if (out.size() > kMaxString) {
        out.resize(kMaxString);
    }
    return out;
}

std::vector<std::string> Session::read_argv(std::int64_t tid, std::uint64_t addr) {
    std::vector<std::string> out;
    for (std::size_t i = 0; addr != 0 && i < kMaxArgs; ++i) {
        std::string raw = read_mem(tid, addr + i * 8, 8);
        if (raw.size() != 8) {
            break;
        }
        std::uint64_t p = 0;
        std::memcpy(&p, raw.data(), 8);
        if (p == 0) {
            break;
        }
        out.push_back(read_string(tid, p));
    }
    return out;
}

std::string Session::resolve_path(std::int64_t tid, std::int64_t dirfd, const std::string& path) {
    if (path.empty() || path.front() == '/') {
        return path;
    }
    std::string base =
        dirfd == AT_FDCWD
            ? read_link("/proc/" + std::to_string(tid) + "/cwd")
            : read_link("/proc/" + std::to_string(tid) + "/fd/" + std::to_string(dirfd));
    if (base.empty()) {
        return path;
    }
    std::string p = path;
    while (p.rfind("./", 0) == 0) {
        p.erase(0, 2);
    }
    return base == "/" ? "/" + p : base + "/" + p;
}

std::optional<sockaddr_storage> Session::read_sockaddr(std::int64_t tid, std::uint64_t addr,
                                                       std::uint64_t len) {
    if (addr == 0 || len < sizeof(sa_family_t)) {
        return std::nullopt;
    }
    sockaddr_storage ss{};
    std::string raw = read_mem(tid, addr, std::min<std::uint64_t>(len, sizeof ss));
    if (raw.size() < sizeof(sa_family_t)) {
        return std::nullopt;
    }
    std::memcpy(&ss, raw.data(), raw.size());
    return ss;
}

int Session::dup_tracee_fd(std::int64_t tgid, int fd) {
    util::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(tgid), 0)));
    if (!pidfd) {
        return -1;
    }
    return static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0));
}

DumpRequest Session::dump_request(std::int64_t tid, const Process& p, const char* method) {
    DumpRequest r;
    r.host_pid = p.pid;
    r.method = method;
    r.pid = p.pid;
    r.ppid = p.ppid;
    r.tid = tid;
    r.user_id = p.uid;
    r.process_name = p.image;
    return r;
}

void Session::emit_syscall(std::int64_t tid, Thread& t, const SyscallSpec& spec) {
    Process* p = process_of(tid);
    if (p == nullptr || !options_.syscall_records) {
        return;
    }
    auto rec = internal::make_record("syscall", common(tid, *p, spec.name, t.event_uid));
    rec["Module"] = "linux";
    rec["vCPU"] = 0;
    rec["CR3"] = "0x0";
    rec["Syscall"] = spec.nr;
    rec["NArgs"] = spec.args.size();
    for (std::size_t i = 0; i < spec.args.size(); ++i) {
        const auto& [name, kind] = spec.args[i];
        if (kind == ArgKind::Path) {
            rec[name] = read_string(tid, t.args[i]);
        } else {
            rec[name] = internal::hex(t.args[i]);
        }
    }
    emit(std::move(rec));
}

void Session::on_seccomp(std::int64_t tid) {
    user_regs_struct regs{};
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
        ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
        return;
    }
    Thread& t = threads_[tid];
    t.nr = static_cast<long>(regs.orig_rax);
    std::uint64_t a[6] = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
    std::copy(std::begin(a), std::end(a), std::begin(t.args));
    t.event_uid = next_uid();
    t.path1.clear();
    t.path2.clear();
    t.exec_argv.clear();
    const SyscallSpec* spec = find_spec(t.nr);
    if (spec != nullptr) {
        emit_syscall(tid, t, *spec);
    }
    auto sarg = [&](int i) { return static_cast<std::int64_t>(static_cast<int>(t.args[i])); };
    switch (t.nr) {
        case SYS_open:
        case SYS_creat:
        case SYS_unlink:
            t.path1 = resolve_path(tid, AT_FDCWD, read_string(tid, t.args[0]));
            break;
        case SYS_openat:
        case SYS_unlinkat:
            t.path1 = resolve_path(tid, sarg(0), read_string(tid, t.args[1]));
            break;
        case SYS_rename:
            t.path1 = resolve_path(tid, AT_FDCWD, read_string(tid, t.args[0]));
            t.path2 = resolve_path(tid, AT_FDCWD, read_string(tid, t.args[1]));
            break;
        case SYS_renameat:
        case SYS_renameat2:
            t.path1 = resolve_path(tid, sarg(0), read_string(tid, t.args[1]));
            t.path2 = resolve_path(tid, sarg(2), read_string(tid, t.args[3]));
            break;
        case SYS_execve:
            t.path1 = resolve_path(tid, AT_FDCWD, read_string(tid, t.args[0]));
            t.exec_argv = read_argv(tid, t.args[1]);
            break;
        case SYS_execveat:
            t.path1 = resolve_path(tid, sarg(0), read_string(tid, t.args[1]));
            t.exec_argv = read_argv(tid, t.args[2]);
            break;
        case SYS_munmap:
            dump_region_before_unmap(tid, t);
            break;
        default:
            break;
    }
    t.in_syscall = true;
    // Continue to the exit stop: results (fd, address, errno) are reported at return.
    ::ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr);
}

void Session::on_syscall_exit(std::int64_t tid) {
    auto it = threads_.find(tid);
    if (it == threads_.end() || !it->second.in_syscall) {
        ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
        return;
    }
    Thread& t = it->second;
    t.in_syscall = false;
    user_regs_struct regs{};
    long ret = -ENOSYS;
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0) {
        ret = static_cast<long>(regs.rax);
    }
    switch (t.nr) {
        case SYS_open:
        case SYS_openat:
        case SYS_creat:
        case SYS_unlink:
        case SYS_unlinkat:
        case SYS_rename:
        case SYS_renameat:
        case SYS_renameat2:
            emit_file(tid, t, ret);
            break;
        case SYS_connect:
        case SYS_sendto:
        case SYS_sendmsg:
        case SYS_sendmmsg:
            emit_socket(tid, t, ret);
            break;
        case SYS_mmap:
        case SYS_mprotect:
            maybe_dump_exec(tid, t, ret);
            break;
        default:
            break;
    }
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
}

void Session::emit_file(std::int64_t tid, Thread& t, long ret) {
    Process* p = process_of(tid);
    if (p == nullptr || t.path1.empty()) {
        return;
    }
    const SyscallSpec* spec = find_spec(t.nr);
    auto rec = internal::make_record("filetracer", common(tid, *p, spec->name, t.event_uid));
    if (t.nr == SYS_open || t.nr == SYS_openat || t.nr == SYS_creat) {
        std::uint64_t flags = t.nr == SYS_creat  ? (O_CREAT | O_WRONLY | O_TRUNC)
                              : t.nr == SYS_open ? t.args[1]
                                                 : t.args[2];
        std::uint64_t mode = t.nr == SYS_creat  ? t.args[1]
                             : t.nr == SYS_open ? t.args[2]
                                                : t.args[3];
        std::uint64_t acc = flags & O_ACCMODE;
        rec["FileName"] = t.path1;
        rec["FileHandle"] =
            internal::hex(ret >= 0 ? static_cast<std::uint64_t>(ret) : ~std::uint64_t{0});
        rec["ObjectAttributes"] = "Attributes=0";
        rec["DesiredAccess"] = acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_RDONLY";
        char m[16];
        std::snprintf(m, sizeof m, "0%llo", static_cast<unsigned long long>(mode & 07777));
        rec["FileAttributes"] = (flags & O_CREAT) != 0 ? std::string(m) : std::string("(null)");
        rec["ShareAccess"] = "(null)";
        rec["CreateDisposition"] = flag_names(flags, {{O_CREAT, "O_CREAT"},
                                                      {O_EXCL, "O_EXCL"},
                                                      {O_TRUNC, "O_TRUNC"},
                                                      {O_APPEND, "O_APPEND"}});
        rec["CreateOptions"] = flag_names(flags, {{O_CLOEXEC, "O_CLOEXEC"},
                                                  {O_DIRECTORY, "O_DIRECTORY"},
                                                  {O_NOFOLLOW, "O_NOFOLLOW"},
                                                  {O_NONBLOCK, "O_NONBLOCK"},
                                                  {O_PATH, "O_PATH"},
                                                  {O_TMPFILE, "O_TMPFILE"}});
        rec["Status"] = ret >= 0 ? "SUCCESS" : "FAIL";
    } else if (ret != 0) {
        return;  // a failed unlink/rename changed nothing
    } else if (t.nr == SYS_unlink || t.nr == SYS_unlinkat) {
        rec["Operation"] = "FileDispositionInformation";
        rec["FileName"] = t.path1;
        rec["FileHandle"] = "0x0";
    } else {
        rec["Operation"] = "FileRenameInformation";
        rec["FileSrc"] = t.path1;
        rec["FileDst"] = t.path2;
        rec["FileHandle"] = "0x0";
    }
    emit(std::move(rec));
}

void Session::emit_dns(std::int64_t tid, const Process& p, const char* method,
                       std::string_view pkt) {
    auto name = dns_query_name(pkt);
    if (!name) {
        return;
    }
    auto rec = internal::make_record("socketmon", common(tid, p, method, threads_[tid].event_uid));
    rec["DnsName"] = *name;
    emit(std::move(rec));
}

void Session::emit_socket(std::int64_t tid, Thread& t, long ret) {
    Process* p = process_of(tid);
    if (p == nullptr) {
        return;
    }
    int fd = static_cast<int>(t.args[0]);
    const SyscallSpec* spec = find_spec(t.nr);
    std::optional<sockaddr_storage> remote;
    if (t.nr == SYS_connect) {
        remote = read_sockaddr(tid, t.args[1], t.args[2]);
    } else if (t.nr == SYS_sendto) {
        remote = read_sockaddr(tid, t.args[4], t.args[5]);
    }
    // Socket type and local address come from a duplicate of the tracee's descriptor.
    int type = 0;
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    bool have_local = false;
    if (int dup = dup_tracee_fd(p->pid, fd); dup >= 0) {
        util::UniqueFd guard(dup);
        socklen_t tl = sizeof type;
        if (::getsockopt(dup, SOL_SOCKET, SO_TYPE, &type, &tl) != 0) {
            type = 0;
        }
        have_local = ::getsockname(dup, reinterpret_cast<sockaddr*>(&local), &local_len) == 0;
    }
    auto key = std::make_pair(p->pid, fd);
    int rport = 0;
    std::string rfam;
    std::string rip;
    if (remote) {
        rip = ip_string(*remote, rport, rfam);
    } else if (auto it = sockets_.find(key); it != sockets_.end()) {
        rip = it->second.remote_ip;
        rport = it->second.remote_port;
        rfam = rip.find(':') != std::string::npos ? "v6" : "v4";
    }
    if (rfam.empty()) {
        return;  // AF_UNIX, AF_NETLINK...: only the syscall record
    }
    bool success = ret >= 0 || ret == -EINPROGRESS;
    if (t.nr == SYS_connect) {
        if (success) {
            sockets_[key] = Socket{type, rip, rport};
        }
        int lport = 0;
        std::string lfam;
        std::string lip = have_local ? ip_string(local, lport, lfam) : std::string();
        auto rec = internal::make_record("socketmon", common(tid, *p, spec->name, t.event_uid));
        rec["Owner"] = p->image;
        rec["OwnerId"] = p->uid;
        rec["OwnerPID"] = p->pid;
        rec["OwnerPPID"] = p->ppid;
        bool udp = type == SOCK_DGRAM;
        rec["Protocol"] = std::string(udp ? "UDP" : "TCP") + rfam;
        if (!udp) {
            rec["TcpState"] = ret == 0              ? "established"
                              : ret == -EINPROGRESS ? "syn_sent"
                                                    : "closed";
        }
        rec["LocalIp"] =
            lip.empty() ? (rfam == "v4" ? "0.0.0.0" : "0000:0000:0000:0000:0000:0000:0000:0000")
                        : lip;
        rec["LocalPort"] = lport;
        rec["RemoteIp"] = rip;
        rec["RemotePort"] = rport;
        emit(std::move(rec));
        return;
    }
    if (ret < 0 || rport != 53) {
        if (remote && ret >= 0 && type == SOCK_DGRAM) {
            // A datagram to an explicit address: a UDP record like UdpSendMessages (§2.7).
            int lport = 0;
            std::string lfam;
            std::string lip = have_local ? ip_string(local, lport, lfam) : std::string();
            auto rec = internal::make_record("socketmon", common(tid, *p, spec->name, t.event_uid));
            rec["Owner"] = p->image;
            rec["OwnerId"] = p->uid;
            rec["OwnerPID"] = p->pid;
            rec["OwnerPPID"] = p->ppid;
            rec["Protocol"] = "UDP" + rfam;
            rec["LocalIp"] = lip;
            rec["LocalPort"] = lport;
            rec["RemoteIp"] = rip;
            rec["RemotePort"] = rport;
            emit(std::move(rec));
        }
        return;
    }
    // Port 53: decode DNS questions from the payload.
    if (t.nr == SYS_sendto) {
        emit_dns(tid, *p, spec->name,
                 read_mem(tid, t.args[1], std::min<std::uint64_t>(t.args[2], kMaxDnsBytes)));
        return;
    }
    std::vector<std::uint64_t> msghdrs;
    if (t.nr == SYS_sendmsg) {
        msghdrs.push_back(t.args[1]);
    } else {
        std::uint64_t n = std::min<std::uint64_t>(t.args[2], 4);
        for (std::uint64_t i = 0; i < n; ++i) {
            msghdrs.push_back(t.args[1] + i * sizeof(mmsghdr));
        }
    }
    for (std::uint64_t addr : msghdrs) {
        std::string raw = read_mem(tid, addr, sizeof(msghdr));
        if (raw.size() != sizeof(msghdr)) {
            continue;
        }
        msghdr m{};
        std::memcpy(&m, raw.data(), sizeof m);
        if (m.msg_iovlen == 0 || m.msg_iov == nullptr) {
            continue;
        }
        std::string iov_raw =
            read_mem(tid, reinterpret_cast<std::uint64_t>(m.msg_iov), sizeof(iovec));
        if (iov_raw.size() != sizeof(iovec)) {
            continue;
        }
        iovec v{};
        std::memcpy(&v, iov_raw.data(), sizeof v);
        emit_dns(tid, *p, spec->name,
                 read_mem(tid, reinterpret_cast<std::uint64_t>(v.iov_base),
                          std::min<std::size_t>(v.iov_len, kMaxDnsBytes)));
    }
}

void Session::maybe_dump_exec(std::int64_t tid, Thread& t, long ret) {
    Process* p = process_of(tid);
    if (p == nullptr || ret < 0) {
        return;
    }
    std::uint64_t prot = t.args[2];
    if ((prot & PROT_EXEC) == 0) {
        return;
    }
    if (t.nr == SYS_mmap) {
        // A fresh anonymous executable mapping holds zeros now; it is dumped when unmapped or
        // at process exit. File mappings are images: never dumped.
        return;
    }
    auto req = dump_request(tid, *p, "mprotect");
    req.address = t.args[0];
    req.size = t.args[1];
    dumper_.dump(req);  // skips file-backed (image) ranges itself
}

void Session::dump_region_before_unmap(std::int64_t tid, Thread& t) {
    Process* p = process_of(tid);
    if (p == nullptr) {
        return;
    }
    for (const auto& r : read_maps(p->pid)) {
        if (r.exec && r.is_private_anonymous() && r.start < t.args[0] + t.args[1] &&
            t.args[0] < r.end) {
            auto req = dump_request(tid, *p, "munmap");
            req.address = std::max(r.start, t.args[0]);
            req.size = std::min(r.end, t.args[0] + t.args[1]) - req.address;
            dumper_.dump(req);
        }
    }
}

void Session::emit_create(std::int64_t creator_tid, const Process& creator, const Process& child,
                          std::int64_t new_tid) {
    auto rec = internal::make_record(
        "procmon", common(creator_tid, creator, "NtCreateUserProcess", next_uid()));
    rec["Status"] = "0x0";
    rec["NewProcessHandle"] = "0x0";
    rec["NewPid"] = child.pid;
    rec["NewThreadHandle"] = "0x0";
    rec["NewTid"] = new_tid;
    rec["CommandLine"] = internal::c_escape(child.command_line);
    rec["ImagePathName"] = child.image;
    rec["DllPath"] = "";
    rec["CWD"] = read_link("/proc/" + std::to_string(child.pid) + "/cwd");
    // ELF class byte of the image: 1 = 32-bit, 2 = 64-bit.
    std::ifstream exe("/proc/" + std::to_string(child.pid) + "/exe", std::ios::binary);
    char ident[5] = {0};
    exe.read(ident, 5);
    rec["Bitness"] = ident[4] == 1 ? 32 : 64;
    emit(std::move(rec));
}

void Session::on_new_thread(std::int64_t parent_tid, std::int64_t tid) {
    {
        std::lock_guard<std::mutex> lock(live_mu_);
        live_.insert(tid);
    }
    if (timed_out_) {
        ::kill(static_cast<pid_t>(tid), SIGKILL);
    }
    Thread& t = threads_[tid];
    std::int64_t tgid = status_field(tid, "Tgid");
    Process* parent = process_of(parent_tid);
    if (tgid <= 0) {
        tgid = tid;
    }
    t.tgid = tgid;
    if (early_stops_.erase(tid) != 0) {
        t.attached = true;
        ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
    }
    if (tgid != tid || parent == nullptr) {
        return;  // a thread of an existing process
    }
    ++process_count_;
    Process child;
    child.pid = tid;
    child.ppid = parent->pid;
    child.uid = parent->uid;
    child.image = parent->image;
    child.command_line = parent->command_line;
    procs_[tid] = child;
    publish(child);
    Process creator = *parent;
    emit_create(parent_tid, creator, child, tid);
}

void Session::on_exec(std::int64_t tid, std::int64_t former_tid) {
    if (former_tid != tid) {
        // A non-leader thread exec'd: it took over the leader's tid.
        threads_.erase(former_tid);
    }
    Process* p = process_of(tid);
    Thread& t = threads_[tid];
    if (p == nullptr) {
        return;
    }
    std::string image = read_link("/proc/" + std::to_string(tid) + "/exe");
    if (image.empty()) {
        image = t.path1;
    }
    std::string cmd = windows_command_line(t.exec_argv);
    Process old = *p;
    if (!p->root_pre_exec) {
        // The old image ends here (the process tree keys lifetimes on pid, §8.2).
        auto rec = internal::make_record(
            "procmon", common(tid, old, "MmCleanProcessAddressSpace", next_uid()));
        rec["ExitPid"] = old.pid;
        emit(std::move(rec));
    }
    p->image = image;
    p->command_line = cmd;
    p->uid = status_field(tid, "Uid");
    p->root_pre_exec = false;
    publish(*p);
    // The creator is the parent process (whoever forked us), as with CreateProcess.
    Process creator;
    auto pit = procs_.find(p->ppid);
    if (pit != procs_.end()) {
        creator = pit->second;
    } else {
        creator.pid = p->ppid;
        creator.ppid = status_field(p->ppid, "PPid");
        creator.image = read_link("/proc/" + std::to_string(p->ppid) + "/exe");
        creator.uid = status_field(p->ppid, "Uid");
    }
    emit_create(p->ppid, creator, *p, tid);
}

void Session::on_exit_event(std::int64_t tid) {
    Process* p = process_of(tid);
    if (p != nullptr && tid == p->pid && !p->exit_dumped && !p->root_pre_exec) {
        p->exit_dumped = true;
        auto req = dump_request(tid, *p, "exit_group");
        dumper_.dump_private_executable(req);
    }
    ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
}

void Session::on_gone(std::int64_t tid, int status) {
    {
        std::lock_guard<std::mutex> lock(live_mu_);
        live_.erase(tid);
    }
    auto it = threads_.find(tid);
    std::int64_t tgid = it != threads_.end() ? it->second.tgid : tid;
    if (tid == root_) {
        root_done_ = true;
        root_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (tgid == tid) {
        auto pit = procs_.find(tid);
        if (pit != procs_.end()) {
            auto rec = internal::make_record(
                "procmon", common(tid, pit->second, "MmCleanProcessAddressSpace", next_uid()));
            rec["ExitPid"] = tid;
            emit(std::move(rec));
            table_.update(tid, [&](ProcessInfo& info) { info.exited = last_time_; });
            procs_.erase(pit);
        }
    }
    threads_.erase(tid);
}

// child_main runs in the forked child: become a tracee, install the seccomp filter, exec.
[[noreturn]] void child_main(const ElfTracerOptions& options, int err_fd) {
    auto fail = [&](const char* what) {
        int e = errno;
        char msg[256];
        int n = std::snprintf(msg, sizeof msg, "%s: %s", what, std::strerror(e));
        if (n > 0 && ::write(err_fd, msg, static_cast<std::size_t>(n)) < 0) {
            // nothing more to do: the parent sees EOF and a 127 exit
        }
        ::_exit(127);
    };
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
        fail("ptrace(TRACEME)");
    }
    ::raise(SIGSTOP);
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == nullptr) {
        fail("seccomp_init");
    }
    // Syscalls of another ABI (a 32-bit ELF's int 0x80) would otherwise kill the process; they
    // run untraced (fork/exec/exit are still seen through ptrace events).
    if (::seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW) != 0) {
        fail("seccomp_attr_set(BADARCH)");
    }
    for (const auto& s : syscall_specs()) {
        if (::seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), static_cast<int>(s.nr), 0) != 0) {
            fail("seccomp_rule_add");
        }
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fail("prctl(NO_NEW_PRIVS)");
    }
    if (::seccomp_load(ctx) != 0) {
        fail("seccomp_load");
    }
    std::vector<char*> argv;
    for (const auto& a : options.argv) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    char** env = environ;
    if (!options.env.empty()) {
        for (const auto& e : options.env) {
            envp.push_back(const_cast<char*>(e.c_str()));
        }
        envp.push_back(nullptr);
        env = envp.data();
    }
    ::execve(argv[0], argv.data(), env);
    fail("execve");
    ::_exit(127);
}

ElfTraceResult Session::run() {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    util::UniqueFd err_read(pipefd[0]);
    util::UniqueFd err_write(pipefd[1]);
    pid_t child = ::fork();
    if (child < 0) {
        util::throw_errno("fork");
    }
    if (child == 0) {
        child_main(options_, err_write.get());
    }
    err_write.reset();
    root_ = child;
    int status = 0;
    if (::waitpid(child, &status, __WALL) != child || !WIFSTOPPED(status)) {
        throw util::SystemError("traced child did not stop", ECHILD);
    }
    long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
                PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
    if (::ptrace(PTRACE_SETOPTIONS, child, nullptr, reinterpret_cast<void*>(opts)) != 0) {
        int e = errno;
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, __WALL);
        throw util::SystemError("ptrace(SETOPTIONS)", e);
    }
    // The tracer itself is the root's creator (a RunningProcess entry keeps §8.2 happy).
    Process self;
    self.pid = ::getpid();
    self.ppid = ::getppid();
    self.uid = ::getuid();
    self.image = read_link("/proc/self/exe");
    self.command_line = self.image;
    procs_[self.pid] = self;
    {
        nlohmann::ordered_json running;
        running["Plugin"] = "procmon";
        running["TimeStamp"] = internal::format_timestamp(now());
        running["PID"] = self.pid;
        running["PPID"] = self.ppid;
        running["RunningProcess"] = self.image;
        running["Bitness"] = 64;
        emit(std::move(running));
    }
    Process root;
    root.pid = child;
    root.ppid = self.pid;
    root.uid = self.uid;
    root.image = options_.argv[0];
    root.root_pre_exec = true;
    procs_[child] = root;
    threads_[child].tgid = child;
    threads_[child].attached = true;
    ++process_count_;
    {
        std::lock_guard<std::mutex> lock(live_mu_);
        live_.insert(child);
    }

    // Timeout watchdog: SIGKILLs every live tracee; the loop below then reaps them.
    std::mutex wd_mu;
    std::condition_variable wd_cv;
    bool wd_stop = false;
    std::thread watchdog;
    if (options_.timeout_seconds > 0) {
        watchdog = std::thread([&] {
            std::unique_lock<std::mutex> lock(wd_mu);
            auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::duration<double>(options_.timeout_seconds);
            if (!wd_cv.wait_until(lock, deadline, [&] { return wd_stop; })) {
                timed_out_ = true;
                kill_all();
            }
        });
    }
    auto stop_watchdog = [&] {
        if (watchdog.joinable()) {
            {
                std::lock_guard<std::mutex> lock(wd_mu);
                wd_stop = true;
            }
            wd_cv.notify_all();
            watchdog.join();
        }
    };
    ::ptrace(PTRACE_CONT, child, nullptr, nullptr);
    try {
        for (;;) {
            pid_t tid = ::waitpid(-1, &status, __WALL);
            if (tid < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;  // ECHILD: everything traced has been reaped
            }
            if (WIFEXITED(status) || WIFSIGNALED(status)) {
                on_gone(tid, status);
                continue;
            }
            if (!WIFSTOPPED(status)) {
                continue;
            }
            if (timed_out_) {
                ::kill(tid, SIGKILL);
            }
            int sig = WSTOPSIG(status);
            int event = status >> 16;
            auto known = threads_.find(tid);
            if (known == threads_.end() || !known->second.attached) {
                if (sig == SIGSTOP && event == 0) {
                    if (known == threads_.end()) {
                        early_stops_.insert(tid);  // the parent's fork event comes later
                    } else {
                        known->second.attached = true;
                        ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
                    }
                    continue;
                }
            }
            if (event == PTRACE_EVENT_SECCOMP) {
                on_seccomp(tid);
            } else if (sig == (SIGTRAP | 0x80)) {
                on_syscall_exit(tid);
            } else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
                       event == PTRACE_EVENT_CLONE) {
                unsigned long new_tid = 0;
                ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &new_tid);
                on_new_thread(tid, static_cast<std::int64_t>(new_tid));
                ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
            } else if (event == PTRACE_EVENT_EXEC) {
                unsigned long former = 0;
                ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &former);
                on_exec(tid, static_cast<std::int64_t>(former));
                // The exit stop of execve follows if the entry asked for PTRACE_SYSCALL.
                ::ptrace(threads_[tid].in_syscall ? PTRACE_SYSCALL : PTRACE_CONT, tid, nullptr,
                         nullptr);
            } else if (event == PTRACE_EVENT_EXIT) {
                on_exit_event(tid);
            } else if (event != 0) {
                ::ptrace(PTRACE_CONT, tid, nullptr, nullptr);
            } else {
                // Signal-delivery stop: pass the signal on (SIGTRAP of ours never reaches here).
                ::ptrace(PTRACE_CONT, tid, nullptr,
                         reinterpret_cast<void*>(static_cast<long>(sig)));
            }
        }
    } catch (...) {
        timed_out_ = true;
        kill_all();
        stop_watchdog();
        throw;
    }
    stop_watchdog();
    ElfTraceResult result;
    result.timed_out = timed_out_;
    result.processes = process_count_;
    char buf[512];
    ssize_t n = ::read(err_read.get(), buf, sizeof buf);
    if (n > 0) {
        log_->error("cannot start {}: {}", options_.argv[0],
                    std::string(buf, static_cast<std::size_t>(n)));
    }
    result.exit_code = result.timed_out ? 124 : (root_done_ ? root_status_ : 127);
    return result;
}

}  // namespace

ElfTracer::ElfTracer(RecordSink sink, util::Clock& clock, ProcessTable& processes,
                     MemoryDumper& dumper, ElfTracerOptions options)
    : sink_(std::move(sink)),
      clock_(clock),
      processes_(processes),
      dumper_(dumper),
      options_(std::move(options)) {}

ElfTraceResult ElfTracer::run() {
    if (options_.argv.empty() || options_.argv[0].empty()) {
        throw util::InputError("ElfTracer: empty program argv");
    }
    Session session(*this, sink_, clock_, processes_, dumper_, options_);
    return session.run();
}

std::optional<std::string> dns_query_name(std::string_view packet) {
    if (packet.size() < 12 + 5) {
        return std::nullopt;
    }
    auto u8 = [&](std::size_t i) { return static_cast<unsigned char>(packet[i]); };
    bool is_response = (u8(2) & 0x80) != 0;
    unsigned qdcount = (u8(4) << 8) | u8(5);
    if (is_response || qdcount == 0) {
        return std::nullopt;
    }
    std::string name;
    std::size_t pos = 12;
    for (;;) {
        if (pos >= packet.size()) {
            return std::nullopt;
        }
        unsigned len = u8(pos++);
        if (len == 0) {
            break;
        }
        if (len > 63 || pos + len > packet.size() || name.size() + len + 1 > 255) {
            return std::nullopt;  // compression pointers do not occur in a query's first name
        }
        if (!name.empty()) {
            name += '.';
        }
        for (std::size_t i = 0; i < len; ++i) {
            char c = packet[pos + i];
            if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
                return std::nullopt;
            }
            name += c;
        }
        pos += len;
    }
    if (name.empty() || pos + 4 > packet.size()) {
        return std::nullopt;
    }
    return name;
}

std::string windows_command_line(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) {
            out += ' ';
        }
        bool quote = a.empty() || a.find_first_of(" \t\"") != std::string::npos;
        if (!quote) {
            out += a;
            continue;
        }
        out += '"';
        for (char c : a) {
            if (c == '"') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out;
}

}  // namespace engine::native
