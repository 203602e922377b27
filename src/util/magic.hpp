// util/magic.hpp — libmagic file descriptions ("PE32 executable (GUI) Intel 80386, for MS
// Windows"), the `magic_output` of analysis metadata (seed: karton-integration.rst).
#pragma once

#include <filesystem>
#include <string>

namespace util {

// describe_file returns libmagic's description of the file at `path`; throws util::Error when
// libmagic cannot load its database or read the file.
std::string describe_file(const std::filesystem::path& path);

}  // namespace util
