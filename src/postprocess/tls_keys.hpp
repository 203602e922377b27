// postprocess/tls_keys.hpp — generate_wireshark_key_file: tlsmon.log → NSS key log
// "CLIENT_RANDOM <client_random> <master_key>" lines (spec/drakvuf-output.md §7.1).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace postprocess {

// The key-log line (with '\n') for one tlsmon line; nullopt when the line is not JSON, lacks
// either key, or a value is not a hex string (≤ 512 chars; hostile values could otherwise
// inject extra key-log lines).
std::optional<std::string> wireshark_key_line(std::string_view tlsmon_line);

// Writes `out` (always, possibly empty) from `tlsmon_log`. Returns the number of keys written.
// Throws util::SystemError.
uint64_t generate_wireshark_key_file(const std::filesystem::path& tlsmon_log,
                                     const std::filesystem::path& out);

}  // namespace postprocess
