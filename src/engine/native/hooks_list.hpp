// engine/native/hooks_list.hpp — the apimon hooks list (DRAKVUF `--dll-hooks-list`, spec
// drakvuf-output.md §4.4; our copy is data/hooks.txt) and what the native engine derives from
// it: Wine's RelayInclude value (which API calls +relay reports) and per-hook argument names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engine::native {

// HookArg: one `<arg>` token, `type` or `name:type`; `name` empty when not given (ArgN then).
struct HookArg {
    std::string name;
    std::string type;
};

// HookEntry: one hooks-list line.
struct HookEntry {
    std::string dll;                   // as written, e.g. "kernel32.dll"
    std::string function;              // e.g. "CreateFileW"
    std::optional<std::string> clsid;  // `clsid,<CLSID>` when present
    std::optional<std::uint64_t> rva;  // hook by offset when present
    std::string action;                // "log" or "log+stack"
    std::vector<HookArg> args;

    // stack_heuristic: action "log+stack" (memdump runs the stack heuristic too).
    bool stack_heuristic() const { return action == "log+stack"; }
};

// parse_hooks_list parses hooks-list text. Empty lines and `#` comments are skipped; CR is
// stripped. Throws util::InputError("hooks list line N: ...") on a malformed line (DRAKVUF
// refuses to start then) or on more than 100000 lines / a line longer than 4096 bytes.
std::vector<HookEntry> parse_hooks_list(std::string_view text);

// load_hooks_list reads and parses a file (throws util::Error if unreadable or malformed).
std::vector<HookEntry> load_hooks_list(const std::filesystem::path& path);

// relay_include builds Wine's `HKCU\Software\Wine\Debug` RelayInclude value: unique
// `<dll without .dll>.<function>` items joined with ';' in list order, lower-case DLL names
// (Wine matches module names case-insensitively). Hooks by RVA are skipped (Wine relays by
// export name only). Empty list -> "".
std::string relay_include(const std::vector<HookEntry>& hooks);

// find_hook returns the entry for a DLL (with or without ".dll", any case) and function, or
// nullptr.
const HookEntry* find_hook(const std::vector<HookEntry>& hooks, std::string_view dll,
                           std::string_view function);

}  // namespace engine::native
