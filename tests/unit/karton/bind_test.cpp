// Tests for karton/bind.hpp against every row of binds.jsonl (spec §6).
#include "karton/bind.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/paths.hpp"

namespace json = karton::json;

namespace {

std::optional<std::string> opt_str(const json::Value& v) {
    return v.is_null() ? std::nullopt : std::optional<std::string>(v.as_string());
}

}  // namespace

TEST(BindVectors, EveryRow) {
    const auto lines = test_support::read_lines(test_support::vectors_dir() / "binds.jsonl");
    ASSERT_EQ(lines.size(), 11u);
    int serialize_rows = 0;
    int parse_rows = 0;
    for (const auto& line : lines) {
        const json::Value rowv = json::parse(line);
        const json::Object& row = rowv.as_object();
        const std::string& id = row.at("id").as_string();
        const std::string& identity = row.at("identity").as_string();
        if (const json::Value* ser = row.find("serialized")) {
            ++serialize_rows;
            const std::string& text = ser->as_string();
            // Build the bind from its fields and serialize: byte-identical.
            const json::Object fields = json::parse(text).as_object();
            karton::Bind b;
            b.identity = identity;
            b.filters = fields.at("filters");
            b.info = opt_str(fields.at("info"));
            b.is_async = fields.at("is_async").as_bool();
            b.persistent = fields.at("persistent").as_bool();
            b.service_version = opt_str(fields.at("service_version"));
            b.version = fields.at("version").as_string();
            EXPECT_EQ(karton::serialize_bind(b), text) << id;
            const karton::Bind parsed = karton::parse_bind(identity, text);
            EXPECT_EQ(karton::serialize_bind(parsed), text) << id;
            if (const json::Value* p = row.find("parsed")) {
                EXPECT_EQ(json::parse(text), *p) << id;
            }
            if (const json::Value* eq = row.find("roundtrip_equal")) {
                if (eq->as_bool()) {
                    EXPECT_TRUE(karton::binds_equal(parsed, b)) << id;
                } else {
                    // Compat: the reference's tuple filters never equal their JSON round trip;
                    // our filters are JSON values, so the round trip is always equal.
                    EXPECT_EQ(id, "filters_as_tuple_roundtrip");
                    EXPECT_TRUE(karton::binds_equal(parsed, b)) << id;
                }
            }
            if (id == "debug_mode_identity") {
                karton::Bind base = b;
                base.identity = "karton.classifier";
                base.persistent = true;
                const karton::Bind dbg = karton::apply_debug_mode(base, "cf09bd87");
                EXPECT_EQ(dbg.identity, identity);
                EXPECT_FALSE(dbg.persistent);
                EXPECT_EQ(karton::serialize_bind(dbg), text);
            }
        } else {
            ++parse_rows;
            const karton::Bind b = karton::parse_bind(identity, row.at("stored").as_string());
            const json::Object& want = row.at("interpreted").as_object();
            EXPECT_EQ(b.identity, want.at("identity").as_string()) << id;
            EXPECT_EQ(b.info, opt_str(want.at("info"))) << id;
            EXPECT_EQ(b.version, want.at("version").as_string()) << id;
            EXPECT_EQ(b.persistent, want.at("persistent").as_bool()) << id;
            EXPECT_EQ(b.filters, want.at("filters")) << id;
            EXPECT_EQ(b.service_version, opt_str(want.at("service_version"))) << id;
            EXPECT_EQ(b.is_async, want.at("is_async").as_bool()) << id;
        }
    }
    EXPECT_EQ(serialize_rows, 6);
    EXPECT_EQ(parse_rows, 5);
}

TEST(Bind, EqualityUsesPythonSemantics) {
    karton::Bind a = karton::parse_bind(
        "x",
        R"({"info": null, "version": "5.9.1", "filters": [{"n": 1, "b": true}], "persistent": true})");
    karton::Bind b = a;
    b.filters = json::parse(R"([{"b": 1.0, "n": true}])");
    EXPECT_TRUE(karton::binds_equal(a, b));
    b.filters = json::parse(R"([{"b": 1, "n": "1"}])");
    EXPECT_FALSE(karton::binds_equal(a, b));
    b = a;
    b.service_version = "1";
    EXPECT_FALSE(karton::binds_equal(a, b));
    b = a;
    b.identity = "y";
    EXPECT_FALSE(karton::binds_equal(a, b));
    b = a;
    b.is_async = true;
    EXPECT_FALSE(karton::binds_equal(a, b));
}

TEST(Bind, HostileRecords) {
    const std::pair<const char*, const char*> cases[] = {
        {"nope", "not valid JSON"},
        {"5", "must be a dict or list"},
        {R"({"version": "1", "filters": [], "persistent": true})", "'info'"},
        {R"({"info": null, "filters": [], "persistent": true})", "'version'"},
        {R"({"info": null, "version": "1", "filters": [], "persistent": "yes"})",
         "'persistent' must be a bool"},
        {R"({"info": null, "version": "1", "persistent": true})", "'filters'"},
        {R"({"info": 3, "version": "1", "filters": [], "persistent": true})",
         "'info' must be a str"},
    };
    for (const auto& [text, needle] : cases) {
        try {
            karton::parse_bind("karton.x", text);
            ADD_FAILURE() << "accepted " << text;
        } catch (const karton::BindError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("karton.x"), std::string::npos) << e.what();
        }
    }
}
