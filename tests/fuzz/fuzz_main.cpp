// tests/fuzz/fuzz_main.cpp — libFuzzer entry of one target: DRAK_FUZZ_FN names the entry
// function of targets/targets.hpp (set per binary by tests/fuzz/CMakeLists.txt).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::DRAK_FUZZ_FN(data, size);
}
