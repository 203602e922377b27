#include "drakrun/file_names.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "util/ids.hpp"

namespace drakrun {

namespace {

constexpr std::string_view kShellSpecial = "\"$&'()*;<>?[\\]^`{|}~!/:";
constexpr std::size_t kMaxNameBytes = 255;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// valid_utf8 checks well-formed UTF-8 without overlongs or surrogates.
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) {
                return false;
            }
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0)) {
            return false;  // overlong, out of range, surrogate, or C1 control
        }
        i += n + 1;
    }
    return true;
}

bool is_reserved_dos_name(std::string_view name) {
    std::string stem = lower(name.substr(0, name.find('.')));
    static const std::array<std::string_view, 6> kPlain = {"con", "prn",    "aux",
                                                           "nul", "conin$", "conout$"};
    if (std::find(kPlain.begin(), kPlain.end(), stem) != kPlain.end()) {
        return true;
    }
    return stem.size() == 4 && (stem.starts_with("com") || stem.starts_with("lpt")) &&
           stem[3] >= '0' && stem[3] <= '9';
}

std::string random_name() {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string hex = util::random_hex(10);
    std::string out;
    for (std::size_t i = 0; i < 10; ++i) {
        unsigned v = static_cast<unsigned>(std::stoul(hex.substr(i * 2, 2), nullptr, 16));
        out.push_back(kAlphabet[v % kAlphabet.size()]);
    }
    return out;
}

}  // namespace

bool is_safe_file_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameBytes || name == "." || name == "..") {
        return false;
    }
    if (name.front() == '-' || name.front() == '.' || name.back() == ' ' || name.back() == '.') {
        return false;
    }
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7F) {
            return false;
        }
        if (c < 0x80 && kShellSpecial.find(static_cast<char>(c)) != std::string_view::npos) {
            return false;
        }
    }
    return valid_utf8(name) && !is_reserved_dos_name(name);
}

std::string extension_of(std::string_view name) {
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 >= name.size()) {
        return "";
    }
    return lower(name.substr(dot + 1));
}

std::optional<std::string> normalize_extension(std::string_view ext) {
    if (!ext.empty() && ext.front() == '.') {
        ext.remove_prefix(1);
    }
    if (ext.empty() || ext.size() > 10) {
        return std::nullopt;
    }
    std::string out = lower(ext);
    for (char c : out) {
        if (!std::isalnum(static_cast<unsigned char>(c))) {
            return std::nullopt;
        }
    }
    return out;
}

GuestFileName choose_guest_file_name(std::string_view requested, std::string_view extension_header,
                                     std::string_view magic, std::string_view platform) {
    GuestFileName out;
    if (auto e = normalize_extension(extension_header)) {
        out.extension = *e;
    } else if (auto from_name = normalize_extension(extension_of(requested));
               from_name && is_safe_file_name(requested)) {
        out.extension = *from_name;
    } else if (platform == "linux" || magic.find("ELF") != std::string_view::npos) {
        out.extension = "";
    } else if (magic.find("(DLL)") != std::string_view::npos) {
        out.extension = "dll";
    } else {
        out.extension = "exe";
    }

    std::string base;
    if (is_safe_file_name(requested)) {
        base = std::string(requested);
    } else {
        base = random_name();
        out.replaced = true;
    }
    if (!out.extension.empty() && extension_of(base) != out.extension) {
        base += "." + out.extension;
    }
    if (base.size() > kMaxNameBytes) {
        base = random_name() + (out.extension.empty() ? "" : "." + out.extension);
        out.replaced = true;
    }
    out.name = base;
    return out;
}

}  // namespace drakrun
