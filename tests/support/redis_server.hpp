// support/redis_server.hpp — a real `redis-server` on a free loopback port for integration
// tests (house rule 15): started in a temp dir without persistence, waited for with PING
// against a deadline, restartable on the same port, killed in the destructor.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "util/fs.hpp"

namespace test_support {

class RedisServer {
  public:
    // Starts redis-server --port <free> --bind 127.0.0.1 --save "" --appendonly no plus
    // `extra_args` (e.g. {"--requirepass", "secret"}). Throws std::runtime_error when the
    // binary is missing or the server does not answer PING within 10 s.
    explicit RedisServer(std::vector<std::string> extra_args = {});
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    int port() const { return port_; }
    std::string host() const { return "127.0.0.1"; }
    // url returns redis://127.0.0.1:<port>.
    std::string url() const;
    // unix_socket is the Unix socket path the server also listens on.
    std::string unix_socket() const;
    bool running() const { return pid_ > 0; }

    // stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
    void stop();
    // kill SIGKILLs the server (no shutdown save) and reaps it: a crash.
    void kill();
    // start launches it again on the same port (data is lost unless the extra args enabled
    // persistence, e.g. {"--appendonly", "yes", "--appendfsync", "always"}).
    void start();
    // restart = stop + start.
    void restart();

    // ping sends PING over a raw socket; true when +PONG (or -NOAUTH) came back.
    bool ping() const;

  private:
    util::TempDir dir_;
    std::vector<std::string> extra_args_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// free_loopback_port returns a TCP port that was free on 127.0.0.1 a moment ago.
int free_loopback_port();

}  // namespace test_support
