// tests/fuzz/targets/targets.hpp — the fuzz entry functions (issue 10, "Fuzzing"), shared by the
// libFuzzer binaries (tests/fuzz, clang -DDRAK_FUZZ=ON) and the corpus replay tests
// (tests/unit/fuzz_replay, every build). Each function feeds one input to one parser.
// Contract: returns 0; an input the component rejects with its documented error (a
// util::Error subclass) is fine; anything else (other exception, crash, sanitizer report,
// a broken round-trip invariant -> std::abort) is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fuzz {

int fuzz_json(const std::uint8_t* data, std::size_t size);
int fuzz_task(const std::uint8_t* data, std::size_t size);
int fuzz_filter(const std::uint8_t* data, std::size_t size);
int fuzz_config_ini(const std::uint8_t* data, std::size_t size);
int fuzz_split(const std::uint8_t* data, std::size_t size);
int fuzz_py_json(const std::uint8_t* data, std::size_t size);
int fuzz_process_tree(const std::uint8_t* data, std::size_t size);
int fuzz_wineserver_trace(const std::uint8_t* data, std::size_t size);
int fuzz_wine_debug(const std::uint8_t* data, std::size_t size);
int fuzz_sample_info(const std::uint8_t* data, std::size_t size);
int fuzz_s3_xml(const std::uint8_t* data, std::size_t size);
int fuzz_zip(const std::uint8_t* data, std::size_t size);
int fuzz_file_names(const std::uint8_t* data, std::size_t size);
int fuzz_task_request(const std::uint8_t* data, std::size_t size);
int fuzz_multipart(const std::uint8_t* data, std::size_t size);

// Target: one named entry function (name == corpus folder tests/fuzz/corpus/<name>/).
struct Target {
    const char* name;
    int (*fn)(const std::uint8_t*, std::size_t);
};

// kTargets lists every target; the replay test and scripts/fuzz-smoke cover all of them.
inline constexpr Target kTargets[] = {
    {"json", fuzz_json},
    {"task", fuzz_task},
    {"filter", fuzz_filter},
    {"config_ini", fuzz_config_ini},
    {"split", fuzz_split},
    {"py_json", fuzz_py_json},
    {"process_tree", fuzz_process_tree},
    {"wineserver_trace", fuzz_wineserver_trace},
    {"wine_debug", fuzz_wine_debug},
    {"sample_info", fuzz_sample_info},
    {"s3_xml", fuzz_s3_xml},
    {"zip", fuzz_zip},
    {"file_names", fuzz_file_names},
    {"task_request", fuzz_task_request},
    {"multipart", fuzz_multipart},
};

// multipart_status is fuzz_multipart without the check: the HTTP status drak-web's upload
// reader answers for the input (0 when the connection broke).
int multipart_status(const std::uint8_t* data, std::size_t size);

// as_text views the input bytes as text (parsers take arbitrary bytes).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// check aborts (a crash libFuzzer records) when an invariant does not hold.
void check(bool ok, const char* what);

}  // namespace fuzz
