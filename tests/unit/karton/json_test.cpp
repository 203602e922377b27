// Tests for karton/json.hpp: Python json dialect parsing and byte-exact json.dumps (spec §3).
#include "karton/json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "support/paths.hpp"

namespace json = karton::json;

namespace {

json::Value vector_row(const std::string& file, const std::string& id) {
    for (const auto& line : test_support::read_lines(test_support::vectors_dir() / file)) {
        json::Value row = json::parse(line);
        if (row.as_object().at("id").as_string() == id) {
            return row;
        }
    }
    ADD_FAILURE() << "vector row " << id << " missing in " << file;
    return {};
}

}  // namespace

TEST(Json, EncodingEdgeCasesVectorRoundTripsByteForByte) {
    json::Value row = vector_row("tasks.jsonl", "json_encoding_edge_cases");
    const std::string& serialized = row.as_object().at("serialized").as_string();
    json::Value v = json::parse(serialized);
    EXPECT_EQ(json::dump(v), serialized);
    // The parsed object in the container equals the parsed serialized text.
    EXPECT_EQ(v, row.as_object().at("parsed"));
    const auto& payload = v.as_object().at("payload").as_object();
    const auto& ints = payload.at("ints").as_array();
    EXPECT_TRUE(ints[2].is_bigint());
    EXPECT_EQ(ints[2].as_bigint().digits, "9223372036854775808");
    EXPECT_EQ(ints[1].as_int(), -1);
    const auto& floats = payload.at("floats").as_array();
    EXPECT_TRUE(std::signbit(floats[2].as_float()));
    EXPECT_EQ(v.as_object().at("headers").as_object().at("_u").as_string(), "\xF0\x9F\x98\x80");
}

TEST(Json, TextNormalizationVector) {
    json::Value row = vector_row("task-compat.jsonl", "text_normalization");
    json::Value in = json::parse(row.as_object().at("input").as_string());
    const auto& payload = in.as_object().at("payload").as_object();
    // Duplicate key: last wins, position of first.
    EXPECT_EQ(payload.entries()[1].first, "dup");
    EXPECT_EQ(payload.at("dup").as_int(), 2);
    EXPECT_EQ(json::dump(payload.at("n")),
              "[100000.0, 1.5, 0, -0.0, 1e-06, Infinity, 12345678901234567890123, 3.0, 1e+22, "
              "1e-05]");
    const auto& headers = in.as_object().at("headers");
    EXPECT_EQ(json::dump(headers),
              R"({"lone": "\ud800", "raw_utf8": "\u00e9", "type": "t\u00e9/x"})");
    // The expected output text parses and re-dumps byte-identically.
    const std::string& out = row.as_object().at("output").as_string();
    EXPECT_EQ(json::dump(json::parse(out)), out);
}

