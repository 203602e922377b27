// Fuzz target wineserver_trace: engine::native::WineserverTrace fed the input as
// `wineserver -f -d1` trace lines, plus the string/argument helpers on each line.
#include <filesystem>
#include <string>

#include "engine/native/process_table.hpp"
#include "engine/native/record_writer.hpp"
#include "engine/native/wineserver_trace.hpp"
#include "targets.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"

namespace fuzz {

int fuzz_wineserver_trace(const std::uint8_t* data, std::size_t size) {
    static util::TempDir dir("fuzz-wst");
    const auto log = dir.path() / "drakmon.log";
    std::filesystem::remove(log);
    util::FixedStepClock clock(1700000000.0, 0.125);
    engine::native::ProcessTable table;
    {
        engine::native::RecordWriter writer(log, clock);
        engine::native::WineserverTraceOptions opt;
        opt.first_image = "C:\\users\\user\\Desktop\\sample.exe";
        opt.first_command_line = opt.first_image;
        opt.sample_tree_only = (size % 2) == 0;
        engine::native::WineserverTrace trace(writer, table, opt);
        const std::string_view text = as_text(data, size);
        std::size_t pos = 0;
        while (pos <= text.size()) {
            auto nl = text.find('\n', pos);
            if (nl == std::string_view::npos) {
                nl = text.size();
            }
            const std::string line(text.substr(pos, nl - pos));
            trace.feed_line(line);
            (void)engine::native::parse_trace_args(line);
            (void)engine::native::decode_wine_string(line);
            (void)engine::native::c_escape(line);
            pos = nl + 1;
        }
    }
    return 0;
}

}  // namespace fuzz
