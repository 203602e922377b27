// tests/fuzz/targets/common.cpp — shared helpers of the fuzz targets.
#include <cstdio>
#include <cstdlib>

#include "targets.hpp"

namespace fuzz {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
        std::abort();
    }
}

}  // namespace fuzz
