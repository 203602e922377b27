// karton/names.cpp — key names and client names (spec §2.1, §2.2).
#include "karton/names.hpp"

#include "util/utf8.hpp"

namespace karton::names {

namespace {

std::string concat(std::string_view a, std::string_view b) {
    std::string out;
    out.reserve(a.size() + b.size());
    out.append(a);
    out.append(b);
    return out;
}

}  // namespace

std::string task_key(std::string_view uid) { return concat(kTaskKeyPrefix, uid); }

std::optional<std::string_view> task_uid_from_key(std::string_view key) {
    if (!key.starts_with(kTaskKeyPrefix)) {
        return std::nullopt;
    }
    return key.substr(kTaskKeyPrefix.size());
}

std::string queue_key(std::string_view priority, std::string_view identity) {
    std::string out;
    out.reserve(14 + priority.size() + identity.size());
    out.append("karton.queue.");
    out.append(priority);
    out.push_back(':');
    out.append(identity);
    return out;
}

std::vector<std::string> consume_order(std::string_view identity) {
    return {std::string(identity), queue_key("high", identity), queue_key("normal", identity),
            queue_key("low", identity)};
}

std::string outputs_key(std::string_view origin) { return concat("karton.outputs:", origin); }

std::string log_channel(std::string_view level, std::string_view logger) {
    std::string out = "karton.log.";
    for (char c : level) {
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    out.push_back('.');
    out.append(logger);
    return out;
}

std::string tree_scan_pattern(std::string_view root_uid) {
    std::string out = "karton.task:{";
    out.append(root_uid);
    out.append("}:*");
    return out;
}

bool is_valid_identity(std::string_view identity) {
    return identity.find(' ') == std::string_view::npos &&
           identity.find('?') == std::string_view::npos;
}

void validate_identity(std::string_view identity) {
    if (!is_valid_identity(identity)) {
        throw InvalidIdentityError("invalid identity \"" + std::string(identity) +
                                   "\": must not contain a space or '?'");
    }
}

std::string form_url_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3 / 2);
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        }
    }
    return out;
}

std::string form_url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < s.size() && util::hex_digit_value(s[i + 1]) >= 0 &&
                   util::hex_digit_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(util::hex_digit_value(s[i + 1]) * 16 +
                                            util::hex_digit_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string format_client_name(std::string_view identity, std::string_view karton_version,
                               const std::optional<std::string>& service_version) {
    std::string out(identity);
    out.append("?karton_version=");
    out.append(form_url_encode(karton_version));
    if (service_version) {
        out.append("&service_version=");
        out.append(form_url_encode(*service_version));
    }
    return out;
}

std::string_view client_identity(std::string_view name) {
    const std::size_t q = name.find('?');
    return q == std::string_view::npos ? name : name.substr(0, q);
}

ClientName parse_client_name(std::string_view name) {
    ClientName out;
    const std::size_t q = name.find('?');
    out.identity = std::string(name.substr(0, q));
    if (q == std::string_view::npos) {
        return out;
    }
    std::string_view query = name.substr(q + 1);
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            continue;  // parse_qs drops fields without '='
        }
        const std::string key = form_url_decode(pair.substr(0, eq));
        std::string value = form_url_decode(pair.substr(eq + 1));
        if (value.empty()) {
            continue;  // parse_qs drops blank values
        }
        // The first occurrence wins (the reference reads parse_qs(...)[key][0]).
        if (key == "karton_version" && !out.karton_version) {
            out.karton_version = std::move(value);
        } else if (key == "service_version" && !out.service_version) {
            out.service_version = std::move(value);
        }
    }
    return out;
}

}  // namespace karton::names
