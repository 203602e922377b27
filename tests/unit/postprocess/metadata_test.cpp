// Tests for postprocess/metadata.hpp (spec §8.9): merge keeps the worker's keys and values.
#include "postprocess/metadata.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"
#include "util/fs.hpp"

TEST(Metadata, MergeKeepsExistingKeysOrderAndExactValues) {
    util::TempDir tmp("post-meta");
    const auto path = tmp.path() / "metadata.json";
    util::write_file_atomic(path,
                            R"({"analysis_uid": "u1", "time_started": 1716999134.5, )"
                            R"("big": 123456789012345678901234567890, "dumps_metadata": "old", )"
                            R"("start_command": "start sample.exe"})");
    nlohmann::ordered_json extra;
    extra["dumps_metadata"] = {
        {{"filename", "dumps/405000_0123456789abcdef"}, {"base_address", "0x405000"}}};
    extra["new_key"] = 1;
    postprocess::merge_metadata(path, extra);
    EXPECT_EQ(util::read_file(path),
              R"({"analysis_uid": "u1", "time_started": 1716999134.5, )"
              R"("big": 123456789012345678901234567890, "dumps_metadata": [{"filename": )"
              R"("dumps/405000_0123456789abcdef", "base_address": "0x405000"}], )"
              R"("start_command": "start sample.exe", "new_key": 1})");
}

TEST(Metadata, MissingFileIsCreatedAndGarbageIsRejected) {
    util::TempDir tmp("post-meta");
    const auto path = tmp.path() / "metadata.json";
    postprocess::merge_metadata(path, {{"dumps_metadata", nlohmann::ordered_json::array()}});
    EXPECT_EQ(util::read_file(path), R"({"dumps_metadata": []})");
    util::write_file_atomic(path, "[1]");
    EXPECT_THROW(postprocess::merge_metadata(path, {{"a", 1}}), util::InputError);
}
