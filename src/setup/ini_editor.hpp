// setup/ini_editor.hpp — a line-based editor for /etc/drakrun/config.ini (issue 8 "draksetup
// init": keep an existing file, edit only the given values, preserve comments). Understands the
// configparser dialect of spec §1 (karton/config.hpp) well enough to find sections and options;
// every line it does not change is kept byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drak_setup {

class IniEditor {
  public:
    // IniEditor keeps `text` as lines (a missing final newline is added on output).
    explicit IniEditor(std::string_view text);

    // get returns the raw value of an active (uncommented) option; nullopt when absent. Section
    // names are case-sensitive, option names are not (configparser's optionxform).
    std::optional<std::string> get(std::string_view section, std::string_view option) const;

    // set replaces the option's line (keeping its key spelling; continuation lines of the old
    // value are dropped), or inserts "option = value" after a commented-out template line for
    // the option ("; option = ...") or after the section's last line, or appends the section.
    // '%' is written as "%%" (configparser interpolation). Throws util::InputError when the
    // value or a name contains a line break or a name is empty or malformed.
    void set(std::string_view section, std::string_view option, std::string_view value);

    // text returns the document.
    std::string text() const;

  private:
    struct Range {
        std::size_t header;  // index of the "[section]" line
        std::size_t end;     // one past the last line of the section
    };
    std::optional<Range> find_section(std::string_view section) const;

    std::vector<std::string> lines_;
};

// unescape_percent turns a raw configparser value ("a%%b") into what the services read ("a%b").
std::string unescape_percent(std::string_view raw);

}  // namespace drak_setup
