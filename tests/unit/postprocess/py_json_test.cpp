// Tests for postprocess/py_json.hpp: byte-exact Python json.dumps() re-encoding (spec §8.1).
// Expected strings were produced by CPython 3.11 json.dumps(json.loads(line)).
#include "postprocess/py_json.hpp"

#include <gtest/gtest.h>

#include "support/paths.hpp"

using postprocess::PyObjectParser;

namespace {

std::string reencode(std::string_view in) {
    PyObjectParser p;
    if (!p.parse(in)) {
        return "ERR";
    }
    return std::string(p.encoded());
}

}  // namespace

TEST(PyJson, CompactDrakvufLineGetsPythonSeparators) {
    EXPECT_EQ(reencode(R"({"Plugin":"procmon","TimeStamp":"1753206195.453337","PID":4,"PPID":0,)"
                       R"("RunningProcess":"System","Bitness":64})"),
              R"({"Plugin": "procmon", "TimeStamp": "1753206195.453337", "PID": 4, "PPID": 0, )"
              R"("RunningProcess": "System", "Bitness": 64})");
    EXPECT_EQ(reencode(R"({ "Plugin": "apimon", "Rva": { "A": 1 } })"),
              R"({"Plugin": "apimon", "Rva": {"A": 1}})");
    EXPECT_EQ(reencode(R"({"a" : 1 , "b" :	[ ] , "c":{ }})"), R"({"a": 1, "b": [], "c": {}})");
}

TEST(PyJson, DuplicateKeysCollapseAtFirstPositionWithLastValue) {
    EXPECT_EQ(reencode(R"({"a":1,"a":2,"b":{"x":1,"y":2,"x":[3]}})"),
              R"({"a": 2, "b": {"x": [3], "y": 2}})");
    EXPECT_EQ(reencode(R"({"a":[1,[2,[3,{"b":{"b":1,"b":2}}]]]})"),
              R"({"a": [1, [2, [3, {"b": {"b": 2}}]]]})");
    // Same key spelled raw and escaped is one key.
    EXPECT_EQ(reencode("{\"\xc3\xa9\":1,\"\\u00e9\":2}"), R"({"\u00e9": 2})");
    PyObjectParser p;
    ASSERT_TRUE(p.parse(R"({"RSP":"0x1","X":1,"RSP":"0x2"})"));
    ASSERT_EQ(p.members().size(), 2u);
    EXPECT_EQ(p.get("RSP").value(), "\"0x2\"");
    EXPECT_EQ(p.members()[1].key, "\"X\"");
}

TEST(PyJson, ManyDuplicateKeysUseTheHashPath) {
    std::string in = "{";
    std::string expected = "{";
    for (int i = 0; i < 100; ++i) {
        in += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
        expected += std::string(i ? ", " : "") + "\"k" + std::to_string(i) +
                    "\": " + (i == 7 ? "999" : std::to_string(i));
    }
    in += "\"k7\":999}";
    expected += "}";
    EXPECT_EQ(reencode(in), expected);
}

TEST(PyJson, NumbersFollowPython) {
    EXPECT_EQ(reencode(R"({"f":-100.000000,"g":1e16,"h":1.5e-7,"i":0.0001,"j":1e400,"k":-0,)"
                       R"("l":123456789012345678901234567890})"),
              R"({"f": -100.0, "g": 1e+16, "h": 1.5e-07, "i": 0.0001, "j": Infinity, "k": 0, )"
              R"("l": 123456789012345678901234567890})");
    EXPECT_EQ(reencode(R"({"a":1E5,"b":1e-5,"c":5e-324,"d":1.7976931348623157e308,"e":2.5E+20,)"
                       R"("f":0.1,"g":123456789.123456789})"),
              R"({"a": 100000.0, "b": 1e-05, "c": 5e-324, "d": 1.7976931348623157e+308, )"
              R"("e": 2.5e+20, "f": 0.1, "g": 123456789.12345679})");
    EXPECT_EQ(reencode(R"({"n":NaN,"m":-Infinity,"o":Infinity,"u":18446744073709551616})"),
              R"({"n": NaN, "m": -Infinity, "o": Infinity, "u": 18446744073709551616})");
    EXPECT_EQ(reencode(R"({"t":1716999134.329543,"z":-0.0,"s":1234567890123456.0})"),
              R"({"t": 1716999134.329543, "z": -0.0, "s": 1234567890123456.0})");
    EXPECT_EQ(postprocess::py_float_repr(1e22), "1e+22");
    EXPECT_EQ(postprocess::py_float_repr(12345678901234567.0), "1.2345678901234568e+16");
    EXPECT_EQ(postprocess::py_float_repr(0.001), "0.001");
}

