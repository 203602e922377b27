// Fuzz target wine_debug: engine::native::WineDebugParser fed the input as Wine debug-channel
// stderr lines (+relay/+winsock/+virtual/+loaddll/+seh). Records are checked to carry a
// Plugin name.
#include <string>

#include "engine/native/process_table.hpp"
#include "engine/native/wine_debug_parser.hpp"
#include "targets.hpp"
#include "util/clock.hpp"

namespace fuzz {

int fuzz_wine_debug(const std::uint8_t* data, std::size_t size) {
    util::FixedStepClock clock(1800000000.0, 0.001);
    engine::native::ProcessTable table;
    engine::native::WineDebugParserOptions opts;
    opts.clock = &clock;
    std::size_t exec_events = 0;
    opts.on_exec_memory = [&](const engine::native::ExecMemoryEvent&) { ++exec_events; };
    engine::native::WineDebugParser parser(
        [](nlohmann::ordered_json r) {
            check(r.is_object() && r.contains("Plugin"), "wine_debug: record without Plugin");
        },
        table, opts);
    const std::string_view text = as_text(data, size);
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = text.size();
        }
        const std::string_view line = text.substr(pos, nl - pos);
        (void)engine::native::parse_wine_line(line);
        parser.feed_line(line);
        pos = nl + 1;
    }
    parser.finish();
    return 0;
}

}  // namespace fuzz
