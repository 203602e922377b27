// setup/ini_editor.cpp — line-based INI editing (see ini_editor.hpp).
#include "setup/ini_editor.hpp"

#include <algorithm>
#include <cctype>

#include "util/error.hpp"

namespace drak_setup {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_comment(std::string_view line) {
    auto t = trim(line);
    return !t.empty() && (t.front() == ';' || t.front() == '#');
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

// A continuation line is indented and not blank (configparser multi-line values).
bool is_continuation(std::string_view line) {
    return !line.empty() && (line.front() == ' ' || line.front() == '\t') && !is_blank(line) &&
           !is_comment(line);
}

// section_name returns the name of a "[name]" header line.
std::optional<std::string_view> section_name(std::string_view line) {
    auto t = trim(line);
    if (line.empty() || line.front() == ' ' || line.front() == '\t') return std::nullopt;
    if (t.size() < 2 || t.front() != '[') return std::nullopt;
    auto close = t.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return t.substr(1, close - 1);
}

// split_option splits "key = value" / "key: value" (first delimiter); nullopt otherwise.
std::optional<std::pair<std::string_view, std::string_view>> split_option(std::string_view line) {
    if (line.empty() || line.front() == ' ' || line.front() == '\t') return std::nullopt;
    auto pos = line.find_first_of("=:");
    if (pos == std::string_view::npos) return std::nullopt;
    auto key = trim(line.substr(0, pos));
    if (key.empty()) return std::nullopt;
    return std::make_pair(key, trim(line.substr(pos + 1)));
}

void check_name(std::string_view what, std::string_view name) {
    if (trim(name).empty() || name.find_first_of("\r\n[]=:;#") != std::string_view::npos) {
        throw util::InputError("config " + std::string(what) +
                               " name is empty or malformed: " + std::string(name));
    }
}

}  // namespace

IniEditor::IniEditor(std::string_view text) {
    std::size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        std::string line(text.substr(start, nl - start));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines_.push_back(std::move(line));
        start = nl + 1;
    }
}

std::optional<IniEditor::Range> IniEditor::find_section(std::string_view section) const {
    for (std::size_t i = 0; i < lines_.size(); ++i) {
        auto name = section_name(lines_[i]);
        if (!name || *name != section) continue;
        std::size_t end = i + 1;
        while (end < lines_.size() && !section_name(lines_[end])) ++end;
        return Range{i, end};
    }
    return std::nullopt;
}

std::optional<std::string> IniEditor::get(std::string_view section, std::string_view option) const {
    auto range = find_section(section);
    if (!range) return std::nullopt;
    auto want = lower(option);
    for (std::size_t i = range->header + 1; i < range->end; ++i) {
        if (is_comment(lines_[i])) continue;
        auto kv = split_option(lines_[i]);
        if (kv && lower(kv->first) == want) return std::string(kv->second);
    }
    return std::nullopt;
}

void IniEditor::set(std::string_view section, std::string_view option, std::string_view value) {
    check_name("section", section);
    check_name("option", option);
    if (value.find_first_of("\r\n") != std::string_view::npos) {
        throw util::InputError("config value for " + std::string(section) + "." +
                               std::string(option) + " contains a line break");
    }
    std::string escaped;
    for (char c : trim(value)) {
        escaped += c;
        if (c == '%') escaped += '%';
    }
    std::string want = lower(option);
    auto range = find_section(section);
    if (!range) {
        if (!lines_.empty() && !is_blank(lines_.back())) lines_.emplace_back();
        lines_.push_back("[" + std::string(section) + "]");
        lines_.push_back(std::string(option) + " = " + escaped);
        return;
    }
    // 1. An active option: replace its line and drop its continuation lines.
    for (std::size_t i = range->header + 1; i < range->end; ++i) {
        if (is_comment(lines_[i])) continue;
        auto kv = split_option(lines_[i]);
        if (!kv || lower(kv->first) != want) continue;
        std::string key(kv->first);
        lines_[i] = key + " = " + escaped;
        std::size_t j = i + 1;
        while (j < range->end && is_continuation(lines_[j])) ++j;
        lines_.erase(lines_.begin() + static_cast<std::ptrdiff_t>(i + 1),
                     lines_.begin() + static_cast<std::ptrdiff_t>(j));
        return;
    }
    std::string new_line = std::string(option) + " = " + escaped;
    // 2. A commented-out template line "; option = ...": insert right after it.
    for (std::size_t i = range->header + 1; i < range->end; ++i) {
        if (!is_comment(lines_[i])) continue;
        auto body = trim(lines_[i]);
        body.remove_prefix(1);
        auto kv = split_option(trim(body));
        if (kv && lower(kv->first) == want) {
            lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(i + 1), new_line);
            return;
        }
    }
    // 3. After the last non-blank line of the section.
    std::size_t at = range->end;
    while (at > range->header + 1 && is_blank(lines_[at - 1])) --at;
    lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(at), new_line);
}

std::string IniEditor::text() const {
    std::string out;
    for (const auto& l : lines_) {
        out += l;
        out += '\n';
    }
    return out;
}

std::string unescape_percent(std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        out += raw[i];
        if (raw[i] == '%' && i + 1 < raw.size() && raw[i + 1] == '%') ++i;
    }
    return out;
}

}  // namespace drak_setup
