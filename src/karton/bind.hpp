// karton/bind.hpp — consumer bind records stored in the `karton.binds` hash (spec §6):
// exact serialization, reading of the 2.x array and older object shapes (§6.2, §12.2), the
// equality a consumer checks before every poll (§6.3), and debug-mode identities (§1.6).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "karton/errors.hpp"
#include "karton/json.hpp"

namespace karton {

// kKartonVersion is the library version string we announce (bind "version", client names).
inline constexpr std::string_view kKartonVersion = "5.9.1";

// Bind is one consumer registration. `identity` is the hash field, not part of the JSON.
struct Bind {
    std::string identity;
    // filters: the consumer's filter list as JSON (normally a list of objects, §8); kept as a
    // value so malformed stored filters survive reading and reach the matcher.
    json::Value filters = json::Array{};
    std::optional<std::string> info;
    std::string version = std::string(kKartonVersion);
    bool persistent = true;
    std::optional<std::string> service_version;
    bool is_async = false;
};

// serialize_bind writes the stored JSON: keys filters, info, is_async, persistent,
// service_version, version (sorted), json.dumps byte rules (§3, §6.1).
std::string serialize_bind(const Bind& b);

// parse_bind reads the value stored under `identity` (§6.2):
// * a JSON array (karton 2.x): filters = the array, version "2.x.x", persistent unless the
//   identity ends with ".test", info/service_version null, is_async false;
// * a JSON object: "info" (str|null), "version" (str), "persistent" (bool), "filters" required;
//   "service_version" (str|null) defaults to null, "is_async" (bool) to false.
// Throws BindError naming the missing/wrong key (malformed JSON included).
Bind parse_bind(std::string_view identity, std::string_view text);

// binds_equal is the consumer's comparison (§6.3): identity, info, version, persistent,
// service_version, is_async equal and filters equal with Python == semantics (1 == 1.0 == true).
bool binds_equal(const Bind& a, const Bind& b);

// debug_identity returns "<identity>-<random_hex8>-dev" (debug mode, §1.6); `random_hex8` is
// injected (util::random_hex(4) in production).
std::string debug_identity(std::string_view identity, std::string_view random_hex8);

// apply_debug_mode returns `b` with the debug identity and persistent = false.
Bind apply_debug_mode(Bind b, std::string_view random_hex8);

}  // namespace karton
