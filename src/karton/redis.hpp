// karton/redis.hpp — a small RAII Redis client over hiredis 0.14 (RESP2): typed errors,
// decoded replies (nil is a value), pipelines, MULTI/EXEC, BLPOP, SCAN, client names,
// AUTH with the auth-error fallback, and reconnection with capped exponential backoff.
// Implements the connection rules of spec §1.6 ([redis] options, url) and §2.1 (client names).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

struct redisContext;  // hiredis, owned through ContextPtr

namespace karton {

// RedisError is the base of every Redis failure (bad options, protocol errors, error replies).
class RedisError : public util::Error {
  public:
    using util::Error::Error;
};

// RedisIoError: the connection failed or broke (refused, reset, EOF, timeout). The Connection
// is marked broken; the next command reconnects first (with backoff).
class RedisIoError : public RedisError {
  public:
    using RedisError::RedisError;
};

// RedisReplyError: the server answered a command with an error reply ("-ERR ...", "-WRONGTYPE
// ..."). The connection stays usable.
class RedisReplyError : public RedisError {
  public:
    using RedisError::RedisError;
};

// Reply is a decoded RESP2 reply. Strings/status/error keep their raw bytes in `str`.
struct Reply {
    enum class Type { Nil, Integer, String, Array, Status, Error };
    Type type = Type::Nil;
    std::int64_t integer = 0;
    std::string str;
    std::vector<Reply> elements;

    bool is_nil() const { return type == Type::Nil; }
    bool is_error() const { return type == Type::Error; }
    // as_string returns the bytes of a String or Status reply; throws RedisError otherwise.
    const std::string& as_string() const;
    // as_optional_string: nil -> nullopt, String -> value; throws RedisError otherwise.
    std::optional<std::string> as_optional_string() const;
    // as_integer returns an Integer reply; throws RedisError otherwise.
    std::int64_t as_integer() const;
    // as_array returns the elements of an Array reply; throws RedisError otherwise.
    const std::vector<Reply>& as_array() const;
};

// BackoffPolicy: delays between reconnection attempts double from `initial` up to `max`.
// `max_attempts` == 0 means retry until the cancel predicate says stop.
struct BackoffPolicy {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds max{5000};
    unsigned max_attempts = 0;
};

// RedisOptions are the connection parameters (spec §1.6 [redis]).
struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string unix_path;  // non-empty: connect to this Unix socket instead of host:port
    int db = 0;
    std::optional<std::string> username;  // empty strings count as absent (§1.6)
    std::optional<std::string> password;
    // ssl ([redis] ssl = true): TLS is not available with Debian's hiredis 0.14, so a
    // Connection refuses it with a clear RedisError instead of talking plain text.
    bool ssl = false;
    // socket_timeout for connect/read/write; zero means no timeout (blocking forever).
    std::chrono::milliseconds socket_timeout{30000};
    // client_name is sent with CLIENT SETNAME after connecting; empty: no name (§2.1).
    std::string client_name;
    BackoffPolicy backoff;

    // apply_url overrides host/port/db/unix_path (and credentials embedded in the URL) from a
    // redis://[user[:password]@]host[:port][/db] or unix://[user[:password]@]/path[?db=N] URL.
    // rediss:// (TLS) throws RedisError "not supported" (Debian's hiredis 0.14 has no TLS).
    // Malformed URLs throw RedisError naming the problem.
    void apply_url(std::string_view url);
};

// Connection is one Redis connection, used by one thread at a time. Movable, not copyable.
// Every command on a broken connection first reconnects with `options.backoff`
// (CLIENT SETNAME, AUTH, SELECT and PING are replayed on each reconnect).
class Connection {
  public:
    // Connects now: TCP/Unix connect, CLIENT SETNAME <name> (when non-empty), AUTH, PING,
    // SELECT db (when db != 0). Compat (§1.6): if PING fails with an authentication error the
    // client reconnects without credentials and pings again.
    // Throws RedisIoError when the server cannot be reached, RedisError on bad options.
    explicit Connection(RedisOptions options);
    ~Connection();
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    const RedisOptions& options() const { return options_; }
    // broken is true once an I/O error happened and before the next successful reconnect.
    bool broken() const { return !ctx_; }

    // command sends one command and returns its reply. An error reply throws RedisReplyError
    // (message = command name + server text); I/O failures throw RedisIoError.
    Reply command(const std::vector<std::string_view>& argv);
    Reply command(std::initializer_list<std::string_view> argv) {
        return command(std::vector<std::string_view>(argv));
    }

    // pipeline sends all commands, then reads one reply per command (in order). Error replies
    // are returned as Reply::Type::Error values, not thrown. Throws RedisIoError.
    std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);

    // transaction runs MULTI, the commands, EXEC as one pipeline and returns EXEC's replies
    // (one per command). Throws RedisReplyError when a command is rejected at queue time or
    // EXEC aborts, RedisIoError on I/O failure.
    std::vector<Reply> transaction(const std::vector<std::vector<std::string>>& commands);

    // blpop pops from the first non-empty list of `keys` (in order), waiting up to
    // `timeout_seconds` (0 = forever). Returns {key, value}, or nullopt on timeout.
    // The socket timeout is extended for the wait so a long BLPOP is not an I/O error.
    std::optional<std::pair<std::string, std::string>> blpop(const std::vector<std::string>& keys,
                                                             int timeout_seconds);

    // scan iterates SCAN <cursor> MATCH `pattern` [COUNT `count`] to completion (count 0 = no
    // COUNT argument, as karton-system sends it), calling `on_key` for every key returned (keys
    // may repeat, as Redis documents for SCAN).
    void scan(std::string_view pattern, const std::function<void(const std::string&)>& on_key,
              unsigned count = 0);

    // receive reads the next reply the server pushes without a request: messages after
    // (P)SUBSCRIBE, lines after MONITOR. Waits up to the socket timeout, then throws
    // RedisIoError (the connection is then broken). Send the subscription with command().
    Reply receive();

    // set_cancel installs the predicate that stops the automatic reconnection done before a
    // command on a broken connection (e.g. a service's "stop requested" flag). Empty = never.
    void set_cancel(std::function<bool()> cancelled) { cancel_ = std::move(cancelled); }

    // reconnect drops the current socket and connects again, retrying with backoff until
    // success, `max_attempts`, or `cancelled()` returning true. Throws RedisIoError when it
    // gives up.
    void reconnect(const std::function<bool()>& cancelled = {});

  private:
    struct ContextDeleter {
        void operator()(redisContext* c) const;
    };
    using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

    void connect_once();
    void ensure_connected();
    void set_timeout(std::chrono::milliseconds t);
    [[noreturn]] void fail_io(const std::string& what);
    Reply read_reply(std::string_view what);
    void append(const std::vector<std::string_view>& argv);

    RedisOptions options_;
    ContextPtr ctx_;
    std::function<bool()> cancel_;
};

// client_name_with_info builds the extended client name of §2.1:
// "<identity>?karton_version=<v>[&service_version=<sv>]" with form-URL-encoded values.
std::string client_name_with_info(std::string_view identity, std::string_view karton_version,
                                  const std::optional<std::string>& service_version);

}  // namespace karton
