#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace test_support {
namespace {

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

int free_loopback_port() {
    Fd s(::socket(AF_INET, SOCK_STREAM, 0));
    if (s.get() < 0) {
        throw std::runtime_error("socket() failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("bind() failed");
    }
    socklen_t len = sizeof addr;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error("getsockname() failed");
    }
    return ntohs(addr.sin_port);
}

RedisServer::RedisServer(std::vector<std::string> extra_args)
    : dir_("redis-test"), extra_args_(std::move(extra_args)), port_(free_loopback_port()) {
    start();
}

RedisServer::~RedisServer() {
    try {
        stop();
    } catch (...) {
    }
}

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

std::string RedisServer::unix_socket() const { return (dir_.path() / "redis.sock").string(); }

void RedisServer::start() {
    if (pid_ > 0) {
        return;
    }
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.path().string(),
                                     "--unixsocket",
                                     unix_socket(),
                                     "--unixsocketperm",
                                     "700",
                                     "--logfile",
                                     (dir_.path() / "redis.log").string(),
                                     "--daemonize",
                                     "no"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork() failed");
    }
    if (pid == 0) {
        ::execvp("redis-server", argv.data());
        ::_exit(127);
    }
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis-server exited during start-up (see " +
                                     (dir_.path() / "redis.log").string() + ")");
        }
        if (ping()) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("redis-server did not answer PING within 10 s");
}

void RedisServer::stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void RedisServer::kill() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void RedisServer::restart() {
    stop();
    start();
}

bool RedisServer::ping() const {
    Fd s(::socket(AF_INET, SOCK_STREAM, 0));
    if (s.get() < 0) {
        return false;
    }
    timeval tv{1, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        return false;
    }
    const char kPing[] = "PING\r\n";
    if (::send(s.get(), kPing, sizeof kPing - 1, MSG_NOSIGNAL) != sizeof kPing - 1) {
        return false;
    }
    char buf[64];
    ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n <= 0) {
        return false;
    }
    std::string reply(buf, static_cast<size_t>(n));
    return reply.starts_with("+PONG") || reply.starts_with("-NOAUTH");
}

}  // namespace test_support
