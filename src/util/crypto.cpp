#include "util/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <vector>

#include "util/error.hpp"

namespace util {

namespace {
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::string digest(const EVP_MD* md, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
        throw Error("EVP_Digest failed");
    }
    return std::string(reinterpret_cast<char*>(out), len);
}
}  // namespace

std::string to_hex(std::string_view bytes) {
    static const char* kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0x0f]);
    }
    return out;
}

std::string sha256(std::string_view data) { return digest(EVP_sha256(), data); }
std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }
std::string md5(std::string_view data) { return digest(EVP_md5(), data); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
             &len) == nullptr) {
        throw Error("HMAC-SHA256 failed");
    }
    return std::string(reinterpret_cast<char*>(out), len);
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

struct Sha256Stream::Impl {
    MdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) {
        throw Error("EVP_DigestInit_ex(sha256) failed");
    }
}
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::update(std::string_view data) {
    if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) {
        throw Error("EVP_DigestUpdate failed");
    }
}

std::string Sha256Stream::hex_digest() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(impl_->ctx.get(), out, &len) != 1) {
        throw Error("EVP_DigestFinal_ex failed");
    }
    return to_hex(std::string_view(reinterpret_cast<char*>(out), len));
}

std::string sha256_file_hex(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw_errno("open " + path);
    }
    Sha256Stream h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        auto n = in.gcount();
        if (n > 0) {
            h.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        }
    }
    if (in.bad()) {
        throw_errno("read " + path);
    }
    return h.hex_digest();
}

}  // namespace util
