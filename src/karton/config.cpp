// karton/config.cpp — configuration loading (spec §1).
#include "karton/config.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

extern char** environ;

namespace karton {

namespace {

constexpr std::string_view kDefaultSection = "DEFAULT";
constexpr int kMaxInterpolationDepth = 10;
// Hostile-input bound: configuration files are small; refuse anything absurd.
constexpr std::uintmax_t kMaxConfigFileBytes = 16u << 20;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view strip(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string py_quote(std::string_view s) { return "'" + std::string(s) + "'"; }

struct RawValue {
    std::vector<std::string> lines;
    std::string origin;
};

using RawSection = std::map<std::string, RawValue>;

// IniState is configparser's state across the files it reads.
struct IniState {
    RawSection defaults;
    std::vector<std::string> order;  // section names in first-seen order
    std::map<std::string, RawSection> sections;
};

std::string join_value(const RawValue& v) {
    std::string out;
    for (std::size_t i = 0; i < v.lines.size(); ++i) {
        if (i > 0) {
            out.push_back('\n');
        }
        out.append(v.lines[i]);
    }
    while (!out.empty() && is_space(out.back())) {
        out.pop_back();
    }
    return out;
}

void read_ini(IniState& st, std::string_view text, const std::string& fpname) {
    std::set<std::string> sections_seen;
    std::set<std::pair<std::string, std::string>> options_seen;
    RawSection* cursect = nullptr;
    std::string cursect_name;
    std::string optname;
    std::size_t indent_level = 0;
    std::size_t lineno = 0;
    std::string parse_errors;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        const bool had_newline = nl != std::string_view::npos;
        if (!had_newline) {
            nl = text.size();
        }
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        ++lineno;
        const std::string_view value = strip(line);
        if (value.starts_with('#') || value.starts_with(';')) {
            continue;
        }
        if (value.empty()) {
            // Blank lines inside a multi-line value are kept (empty_lines_in_values).
            if (cursect != nullptr && !optname.empty()) {
                (*cursect)[optname].lines.emplace_back();
            } else {
                indent_level = static_cast<std::size_t>(-1);
            }
            continue;
        }
        std::size_t cur_indent = 0;
        while (cur_indent < line.size() && is_space(line[cur_indent])) {
            ++cur_indent;
        }
        if (cursect != nullptr && !optname.empty() && cur_indent > indent_level &&
            indent_level != static_cast<std::size_t>(-1)) {
            (*cursect)[optname].lines.emplace_back(value);
            continue;
        }
        indent_level = cur_indent;
        const std::size_t close = value.rfind(']');
        if (value.front() == '[' && close != std::string_view::npos && close >= 2) {
            const std::string header(value.substr(1, close - 1));
            if (sections_seen.count(header) != 0) {
                throw ConfigError("DuplicateSectionError: While reading from " + py_quote(fpname) +
                                  " [line " + std::to_string(lineno) + "]: section " +
                                  py_quote(header) + " already exists");
            }
            sections_seen.insert(header);
            if (header == kDefaultSection) {
                cursect = &st.defaults;
            } else {
                auto [it, inserted] = st.sections.try_emplace(header);
                if (inserted) {
                    st.order.push_back(header);
                }
                cursect = &it->second;
            }
            cursect_name = header;
            optname.clear();
            continue;
        }
        if (cursect == nullptr) {
            throw ConfigError(
                "MissingSectionHeaderError: File contains no section headers.\nfile: " +
                py_quote(fpname) + ", line: " + std::to_string(lineno) + "\n" +
                py_quote(std::string(line) + (had_newline ? "\\n" : "")));
        }
        const std::size_t sep = value.find_first_of("=:");
        std::string name =
            sep == std::string_view::npos ? std::string() : lower(strip(value.substr(0, sep)));
        if (sep == std::string_view::npos || name.empty()) {
            parse_errors += "\n\t[line " + std::to_string(lineno) + "]: " + py_quote(line);
            optname.clear();
            continue;
        }
        if (!options_seen.emplace(cursect_name, name).second) {
            throw ConfigError("DuplicateOptionError: While reading from " + py_quote(fpname) +
                              " [line " + std::to_string(lineno) + "]: option " + py_quote(name) +
                              " in section " + py_quote(cursect_name) + " already exists");
        }
        RawValue& rv = (*cursect)[name];
        rv.lines.assign(1, std::string(strip(value.substr(sep + 1))));
        rv.origin = fpname;
        optname = std::move(name);
    }
    if (!parse_errors.empty()) {
        throw ConfigError("ParsingError: Source contains parsing errors: " + py_quote(fpname) +
                          parse_errors);
    }
}

using ValueMap = std::map<std::string, std::pair<std::string, std::string>>;  // opt → (raw, origin)

void interpolate_into(std::string& out, const std::string& section, const std::string& option,
                      const std::string& raw, const ValueMap& vars, int depth) {
    if (depth > kMaxInterpolationDepth) {
        throw ConfigError(
            "InterpolationDepthError: Recursion limit exceeded in value substitution: "
            "option " +
            py_quote(option) + " in section " + py_quote(section) +
            " contains an interpolation key which cannot be substituted in " +
            std::to_string(kMaxInterpolationDepth) + " steps. Raw value: " + py_quote(raw));
    }
    std::size_t i = 0;
    while (i < raw.size()) {
        const std::size_t p = raw.find('%', i);
        if (p == std::string::npos) {
            out.append(raw, i, std::string::npos);
            return;
        }
        out.append(raw, i, p - i);
        const std::string rest = raw.substr(p);
        if (p + 1 < raw.size() && raw[p + 1] == '%') {
            out.push_back('%');
            i = p + 2;
        } else if (p + 1 < raw.size() && raw[p + 1] == '(') {
            const std::size_t close = raw.find(')', p + 2);
            if (close == std::string::npos || close == p + 2 || close + 1 >= raw.size() ||
                raw[close + 1] != 's') {
                throw ConfigError(
                    "InterpolationSyntaxError: bad interpolation variable reference " +
                    py_quote(rest));
            }
            const std::string var = lower(raw.substr(p + 2, close - p - 2));
            auto it = vars.find(var);
            if (it == vars.end()) {
                throw ConfigError(
                    "InterpolationMissingOptionError: Bad value substitution: option " +
                    py_quote(option) + " in section " + py_quote(section) +
                    " contains an interpolation key " + py_quote(var) +
                    " which is not a valid option name. Raw value: " + py_quote(raw));
            }
            const std::string& sub = it->second.first;
            if (sub.find('%') != std::string::npos) {
                interpolate_into(out, section, option, sub, vars, depth + 1);
            } else {
                out.append(sub);
            }
            i = close + 2;
        } else {
            throw ConfigError(
                "InterpolationSyntaxError: '%' must be followed by '%' or '(', "
                "found: " +
                py_quote(rest));
        }
    }
}

void apply_ini(Config& cfg, const IniState& st) {
    auto emit = [&](const std::string& name, const RawSection* own) {
        ValueMap vars;
        for (const auto& [k, v] : st.defaults) {
            vars[k] = {join_value(v), v.origin};
        }
        if (own != nullptr) {
            for (const auto& [k, v] : *own) {
                vars[k] = {join_value(v), v.origin};
            }
        }
        for (const auto& [k, v] : vars) {
            std::string out;
            try {
                interpolate_into(out, name, k, v.first, vars, 1);
            } catch (const ConfigError& e) {
                throw ConfigError(std::string(e.what()) + " (in " + v.second + ")");
            }
            cfg.set(name, k, std::move(out), v.second);
        }
    };
    emit(std::string(kDefaultSection), nullptr);
    for (const auto& name : st.order) {
        emit(name, &st.sections.at(name));
    }
}

std::string read_config_file(const std::filesystem::path& p) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    if (ec) {
        throw ConfigError("cannot read configuration file " + p.string() + ": " + ec.message());
    }
    if (size > kMaxConfigFileBytes) {
        throw ConfigError("configuration file " + p.string() + " is too large");
    }
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        throw ConfigError("cannot open configuration file " + p.string());
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Env names KARTON_<SECTION>_<OPTION>: SECTION [A-Z0-9.-]+, OPTION [A-Z0-9_]+.
std::optional<std::pair<std::string, std::string>> parse_env_name(std::string_view name) {
    constexpr std::string_view kPrefix = "KARTON_";
    if (!name.starts_with(kPrefix)) {
        return std::nullopt;
    }
    name.remove_prefix(kPrefix.size());
    const std::size_t us = name.find('_');
    if (us == std::string_view::npos || us == 0 || us + 1 >= name.size()) {
        return std::nullopt;
    }
    const std::string_view section = name.substr(0, us);
    const std::string_view option = name.substr(us + 1);
    for (char c : section) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            return std::nullopt;
        }
    }
    for (char c : option) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            return std::nullopt;
        }
    }
    return std::make_pair(lower(section), lower(option));
}

