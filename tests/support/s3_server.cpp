#include "support/s3_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "support/paths.hpp"
#include "util/scope_exit.hpp"

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

}  // namespace

S3Server::S3Server(std::string access_key, std::string secret_key)
    : access_key_(std::move(access_key)),
      secret_key_(std::move(secret_key)),
      dir_(std::make_unique<util::TempDir>("drak-s3rver")) {
    launch();
}

void S3Server::start() {
    if (pid_ <= 0) {
        launch();
    }
}

void S3Server::launch() {
    std::string script = (source_dir() / "tests" / "support" / "s3rver" / "start.js").string();
    std::string data_dir = (dir_->path() / "data").string();

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    }
    util::UniqueFd read_end(out[0]);
    util::UniqueFd write_end(out[1]);

    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers
    // through its legacy provider.
    std::vector<std::string> args = {"node",      "--openssl-legacy-provider",
                                     script,      "--dir",
                                     data_dir,    "--access-key",
                                     access_key_, "--secret-key",
                                     secret_key_};
    if (port_ != 0) {  // restart: same port, same data directory
        args.push_back("--port");
        args.push_back(std::to_string(port_));
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        // Child: own process group (stop() kills it whole), die with the test process.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        // The port line arrives on fd 3; node's stdout (the s3rver log) goes to our stderr.
        // (dup2 onto itself would keep FD_CLOEXEC, so clear the flag in that case.)
        bool fd3_ok =
            write_end.get() == 3 ? ::fcntl(3, F_SETFD, 0) == 0 : ::dup2(write_end.get(), 3) == 3;
        if (!fd3_ok || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
            ::_exit(126);
        }
        ::execvp("node", argv.data());
        ::_exit(127);
    }
    pid_ = pid;
    ::setpgid(pid, pid);  // also from the parent, so stop() never races the child's setpgid
    write_end.reset();
    util::ScopeExit kill_on_failure([this] { stop(); });

    auto deadline = Clock::now() + kStartTimeout;
    std::string got;
    for (;;) {
        auto nl = got.find('\n');
        if (nl != std::string::npos) {
            std::string line = got.substr(0, nl);
            if (line.rfind("PORT ", 0) != 0) {
                throw std::runtime_error("s3rver printed an unexpected line: " + line);
            }
            port_ = std::stoi(line.substr(5));
            break;
        }
        int left = remaining_ms(deadline);
        if (left == 0) {
            throw std::runtime_error("s3rver did not report its port within " +
                                     std::to_string(kStartTimeout.count()) + " s");
        }
        pollfd pfd{.fd = read_end.get(), .events = POLLIN, .revents = 0};
        int rc = ::poll(&pfd, 1, left);
        if (rc < 0 && errno != EINTR) {
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (rc > 0) {
            char buf[256];
            ssize_t n = ::read(read_end.get(), buf, sizeof buf);
            if (n == 0) {
                throw std::runtime_error(
                    "s3rver exited before listening (is node on PATH and `npm install` done in "
                    "tests/support/s3rver?)");
            }
            if (n > 0) {
                got.append(buf, static_cast<size_t>(n));
            }
        }
    }
    kill_on_failure.cancel();
}

S3Server::~S3Server() { stop(); }

std::string S3Server::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void S3Server::stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(-pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) {
            break;
        }
        if (Clock::now() >= deadline) {
            ::kill(-pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
}

}  // namespace test_support