TEST(PyJson, StringsUseAsciiEscapes) {
    EXPECT_EQ(reencode(R"({"s":"\ud800x\udc00\ud83d\ude00\u00E9\u007f\u0000\/"})"),
              R"({"s": "\ud800x\udc00\ud83d\ude00\u00e9\u007f\u0000/"})");
    EXPECT_EQ(reencode("{\"u\":\"za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 \xf0\x9f\x98\x80 \x7f\"}"),
              R"({"u": "za\u017c\u00f3\u0142\u0107 \ud83d\ude00 \u007f"})");
    EXPECT_EQ(reencode(R"({"a":"\"\\\b\f\n\r\t\u0041"})"), R"({"a": "\"\\\b\f\n\r\tA"})");
}

TEST(PyJson, RejectsWhatPythonRejects) {
    for (std::string_view bad : {R"({"a":1,})",
                                 "[1,2]",
                                 "",
                                 "3",
                                 "\"x\"",
                                 "{\"a\":\"\x01\"}",
                                 "{\"a\":\"\xff\"}",
                                 "{\"a\":\"\xed\xa0\x80\"}",
                                 "{\"a\":\"\xc0\xaf\"}",
                                 R"({"a":01})",
                                 R"({"a":1.})",
                                 R"({"a":1e})",
                                 R"({"a":-})",
                                 "\xef\xbb\xbf{\"a\":1}",
                                 R"({"a":1}x)",
                                 R"({"a":.5})",
                                 R"({"a":tru})",
                                 R"({"a":"\x"})",
                                 R"({"a":"\u12"})",
                                 R"({a:1})",
                                 "{\"a\":1",
                                 "{\"a\"",
                                 "{\"a\":\"x\tb\"}",
                                 R"({"a":[1,]})",
                                 R"({"a":+1})",
                                 "{\"a\":1}\x0b"}) {
        EXPECT_EQ(reencode(bad), "ERR") << bad;
    }
    // Deep nesting is refused instead of recursing without bound.
    std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    EXPECT_EQ(reencode(deep), "ERR");
    // 4300-digit integers are Python's limit.
    EXPECT_NE(reencode("{\"a\":" + std::string(4300, '7') + "}"), "ERR");
    EXPECT_EQ(reencode("{\"a\":" + std::string(4301, '7') + "}"), "ERR");
}

TEST(PyJson, SandboxReserialisedFixturesAreFixedPoints) {
    // Every line of the capa fixtures was written by Python's json.dumps, so re-encoding must
    // reproduce it byte for byte.
    const auto dir = test_support::shared_dir() / "fixtures" / "drakvuf";
    size_t checked = 0;
    for (const char* f :
         {"capa-testfiles-93b2d184/apimon.jsonl", "capa-testfiles-93b2d184/procmon.jsonl",
          "capa-testfiles-93b2d184/syscall.jsonl", "capa-testfiles-93b2d184/sysret.jsonl",
          "capa-testfiles-93b2d184/inject.jsonl", "process-tree-demo/filetracer.jsonl",
          "process-tree-demo/regmon.jsonl", "sandbox-docs/inject.jsonl",
          "sandbox-issue-897/inject.jsonl"}) {
        for (const auto& line : test_support::read_lines(dir / f)) {
            EXPECT_EQ(reencode(line), line) << f;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 4000u + 1 + 7 + 6 + 3 + 2);
}

TEST(PyJson, DecodeHelpers) {
    EXPECT_EQ(postprocess::py_decode_string(R"("a\\b\"\u00e9\ud83d\ude00\ud800")").value(),
              "a\\b\"\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd");
    EXPECT_FALSE(postprocess::py_decode_string("12").has_value());
    EXPECT_EQ(postprocess::py_decode_int("-42").value(), -42);
    EXPECT_FALSE(postprocess::py_decode_int("\"42\"").has_value());
    EXPECT_FALSE(postprocess::py_decode_int("99999999999999999999").has_value());
}

TEST(PyJson, DumpsNlohmannValuesPythonStyle) {
    nlohmann::ordered_json j = {{"b", 1}, {"a", {1.5, -100.0, nullptr, true}}, {"s", "\xc3\xa9"}};
    EXPECT_EQ(postprocess::py_dumps(j),
              R"({"b": 1, "a": [1.5, -100.0, null, true], "s": "\u00e9"})");
    EXPECT_EQ(postprocess::py_dumps(nlohmann::ordered_json::object()), "{}");
}
