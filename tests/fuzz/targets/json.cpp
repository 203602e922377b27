// Fuzz target json: karton::json::parse + dump round trip (spec karton-protocol §3).
// Invariant: dump(parse(dump(v))) == dump(v) for every accepted input.
#include "karton/json.hpp"
#include "targets.hpp"

namespace fuzz {

int fuzz_json(const std::uint8_t* data, std::size_t size) {
    karton::json::Value v;
    try {
        v = karton::json::parse(as_text(data, size));
    } catch (const karton::json::JsonError&) {
        return 0;
    }
    const std::string once = karton::json::dump(v);
    karton::json::Value again;
    try {
        again = karton::json::parse(once);
    } catch (const karton::json::JsonError&) {
        check(false, "json: dump output does not parse");
    }
    check(karton::json::dump(again) == once, "json: dump(parse(dump(v))) != dump(v)");
    return 0;
}

}  // namespace fuzz
