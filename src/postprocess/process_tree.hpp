// postprocess/process_tree.hpp — process tree reconstruction from procmon records and its
// process_tree.json writer (spec/drakvuf-output.md §8.2), plus the CommandLine splitter.
// Unlike upstream, conflicts (PID reuse overlaps, ambiguous lookups, missing creators) are
// recovered with a warning instead of aborting; events are applied in TimeStamp order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postprocess {

struct Process {
    int64_t pid = 0;
    int64_t ppid = 0;  // parent's pid (PPID of the record for roots), for report.json
    std::string procname;
    std::vector<std::string> args;
    std::string command_line;  // CommandLine after undoing procmon's C-escaping; "" if none
    double ts_from = 0.0;
    std::optional<double> ts_to;
    std::optional<size_t> parent;  // index into ProcessTree::processes
    std::vector<size_t> children;  // in creation order
    bool mocked = false;           // placeholder parent ("Mocked parent")
};

struct ProcessTree {
    std::vector<Process> processes;  // creation order
    std::vector<size_t> roots;       // processes without parent, creation order
    std::vector<std::string> warnings;
};

// Accumulates procmon.log lines (Python-encoded or raw DRAKVUF JSON) and builds the tree.
// Unparseable or irrelevant lines are ignored (counted as warnings when unparseable).
class ProcessTreeBuilder {
  public:
    ProcessTreeBuilder();
    ~ProcessTreeBuilder();
    ProcessTreeBuilder(const ProcessTreeBuilder&) = delete;
    ProcessTreeBuilder& operator=(const ProcessTreeBuilder&) = delete;

    // Feeds one line without its trailing newline.
    void add_line(std::string_view line);
    // Applies the buffered events (sorted by time, stable) and returns the tree.
    ProcessTree finish();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Reads procmon.log line by line (bounded memory per line) and builds the tree.
// Throws util::SystemError if the file cannot be read.
ProcessTree build_process_tree(const std::filesystem::path& procmon_log);

// process_tree.json text (§8.2 schema, Python json.dumps separators, no trailing newline).
// Iterative, so arbitrarily deep chains are fine.
std::string process_tree_to_json(const ProcessTree& tree);

// Undoes procmon's C-escape layer like Python's bytes.decode("unicode_escape") (octal, \x, \u,
// \U, simple escapes); bytes that do not form UTF-8 are taken as Latin-1. nullopt on the
// errors Python raises (truncated \x/\u, trailing backslash, \N{...}).
std::optional<std::string> unescape_c_layer(std::string_view s);

// Windows-style non-POSIX shlex split (Python shlex.split(s, posix=False)): whitespace
// separates, quoted parts are kept with their quotes and end the token; nullopt on an
// unclosed quote.
std::optional<std::vector<std::string>> shlex_split_nonposix(std::string_view s);

// §8.2 split(CommandLine): unescape then shlex; on any error the whole string as one element;
// empty or whitespace-only ⇒ [].
std::vector<std::string> split_command_line(std::string_view command_line);

}  // namespace postprocess
