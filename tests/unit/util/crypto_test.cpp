#include "util/crypto.hpp"

#include <gtest/gtest.h>

TEST(Crypto, Sha256KnownAnswer) {
    EXPECT_EQ(util::sha256_hex(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(util::sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, StreamEqualsOneShot) {
    util::Sha256Stream s;
    s.update("a");
    s.update("bc");
    EXPECT_EQ(s.hex_digest(), util::sha256_hex("abc"));
}

TEST(Crypto, HmacRfc4231Case2) {
    EXPECT_EQ(util::to_hex(util::hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64AndMd5) {
    EXPECT_EQ(util::base64("hello"), "aGVsbG8=");
    EXPECT_EQ(util::base64(util::md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

#include <fstream>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/magic.hpp"

TEST(Magic, DescribesElfAndText) {
    util::TempDir dir("magic-test");
    auto txt = dir.path() / "a.txt";
    std::ofstream(txt) << "hello world\n";
    EXPECT_NE(util::describe_file(txt).find("text"), std::string::npos);
    EXPECT_NE(util::describe_file("/usr/bin/env").find("ELF"), std::string::npos);
    EXPECT_THROW(util::describe_file(dir.path() / "missing"), util::Error);
}

TEST(Fs, AtomicWriteReplacesContent) {
    util::TempDir dir("fs-test");
    auto p = dir.path() / "f";
    util::write_file_atomic(p, "one");
    util::write_file_atomic(p, "two");
    EXPECT_EQ(util::read_file(p), "two");
}