TEST(Json, FloatReprMatchesPython) {
    const std::pair<double, const char*> cases[] = {
        {0.1, "0.1"},
        {1.0, "1.0"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {100000.0, "100000.0"},
        {1e16, "1e+16"},
        {9999999999999998.0, "9999999999999998.0"},
        {1.5e-05, "1.5e-05"},
        {0.0001, "0.0001"},
        {0.00012345, "0.00012345"},
        {1e-07, "1e-07"},
        {2.5e300, "2.5e+300"},
        {123456789.12345679, "123456789.12345679"},
        {1700000002.625, "1700000002.625"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {1e100, "1e+100"},
        {123.456, "123.456"},
        {-1.5, "-1.5"},
    };
    for (const auto& [d, text] : cases) {
        EXPECT_EQ(json::python_float_repr(d), text) << text;
    }
    EXPECT_EQ(json::python_float_repr(std::numeric_limits<double>::quiet_NaN()), "nan");
    EXPECT_EQ(json::python_float_repr(-HUGE_VAL), "-inf");
    EXPECT_EQ(json::dump(json::Value(
                  json::Array{std::numeric_limits<double>::quiet_NaN(), HUGE_VAL, -HUGE_VAL})),
              "[NaN, Infinity, -Infinity]");
}

TEST(Json, ParsesPythonExtensionsAndNumbers) {
    json::Value v = json::parse(" [NaN, Infinity, -Infinity, -0, 1e-400, -1e400, 0.5E+1] \n");
    const auto& a = v.as_array();
    EXPECT_TRUE(std::isnan(a[0].as_float()));
    EXPECT_EQ(a[1].as_float(), HUGE_VAL);
    EXPECT_EQ(a[2].as_float(), -HUGE_VAL);
    EXPECT_TRUE(a[3].is_int());
    EXPECT_EQ(a[3].as_int(), 0);
    EXPECT_EQ(a[4].as_float(), 0.0);
    EXPECT_EQ(a[5].as_float(), -HUGE_VAL);
    EXPECT_EQ(a[6].as_float(), 5.0);
    EXPECT_TRUE(json::parse("-9223372036854775808").is_int());
    EXPECT_TRUE(json::parse("-9223372036854775809").is_bigint());
    EXPECT_EQ(json::dump(json::parse("-9223372036854775809")), "-9223372036854775809");
}

TEST(Json, RejectsMalformedText) {
    const char* bad[] = {"",    "{",        "[1,]",       "{\"a\" 1}",     "01",
                         "1.",  ".5",       "+1",         "\"\\x\"",       "\"a\nb\"",
                         "tru", "[1] x",    "{'a':1}",    "\"\\ud80\"",    "nan",
                         "1e",  "\"\xff\"", "{\"a\":1,}", "\xEF\xBB\xBF{}"};
    for (const char* text : bad) {
        EXPECT_THROW(json::parse(text), json::JsonError) << text;
    }
    try {
        json::parse("[1, 2");
        FAIL();
    } catch (const json::JsonError& e) {
        EXPECT_NE(std::string(e.what()).find("byte 5"), std::string::npos) << e.what();
    }
}

TEST(Json, DepthAndIntegerDigitLimits) {
    std::string deep(600, '[');
    deep += std::string(600, ']');
    EXPECT_THROW(json::parse(deep), json::JsonError);
    EXPECT_NO_THROW(json::parse(deep, 1000));
    EXPECT_NO_THROW(json::parse(std::string(4300, '7')));
    EXPECT_THROW(json::parse(std::string(4301, '7')), json::JsonError);
}

TEST(Json, SurrogatesAndEscapes) {
    // A lone high surrogate followed by a non-surrogate escape stays lone.
    json::Value v = json::parse(R"("\ud800\u0041\udc00\uD83D\uDE00")");
    EXPECT_EQ(json::dump(v), R"("\ud800A\udc00\ud83d\ude00")");
    EXPECT_EQ(json::dump(json::Value("\x01\x1f\x7f/\xc3\xa9")), R"("\u0001\u001f\u007f/\u00e9")");
}

TEST(Json, SortKeysByCodePointAndInsertionOrderOption) {
    json::Object o{{"b", 1}, {"\xF0\x90\x80\x80", 2}, {"\xEF\xBF\xBF", 3}, {"A", 4}};
    EXPECT_EQ(json::dump(json::Value(o)), R"({"A": 4, "b": 1, "\uffff": 3, "\ud800\udc00": 2})");
    EXPECT_EQ(json::dump(json::Value(o), {.sort_keys = false}),
              R"({"b": 1, "\ud800\udc00": 2, "\uffff": 3, "A": 4})");
}

TEST(Json, ManyDuplicateKeysStayLinearAndLastWins) {
    std::string text = "{";
    for (int i = 0; i < 20000; ++i) {
        text += "\"k" + std::to_string(i % 1000) + "\": " + std::to_string(i) + ",";
    }
    text += "\"end\": 0}";
    json::Value v = json::parse(text);
    EXPECT_EQ(v.as_object().size(), 1001u);
    EXPECT_EQ(v.as_object().at("k5").as_int(), 19005);
    EXPECT_EQ(v.as_object().entries()[5].first, "k5");
}

TEST(Json, ObjectOperations) {
    json::Object o;
    o.set("a", 1);
    o.set("b", 2);
    o.set("a", 3);
    EXPECT_EQ(o.entries()[0].second.as_int(), 3);
    EXPECT_TRUE(o.erase("a"));
    EXPECT_FALSE(o.erase("a"));
    o["c"] = "x";
    EXPECT_EQ(o.entries().back().first, "c");
    EXPECT_THROW(o.at("zz"), json::JsonError);
    EXPECT_THROW(json::Value(1).as_string(), json::JsonError);
    EXPECT_EQ(json::Value(2).as_float(), 2.0);
}

TEST(Json, PythonStr) {
    EXPECT_EQ(json::python_str(json::Value(true)), "True");
    EXPECT_EQ(json::python_str(json::Value(false)), "False");
    EXPECT_EQ(json::python_str(json::Value()), "None");
    EXPECT_EQ(json::python_str(json::Value(1e16)), "1e+16");
    EXPECT_EQ(json::python_str(json::Value(1.0)), "1.0");
    EXPECT_EQ(json::python_str(json::Value("x'y")), "x'y");
    EXPECT_EQ(json::python_str(json::parse(R"({"a": [1, "b", null, true], "c'": "d\n"})")),
              R"({'a': [1, 'b', None, True], "c'": 'd\n'})");
}

TEST(Json, PythonEqual) {
    using json::Value;
    EXPECT_TRUE(json::python_equal(Value(true), Value(1)));
    EXPECT_TRUE(json::python_equal(Value(1), Value(1.0)));
    EXPECT_TRUE(json::python_equal(Value(false), Value(0.0)));
    EXPECT_FALSE(json::python_equal(Value(1), Value("1")));
    EXPECT_FALSE(json::python_equal(Value(1), Value(1.5)));
    EXPECT_FALSE(json::python_equal(Value(std::nan("")), Value(std::nan(""))));
    EXPECT_TRUE(
        json::python_equal(json::parse("9223372036854775808"), Value(9223372036854775808.0)));
    EXPECT_FALSE(
        json::python_equal(json::parse("9223372036854775807"), Value(9223372036854775808.0)));
    EXPECT_TRUE(json::python_equal(json::parse(R"({"a": [1, {"b": true}]})"),
                                   json::parse(R"({"a": [1.0, {"b": 1}]})")));
    EXPECT_FALSE(json::python_equal(json::parse(R"({"a": 1})"), json::parse(R"({"b": 1})")));
    EXPECT_FALSE(json::python_equal(json::parse("[1]"), json::parse("[1, 2]")));
    EXPECT_TRUE(json::python_equal(Value(), Value()));
}

namespace {

// Destroying a value nested 200,000 deep (arrays and objects alternating) must not take one
// stack frame per level: 200,000 frames overflow an 8 MiB stack.
TEST(JsonDeepValues, DestroyingAValueBuiltTwoHundredThousandDeepDoesNotOverflow) {
    json::Value v = json::Array{};
    for (int i = 0; i < 200'000; ++i) {
        if (i % 2 == 0) {
            json::Array a;
            a.push_back(std::move(v));
            a.push_back(json::Value(i));
            v = json::Value(std::move(a));
        } else {
            json::Object o;
            o.set("k", std::move(v));
            v = json::Value(std::move(o));
        }
    }
    ASSERT_TRUE(v.is_object());
    v = json::Value(nullptr);
    EXPECT_TRUE(v.is_null());
    // Ordinary shallow documents are unaffected.
    json::Value doc = json::parse(R"({"a": [1, {"b": [2, 3]}], "c": {"d": null}})");
    json::Value copy = doc;
    EXPECT_EQ(copy, doc);
}

}  // namespace
