#include "karton/redis.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>

#include "util/logging.hpp"

namespace karton {
namespace {

struct ReplyDeleter {
    void operator()(redisReply* r) const {
        if (r != nullptr) {
            freeReplyObject(r);
        }
    }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

Reply decode(const redisReply& r) {
    Reply out;
    switch (r.type) {
        case REDIS_REPLY_STRING:
            out.type = Reply::Type::String;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = Reply::Type::Status;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = Reply::Type::Error;
            out.str.assign(r.str, r.len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Type::Integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Type::Array;
            out.elements.reserve(r.elements);
            for (size_t i = 0; i < r.elements; ++i) {
                out.elements.push_back(decode(*r.element[i]));
            }
            break;
        case REDIS_REPLY_NIL:
        default:
            out.type = Reply::Type::Nil;
            break;
    }
    return out;
}

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

const char* type_name(Reply::Type t) {
    switch (t) {
        case Reply::Type::Nil:
            return "nil";
        case Reply::Type::Integer:
            return "integer";
        case Reply::Type::String:
            return "string";
        case Reply::Type::Array:
            return "array";
        case Reply::Type::Status:
            return "status";
        case Reply::Type::Error:
            return "error";
    }
    return "?";
}

[[noreturn]] void wrong_type(const Reply& r, const char* want) {
    std::string what = std::string("Redis reply: expected ") + want + ", got " + type_name(r.type);
    if (r.type == Reply::Type::Error) {
        what += " (" + r.str + ")";
    }
    throw RedisError(what);
}

bool is_auth_error(std::string_view msg) {
    // redis-py maps these server messages to AuthenticationError (karton's fallback trigger).
    return msg.starts_with("WRONGPASS") || msg.starts_with("NOAUTH") ||
           msg.find("invalid password") != std::string_view::npos ||
           msg.find("called without any password configured") != std::string_view::npos ||
           msg.find("invalid username-password pair") != std::string_view::npos;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(
                static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

int parse_int(std::string_view s, std::string_view what, std::string_view url) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) {
        throw RedisError("Redis URL " + std::string(url) + ": invalid " + std::string(what) + " '" +
                         std::string(s) + "'");
    }
    return v;
}

std::string form_encode(std::string_view s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

}  // namespace

const std::string& Reply::as_string() const {
    if (type != Type::String && type != Type::Status) {
        wrong_type(*this, "string");
    }
    return str;
}

std::optional<std::string> Reply::as_optional_string() const {
    if (type == Type::Nil) {
        return std::nullopt;
    }
    if (type != Type::String) {
        wrong_type(*this, "string or nil");
    }
    return str;
}

std::int64_t Reply::as_integer() const {
    if (type != Type::Integer) {
        wrong_type(*this, "integer");
    }
    return integer;
}

const std::vector<Reply>& Reply::as_array() const {
    if (type != Type::Array) {
        wrong_type(*this, "array");
    }
    return elements;
}

void RedisOptions::apply_url(std::string_view url) {
    const std::string full(url);
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        throw RedisError("Redis URL " + full + ": missing scheme (redis://, unix://)");
    }
    std::string_view scheme = url.substr(0, scheme_end);
    std::string_view rest = url.substr(scheme_end + 3);
    if (scheme == "rediss") {
        throw RedisError("Redis URL " + full +
                         ": TLS (rediss://) is not supported by this build (hiredis 0.14 without "
                         "TLS)");
    }
    if (scheme != "redis" && scheme != "unix") {
        throw RedisError("Redis URL " + full + ": unsupported scheme '" + std::string(scheme) +
                         "'");
    }
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    // Credentials: everything before the last '@'.
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        std::string user =
            percent_decode(colon == std::string_view::npos ? cred : cred.substr(0, colon));
        if (!user.empty()) {
            username = user;
        }
        if (colon != std::string_view::npos) {
            std::string pw = percent_decode(cred.substr(colon + 1));
            if (!pw.empty()) {
                password = pw;
            }
        }
    }
    if (scheme == "unix") {
        if (rest.empty() || rest.front() != '/') {
            throw RedisError("Redis URL " + full + ": unix:// needs an absolute socket path");
        }
        unix_path = percent_decode(rest);
    } else {
        std::string_view hostport = rest;
        std::string_view path;
        if (auto slash = rest.find('/'); slash != std::string_view::npos) {
            hostport = rest.substr(0, slash);
            path = rest.substr(slash + 1);
        }
        std::string_view h = hostport;
        std::string_view p;
        if (!h.empty() && h.front() == '[') {
            auto close = h.find(']');
            if (close == std::string_view::npos) {
                throw RedisError("Redis URL " + full + ": unterminated IPv6 address");
            }
            p = h.substr(close + 1);
            h = h.substr(1, close - 1);
            if (!p.empty()) {
                if (p.front() != ':') {
                    throw RedisError("Redis URL " + full + ": garbage after IPv6 address");
                }
                p = p.substr(1);
            }
        } else if (auto colon = h.rfind(':'); colon != std::string_view::npos) {
            p = h.substr(colon + 1);
            h = h.substr(0, colon);
        }
        if (h.empty()) {
            throw RedisError("Redis URL " + full + ": missing host");
        }
        host = percent_decode(h);
        port = p.empty() ? 6379 : parse_int(p, "port", url);
        if (port <= 0 || port > 65535) {
            throw RedisError("Redis URL " + full + ": port out of range");
        }
        unix_path.clear();
        db = 0;
        if (!path.empty()) {
            db = parse_int(path, "database number", url);
        }
    }
    // Query parameters: only db is interpreted; others are ignored like redis-py's unknowns.
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view kv = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = kv.find('=');
        if (eq != std::string_view::npos && kv.substr(0, eq) == "db") {
            db = parse_int(kv.substr(eq + 1), "database number", url);
        }
    }
}

void Connection::ContextDeleter::operator()(redisContext* c) const {
    if (c != nullptr) {
        redisFree(c);
    }
}

Connection::Connection(RedisOptions options) : options_(std::move(options)) {
    if (options_.ssl) {
        throw RedisError(
            "Redis TLS ([redis] ssl = true) is not supported by this build (Debian's hiredis "
            "0.14 has no TLS support)");
    }
    if (options_.username && options_.username->empty()) {
        options_.username.reset();
    }
    if (options_.password && options_.password->empty()) {
        options_.password.reset();
    }
    connect_once();
}

Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

void Connection::fail_io(const std::string& what) {
    std::string msg = what;
    if (ctx_ && ctx_->err != 0) {
        msg += ": ";
        msg += ctx_->errstr;
    }
    ctx_.reset();
    throw RedisIoError(msg);
}

void Connection::set_timeout(std::chrono::milliseconds t) {
    if (!ctx_) {
        return;
    }
    if (redisSetTimeout(ctx_.get(), to_timeval(t)) != REDIS_OK) {
        fail_io("Redis: setting socket timeout");
    }
}

void Connection::connect_once() {
    ctx_.reset();
    const std::string where = options_.unix_path.empty()
                                  ? options_.host + ":" + std::to_string(options_.port)
                                  : "unix:" + options_.unix_path;
    redisContext* raw = nullptr;
    const bool timed = options_.socket_timeout.count() > 0;
    const timeval tv = to_timeval(options_.socket_timeout);
    if (options_.unix_path.empty()) {
        raw = timed ? redisConnectWithTimeout(options_.host.c_str(), options_.port, tv)
                    : redisConnect(options_.host.c_str(), options_.port);
    } else {
        raw = timed ? redisConnectUnixWithTimeout(options_.unix_path.c_str(), tv)
                    : redisConnectUnix(options_.unix_path.c_str());
    }
    if (raw == nullptr) {
        throw RedisIoError("Redis connect " + where + ": out of memory");
    }
    ctx_.reset(raw);
    if (ctx_->err != 0) {
        fail_io("Redis connect " + where);
    }
    if (timed) {
        set_timeout(options_.socket_timeout);
    }
    // Order as redis-py's on_connect: AUTH, CLIENT SETNAME, SELECT; then karton's PING.
    if (options_.password) {
        if (options_.username) {
            append({"AUTH", *options_.username, *options_.password});
        } else {
            append({"AUTH", *options_.password});
        }
        Reply r = read_reply("AUTH");
        if (r.is_error()) {
            if (!is_auth_error(r.str)) {
                throw RedisReplyError("Redis AUTH: " + r.str);
            }
            // Compat (§1.6): authentication failed -> retry without credentials.
            util::logger("karton")->warn(
                "Redis authentication failed ({}); retrying without credentials", r.str);
            options_.username.reset();
            options_.password.reset();
            connect_once();
            return;
        }
    }
    if (!options_.client_name.empty()) {
        command({"CLIENT", "SETNAME", options_.client_name});
    }
    if (options_.db != 0) {
        command({"SELECT", std::to_string(options_.db)});
    }
    append({"PING"});
    Reply pong = read_reply("PING");
    if (pong.is_error()) {
        if (pong.str.starts_with("LOADING") || pong.str.starts_with("BUSY") ||
            pong.str.starts_with("MASTERDOWN")) {
            // A server still starting up is a transient condition: retry like an I/O error.
            fail_io("Redis PING: " + pong.str);
        }
        throw RedisReplyError("Redis PING: " + pong.str);
    }
}

void Connection::reconnect(const std::function<bool()>& cancelled) {
    auto delay = options_.backoff.initial;
    for (unsigned attempt = 1;; ++attempt) {
        try {
            connect_once();
            util::logger("karton")->info("Redis reconnected after {} attempt(s)", attempt);
            return;
        } catch (const RedisIoError& e) {
            if (options_.backoff.max_attempts != 0 && attempt >= options_.backoff.max_attempts) {
                throw RedisIoError(std::string(e.what()) + " (gave up after " +
                                   std::to_string(attempt) + " attempts)");
            }
            util::logger("karton")->warn("Redis reconnect attempt {} failed: {}; retrying in {} ms",
                                         attempt, e.what(), delay.count());
        }
        const auto until = std::chrono::steady_clock::now() + delay;
        while (std::chrono::steady_clock::now() < until) {
            if (cancelled && cancelled()) {
                throw RedisIoError("Redis reconnect cancelled");
            }
            std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
                std::chrono::milliseconds(50),
                std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now()) +
                    std::chrono::milliseconds(1)));
        }
        delay = std::min(delay * 2, options_.backoff.max);
    }
}

