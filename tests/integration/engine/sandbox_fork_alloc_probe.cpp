// The sandbox child must not allocate between fork() and execve(): the engine forks from a
// multithreaded process, and an allocator lock held by another thread at that instant stays
// locked forever in the child (GCC 12's libasan does not reset its locks across fork; the
// sanitizer build hung in spawn_sandboxed's child this way). This executable replaces malloc
// with a counting shim: after fork(), every allocation in a child bumps a counter in a
// MAP_SHARED page the parent reads. execve() drops the shim's state, so the count covers
// exactly fork → execve. Built only without sanitizers (ASan owns malloc there).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/native/netsim.hpp"
#include "engine/native/sandbox.hpp"
#include "netns_guard.hpp"
#include "util/fs.hpp"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {

// Allocations made by forked children (shared with the parent across fork).
std::atomic<long>* g_child_allocations = nullptr;
// Process-local: set by the atfork child handler, so only children count.
bool g_in_forked_child = false;

void note_allocation() {
    if (g_in_forked_child && g_child_allocations != nullptr) {
        g_child_allocations->fetch_add(1, std::memory_order_relaxed);
    }
}

const bool kProbeInstalled = [] {
    void* page = ::mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        std::abort();
    }
    g_child_allocations = new (page) std::atomic<long>(0);
    ::pthread_atfork(nullptr, nullptr, [] { g_in_forked_child = true; });
    return true;
}();

long child_allocations() { return g_child_allocations->load(); }

}  // namespace

extern "C" {
void* malloc(size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
void* calloc(size_t n, size_t m) {
    note_allocation();
    return __libc_calloc(n, m);
}
void* realloc(void* p, size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
    note_allocation();
    return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
    note_allocation();
    return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
    note_allocation();
    void* p = __libc_memalign(a, n);
    if (p == nullptr) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}
void free(void* p) { __libc_free(p); }
}

namespace engine::native {
namespace {

namespace fs = std::filesystem;

// The probe itself works: a child that builds a std::string is counted.
TEST(SandboxForkAlloc, ProbeCountsAnAllocatingChild) {
    ASSERT_TRUE(kProbeInstalled);
    const long before = child_allocations();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::string s(100, 'x');
        ::_exit(s.size() == 100 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_GT(child_allocations(), before);
}

// The full set-up path (every kind of mount step, a bind of a file and of a directory, fd
// mappings, an overlay, the netsim namespace) runs in the children without one allocation.
TEST(SandboxForkAlloc, SandboxChildAllocatesNothingBeforeExecve) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    util::TempDir tmp("sbfork");
    ::chmod(tmp.path().c_str(), 0755);
    const fs::path scratch = tmp.path() / "scratch";
    const fs::path out = tmp.path() / "out";
    const fs::path lower = tmp.path() / "lower";
    fs::create_directories(scratch);
    fs::create_directories(out);
    fs::create_directories(lower);
    fs::create_directories(scratch / "upper");
    fs::create_directories(scratch / "work");
    util::write_file_atomic(lower / "from-lower", "x");
    util::write_file_atomic(tmp.path() / "single-file", "y");
    ::chown(out.c_str(), kSandboxUid, kSandboxGid);

    const std::string name = new_resource_name();
    NetSim net(name, scratch / "dumps.pcap", nullptr);
    SandboxSpec spec;
    spec.name = name;
    spec.scratch = scratch;
    spec.netns = net.sample_netns();
    spec.binds.push_back({out, "/analysis/out", true});
    spec.binds.push_back({tmp.path() / "single-file", "/analysis/in/single-file", false});
    spec.overlay = OverlayMount{lower, scratch / "upper", scratch / "work", "/overlay"};
    spec.env = {"PATH=/usr/bin:/bin", "HOME=/home/user"};
    util::UniqueFd log(::open((out / "stdout").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(log);

    const long before = child_allocations();
    auto p = spawn_sandboxed(
        spec,
        {"/bin/sh", "-c",
         "cat /analysis/in/single-file /overlay/from-lower > /analysis/out/seen; echo ok"},
        {{log.get(), 1}});
    const auto e = p->wait(std::chrono::seconds(30));
    EXPECT_EQ(e.exit_code, 0);
    EXPECT_EQ(util::read_file(out / "seen"), "yx");
    EXPECT_EQ(util::read_file(out / "stdout"), "ok\n");
    EXPECT_EQ(child_allocations(), before)
        << "the sandbox helper / pid 1 allocated between fork() and execve()";
}

}  // namespace
}  // namespace engine::native
