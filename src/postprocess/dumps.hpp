// postprocess/dumps.hpp — crop_dumps: pack memdump files into dumps.zip under a size cap and
// build dumps_metadata (spec/drakvuf-output.md §6.2). Deviation (issue 4): over the cap the
// LARGEST files are dropped first (upstream walks by ctime and drops everything after the
// first overflow); only names following the memdump convention are packed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace postprocess {

// True for DRAKVUF data-file names: [a-f0-9]{4,16}_[a-f0-9]{16}.
bool is_memdump_data_name(std::string_view name);
// True for sidecars: memdump.<6+ digits>.metadata.
bool is_memdump_sidecar_name(std::string_view name);
// "0x" + base (no leading zeros) for a data-file name; nullopt if not a data-file name.
std::optional<std::string> memdump_base_address(std::string_view name);

struct DumpsResult {
    // [{"filename": "dumps/<name>", "base_address": "0x..."}] for packed data files, name order.
    nlohmann::ordered_json metadata = nlohmann::ordered_json::array();
    uint64_t packed_files = 0;
    uint64_t packed_bytes = 0;
    uint64_t dropped_files = 0;  // over the cap
    uint64_t ignored_files = 0;  // wrong name, symlink, not a regular file
};

// Packs regular files of `dumps_dir` (never following symlinks) into `zip_path` as
// dumps/<name> (DEFLATE). Total packed size ≤ cap_bytes. No packed bytes ⇒ the archive holds a
// "dumps/" directory entry. With delete_inputs every regular file in dumps_dir is removed
// afterwards. Throws util::InputError if dumps_dir is not a real directory, util::Error on
// libzip/IO failure.
DumpsResult crop_dumps(const std::filesystem::path& dumps_dir,
                       const std::filesystem::path& zip_path, uint64_t cap_bytes,
                       bool delete_inputs);

}  // namespace postprocess
