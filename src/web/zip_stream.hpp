// web/zip_stream.hpp — a streaming writer of STORED ZIP archives (PKWARE APPNOTE 4.3: local
// headers with the data-descriptor flag, CRC-32 computed while the bytes pass through, central
// directory at the end), so /pcap_dump can pack S3 objects without buffering them. The total
// size is known up front (zip_size), which gives the response a Content-Length.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace drak_web {

// crc32_update continues a CRC-32 (ISO-HDLC, as zip/zlib) over `data`; start with 0.
std::uint32_t crc32_update(std::uint32_t crc, std::string_view data);

// ZipEntryPlan: one member: its name in the archive and its exact byte size.
struct ZipEntryPlan {
    std::string name;
    std::uint64_t size = 0;
};

// kZipMaxMember: members must stay below 4 GiB (no ZIP64).
constexpr std::uint64_t kZipMaxMember = 0xFFFFFFFEull;

// zip_size returns the exact archive size for these members.
std::uint64_t zip_size(const std::vector<ZipEntryPlan>& entries);

// write_zip emits the archive through `out` (returns false to abort). For member i it calls
// `fill(i, emit)`, which must pass exactly entries[i].size bytes to `emit` (in any number of
// pieces) and return false on failure. Returns false when anything failed or sizes disagreed.
bool write_zip(
    const std::vector<ZipEntryPlan>& entries, const std::function<bool(std::string_view)>& out,
    const std::function<bool(std::size_t, const std::function<bool(std::string_view)>&)>& fill);

}  // namespace drak_web
