#include "s3/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <utility>
#include <vector>

#include "util/crypto.hpp"
#include "util/error.hpp"

namespace s3 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

struct UrlParts {
    std::string scheme;
    std::string host;  // as written, brackets kept for IPv6
    std::string port;  // empty when absent
    std::string path;  // raw (already encoded), "/" when empty
    std::string query;
};

UrlParts split_url(std::string_view url) {
    UrlParts p;
    auto sep = url.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        throw util::InputError("S3 URL has no scheme: " + std::string(url));
    }
    p.scheme = std::string(url.substr(0, sep));
    for (auto& c : p.scheme) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::string_view rest = url.substr(sep + 3);
    auto frag = rest.find('#');
    if (frag != std::string_view::npos) {
        rest = rest.substr(0, frag);
    }
    auto auth_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, auth_end);
    std::string_view tail = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
    if (authority.find('@') != std::string_view::npos) {
        throw util::InputError("S3 URL must not carry user info: " + std::string(url));
    }
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            throw util::InputError("S3 URL has an unterminated IPv6 host: " + std::string(url));
        }
        p.host = std::string(authority.substr(0, close + 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                throw util::InputError("S3 URL has junk after the IPv6 host: " + std::string(url));
            }
            p.port = std::string(after.substr(1));
        }
    } else {
        auto colon = authority.rfind(':');
        if (colon == std::string_view::npos) {
            p.host = std::string(authority);
        } else {
            p.host = std::string(authority.substr(0, colon));
            p.port = std::string(authority.substr(colon + 1));
        }
    }
    if (p.host.empty()) {
        throw util::InputError("S3 URL has no host: " + std::string(url));
    }
    for (char c : p.port) {
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            throw util::InputError("S3 URL has a bad port: " + std::string(url));
        }
    }
    auto q = tail.find('?');
    p.path = std::string(tail.substr(0, q));
    if (q != std::string_view::npos) {
        p.query = std::string(tail.substr(q + 1));
    }
    if (p.path.empty()) {
        p.path = "/";
    }
    return p;
}

std::string host_header(const UrlParts& p) {
    bool default_port = p.port.empty() || (p.scheme == "http" && p.port == "80") ||
                        (p.scheme == "https" && p.port == "443");
    return default_port ? p.host : p.host + ":" + p.port;
}

// Canonical query: every parameter decoded then re-encoded, sorted by key then value, and a
// parameter without a value written as "k=".
std::string canonical_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> params;
    size_t pos = 0;
    while (pos <= query.size() && !query.empty()) {
        auto amp = query.find('&', pos);
        std::string_view item =
            query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        if (!item.empty()) {
            auto eq = item.find('=');
            std::string k = uri_decode(item.substr(0, eq));
            std::string v = eq == std::string_view::npos ? "" : uri_decode(item.substr(eq + 1));
            params.emplace_back(uri_encode(k), uri_encode(v));
        }
        if (amp == std::string_view::npos) {
            break;
        }
        pos = amp + 1;
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [k, v] : params) {
        if (!out.empty()) {
            out += '&';
        }
        out += k;
        out += '=';
        out += v;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// Header values are trimmed and inner runs of spaces collapsed (SigV4 "Trimall").
std::string trim_all(std::string_view v) {
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

bool valid_amz_date(std::string_view d) {
    if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') {
        return false;
    }
    for (size_t i = 0; i < 15; ++i) {
        if (i != 8 && !std::isdigit(static_cast<unsigned char>(d[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0f];
        }
    }
    return out;
}

std::string uri_decode(std::string_view s, bool plus_as_space) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (plus_as_space && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string amz_date(double unix_seconds) {
    std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) {
        throw util::InputError("cannot format time " + std::to_string(unix_seconds));
    }
    char buf[32];
    size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return std::string(buf, n);
}

std::string canonical_host(std::string_view url) { return host_header(split_url(url)); }

SignedRequest sign_v4(const SigningInput& in) {
    if (!valid_amz_date(in.amz_date)) {
        throw util::InputError("SigV4: amz_date must look like 20261127T123456Z, got '" +
                               in.amz_date + "'");
    }
    UrlParts url = split_url(in.url);

    // Lower-cased names; std::map keeps them sorted as SigV4 requires.
    std::map<std::string, std::string> canon;
    for (const auto& [name, value] : in.headers) {
        canon[lower(name)] = trim_all(value);
    }
    canon["host"] = host_header(url);
    canon["x-amz-content-sha256"] = in.payload_hash;
    canon["x-amz-date"] = in.amz_date;

    std::string canonical_headers;
    std::string signed_headers;
    for (const auto& [name, value] : canon) {
        canonical_headers += name + ":" + value + "\n";
        if (!signed_headers.empty()) {
            signed_headers += ';';
        }
        signed_headers += name;
    }

    SignedRequest out;
    out.canonical_request = in.method + "\n" + url.path + "\n" + canonical_query(url.query) + "\n" +
                            canonical_headers + "\n" + signed_headers + "\n" + in.payload_hash;

    std::string date = in.amz_date.substr(0, 8);
    std::string scope = date + "/" + in.region + "/" + in.service + "/aws4_request";
    out.string_to_sign = std::string(kAlgorithm) + "\n" + in.amz_date + "\n" + scope + "\n" +
                         util::sha256_hex(out.canonical_request);

    std::string key = util::hmac_sha256("AWS4" + in.secret_key, date);
    key = util::hmac_sha256(key, in.region);
    key = util::hmac_sha256(key, in.service);
    key = util::hmac_sha256(key, "aws4_request");
    std::string signature = util::to_hex(util::hmac_sha256(key, out.string_to_sign));

    out.authorization = std::string(kAlgorithm) + " Credential=" + in.access_key + "/" + scope +
                        ", SignedHeaders=" + signed_headers + ", Signature=" + signature;
    out.headers = in.headers;
    out.headers["X-Amz-Date"] = in.amz_date;
    out.headers["X-Amz-Content-SHA256"] = in.payload_hash;
    out.headers["Authorization"] = out.authorization;
    return out;
}

}  // namespace s3
