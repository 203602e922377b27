// engine/start_command.hpp — how a sample is started inside the guest (spec drakvuf-output.md
// §11.3, DS 0.19a1 rules): argv by extension, joined with Windows (CommandLineToArgvW) quoting;
// a user start_command replaces it with "%f" substituted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace engine {

// start_argv builds the argv for a Windows guest. `guest_path` is the sample's path in the
// guest, `dll_entry` the chosen DLL entry point (only used for "dll").
std::vector<std::string> start_argv(std::string_view extension, std::string_view guest_path,
                                    std::string_view dll_entry);

// join_windows_command_line quotes each argument per CommandLineToArgvW rules (mslex.join):
// bare when it has no whitespace or '"', otherwise wrapped in '"', inner '"' escaped with '\',
// backslashes doubled only before a quote or the closing quote.
std::string join_windows_command_line(const std::vector<std::string>& argv);

// expand_user_start_command replaces every "%f" in `templ` with `guest_path` (no quoting, as
// upstream does).
std::string expand_user_start_command(std::string_view templ, std::string_view guest_path);

// default_start_command is join_windows_command_line(start_argv(...)) for Windows platforms
// and the plain path for linux.
std::string default_start_command(std::string_view platform, std::string_view extension,
                                  std::string_view guest_path, std::string_view dll_entry);

}  // namespace engine
