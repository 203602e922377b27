// Tests for postprocess/tls_keys.hpp (spec §7.1). tlsmon lines are SYNTHETIC (no public real
// tlsmon output exists, see fixtures SOURCES.md); shaped per spec §2.8.
#include "postprocess/tls_keys.hpp"

#include <gtest/gtest.h>

#include "util/fs.hpp"

TEST(TlsKeys, WritesNssKeyLogLinesInOrderAndSkipsBadOnes) {
    util::TempDir tmp("post-tls");
    const std::string cr(64, 'a');
    const std::string mk(96, 'b');
    const std::string good = R"({"Plugin":"tlsmon","TimeStamp":"1.0","PID":600,)"
                             R"("Method":"SslGenerateMasterKey","client_random":")" +
                             cr + R"(","master_key":")" + mk + "\"}";
    util::write_file_atomic(
        tmp.path() / "tlsmon.log",
        good + "\nnot json\n{\"client_random\":\"" + cr +
            "\"}\n{\"client_random\":\"aa\\nCLIENT_RANDOM x\",\"master_key\":\"bb\"}\n" + good +
            "\n");
    const auto n = postprocess::generate_wireshark_key_file(tmp.path() / "tlsmon.log",
                                                            tmp.path() / "keys.txt");
    EXPECT_EQ(n, 2u);
    const std::string line = "CLIENT_RANDOM " + cr + " " + mk + "\n";
    EXPECT_EQ(util::read_file(tmp.path() / "keys.txt"), line + line);
}

TEST(TlsKeys, EmptyLogStillWritesTheFile) {
    util::TempDir tmp("post-tls");
    util::write_file_atomic(tmp.path() / "tlsmon.log", "");
    EXPECT_EQ(postprocess::generate_wireshark_key_file(tmp.path() / "tlsmon.log",
                                                       tmp.path() / "keys.txt"),
              0u);
    EXPECT_EQ(util::read_file(tmp.path() / "keys.txt"), "");
}