std::string key_of(std::string_view section, std::string_view option) {
    std::string k(section);
    k.push_back('\0');
    k.append(option);
    return k;
}

[[noreturn]] void typed_error(const Config& cfg, std::string_view section, std::string_view option,
                              const std::string& value, const std::string& why) {
    throw ConfigError("config " + cfg.origin(section, option) + ": [" + std::string(section) +
                      "] " + std::string(option) + " = " + py_quote(value) + ": " + why);
}

}  // namespace

Environment current_environment() {
    Environment env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        const std::size_t eq = kv.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return env;
}

std::vector<std::filesystem::path> default_search_paths(const Environment& env) {
    std::vector<std::filesystem::path> out{"/etc/karton/karton.ini"};
    if (auto it = env.find("HOME"); it != env.end() && !it->second.empty()) {
        out.emplace_back(std::filesystem::path(it->second) / ".config" / "karton" / "karton.ini");
    }
    out.emplace_back("./karton.ini");
    return out;
}

Config::LoadOptions Config::default_options() {
    LoadOptions o;
    o.env = current_environment();
    o.search_paths = default_search_paths(o.env);
    return o;
}

Config Config::load(const LoadOptions& opts) {
    IniState st;
    for (const auto& p : opts.search_paths) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(p, ec)) {
            continue;  // optional sources
        }
        read_ini(st, read_config_file(p), p.string());
    }
    std::vector<std::filesystem::path> required;
    if (auto it = opts.env.find("KARTON_CONFIG_FILE"); it != opts.env.end()) {
        required.emplace_back(it->second);
    }
    if (opts.path) {
        required.push_back(*opts.path);
    }
    for (const auto& p : required) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(p, ec)) {
            throw ConfigError("Configuration file not found in " + p.string());
        }
        read_ini(st, read_config_file(p), p.string());
    }
    Config cfg;
    apply_ini(cfg, st);
    for (const auto& [name, value] : opts.env) {
        if (auto sec_opt = parse_env_name(name)) {
            cfg.set(sec_opt->first, sec_opt->second, value, "environment variable " + name);
        }
    }
    // Compat: the legacy [minio] section becomes [s3] (spec §1.5).
    if (cfg.has_section("minio") && !cfg.has_section("s3")) {
        const Section minio = *cfg.section("minio");
        for (const auto& [k, v] : minio) {
            cfg.set("s3", k, v, cfg.origin("minio", k));
        }
        if (auto addr = cfg.get("s3", "address");
            addr && !addr->starts_with("http://") && !addr->starts_with("https://")) {
            const bool secure = cfg.get_bool("minio", "secure", true);
            cfg.set("s3", "address", (secure ? "https://" : "http://") + *addr,
                    cfg.origin("minio", "address"));
        }
    }
    if (opts.check_sections) {
        if (!cfg.has_section("s3")) {
            throw ConfigError("Missing S3 configuration");
        }
        if (!cfg.has_section("redis")) {
            throw ConfigError("Missing Redis configuration");
        }
    }
    return cfg;
}

