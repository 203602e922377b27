#include "engine/sample_info.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>

#include "util/error.hpp"

namespace engine {

namespace {

constexpr std::size_t kMaxInspectBytes = 16u << 20;
constexpr std::size_t kMaxExports = 65536;

// Reader is a bounds-checked little-endian view; every read returns nullopt past the end.
class Reader {
  public:
    explicit Reader(std::string_view d) : d_(d) {}
    std::optional<std::uint32_t> u32(std::size_t off) const { return read<std::uint32_t>(off); }
    std::optional<std::uint16_t> u16(std::size_t off) const { return read<std::uint16_t>(off); }
    std::optional<std::string> cstr(std::size_t off, std::size_t max = 512) const {
        if (off >= d_.size()) {
            return std::nullopt;
        }
        std::size_t end = off;
        while (end < d_.size() && end - off < max && d_[end] != '\0') {
            ++end;
        }
        if (end >= d_.size() || d_[end] != '\0') {
            return std::nullopt;
        }
        return std::string(d_.substr(off, end - off));
    }

  private:
    template <typename T>
    std::optional<T> read(std::size_t off) const {
        if (off > d_.size() || d_.size() - off < sizeof(T)) {
            return std::nullopt;
        }
        T v{};
        std::memcpy(&v, d_.data() + off, sizeof(T));  // x86-64 host: little endian
        return v;
    }
    std::string_view d_;
};

struct Section {
    std::uint32_t va, vsize, raw_off, raw_size;
};

std::optional<std::size_t> rva_to_offset(const std::vector<Section>& sections, std::uint32_t rva) {
    for (const auto& s : sections) {
        std::uint32_t span = std::max(s.vsize, s.raw_size);
        if (rva >= s.va && rva - s.va < span) {
            std::uint64_t delta = rva - s.va;
            if (delta >= s.raw_size) {
                return std::nullopt;
            }
            return static_cast<std::size_t>(s.raw_off + delta);
        }
    }
    return std::nullopt;
}

void parse_pe(std::string_view data, SampleInfo& info) {
    Reader r(data);
    auto e_lfanew = r.u32(0x3C);
    if (!e_lfanew || *e_lfanew > data.size()) {
        return;
    }
    std::size_t pe = *e_lfanew;
    if (r.u32(pe) != std::optional<std::uint32_t>(0x00004550)) {  // "PE\0\0"
        return;
    }
    auto n_sections = r.u16(pe + 6);
    auto opt_size = r.u16(pe + 20);
    auto characteristics = r.u16(pe + 22);
    std::size_t opt = pe + 24;
    auto magic = r.u16(opt);
    if (!n_sections || !opt_size || !characteristics || !magic) {
        return;
    }
    if (*magic == 0x10b) {
        info.format = SampleFormat::Pe32;
    } else if (*magic == 0x20b) {
        info.format = SampleFormat::Pe64;
    } else {
        return;
    }
    info.is_dll = (*characteristics & 0x2000) != 0;
    std::size_t dir_base = opt + (info.format == SampleFormat::Pe32 ? 96 : 112);
    auto n_dirs = r.u32(dir_base - 4);
    auto export_rva = r.u32(dir_base);
    auto export_size = r.u32(dir_base + 4);
    if (!n_dirs || *n_dirs == 0 || !export_rva || !export_size || *export_rva == 0) {
        return;
    }
    std::vector<Section> sections;
    std::size_t sec = opt + *opt_size;
    for (unsigned i = 0; i < *n_sections && i < 96; ++i) {
        std::size_t s = sec + i * 40;
        auto vsize = r.u32(s + 8), va = r.u32(s + 12), raw_size = r.u32(s + 16),
             raw_off = r.u32(s + 20);
        if (!vsize || !va || !raw_size || !raw_off) {
            break;
        }
        sections.push_back({*va, *vsize, *raw_off, *raw_size});
    }
    auto ed = rva_to_offset(sections, *export_rva);
    if (!ed) {
        return;
    }
    info.has_export_directory = true;
    auto ord_base = r.u32(*ed + 16);
    auto n_funcs = r.u32(*ed + 20);
    auto n_names = r.u32(*ed + 24);
    auto names_rva = r.u32(*ed + 32);
    auto ords_rva = r.u32(*ed + 36);
    if (!ord_base || !n_funcs || !n_names || !names_rva || !ords_rva) {
        return;
    }
    std::uint32_t funcs = std::min<std::uint32_t>(*n_funcs, kMaxExports);
    std::vector<std::optional<std::string>> by_index(funcs);
    auto names_off = rva_to_offset(sections, *names_rva);
    auto ords_off = rva_to_offset(sections, *ords_rva);
    for (std::uint32_t i = 0; names_off && ords_off && i < *n_names && i < kMaxExports; ++i) {
        auto name_rva = r.u32(*names_off + i * 4ull);
        auto idx = r.u16(*ords_off + i * 2ull);
        if (!name_rva || !idx) {
            break;
        }
        auto name_off = rva_to_offset(sections, *name_rva);
        if (name_off && *idx < funcs) {
            by_index[*idx] = r.cstr(*name_off);
        }
    }
    for (std::uint32_t i = 0; i < funcs; ++i) {
        info.exports.push_back({by_index[i], *ord_base + i});
    }
}

}  // namespace

SampleInfo inspect_sample(std::string_view data) {
    SampleInfo info;
    if (data.size() >= 4 && data.substr(0, 4) ==
                                "\x7f"
                                "ELF") {
        info.format = SampleFormat::Elf;
    } else if (data.size() >= 0x40 && data.substr(0, 2) == "MZ") {
        parse_pe(data, info);
    }
    return info;
}

SampleInfo inspect_sample_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        util::throw_errno("open sample " + path.string());
    }
    std::string buf(kMaxInspectBytes, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<std::size_t>(in.gcount()));
    return inspect_sample(buf);
}

std::string platform_of(const SampleInfo& info) {
    switch (info.format) {
        case SampleFormat::Pe32:
            return "win32";
        case SampleFormat::Pe64:
            return "win64";
        case SampleFormat::Elf:
            return "linux";
        case SampleFormat::Unknown:
            break;
    }
    return "";
}

std::string dll_entry_point(const SampleInfo& info) {
    if (!info.has_export_directory || info.exports.empty()) {
        return "DllMain";
    }
    for (const auto& e : info.exports) {
        if (!e.name) {
            return "DllMain";  // Compat: upstream's name decoding fails on unnamed exports
        }
    }
    for (const auto& e : info.exports) {
        if (*e.name == "DllRegisterServer") {
            return *e.name;
        }
    }
    for (const auto& e : info.exports) {
        if (e.name->find("DllMain") != std::string::npos) {
            return *e.name;
        }
    }
    const std::string& first = *info.exports.front().name;
    return first.substr(0, first.find('@'));
}

}  // namespace engine
