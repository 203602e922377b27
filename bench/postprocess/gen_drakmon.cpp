// gen_drakmon — writes a synthetic drakmon.log of a requested size built from the REAL fixture
// lines in shared/fixtures/drakvuf (PIDs, TimeStamps and ProcessNames varied per copy), in
// raw DRAKVUF compact style. Benchmark input only (bench/postprocess/README.md).
// Usage: postprocess_gen_drakmon OUT_FILE SIZE_MB
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/fs.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: postprocess_gen_drakmon OUT_FILE SIZE_MB\n";
        return 2;
    }
    const uint64_t target = std::stoull(argv[2]) << 20;
    const fs::path fix = fs::path(DRAK_SHARED_DIR) / "fixtures" / "drakvuf";
    std::vector<Json> templates;
    for (const auto& e : fs::recursive_directory_iterator(fix)) {
        if (e.path().extension() != ".jsonl") {
            continue;
        }
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty()) {
                templates.push_back(Json::parse(line));
            }
        }
    }
    const std::vector<std::string> names = {
        "\\Device\\HarddiskVolume2\\Users\\litter\\Desktop\\malware.exe",
        "\\Device\\HarddiskVolume2\\Windows\\System32\\svchost.exe",
        "\\Device\\HarddiskVolume2\\Users\\zażółć\\Desktop\\próbka.exe",
        "\\Device\\HarddiskVolume2\\Windows\\explorer.exe"};
    std::ofstream out(argv[1], std::ios::binary);
    std::vector<char> buf(1 << 20);
    out.rdbuf()->pubsetbuf(buf.data(), static_cast<std::streamsize>(buf.size()));
    uint64_t written = 0;
    uint64_t n = 0;
    double ts = 1716999134.0;
    while (written < target) {
        const size_t round = n / templates.size();
        Json j = templates[n % templates.size()];
        ++n;
        ts += 0.000013;
        if (j.contains("PID") && j["PID"].is_number_integer()) {
            j["PID"] = j["PID"].get<int64_t>() + static_cast<int64_t>((round % 64) * 4);
        }
        if (j.contains("TimeStamp")) {
            char t[32];
            std::snprintf(t, sizeof t, "%.6f", ts);
            j["TimeStamp"] = t;
        }
        if (j.contains("ProcessName") && round % 3 == 1) {
            j["ProcessName"] = names[n % names.size()];
        }
        std::string line = j.dump();
        if (n % 20000 == 0) {
            line = "Failed to trap return at 0x7ffa12345678";  // printf diagnostics happen
        }
        line += '\n';
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
        written += line.size();
    }
    std::cerr << "wrote " << n << " lines, " << written << " bytes from " << templates.size()
              << " fixture lines\n";
    return out ? 0 : 1;
}
