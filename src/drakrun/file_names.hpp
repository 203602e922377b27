// drakrun/file_names.hpp — validation of sample file names and extensions (hostile input:
// names come from task payloads and uploads) and the in-guest name the sample gets.
// Spec: drakvuf-output.md §10 (upload name rule), §11.1 (extension and guest name).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace drakrun {

// is_safe_file_name: 1..255 bytes of printable ASCII or valid UTF-8 letters, no path
// separators, no control characters, no shell-special characters (`"$&'()*;<>?[\]^`{|}~!`),
// not "." / "..", no leading '-' or '.', no trailing space or dot, not a reserved DOS device
// name (CON, NUL, COM1, ...).
bool is_safe_file_name(std::string_view name);

// extension_of returns the lower-cased extension after the last '.', or "" when none.
std::string extension_of(std::string_view name);

// normalize_extension lower-cases `ext` (a leading '.' is dropped) and accepts only
// [a-z0-9]{1,10}; nullopt otherwise.
std::optional<std::string> normalize_extension(std::string_view ext);

// GuestFileName: the name the sample gets inside the guest and why.
struct GuestFileName {
    std::string name;       // e.g. "invoice.exe"
    std::string extension;  // e.g. "exe"
    bool replaced = false;  // the requested name was unsafe and a random one was used
};

// choose_guest_file_name picks the in-guest file name. `requested` is the payload
// `file_name` (or the resource name); `extension_header` the task's `extension` header;
// `magic` the libmagic description (used for "(DLL)" and ELF detection when no extension is
// given); `platform` win32/win64/linux. Unsafe names are replaced by 10 random [A-Za-z0-9]
// characters (the original is never used in any path).
GuestFileName choose_guest_file_name(std::string_view requested, std::string_view extension_header,
                                     std::string_view magic, std::string_view platform);

}  // namespace drakrun
