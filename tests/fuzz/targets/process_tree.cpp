// Fuzz target process_tree: postprocess::ProcessTreeBuilder over procmon lines, the report
// JSON of the result and the command-line helpers (shlex non-POSIX split, C unescape).
#include <string>

#include "postprocess/process_tree.hpp"
#include "targets.hpp"

namespace fuzz {

int fuzz_process_tree(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = as_text(data, size);
    postprocess::ProcessTreeBuilder builder;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = text.size();
        }
        const std::string_view line = text.substr(pos, nl - pos);
        builder.add_line(line);
        if (line.size() < 4096) {
            (void)postprocess::unescape_c_layer(line);
            (void)postprocess::shlex_split_nonposix(line);
            (void)postprocess::split_command_line(line);
        }
        pos = nl + 1;
    }
    const postprocess::ProcessTree tree = builder.finish();
    (void)postprocess::process_tree_to_json(tree);
    return 0;
}

}  // namespace fuzz