Config Config::load_ini_file(const std::filesystem::path& path, bool must_exist) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        if (must_exist) {
            throw ConfigError("Configuration file not found in " + path.string());
        }
        return Config();
    }
    return parse_ini(read_config_file(path), path.string());
}

Config Config::parse_ini(std::string_view text, const std::string& source_name) {
    IniState st;
    read_ini(st, text, source_name);
    Config cfg;
    apply_ini(cfg, st);
    return cfg;
}

bool Config::has_section(std::string_view section) const {
    return sections_.find(section) != sections_.end();
}

bool Config::has_option(std::string_view section, std::string_view option) const {
    const Section* s = this->section(section);
    return s != nullptr && s->find(std::string(option)) != s->end();
}

const Config::Section* Config::section(std::string_view section) const {
    auto it = sections_.find(section);
    return it == sections_.end() ? nullptr : &it->second;
}

std::optional<std::string> Config::get(std::string_view section, std::string_view option) const {
    const Section* s = this->section(section);
    if (s == nullptr) {
        return std::nullopt;
    }
    auto it = s->find(std::string(option));
    if (it == s->end()) {
        return std::nullopt;
    }
    return it->second;
}

std::string Config::get_string(std::string_view section, std::string_view option,
                               std::string_view fallback) const {
    auto v = get(section, option);
    return v ? *v : std::string(fallback);
}

std::optional<bool> Config::get_bool(std::string_view section, std::string_view option) const {
    auto v = get(section, option);
    if (!v) {
        return std::nullopt;
    }
    auto b = parse_python_bool(*v);
    if (!b) {
        typed_error(*this, section, option, *v,
                    std::string(section) + "." + std::string(option) + " is not a correct boolean");
    }
    return b;
}

bool Config::get_bool(std::string_view section, std::string_view option, bool fallback) const {
    auto b = get_bool(section, option);
    return b ? *b : fallback;
}

std::optional<std::int64_t> Config::get_int(std::string_view section,
                                            std::string_view option) const {
    auto v = get(section, option);
    if (!v) {
        return std::nullopt;
    }
    auto i = parse_python_int(*v);
    if (!i) {
        typed_error(*this, section, option, *v,
                    "invalid literal for int() with base 10 (or out of range)");
    }
    return i;
}

std::int64_t Config::get_int(std::string_view section, std::string_view option,
                             std::int64_t fallback) const {
    auto i = get_int(section, option);
    return i ? *i : fallback;
}

