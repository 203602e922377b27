#include "util/ids.hpp"

#include <openssl/rand.h>

#include <array>
#include <cctype>

#include <fmt/format.h>

#include "util/error.hpp"
#include "util/crypto.hpp"

namespace util {

namespace {
void fill_random(unsigned char* buf, int n) {
    if (RAND_bytes(buf, n) != 1) {
        throw Error("RAND_bytes failed: no randomness available");
    }
}
}  // namespace

std::string RandomIdSource::uuid4() {
    std::array<unsigned char, 16> b{};
    fill_random(b.data(), static_cast<int>(b.size()));
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    std::string hex = to_hex(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string SequentialIdSource::uuid4() {
    return fmt::format("00000000-0000-4000-8000-{:012x}", next_++);
}

IdSource& random_ids() {
    static RandomIdSource ids;
    return ids;
}

std::string random_hex(std::size_t n_bytes) {
    std::string raw(n_bytes, '\0');
    fill_random(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n_bytes));
    return to_hex(raw);
}

bool is_uuid_text(const std::string& s) {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return false;
            }
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace util
