// Fuzz target zip: karton::extract_zip (resource.hpp) on the input as a ZIP archive, with small
// limits. Invariant: nothing is ever written outside the destination directory.
#include <filesystem>

#include "karton/errors.hpp"
#include "karton/resource.hpp"
#include "targets.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fuzz {

int fuzz_zip(const std::uint8_t* data, std::size_t size) {
    static util::TempDir dir("fuzz-zip");
    const auto dest = dir.path() / "a" / "dest";
    std::filesystem::remove_all(dir.path() / "a");
    std::filesystem::create_directories(dest);
    karton::ExtractLimits limits;
    limits.max_total_bytes = 8u << 20;
    limits.max_entries = 1000;
    try {
        (void)karton::extract_zip(as_text(data, size), dest, limits);
    } catch (const util::Error&) {
    }
    // Only "dest" may exist next to it: a ../ escape would create a sibling.
    std::size_t siblings = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() / "a")) {
        (void)e;
        ++siblings;
    }
    check(siblings == 1, "zip: entry written outside the destination");
    std::size_t top = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        (void)e;
        ++top;
    }
    check(top == 1, "zip: entry written outside the destination");
    return 0;
}

}  // namespace fuzz
