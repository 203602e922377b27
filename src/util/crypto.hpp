// util/crypto.hpp — the only unit that calls OpenSSL digests: SHA-256, HMAC-SHA256, MD5, hex.
// Used by the S3 signer (SigV4), resources (sha256 of content) and the worker (sample hash).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace util {

// to_hex renders bytes as lower-case hex.
std::string to_hex(std::string_view bytes);

// sha256 returns the raw 32-byte digest of `data`.
std::string sha256(std::string_view data);
// sha256_hex returns the lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);
// hmac_sha256 returns the raw 32-byte HMAC of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);
// md5 returns the raw 16-byte digest (Content-MD5 for S3 DeleteObjects).
std::string md5(std::string_view data);
// base64 encodes bytes (standard alphabet, padded).
std::string base64(std::string_view bytes);

// Sha256Stream hashes data incrementally (files of any size in bounded memory).
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void update(std::string_view data);
    // hex_digest finishes the hash; the object must not be updated afterwards.
    std::string hex_digest();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// sha256_file_hex hashes a whole file in 1 MiB chunks; throws util::SystemError on I/O failure.
std::string sha256_file_hex(const std::string& path);

}  // namespace util