namespace {

// peer_closed says whether the server closed (or reset) an idle connection, e.g. because it was
// restarted: the socket polls readable and a peek reads EOF or fails. Data waiting on an idle
// connection (pub/sub messages) does not count.
bool peer_closed(int fd) {
    if (fd < 0) {
        return false;
    }
    pollfd pfd{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
    if (::poll(&pfd, 1, 0) <= 0) {
        return false;
    }
    if ((pfd.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0) {
        return true;
    }
    char byte = 0;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace

void Connection::ensure_connected() {
    // As redis-py does when it takes a connection from its pool: an idle connection the server
    // has closed is re-established before the command is sent (nothing was sent on it, so
    // this never repeats a command). Without it the first command after a Redis restart failed
    // with an I/O error, e.g. crashing the task a consumer was finishing. Such a connection is
    // broken like one whose command failed: it reconnects with backoff (cancel_ applies).
    if (ctx_ && peer_closed(ctx_->fd)) {
        util::logger("karton")->warn("Redis connection closed by the server; reconnecting");
        ctx_.reset();
    }
    if (!ctx_) {
        reconnect(cancel_);
    }
}

void Connection::append(const std::vector<std::string_view>& argv) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (auto a : argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), ptrs.data(),
                               lens.data()) != REDIS_OK) {
        fail_io("Redis " + (argv.empty() ? std::string("?") : std::string(argv[0])));
    }
}

Reply Connection::read_reply(std::string_view what) {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) {
        fail_io("Redis " + std::string(what));
    }
    ReplyPtr owned(static_cast<redisReply*>(raw));
    return decode(*owned);
}

