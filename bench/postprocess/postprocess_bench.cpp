// postprocess_bench — runs postprocess::run() on a copy (hard link) of a drakmon.log and
// reports throughput (MB/s over the input size), per-step times and peak RSS.
// Usage: postprocess_bench DRAKMON_LOG WORK_DIR
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "postprocess/postprocess.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: postprocess_bench DRAKMON_LOG WORK_DIR\n";
        return 2;
    }
    const fs::path input = argv[1];
    const fs::path work = argv[2];
    fs::remove_all(work);
    fs::create_directories(work);
    std::error_code ec;
    fs::create_hard_link(input, work / "drakmon.log", ec);
    if (ec) {
        fs::copy_file(input, work / "drakmon.log");
    }
    const double mb = static_cast<double>(fs::file_size(input)) / (1 << 20);
    postprocess::Options opts;
    opts.keep_drakmon_log = false;  // default behaviour; only our hard link is removed
    const auto t0 = std::chrono::steady_clock::now();
    const auto summary = postprocess::run(work, opts);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& s : summary.steps) {
        std::cout << "  " << s.name << ": " << postprocess::to_string(s.state) << " " << s.seconds
                  << " s" << (s.message.empty() ? "" : " (" + s.message + ")") << "\n";
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    // Wall-clock numbers are noisy on a shared machine; CPU time is what "one core" means.
    std::cout << "input " << mb << " MiB, wall " << secs << " s (" << mb / secs << " MiB/s), cpu "
              << cpu << " s (" << mb / cpu << " MiB/s per core), peak RSS " << ru.ru_maxrss / 1024
              << " MiB\n";
    return summary.all_ok() ? 0 : 1;
}
