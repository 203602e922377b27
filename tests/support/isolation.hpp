// support/isolation.hpp — makes a test binary that runs samples or mounts things re-execute
// itself, before main(), inside fresh namespaces: `unshare --net` (only loopback: the second
// wall after the engine's own netns, so no test can reach a real network) and optionally
// `--mount --propagation private` (tmpfs mounts the test makes never show on the host).
// DRAK_TEST_NETNS=1 marks the re-executed process. Not root: no re-exec (the tests that need
// it then fail with a clear "needs root" error).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace test_support {

enum class Isolation { Network, NetworkAndMounts };

// reexec_isolated execs /usr/bin/unshare with this binary's own argv; returns true when no
// re-exec was needed (already isolated, or not root), false if the exec failed.
inline bool reexec_isolated(Isolation what) {
    if (std::getenv("DRAK_TEST_NETNS") != nullptr || ::geteuid() != 0) {
        return true;
    }
    ::setenv("DRAK_TEST_NETNS", "1", 1);
    std::vector<std::string> args = {"/usr/bin/unshare", "--net"};
    if (what == Isolation::NetworkAndMounts) {
        args.insert(args.end(), {"--mount", "--propagation", "private"});
    }
    args.push_back("--");
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return false;
    }
    self[n] = 0;
    args.push_back(self);
    std::string cmdline;
    if (FILE* f = std::fopen("/proc/self/cmdline", "rb")) {
        int c;
        while ((c = std::fgetc(f)) != EOF) {
            cmdline.push_back(static_cast<char>(c));
        }
        std::fclose(f);
    }
    std::size_t pos = cmdline.find('\0');
    while (pos != std::string::npos && pos + 1 < cmdline.size()) {
        const std::size_t next = cmdline.find('\0', pos + 1);
        args.push_back(cmdline.substr(pos + 1, next - pos - 1));
        pos = next;
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    return false;
}

// in_isolated_namespaces says whether this process is the re-executed, isolated one.
inline bool in_isolated_namespaces() { return std::getenv("DRAK_TEST_NETNS") != nullptr; }

}  // namespace test_support