Reply Connection::command(const std::vector<std::string_view>& argv) {
    if (argv.empty()) {
        throw RedisError("Redis: empty command");
    }
    ensure_connected();
    append(argv);
    Reply r = read_reply(argv[0]);
    if (r.is_error()) {
        std::string name(argv[0]);
        if (argv.size() > 1) {
            name += " ";
            name += argv[1];
        }
        throw RedisReplyError("Redis " + name + ": " + r.str);
    }
    return r;
}

Reply Connection::receive() {
    if (!ctx_) {
        throw RedisIoError("Redis receive: connection is broken");
    }
    return read_reply("receive");
}

std::vector<Reply> Connection::pipeline(const std::vector<std::vector<std::string>>& commands) {
    ensure_connected();
    for (const auto& c : commands) {
        if (c.empty()) {
            throw RedisError("Redis: empty command in pipeline");
        }
        append(std::vector<std::string_view>(c.begin(), c.end()));
    }
    std::vector<Reply> out;
    out.reserve(commands.size());
    for (const auto& c : commands) {
        out.push_back(read_reply(c[0]));
    }
    return out;
}

std::vector<Reply> Connection::transaction(const std::vector<std::vector<std::string>>& commands) {
    std::vector<std::vector<std::string>> all;
    all.reserve(commands.size() + 2);
    all.push_back({"MULTI"});
    all.insert(all.end(), commands.begin(), commands.end());
    all.push_back({"EXEC"});
    auto replies = pipeline(all);
    for (size_t i = 0; i + 1 < replies.size(); ++i) {
        if (replies[i].is_error()) {
            throw RedisReplyError("Redis transaction: " + all[i][0] + ": " + replies[i].str);
        }
    }
    Reply& exec = replies.back();
    if (exec.is_error()) {
        throw RedisReplyError("Redis EXEC: " + exec.str);
    }
    if (exec.is_nil()) {
        throw RedisReplyError("Redis EXEC: transaction aborted");
    }
    return exec.as_array();
}

