// postprocess/metadata.hpp — merge step-returned metadata (dumps_metadata, ...) into the
// worker's metadata.json, keeping its keys, order and exact values (spec §8.0, §8.9).
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace postprocess {

// Reads `metadata_json` (if present; must hold one JSON object ≤ 16 MiB), replaces keys that
// occur in `extra` in place, appends the others, and writes it back in Python json.dumps
// form. A missing file is created from `extra` alone. Throws util::InputError if the
// existing file is not a JSON object, util::SystemError on I/O failure.
void merge_metadata(const std::filesystem::path& metadata_json,
                    const nlohmann::ordered_json& extra);

}  // namespace postprocess
