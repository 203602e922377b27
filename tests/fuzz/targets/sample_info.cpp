// Fuzz target sample_info: engine::inspect_sample (PE/ELF header inspection of an uploaded
// sample) and the helpers that read its result. Documented errors: util::Error subclasses.
#include "engine/sample_info.hpp"
#include "targets.hpp"
#include "util/error.hpp"

namespace fuzz {

int fuzz_sample_info(const std::uint8_t* data, std::size_t size) {
    try {
        const engine::SampleInfo info = engine::inspect_sample(as_text(data, size));
        (void)engine::platform_of(info);
        (void)engine::dll_entry_point(info);
    } catch (const util::Error&) {
    }
    return 0;
}

}  // namespace fuzz
