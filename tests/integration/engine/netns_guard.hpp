// integration/engine/netns_guard.hpp — makes an engine integration test binary run inside a
// network namespace that has only loopback (support/isolation.hpp). Include it in exactly one
// .cpp of a test.
#pragma once

#include "support/isolation.hpp"

namespace engine_test {

// Runs before main(): re-exec under a fresh netns (root only).
inline const bool kReexecutedInNetns =
    test_support::reexec_isolated(test_support::Isolation::Network);

// in_isolated_netns says whether this process runs in the loopback-only test namespace.
inline bool in_isolated_netns() { return test_support::in_isolated_namespaces(); }

}  // namespace engine_test
