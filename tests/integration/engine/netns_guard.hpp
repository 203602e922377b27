// integration/engine/netns_guard.hpp — makes an engine integration test binary run inside a
// network namespace that has only loopback: at start-up it re-executes itself under
// `unshare --net` (once; marked by DRAK_TEST_NETNS=1). Include it in exactly one .cpp of a test.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace engine_test {

// Runs before main(): re-exec under a fresh netns (root only; non-root tests fail later with
// a clear "needs root" error from the sandbox itself).
inline const bool kReexecutedInNetns = [] {
    if (std::getenv("DRAK_TEST_NETNS") != nullptr || ::geteuid() != 0) {
        return true;
    }
    ::setenv("DRAK_TEST_NETNS", "1", 1);
    std::vector<std::string> args = {"/usr/bin/unshare", "--net", "--"};
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return false;
    }
    self[n] = 0;
    args.push_back(self);
    std::string cmdline;
    {
        FILE* f = std::fopen("/proc/self/cmdline", "rb");
        if (f != nullptr) {
            int c;
            while ((c = std::fgetc(f)) != EOF) {
                cmdline.push_back(static_cast<char>(c));
            }
            std::fclose(f);
        }
    }
    std::size_t pos = cmdline.find('\0');
    while (pos != std::string::npos && pos + 1 < cmdline.size()) {
        std::size_t next = cmdline.find('\0', pos + 1);
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
}();

// in_isolated_netns says whether this process runs in the loopback-only test namespace.
inline bool in_isolated_netns() { return std::getenv("DRAK_TEST_NETNS") != nullptr; }

}  // namespace engine_test
