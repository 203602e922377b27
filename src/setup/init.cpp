// setup/init.cpp — draksetup init (see init.hpp).
#include "setup/init.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <istream>
#include <ostream>

#include "karton/config.hpp"
#include "karton/redis.hpp"
#include "s3/client.hpp"
#include "s3/error.hpp"
#include "setup/ini_editor.hpp"
#include "util/fs.hpp"
#include "util/scope_exit.hpp"

namespace drak_setup {

namespace fs = std::filesystem;

fs::path default_template_path() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto p = exe.parent_path().parent_path() / "share" / "drakrun" / "config.ini.example";
        if (fs::is_regular_file(p, ec)) return p;
    }
    if (fs::is_regular_file(kDefaultTemplate, ec)) return kDefaultTemplate;
    return fs::path(DRAK_SETUP_SOURCE_DIR) / "data" / "config.ini";
}

std::string normalize_s3_address(std::string_view address, std::optional<bool> secure) {
    std::string a(address);
    while (!a.empty() && a.back() == ' ') a.pop_back();
    while (!a.empty() && a.front() == ' ') a.erase(0, 1);
    if (a.empty()) throw util::InputError("S3 address is empty");
    auto sep = a.find("://");
    std::string rest = sep == std::string::npos ? a : a.substr(sep + 3);
    std::string scheme = sep == std::string::npos ? "" : a.substr(0, sep);
    if (!scheme.empty() && scheme != "http" && scheme != "https") {
        throw util::InputError("S3 address must use http or https: " + a);
    }
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.empty()) throw util::InputError("S3 address has no host: " + a);
    if (rest.find_first_of("/ \t?#@") != std::string::npos) {
        throw util::InputError("S3 address must be host[:port] without a path: " + a);
    }
    if (secure) scheme = *secure ? "https" : "http";
    if (scheme.empty()) scheme = "http";
    return scheme + "://" + rest;
}

namespace {

int parse_port(const std::string& text) {
    auto v = karton::parse_python_int(text);
    if (!v || *v < 1 || *v > 65535) {
        throw util::InputError("Redis port must be a number between 1 and 65535, got: " + text);
    }
    return static_cast<int>(*v);
}

// ask prints "question [current]: " and returns the answer, or `current` for an empty line.
std::string ask(std::istream& in, std::ostream& out, const std::string& question,
                const std::string& current, bool secret) {
    out << question << " [" << (secret && !current.empty() ? "****" : current)
        << "]: " << std::flush;
    std::string line;
    if (!std::getline(in, line)) {
        throw util::InputError("standard input closed while asking for " + question +
                               " (use --unattended with the values as options)");
    }
    if (line.size() > 4096) throw util::InputError(question + ": answer too long");
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    return line.empty() ? current : line;
}

void check_redis(const karton::Config& cfg, std::chrono::milliseconds timeout, std::ostream& out) {
    auto rc = karton::redis_config(cfg);
    karton::RedisOptions o;
    std::string where;
    if (rc.url) {
        o.apply_url(*rc.url);
        where = *rc.url;
    } else {
        o.host = rc.host;
        o.port = rc.port;
        o.db = rc.db;
        o.ssl = rc.ssl;
        where = rc.host + ":" + std::to_string(rc.port);
    }
    o.username = rc.username;
    o.password = rc.password;
    o.socket_timeout = timeout;
    o.backoff.max_attempts = 1;
    out << "checking Redis at " << where << "... " << std::flush;
    try {
        karton::Connection conn(o);
        conn.command({"PING"});
    } catch (const karton::RedisError& e) {
        out << "failed\n";
        throw SetupError("cannot connect to Redis at " + where + ": " + e.what() +
                         " (is redis-server running? check [redis] host/port, "
                         "--redis-host/--redis-port)");
    }
    out << "ok\n";
}

std::vector<std::string> check_s3(const karton::Config& cfg, bool make_buckets,
                                  std::chrono::milliseconds timeout, std::ostream& out) {
    auto sc = karton::s3_config(cfg, karton::current_environment());
    if (!sc.access_key || !sc.secret_key) {
        throw SetupError(
            "[s3] access_key and secret_key are required (--s3-access-key, "
            "--s3-secret-key)");
    }
    s3::Options o;
    o.endpoint = sc.address;
    o.access_key = *sc.access_key;
    o.secret_key = *sc.secret_key;
    o.max_retries = 0;
    o.connect_timeout = timeout;
    o.idle_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(timeout) + std::chrono::seconds(1);
    std::vector<std::string> buckets = {sc.bucket.value_or("karton"),
                                        cfg.get_string("drakrun", "artifacts_bucket", "drakrun")};
    if (buckets[1] == buckets[0]) buckets.pop_back();
    std::vector<std::string> created;
    out << "checking S3 at " << sc.address << "... " << std::flush;
    try {
        s3::S3Client client(o);
        std::vector<std::string> missing;
        for (const auto& b : buckets) {
            if (!client.bucket_exists(b)) missing.push_back(b);
        }
        out << "ok\n";
        for (const auto& b : missing) {
            if (!make_buckets) {
                out << "warning: bucket " << b << " does not exist (--no-s3-make-buckets)\n";
                continue;
            }
            if (client.create_missing_bucket(b)) {
                out << "created bucket " << b << "\n";
                created.push_back(b);
            }
        }
    } catch (const s3::S3Error& e) {
        out << "failed\n";
        throw SetupError("S3 at " + sc.address + " failed: " + e.what() +
                         " (is the S3 server running? check [s3] address/access_key/secret_key, "
                         "--s3-address/--s3-access-key/--s3-secret-key)");
    }
    return created;
}

// write_config replaces `path` atomically: temp file in the same directory (mode 0600, or the
// existing file's mode), fsync, rename.
void write_config(const fs::path& path, const std::string& text) {
    std::error_code ec;
    if (!path.parent_path().empty()) fs::create_directories(path.parent_path(), ec);
    if (ec) throw util::SystemError("create " + path.parent_path().string(), ec.value());
    mode_t mode = 0600;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
    auto tmp = path;
    tmp += ".draksetup-tmp";
    ::unlink(tmp.c_str());
    util::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) throw util::SystemError("create " + tmp.string(), errno);
    util::ScopeExit cleanup([&] { ::unlink(tmp.c_str()); });
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw util::SystemError("write " + tmp.string(), errno);
        off += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd.get(), mode) != 0) throw util::SystemError("chmod " + tmp.string(), errno);
    if (::fsync(fd.get()) != 0) throw util::SystemError("fsync " + tmp.string(), errno);
    if (::close(fd.release()) != 0) throw util::SystemError("close " + tmp.string(), errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        throw util::SystemError("rename " + tmp.string() + " -> " + path.string(), errno);
    }
    cleanup.cancel();
}

}  // namespace