std::optional<std::pair<std::string, std::string>> Connection::blpop(
    const std::vector<std::string>& keys, int timeout_seconds) {
    if (keys.empty()) {
        throw RedisError("Redis BLPOP: no keys");
    }
    if (timeout_seconds < 0) {
        throw RedisError("Redis BLPOP: negative timeout");
    }
    ensure_connected();
    std::vector<std::string_view> argv;
    argv.push_back("BLPOP");
    for (const auto& k : keys) {
        argv.push_back(k);
    }
    const std::string t = std::to_string(timeout_seconds);
    argv.push_back(t);
    const bool timed = options_.socket_timeout.count() > 0;
    if (timed) {
        // The wait itself must not count against the socket timeout.
        set_timeout(timeout_seconds == 0
                        ? std::chrono::milliseconds(0)
                        : options_.socket_timeout + std::chrono::seconds(timeout_seconds));
    }
    append(argv);
    Reply r = read_reply("BLPOP");
    if (timed) {
        set_timeout(options_.socket_timeout);
    }
    if (r.is_error()) {
        throw RedisReplyError("Redis BLPOP: " + r.str);
    }
    if (r.is_nil()) {
        return std::nullopt;
    }
    const auto& el = r.as_array();
    if (el.size() != 2) {
        throw RedisError("Redis BLPOP: unexpected reply with " + std::to_string(el.size()) +
                         " elements");
    }
    return std::make_pair(el[0].as_string(), el[1].as_string());
}

void Connection::scan(std::string_view pattern,
                      const std::function<void(const std::string&)>& on_key, unsigned count) {
    std::string cursor = "0";
    const std::string count_text = std::to_string(count);
    do {
        Reply r = count == 0 ? command({"SCAN", cursor, "MATCH", pattern})
                             : command({"SCAN", cursor, "MATCH", pattern, "COUNT", count_text});
        const auto& el = r.as_array();
        if (el.size() != 2) {
            throw RedisError("Redis SCAN: unexpected reply shape");
        }
        cursor = el[0].as_string();
        for (const auto& k : el[1].as_array()) {
            on_key(k.as_string());
        }
    } while (cursor != "0");
}

std::string client_name_with_info(std::string_view identity, std::string_view karton_version,
                                  const std::optional<std::string>& service_version) {
    std::string out(identity);
    out += "?karton_version=" + form_encode(karton_version);
    if (service_version) {
        out += "&service_version=" + form_encode(*service_version);
    }
    return out;
}

}  // namespace karton
