// Fuzz target config_ini: karton::Config::parse_ini (karton.ini, spec karton-protocol §2) and
// the typed redis section reader on the result. Documented errors: util::Error subclasses.
#include "karton/config.hpp"
#include "targets.hpp"
#include "util/error.hpp"

namespace fuzz {

int fuzz_config_ini(const std::uint8_t* data, std::size_t size) {
    try {
        const karton::Config cfg = karton::Config::parse_ini(as_text(data, size), "fuzz.ini");
        (void)karton::redis_config(cfg);
    } catch (const util::Error&) {
    }
    return 0;
}

}  // namespace fuzz
