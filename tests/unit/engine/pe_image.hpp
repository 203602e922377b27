// tests/unit/engine/pe_image.hpp (test helper) — builds minimal PE images in memory, enough for
// engine::inspect_sample: PE32 or PE32+, EXE or DLL, optionally with named exports.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace engine_test {

// Builds a minimal PE image with one section holding an export directory.
inline std::string make_pe(bool pe64, bool dll, const std::vector<std::string>& names) {
    std::string img(0x1000, '\0');
    auto put16 = [&](std::size_t off, std::uint16_t v) { std::memcpy(&img[off], &v, 2); };
    auto put32 = [&](std::size_t off, std::uint32_t v) { std::memcpy(&img[off], &v, 4); };
    img[0] = 'M';
    img[1] = 'Z';
    put32(0x3C, 0x80);
    put32(0x80, 0x00004550);
    put16(0x80 + 6, 1);  // one section
    std::uint16_t opt_size = pe64 ? 240 : 224;
    put16(0x80 + 20, opt_size);
    put16(0x80 + 22, dll ? 0x2002 : 0x0002);
    std::size_t opt = 0x80 + 24;
    put16(opt, pe64 ? 0x20b : 0x10b);
    std::size_t dirs = opt + (pe64 ? 112 : 96);
    put32(dirs - 4, 16);
    std::size_t sec = opt + opt_size;
    // section: VA 0x1000, raw at 0x400, size 0x400
    put32(sec + 8, 0x400);
    put32(sec + 12, 0x1000);
    put32(sec + 16, 0x400);
    put32(sec + 20, 0x400);
    if (!names.empty()) {
        put32(dirs, 0x1000);  // export dir RVA
        put32(dirs + 4, 0x100);
        std::size_t ed = 0x400;
        put32(ed + 16, 1);  // ordinal base
        put32(ed + 20, static_cast<std::uint32_t>(names.size()));
        put32(ed + 24, static_cast<std::uint32_t>(names.size()));
        put32(ed + 32, 0x1000 + 0x40);  // names RVA
        put32(ed + 36, 0x1000 + 0x80);  // ordinals RVA
        std::size_t str = 0x400 + 0x100;
        for (std::size_t i = 0; i < names.size(); ++i) {
            put32(0x400 + 0x40 + i * 4, static_cast<std::uint32_t>(0x1000 + (str - 0x400)));
            put16(0x400 + 0x80 + i * 2, static_cast<std::uint16_t>(i));
            std::memcpy(&img[str], names[i].c_str(), names[i].size() + 1);
            str += names[i].size() + 1;
        }
    }
    return img;
}

}  // namespace engine_test
