// support/paths.hpp — where tests find the shared spec vectors and fixtures.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace test_support {

// shared_dir is the shared/ checkout (spec vectors, DRAKVUF fixtures).
inline std::filesystem::path shared_dir() { return DRAK_SHARED_DIR; }
inline std::filesystem::path vectors_dir() { return shared_dir() / "spec" / "karton-vectors"; }
inline std::filesystem::path source_dir() { return DRAK_SOURCE_DIR; }
inline std::filesystem::path binary_dir() { return DRAK_BINARY_DIR; }

// read_lines returns the non-empty lines of a text file (jsonl vectors); fails the test if the
// file is missing, so a vector can never be silently skipped.
std::vector<std::string> read_lines(const std::filesystem::path& path);

}  // namespace test_support