InitResult run_init(const InitOptions& options, std::istream& in, std::ostream& out) {
    if (options.config_path.empty()) throw util::InputError("no configuration path given");
    InitResult result;
    std::error_code ec;
    result.created = !fs::exists(options.config_path, ec);
    fs::path tmpl = options.template_path.empty() ? default_template_path() : options.template_path;
    const fs::path& source = result.created ? tmpl : options.config_path;
    if (!fs::is_regular_file(source, ec)) {
        throw SetupError((result.created ? "configuration template " : "configuration ") +
                         source.string() + " is missing or not a regular file");
    }
    if (fs::file_size(source, ec) > (1u << 20)) {
        throw util::InputError(source.string() + " is larger than 1 MiB");
    }
    std::string original = util::read_file(source);
    karton::Config::parse_ini(original, source.string());  // malformed input: ConfigError
    IniEditor doc(original);
    out << (result.created ? "creating " : "updating ") << options.config_path.string()
        << (result.created ? " from " + tmpl.string() : std::string()) << "\n";

    auto current = [&](const char* s, const char* k) {
        return unescape_percent(doc.get(s, k).value_or(""));
    };
    std::optional<std::string> host = options.redis_host;
    std::optional<std::string> port;
    if (options.redis_port) port = std::to_string(*options.redis_port);
    std::optional<std::string> address = options.s3_address;
    std::optional<std::string> access = options.s3_access_key;
    std::optional<std::string> secret = options.s3_secret_key;
    if (!options.unattended) {
        if (!host) host = ask(in, out, "Redis host", current("redis", "host"), false);
        if (!port) port = ask(in, out, "Redis port", current("redis", "port"), false);
        if (!address) address = ask(in, out, "S3 address", current("s3", "address"), false);
        if (!access) access = ask(in, out, "S3 access key", current("s3", "access_key"), false);
        if (!secret) secret = ask(in, out, "S3 secret key", current("s3", "secret_key"), true);
    }
    if (!address && options.s3_secure && !current("s3", "address").empty()) {
        address = current("s3", "address");
    }

    auto change = [&](const char* s, const char* k, const std::optional<std::string>& v) {
        if (!v) return;
        if (doc.get(s, k) && current(s, k) == *v) return;
        doc.set(s, k, *v);
        result.changed.push_back(std::string(s) + "." + k);
    };
    if (host && host->empty()) throw util::InputError("Redis host is empty");
    change("redis", "host", host);
    if (port) change("redis", "port", std::to_string(parse_port(*port)));
    if (address) change("s3", "address", normalize_s3_address(*address, options.s3_secure));
    if (access && access->empty()) throw util::InputError("S3 access key is empty");
    change("s3", "access_key", access);
    if (secret && secret->empty()) throw util::InputError("S3 secret key is empty");
    change("s3", "secret_key", secret);

    std::string text = doc.text();
    auto cfg = karton::Config::parse_ini(text, options.config_path.string());
    check_redis(cfg, options.check_timeout, out);
    result.buckets_created = check_s3(cfg, options.s3_make_buckets, options.check_timeout, out);

    if (result.created || text != original) {
        write_config(options.config_path, text);
        out << "wrote " << options.config_path.string() << "\n";
    } else {
        out << options.config_path.string() << " unchanged\n";
    }

    result.units = units_for(options.components);
    if (!options.install_units) return result;
    if (!systemd_available(options.systemd)) {
        out << "systemd is not running here (" << options.systemd.run_dir.string()
            << " is missing): skipping the units. Start the services by hand: ";
        for (std::size_t i = 0; i < result.units.size(); ++i) {
            const auto& u = result.units[i].file;
            out << (i ? ", " : "")
                << (u == "drak-system.service" ? "drak-system"
                    : u == "drak-web.service"  ? "drak-web"
                                               : "drakrun worker --instance 1");
        }
        out << "\n";
        return result;
    }
    install_units(result.units, options.systemd, out);
    result.units_installed = true;
    return result;
}

}  // namespace drak_setup
