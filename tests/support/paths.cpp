#include "support/paths.hpp"

#include <fstream>
#include <stdexcept>
#include <vector>

namespace test_support {

std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("missing test vector file " + path.string());
    }
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            lines.push_back(line);
        }
    }
    if (lines.empty()) {
        throw std::runtime_error("empty test vector file " + path.string());
    }
    return lines;
}

}  // namespace test_support
