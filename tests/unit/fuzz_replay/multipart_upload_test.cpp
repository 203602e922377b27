// The multipart fuzz target's seeds (tests/fuzz/corpus/multipart/) answered by the real upload
// path (cpp-httplib server + drak_web::read_upload): each seed gets the status it was written
// for, so the fuzzer starts from inputs that reach acceptance, every 400 branch and the 413,
// and the server keeps serving after each hostile one.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/paths.hpp"
#include "targets.hpp"
#include "util/fs.hpp"

namespace {

int answer(const std::string& bytes) {
    return fuzz::multipart_status(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                  bytes.size());
}

std::string seed(const std::string& name) {
    return util::read_file(test_support::source_dir() / "tests/fuzz/corpus/multipart" /
                           ("seed-" + name));
}

TEST(MultipartSeeds, EachSeedGetsItsStatusAndTheServerKeepsServing) {
    const std::map<std::string, int> expected = {
        {"ok", 200},         {"fields", 200},       {"chunked", 200},      {"emptyboundary", 400},
        {"dotdot", 400},     {"ctrl", 400},         {"longname", 400},     {"toolarge", 413},
        {"twofiles", 400},   {"nofile", 400},       {"unterminated", 400}, {"badplugins", 400},
        {"manyfields", 400}, {"nodisposition", 400}};
    for (const auto& [name, status] : expected) {
        SCOPED_TRACE(name);
        EXPECT_EQ(answer(seed(name)), status);
        EXPECT_EQ(answer(seed("ok")), 200) << "a normal upload after " << name;
    }
}

TEST(MultipartSeeds, TinyChunksAreAnsweredNeverCrashOrHang) {
    // Chunked bodies in pieces of 1..64 bytes. cpp-httplib 0.11.4's multipart parser answers
    // 400 while the first boundary line is split across reads (pieces < its length); from
    // there on every size must be accepted. Either way: an answer, and the server serves on.
    const std::string ok = seed("ok");
    const std::size_t body = ok.find('\n') + 1;
    const std::size_t first_line = ok.find("\r\n", body) + 2 - body;  // "--boundary\r\n"
    for (int b = 0; b < 64; ++b) {
        SCOPED_TRACE(b + 1);
        const int status = answer(std::string("~") + static_cast<char>(b) + ok);
        if (static_cast<std::size_t>(b + 1) >= first_line) {
            EXPECT_EQ(status, 200);
        } else {
            EXPECT_TRUE(status == 200 || status == 400) << status;
        }
    }
    EXPECT_EQ(answer(seed("chunked")), 200);
    const int tiny = answer(seed("chunked1"));
    EXPECT_TRUE(tiny == 200 || tiny == 400) << tiny;
    std::printf("1-byte chunked upload: %d (400 = cpp-httplib split-boundary limitation)\n", tiny);
}

}  // namespace
