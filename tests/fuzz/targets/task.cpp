// Fuzz target task: karton::parse_task + serialize_task (spec karton-protocol §4).
// Invariant: a serialized task parses back to the same bytes.
#include "karton/task.hpp"
#include "targets.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace fuzz {

int fuzz_task(const std::uint8_t* data, std::size_t size) {
    util::FixedStepClock clock(1700000000.0, 0.5);
    std::string once;
    try {
        once = karton::serialize_task(karton::parse_task(as_text(data, size), clock));
    } catch (const util::Error&) {
        return 0;
    }
    std::string twice;
    try {
        twice = karton::serialize_task(karton::parse_task(once, clock));
    } catch (const util::Error&) {
        check(false, "task: serialized task does not parse");
    }
    check(once == twice, "task: serialize(parse(serialize(t))) != serialize(t)");
    return 0;
}

}  // namespace fuzz