std::optional<double> Config::get_double(std::string_view section, std::string_view option) const {
    auto v = get(section, option);
    if (!v) {
        return std::nullopt;
    }
    const std::string_view t = strip(*v);
    double d = 0.0;
    const char* b = t.data();
    if (!t.empty() && t.front() == '+') {
        ++b;
    }
    auto r = std::from_chars(b, t.data() + t.size(), d);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || !std::isfinite(d)) {
        typed_error(*this, section, option, *v, "not a finite number");
    }
    return d;
}

double Config::get_double(std::string_view section, std::string_view option,
                          double fallback) const {
    auto d = get_double(section, option);
    return d ? *d : fallback;
}

void Config::set(std::string section, std::string option, std::string value, std::string origin) {
    origins_[key_of(section, option)] = std::move(origin);
    sections_[std::move(section)][std::move(option)] = std::move(value);
}

std::string Config::origin(std::string_view section, std::string_view option) const {
    auto it = origins_.find(key_of(section, option));
    return it == origins_.end() ? std::string() : it->second;
}

std::optional<std::int64_t> parse_python_int(std::string_view text) {
    std::string_view t = strip(text);
    bool neg = false;
    if (!t.empty() && (t.front() == '+' || t.front() == '-')) {
        neg = t.front() == '-';
        t.remove_prefix(1);
    }
    if (t.empty() || t.front() == '_' || t.back() == '_') {
        return std::nullopt;
    }
    std::string digits;
    digits.reserve(t.size() + 1);
    if (neg) {
        digits.push_back('-');
    }
    char prev = 0;
    for (char c : t) {
        if (c == '_') {
            if (prev == '_') {
                return std::nullopt;
            }
        } else if (c >= '0' && c <= '9') {
            digits.push_back(c);
        } else {
            return std::nullopt;
        }
        prev = c;
    }
    std::int64_t v = 0;
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return v;
}

std::optional<bool> parse_python_bool(std::string_view text) {
    const std::string l = lower(text);
    if (l == "1" || l == "yes" || l == "true" || l == "on") {
        return true;
    }
    if (l == "0" || l == "no" || l == "false" || l == "off") {
        return false;
    }
    return std::nullopt;
}

RedisConfig redis_config(const Config& cfg) {
    RedisConfig rc;
    rc.url = cfg.get("redis", "url");
    if (!rc.url) {
        auto host = cfg.get("redis", "host");
        if (!host) {
            throw ConfigError("config: [redis] host is missing (and no url is set)");
        }
        rc.host = *host;
        const auto port = cfg.get_int("redis", "port", 6379);
        if (port < 0 || port > 65535) {
            typed_error(cfg, "redis", "port", cfg.get_string("redis", "port"), "not a TCP port");
        }
        rc.port = static_cast<int>(port);
        const auto db = cfg.get_int("redis", "db", 0);
        if (db < 0 || db > 1000000) {
            typed_error(cfg, "redis", "db", cfg.get_string("redis", "db"), "not a database number");
        }
        rc.db = static_cast<int>(db);
        rc.ssl = cfg.get_bool("redis", "ssl", false);
    }
    if (auto u = cfg.get("redis", "username"); u && !u->empty()) {
        rc.username = *u;
    }
    if (auto p = cfg.get("redis", "password"); p && !p->empty()) {
        rc.password = *p;
    }
    const auto timeout = cfg.get_int("redis", "socket_timeout", 30);
    if (timeout < 0 || timeout > 1000000000) {
        typed_error(cfg, "redis", "socket_timeout", cfg.get_string("redis", "socket_timeout"),
                    "not a timeout in seconds");
    }
    rc.socket_timeout = timeout == 0 ? std::nullopt : std::optional<int>(static_cast<int>(timeout));
    return rc;
}

S3Config s3_config(const Config& cfg, const Environment& env) {
    auto from_env = [&](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    S3Config sc;
    auto address = cfg.get("s3", "address");
    if (!address) {
        address = from_env("AWS_ENDPOINT_URL");
    }
    if (!address || address->empty()) {
        throw ConfigError("config: [s3] address is missing (and AWS_ENDPOINT_URL is not set)");
    }
    sc.address = *address;
    sc.access_key = cfg.get("s3", "access_key");
    if (!sc.access_key) {
        sc.access_key = from_env("AWS_ACCESS_KEY_ID");
    }
    sc.secret_key = cfg.get("s3", "secret_key");
    if (!sc.secret_key) {
        sc.secret_key = from_env("AWS_SECRET_ACCESS_KEY");
    }
    sc.bucket = cfg.get("s3", "bucket");
    sc.iam_auth = cfg.get_bool("s3", "iam_auth", false);
    return sc;
}

}  // namespace karton
