// Tests for karton::parse_task reading rules (spec §4.2, §4.3, §12.2) against every row of
// task-compat.jsonl, plus hostile documents.
#include <gtest/gtest.h>

#include <string>

#include "karton/task.hpp"
#include "support/paths.hpp"

namespace json = karton::json;

TEST(TaskCompatVectors, EveryRow) {
    const auto lines = test_support::read_lines(test_support::vectors_dir() / "task-compat.jsonl");
    ASSERT_EQ(lines.size(), 12u);
    int outputs = 0;
    int errors = 0;
    for (const auto& line : lines) {
        const json::Value row = json::parse(line);
        const json::Object& r = row.as_object();
        const std::string& id = r.at("id").as_string();
        const std::string& input = r.at("input").as_string();
        const json::Object in_doc = json::parse(input).as_object();
        if (const json::Value* out = r.find("output")) {
            ++outputs;
            // Where last_update is absent the reader fills in "now": give it a clock that reads
            // the vector's value; otherwise a clock that must not be read.
            const bool absent = !in_doc.contains("last_update");
            const double lu = r.at("output_parsed").as_object().at("last_update").as_float();
            util::FixedStepClock clock(absent ? lu : -1.0, 0.0);
            karton::Task t = karton::parse_task(input, clock);
            EXPECT_EQ(karton::serialize_task(t), out->as_string()) << id;
            EXPECT_EQ(json::parse(out->as_string()), r.at("output_parsed")) << id;
            EXPECT_EQ(t.last_update_seconds(), lu) << id;
        } else {
            ++errors;
            const std::string& expected = r.at("error").as_string();
            util::FixedStepClock clock(1, 1);
            try {
                karton::parse_task(input, clock);
                ADD_FAILURE() << id << ": parsed although the reference fails with " << expected;
            } catch (const karton::TaskError& e) {
                const std::string msg = e.what();
                // Our message names the same field/value as the reference's exception.
                if (expected.find("TaskPriority") != std::string::npos) {
                    EXPECT_NE(msg.find("priority"), std::string::npos) << msg;
                    EXPECT_NE(msg.find("TaskPriority"), std::string::npos) << msg;
                } else if (expected.find("TaskState") != std::string::npos) {
                    EXPECT_NE(msg.find("\"Dispatched\" is not a valid TaskState"),
                              std::string::npos)
                        << msg;
                } else {
                    EXPECT_EQ(expected, "KeyError: 'payload_persistent'");
                    EXPECT_NE(msg.find("missing required key 'payload_persistent'"),
                              std::string::npos)
                        << msg;
                }
            }
        }
    }
    EXPECT_EQ(outputs, 8);
    EXPECT_EQ(errors, 4);
}

TEST(TaskCompat, DetailsOfLegacyReading) {
    util::FixedStepClock clock(5, 0);
    // Legacy persistent headers are taken from payload_persistent and stay visible there.
    karton::Task t = karton::parse_task(
        R"({"uid": "u", "root_uid": "u", "parent_uid": null, "status": "Spawned",
            "headers": {"tlp": "green"}, "payload": {},
            "payload_persistent": {"__headers_persistent": {"tlp": "red"}}})",
        clock);
    EXPECT_EQ(t.headers.at("tlp").as_string(), "red");  // persistent wins
    EXPECT_TRUE(t.payload_persistent.contains("__headers_persistent"));
    EXPECT_EQ(t.short_id(), "u");
    // Integer and zero last_update.
    t = karton::parse_task(
        R"({"uid": "u", "root_uid": "u", "parent_uid": null, "status": "Spawned", "headers": {},
            "payload": {}, "payload_persistent": {}, "last_update": 0})",
        clock);
    EXPECT_EQ(t.last_update_seconds(), 5.0);
}

TEST(TaskCompat, HostileDocumentsGiveClearErrors) {
    util::FixedStepClock clock(5, 0);
    const std::string base =
        R"("root_uid": "u", "parent_uid": null, "status": "Spawned", "headers": {}, "payload": {}, "payload_persistent": {})";
    const std::pair<std::string, std::string> cases[] = {
        {"not json", "not valid JSON"},
        {"[1]", "document must be a dict"},
        {"{" + base + "}", "'uid'"},
        {R"({"uid": 5, )" + base + "}", "'uid' must be a str"},
        {R"({"uid": "u", "root_uid": "u", "parent_uid": 1, "status": "Spawned", "headers": {}, "payload": {}, "payload_persistent": {}})",
         "'parent_uid'"},
        {R"({"uid": "u", "root_uid": "u", "parent_uid": null, "status": "Spawned", "headers": [], "payload": {}, "payload_persistent": {}})",
         "'headers' must be a dict"},
        {R"({"uid": "u", )" + base + R"(, "last_update": "now"})", "'last_update'"},
        {R"({"uid": "u", )" + base + R"(, "headers_persistent": 3})", "'headers_persistent'"},
        {R"({"uid": "u", "root_uid": "u", "parent_uid": null, "status": "Spawned", "headers": {}, "payload": {"r": {"__karton_resource__": {"name": "n", "bucket": null}}}, "payload_persistent": {}})",
         "\"uid\" is missing"},
        {R"({"uid": "u", "root_uid": "u", "parent_uid": null, "status": "Spawned", "headers": {}, "payload": {"r": {"__karton_resource__": {"uid": "x", "name": "n", "bucket": null, "size": "big"}}}, "payload_persistent": {}})",
         "\"size\""},
        {R"({"uid": "u", "root_uid": "u", "parent_uid": null, "status": "Spawned", "headers": {}, "payload": {"r": {"__karton_resource__": []}}, "payload_persistent": {}})",
         "must be a dict"},
    };
    for (const auto& [text, needle] : cases) {
        try {
            karton::parse_task(text, clock);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const karton::TaskError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
                << e.what() << " / expected " << needle;
        }
    }
}
