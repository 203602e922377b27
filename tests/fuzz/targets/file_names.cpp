// Fuzz target file_names: drakrun file-name validation (file_names.hpp) and analysis uid
// validation (task_options.hpp). Input: NUL-separated requested name, extension header, magic,
// platform. Invariant: the chosen guest name is always a safe file name.
#include <string>

#include "drakrun/file_names.hpp"
#include "drakrun/task_options.hpp"
#include "targets.hpp"
#include "util/error.hpp"

namespace fuzz {

int fuzz_file_names(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = as_text(data, size);
    std::string_view parts[4];
    for (auto& p : parts) {
        const auto z = rest.find('\0');
        p = rest.substr(0, z);
        rest = z == std::string_view::npos ? std::string_view{} : rest.substr(z + 1);
    }
    (void)drakrun::is_safe_file_name(parts[0]);
    (void)drakrun::extension_of(parts[0]);
    (void)drakrun::normalize_extension(parts[1]);
    (void)drakrun::is_valid_analysis_uid(parts[0]);
    try {
        const drakrun::GuestFileName g =
            drakrun::choose_guest_file_name(parts[0], parts[1], parts[2], parts[3]);
        check(drakrun::is_safe_file_name(g.name), "file_names: chosen guest name is unsafe");
        check(g.name.find('/') == std::string::npos && g.name.find('\\') == std::string::npos,
              "file_names: chosen guest name has a separator");
    } catch (const util::Error&) {
    }
    return 0;
}

}  // namespace fuzz
