// Tests for karton/names.hpp against every row of client-names.jsonl and queue-names.jsonl
// (spec §2.1, §2.2).
#include "karton/names.hpp"

#include <gtest/gtest.h>

#include "karton/json.hpp"
#include "support/paths.hpp"

namespace json = karton::json;
namespace names = karton::names;

namespace {

std::optional<std::string> opt_str(const json::Value& v) {
    return v.is_null() ? std::nullopt : std::optional<std::string>(v.as_string());
}

}  // namespace

TEST(NamesVectors, ClientNamesEveryRow) {
    const auto lines = test_support::read_lines(test_support::vectors_dir() / "client-names.jsonl");
    ASSERT_EQ(lines.size(), 6u);
    int formatted = 0;
    int parsed_only = 0;
    int invalid = 0;
    for (const auto& line : lines) {
        const json::Value rowv = json::parse(line);
        const json::Object& row = rowv.as_object();
        if (const json::Value* valid = row.find("valid")) {
            ++invalid;
            ASSERT_FALSE(valid->as_bool());
            const std::string& identity = row.at("identity").as_string();
            EXPECT_FALSE(names::is_valid_identity(identity));
            EXPECT_EQ(row.at("error").as_string(), "InvalidIdentityError");
            EXPECT_THROW(names::validate_identity(identity), karton::InvalidIdentityError);
            continue;
        }
        const std::string& client_name = row.at("client_name").as_string();
        if (const json::Value* identity = row.find("identity")) {
            ++formatted;
            EXPECT_EQ(names::format_client_name(identity->as_string(),
                                                row.at("karton_version").as_string(),
                                                opt_str(row.at("service_version"))),
                      client_name);
            EXPECT_NO_THROW(names::validate_identity(identity->as_string()));
        } else {
            ++parsed_only;
        }
        const json::Object& back = row.at("parsed_back").as_object();
        const names::ClientName cn = names::parse_client_name(client_name);
        EXPECT_EQ(cn.identity, back.at("identity").as_string()) << client_name;
        EXPECT_EQ(cn.karton_version, opt_str(back.at("karton_version"))) << client_name;
        EXPECT_EQ(cn.service_version, opt_str(back.at("service_version"))) << client_name;
        EXPECT_EQ(names::client_identity(client_name), back.at("identity").as_string());
    }
    EXPECT_EQ(formatted, 3);
    EXPECT_EQ(parsed_only, 1);
    EXPECT_EQ(invalid, 2);
}

TEST(NamesVectors, ConsumeOrderEveryRow) {
    const auto lines = test_support::read_lines(test_support::vectors_dir() / "queue-names.jsonl");
    ASSERT_EQ(lines.size(), 1u);
    for (const auto& line : lines) {
        const json::Value rowv = json::parse(line);
        const json::Object& row = rowv.as_object();
        std::vector<std::string> want;
        for (const auto& k : row.at("consume_order").as_array()) {
            want.push_back(k.as_string());
        }
        EXPECT_EQ(names::consume_order(row.at("identity").as_string()), want);
    }
}

TEST(Names, Keys) {
    EXPECT_EQ(names::task_key("{r}:x"), "karton.task:{r}:x");
    EXPECT_EQ(names::task_uid_from_key("karton.task:{r}:x"), "{r}:x");
    EXPECT_FALSE(names::task_uid_from_key("karton.tasks"));
    EXPECT_EQ(names::queue_key("low", "karton.a"), "karton.queue.low:karton.a");
    EXPECT_EQ(names::outputs_key("karton.a"), "karton.outputs:karton.a");
    EXPECT_EQ(names::log_channel("WARNING", "karton.a"), "karton.log.warning.karton.a");
    EXPECT_EQ(names::tree_scan_pattern("R"), "karton.task:{R}:*");
    EXPECT_EQ(names::client_identity("plain"), "plain");
}

TEST(Names, FormUrlCoding) {
    EXPECT_EQ(names::form_url_encode("a b+c/é~"), "a+b%2Bc%2F%C3%A9~");
    EXPECT_EQ(names::form_url_decode("a+b%2Bc%2F%C3%A9~"), "a b+c/é~");
    EXPECT_EQ(names::form_url_decode("100%"), "100%");
    EXPECT_EQ(names::form_url_decode("%zz%4"), "%zz%4");
    const auto cn =
        names::parse_client_name("id?karton_version=&flag&service_version=1&service_version=2");
    EXPECT_FALSE(cn.karton_version);
    EXPECT_EQ(cn.service_version, "1");
}
