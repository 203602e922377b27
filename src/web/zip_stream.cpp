#include "web/zip_stream.hpp"

#include <array>

namespace drak_web {

namespace {
constexpr std::uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01

const std::array<std::uint32_t, 256>& crc_table() {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}

void put16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}
}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data) {
    const auto& t = crc_table();
    crc = ~crc;
    for (unsigned char b : data) crc = t[(crc ^ b) & 0xff] ^ (crc >> 8);
    return ~crc;
}

std::uint64_t zip_size(const std::vector<ZipEntryPlan>& entries) {
    std::uint64_t total = 22;  // end of central directory
    for (const auto& e : entries) total += 30 + e.name.size() + e.size + 16 + 46 + e.name.size();
    return total;
}

bool write_zip(
    const std::vector<ZipEntryPlan>& entries, const std::function<bool(std::string_view)>& out,
    const std::function<bool(std::size_t, const std::function<bool(std::string_view)>&)>& fill) {
    std::string central;
    std::uint64_t offset = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        if (e.size > kZipMaxMember || e.name.size() > 0xffff) return false;
        std::string h;
        put32(h, 0x04034b50);
        put16(h, 20);      // version needed
        put16(h, 0x0008);  // sizes and CRC in the data descriptor
        put16(h, 0);       // stored
        put16(h, 0);       // time
        put16(h, kDosDate1980);
        put32(h, 0);
        put32(h, 0);
        put32(h, 0);
        put16(h, static_cast<std::uint32_t>(e.name.size()));
        put16(h, 0);
        h += e.name;
        if (!out(h)) return false;
        std::uint32_t crc = 0;
        std::uint64_t seen = 0;
        bool ok = fill(i, [&](std::string_view piece) {
            crc = crc32_update(crc, piece);
            seen += piece.size();
            return seen <= e.size && out(piece);
        });
        if (!ok || seen != e.size) return false;
        std::string d;
        put32(d, 0x08074b50);
        put32(d, crc);
        put32(d, static_cast<std::uint32_t>(e.size));
        put32(d, static_cast<std::uint32_t>(e.size));
        if (!out(d)) return false;
        put32(central, 0x02014b50);
        put16(central, 20);  // made by
        put16(central, 20);  // needed
        put16(central, 0x0008);
        put16(central, 0);
        put16(central, 0);
        put16(central, kDosDate1980);
        put32(central, crc);
        put32(central, static_cast<std::uint32_t>(e.size));
        put32(central, static_cast<std::uint32_t>(e.size));
        put16(central, static_cast<std::uint32_t>(e.name.size()));
        put16(central, 0);  // extra
        put16(central, 0);  // comment
        put16(central, 0);  // disk
        put16(central, 0);  // internal attrs
        put32(central, 0);  // external attrs
        put32(central, static_cast<std::uint32_t>(offset));
        central += e.name;
        offset += 30 + e.name.size() + e.size + 16;
        if (offset > 0xFFFFFFFEull) return false;
    }
    std::string end = central;
    put32(end, 0x06054b50);
    put16(end, 0);
    put16(end, 0);
    put16(end, static_cast<std::uint32_t>(entries.size()));
    put16(end, static_cast<std::uint32_t>(entries.size()));
    put32(end, static_cast<std::uint32_t>(central.size()));
    put32(end, static_cast<std::uint32_t>(offset));
    put16(end, 0);
    return out(end);
}

}  // namespace drak_web
