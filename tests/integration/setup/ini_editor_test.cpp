// IniEditor: edits keep every other line byte for byte (issue 8: comments preserved).
#include "setup/ini_editor.hpp"

#include <gtest/gtest.h>

#include "karton/config.hpp"
#include "util/error.hpp"

namespace {

using drak_setup::IniEditor;

const char* kDoc =
    "; top comment\n"
    "[redis]\n"
    "# the host\n"
    "HOST = old-host\n"
    "port: 6379\n"
    "; db = 0\n"
    "\n"
    "[s3]\n"
    "address = http://a:1\n"
    "multi = first\n"
    "  second line\n"
    "after = x\n"
    "\n"
    "[web]\n"
    "listen = 127.0.0.1:6300\n";

TEST(IniEditor, UntouchedDocumentRoundTrips) { EXPECT_EQ(IniEditor(kDoc).text(), kDoc); }

TEST(IniEditor, ReplacesValueKeepingKeySpellingAndComments) {
    IniEditor e(kDoc);
    e.set("redis", "host", "new-host");
    e.set("redis", "port", "6380");
    std::string want = kDoc;
    want.replace(want.find("HOST = old-host"), 15, "HOST = new-host");
    want.replace(want.find("port: 6379"), 10, "port = 6380");
    EXPECT_EQ(e.text(), want);
    EXPECT_EQ(e.get("redis", "Host"), "new-host");
}

TEST(IniEditor, InsertsAfterCommentedTemplateLine) {
    IniEditor e(kDoc);
    e.set("redis", "db", "2");
    EXPECT_NE(e.text().find("; db = 0\ndb = 2\n\n[s3]"), std::string::npos) << e.text();
}

TEST(IniEditor, AppendsToSectionEndAndNewSection) {
    IniEditor e(kDoc);
    e.set("redis", "password", "pw");
    e.set("logging", "level", "DEBUG");
    auto t = e.text();
    EXPECT_NE(t.find("; db = 0\npassword = pw\n\n[s3]"), std::string::npos) << t;
    EXPECT_NE(t.find("listen = 127.0.0.1:6300\n\n[logging]\nlevel = DEBUG\n"), std::string::npos)
        << t;
}

TEST(IniEditor, ReplacingMultiLineValueDropsContinuation) {
    IniEditor e(kDoc);
    e.set("s3", "multi", "one");
    auto t = e.text();
    EXPECT_NE(t.find("multi = one\nafter = x\n"), std::string::npos) << t;
    EXPECT_EQ(t.find("second line"), std::string::npos);
}

TEST(IniEditor, PercentIsEscapedAndReadsBackThroughConfigParser) {
    IniEditor e(kDoc);
    e.set("s3", "secret_key", "a%b%%c");
    auto cfg = karton::Config::parse_ini(e.text());
    EXPECT_EQ(cfg.get("s3", "secret_key"), "a%b%%c");
    EXPECT_EQ(drak_setup::unescape_percent(*e.get("s3", "secret_key")), "a%b%%c");
}

TEST(IniEditor, RejectsLineBreaksAndBadNames) {
    IniEditor e(kDoc);
    EXPECT_THROW(e.set("redis", "host", "a\nb = c"), util::InputError);
    EXPECT_THROW(e.set("redis", "ho=st", "x"), util::InputError);
    EXPECT_THROW(e.set("re]dis", "host", "x"), util::InputError);
    EXPECT_THROW(e.set("redis", "", "x"), util::InputError);
    EXPECT_EQ(e.text(), kDoc);
}

TEST(IniEditor, GetIgnoresCommentsAndOtherSections) {
    IniEditor e(kDoc);
    EXPECT_FALSE(e.get("redis", "db"));
    EXPECT_FALSE(e.get("web", "host"));
    EXPECT_FALSE(e.get("nope", "host"));
    EXPECT_EQ(e.get("s3", "address"), "http://a:1");
}

}  // namespace
