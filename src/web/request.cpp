#include "web/request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

#include "drakrun/file_names.hpp"

namespace drak_web {

namespace {
bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}
std::optional<std::uint64_t> to_u64(std::string_view s) {
    if (!all_digits(s) || s.size() > 19) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
RangeRequest unsatisfiable(std::string reason) {
    RangeRequest r;
    r.kind = RangeRequest::Kind::Unsatisfiable;
    r.reason = std::move(reason);
    return r;
}
}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
    header = trim(header);
    if (header.empty()) return {};
    constexpr std::string_view kUnit = "bytes=";
    if (header.size() < kUnit.size()) return {};
    for (std::size_t i = 0; i < kUnit.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != kUnit[i]) return {};
    std::string_view spec = trim(header.substr(kUnit.size()));
    if (spec.find(',') != std::string_view::npos)
        return unsatisfiable("multiple ranges are not supported");
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) return unsatisfiable("malformed Range header");
    std::string_view a = trim(spec.substr(0, dash));
    std::string_view b = trim(spec.substr(dash + 1));
    if (size == 0) return unsatisfiable("the object is empty");
    RangeRequest r;
    r.kind = RangeRequest::Kind::Partial;
    if (a.empty()) {  // suffix range: last n bytes
        auto n = to_u64(b);
        if (!n) return unsatisfiable("malformed Range header");
        if (*n == 0) return unsatisfiable("empty suffix range");
        r.range.first = *n >= size ? 0 : size - *n;
        r.range.last = size - 1;
        return r;
    }
    auto first = to_u64(a);
    if (!first) return unsatisfiable("malformed Range header");
    if (*first >= size) return unsatisfiable("range starts beyond the end of the object");
    r.range.first = *first;
    if (b.empty()) {
        r.range.last = size - 1;
        return r;
    }
    auto last = to_u64(b);
    if (!last || *last < *first) return unsatisfiable("malformed Range header");
    r.range.last = std::min(*last, size - 1);
    return r;
}

bool is_safe_artifact_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool is_pid_text(std::string_view s) { return s.size() <= 10 && all_digits(s); }

std::optional<UploadName> validate_upload_name(std::string_view name) {
    if (!drakrun::is_safe_file_name(name)) return std::nullopt;
    UploadName out;
    out.full = std::string(name);
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos) {
        out.base = out.full;
        return out;
    }
    std::string_view ext = name.substr(dot + 1);
    if (ext.empty() || ext.size() > 10) return std::nullopt;
    for (char c : ext) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!ok) return std::nullopt;
    }
    out.base = std::string(name.substr(0, dot));
    out.extension = std::string(ext);
    if (out.base.empty()) return std::nullopt;
    return out;
}

std::optional<int> parse_timeout(std::string_view text) {
    text = trim(text);
    auto v = to_u64(text);
    if (!v || *v < 1 || *v > 86400) return std::nullopt;
    return static_cast<int>(*v);
}

std::optional<std::vector<std::string>> parse_plugins(std::string_view text) {
    if (text.size() > 8192) return std::nullopt;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.size() > 64) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : j) {
        if (!e.is_string()) return std::nullopt;
        const auto& s = e.get_ref<const std::string&>();
        if (s.empty() || s.size() > 32) return std::nullopt;
        for (char c : s)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                return std::nullopt;
        out.push_back(s);
    }
    return out;
}

bool is_valid_start_command(std::string_view text) {
    if (text.size() > 4096) return false;
    for (char c : text)
        if (c == '\0' || c == '\r' || c == '\n') return false;
    return true;
}

std::optional<std::string> root_of_task_uid(std::string_view uid) {
    if (uid.size() < 4 || uid.front() != '{') return std::nullopt;
    auto close = uid.find("}:");
    if (close == std::string_view::npos || close < 2) return std::nullopt;
    std::string_view root = uid.substr(1, close - 1);
    if (root.find_first_of("{}") != std::string_view::npos) return std::nullopt;
    if (uid.size() == close + 2) return std::nullopt;
    return std::string(root);
}

}  // namespace drak_web
