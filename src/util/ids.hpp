// util/ids.hpp — injectable UUID source (style rule 10).
#pragma once

#include <cstdint>
#include <string>

namespace util {

// IdSource yields lower-case hyphenated version-4 UUID strings.
class IdSource {
public:
    virtual ~IdSource() = default;
    virtual std::string uuid4() = 0;
};

// RandomIdSource draws UUIDs from the OS CSPRNG (OpenSSL RAND_bytes).
class RandomIdSource final : public IdSource {
public:
    std::string uuid4() override;
};

// SequentialIdSource yields 00000000-0000-4000-8000-000000000001, ...02, ... — the sequence the
// karton spec vectors were produced with.
class SequentialIdSource final : public IdSource {
public:
    explicit SequentialIdSource(std::uint64_t first = 1) : next_(first) {}
    std::string uuid4() override;

private:
    std::uint64_t next_;
};

// random_ids returns a process-wide RandomIdSource.
IdSource& random_ids();

// random_hex returns `n_bytes` random bytes as lower-case hex.
std::string random_hex(std::size_t n_bytes);

// is_uuid4_text checks the canonical 36-character lower/upper-case hex UUID shape.
bool is_uuid_text(const std::string& s);

}  // namespace util
