// engine/sample_info.hpp — what kind of file a sample is, read from its own bytes with strict
// bounds checks (samples are hostile): PE32 / PE32+ (win32/win64, DLL flag, export names) or
// ELF. Used to pick the platform (web upload, worker) and the DLL entry point (spec §11.3).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engine {

enum class SampleFormat { Unknown, Pe32, Pe64, Elf };

// PeExport is one entry of a PE export directory.
struct PeExport {
    std::optional<std::string> name;  // absent for ordinal-only exports
    unsigned ordinal = 0;
};

struct SampleInfo {
    SampleFormat format = SampleFormat::Unknown;
    bool is_dll = false;
    std::vector<PeExport> exports;  // PE only; empty when there is no export directory
    bool has_export_directory = false;
};

// inspect_sample parses the header bytes (`data` may be the first few MiB of the file: export
// tables beyond it are simply not found). Never throws on malformed input: returns Unknown or
// a partial result.
SampleInfo inspect_sample(std::string_view data);

// inspect_sample_file reads up to 16 MiB of `path` and inspects it; throws util::SystemError
// when the file cannot be read.
SampleInfo inspect_sample_file(const std::filesystem::path& path);

// platform_of maps the format to a Karton platform header: "win32", "win64", "linux", or ""
// when unknown.
std::string platform_of(const SampleInfo& info);

// dll_entry_point picks the DLL entry per DS 0.19a1 (§11.3): "DllRegisterServer" if exported,
// else the first export whose name contains "DllMain", else the first export's name cut at
// '@'; "DllMain" when there is no export directory or any export is unnamed (upstream quirk).
std::string dll_entry_point(const SampleInfo& info);

}  // namespace engine
