// Limits and hostile input (issue 10): payloads nested 10,000 deep, a drakmon.log with a
// 100 MB single line, zip bombs (real and lying headers, entry floods), filters with every
// operator given a wrong argument. Each must end in a clear documented error (or a defined
// result), with bounded memory and time, and never crash.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zip.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "drakrun/file_names.hpp"
#include "karton/errors.hpp"
#include "karton/filter.hpp"
#include "karton/json.hpp"
#include "karton/resource.hpp"
#include "karton/task.hpp"
#include "postprocess/py_json.hpp"
#include "postprocess/split.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"

namespace {

namespace json = karton::json;
using Clock = std::chrono::steady_clock;

std::string nested(const char* open, const char* close, int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += open;
    s += "1";
    for (int i = 0; i < depth; ++i) s += close;
    return s;
}

long peak_rss_kib() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

TEST(HostileNesting, KartonJsonRejects10000DeepArraysAndObjects) {
    for (const auto& text : {nested("[", "]", 10000), nested("{\"a\": ", "}", 10000)}) {
        try {
            (void)json::parse(text);
            FAIL() << "10,000-deep document accepted";
        } catch (const json::JsonError& e) {
            EXPECT_GT(std::strlen(e.what()), 0u);
        }
    }
    // The limit is a limit, not a failure to parse deep data at all.
    EXPECT_NO_THROW((void)json::parse(nested("[", "]", 500)));
}

TEST(HostileNesting, TaskWithDeepPayloadIsAnInputError) {
    util::FixedStepClock clock(1700000000.0, 1.0);
    const std::string task =
        R"({"error": null, "headers": {"type": "sample"}, "headers_persistent": {}, )"
        R"("last_update": 1.0, "orig_uid": null, "parent_uid": null, "payload": {"x": )" +
        nested("[", "]", 10000) +
        R"(}, "payload_persistent": {}, "priority": "normal", "root_uid": "r", )"
        R"("status": "Declared", "uid": "u"})";
    EXPECT_THROW((void)karton::parse_task(task, clock), util::InputError);
}

TEST(HostileNesting, DrakmonLineParserRejects10000Deep) {
    postprocess::PyObjectParser p;
    EXPECT_FALSE(p.parse("{\"Plugin\": \"x\", \"a\": " + nested("[", "]", 10000) + "}"));
    EXPECT_FALSE(p.parse(nested("{\"a\": ", "}", 10000)));
    EXPECT_TRUE(p.parse("{\"Plugin\": \"x\", \"a\": " + nested("[", "]", 50) + "}"));
}

// not_chain builds the filters [{"type": {"$not": ... {"$not": "sample"}}}] with `nots` $not
// objects: nesting depth 2 + nots (the list, the rule, then one object per $not).
json::Value not_chain(int nots) {
    json::Value cond("sample");
    for (int i = 0; i < nots; ++i) {
        json::Object o;
        o.set("$not", std::move(cond));
        cond = json::Value(std::move(o));
    }
    json::Object rule;
    rule.set("type", std::move(cond));
    json::Array filters;
    filters.emplace_back(std::move(rule));
    return json::Value(std::move(filters));
}

json::Object sample_headers() {
    json::Object headers;
    headers.set("type", json::Value("sample"));
    return headers;
}

// match_or_error: "true"/"false", or the error class for a documented error.
std::string match_or_error(const json::Value& filters) {
    try {
        return karton::Filter::compile(filters).matches(sample_headers()) ? "true" : "false";
    } catch (const karton::QueryError&) {
        return "QueryError";
    } catch (const karton::FilterError& e) {
        return "FilterError:" + e.python_type();
    }
}

TEST(HostileNesting, FilterAtTheDepthLimitCompilesAndMatches) {
    constexpr int kLimit = static_cast<int>(karton::Filter::kMaxDepth);
    // Depth 2 + nots: at the limit exactly the filter is evaluated like a shallow one with the
    // same parity of $not (same result, whatever the reference's $not-of-a-literal rule is).
    const std::string at_limit = match_or_error(not_chain(kLimit - 2));
    EXPECT_EQ(at_limit, match_or_error(not_chain(2)));
    EXPECT_TRUE(at_limit == "true" || at_limit == "false") << at_limit;
    EXPECT_EQ(match_or_error(not_chain(kLimit - 3)), match_or_error(not_chain(1)));
}

TEST(HostileNesting, FilterOneLevelOverTheLimitIsARecursionError) {
    constexpr int kLimit = static_cast<int>(karton::Filter::kMaxDepth);
    try {
        (void)karton::Filter::compile(not_chain(kLimit - 1));
        FAIL() << "filter nested " << kLimit + 1 << " deep accepted";
    } catch (const karton::FilterError& e) {
        EXPECT_EQ(e.python_type(), "RecursionError");
        EXPECT_NE(std::string(e.what()).find(std::to_string(kLimit)), std::string::npos)
            << e.what();
    }
    // A deep list operand counts too (arrays are levels like objects).
    json::Value deep_list = json::parse(nested("[", "]", kLimit));
    json::Object in;
    in.set("$in", std::move(deep_list));
    json::Object rule;
    rule.set("type", json::Value(std::move(in)));
    json::Array filters;
    filters.emplace_back(std::move(rule));
    EXPECT_THROW((void)karton::Filter::compile(json::Value(std::move(filters))),
                 karton::FilterError);
}

TEST(HostileNesting, Filter10000DeepIsRefusedQuicklyWithoutStackOverflow) {
    // A filters value built in memory (not via json::parse, which caps at 512) 10,000 deep:
    // before the limit this overflowed the stack in Filter::compile.
    json::Value deep = not_chain(10000);
    const auto start = Clock::now();
    EXPECT_EQ(match_or_error(deep), "FilterError:RecursionError");
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
    // The router defers compile errors to matching; the same bind record from Redis (parse
    // depth cap 512) is refused the same way.
    EXPECT_EQ(match_or_error(json::parse("[{\"type\": " + nested("{\"$not\": ", "}", 400) + "}]")),
              "FilterError:RecursionError");
}

TEST(HostileLog, HundredMegabyteSingleLineIsStreamedToParseErrors) {
    util::TempDir dir("hostile-split");
    const auto log = dir.path() / "drakmon.log";
    constexpr std::size_t kLine = 100u << 20;
    {
        std::ofstream out(log, std::ios::binary);
        out << R"({"Plugin": "procmon", "TimeStamp": "1.0", "x": ")";
        const std::string chunk(1u << 20, 'a');
        for (std::size_t i = 0; i < kLine / chunk.size(); ++i) out << chunk;
        out << "\"}\n"
            << R"({"Plugin": "procmon", "TimeStamp": "2.0", "Method": "NtClose", "PID": 4})"
            << "\n";
        ASSERT_TRUE(out.good());
    }
    const long rss_before = peak_rss_kib();
    postprocess::Options opts;
    opts.keep_drakmon_log = true;
    opts.max_line_bytes = 8u << 20;
    const auto start = Clock::now();
    const auto stats = postprocess::split_log_file(log, dir.path(), opts);
    const auto elapsed = Clock::now() - start;
    const long rss_growth_mib = (peak_rss_kib() - rss_before) / 1024;
    EXPECT_EQ(stats.total_errors(), 1u);
    EXPECT_EQ(stats.lines_per_plugin.at("procmon"), 1u);
    EXPECT_GT(std::filesystem::file_size(dir.path() / "parse_errors.log"), kLine);
    EXPECT_LT(rss_growth_mib, 64) << "split held the long line in memory";
    EXPECT_LT(elapsed, std::chrono::seconds(60));
    std::printf("100 MB line: %lld ms, peak RSS growth %ld MiB\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()),
                rss_growth_mib);
}

// make_zip builds a deflated archive of `entries` (name, size of zeros) with libzip.
std::string make_zip(const std::filesystem::path& path,
                     const std::vector<std::pair<std::string, std::size_t>>& entries) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    std::vector<std::string> keep;
    keep.reserve(entries.size());
    for (const auto& [name, size] : entries) {
        keep.emplace_back(size, '\0');
        zip_source_t* src = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
        EXPECT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8), 0);
    }
    EXPECT_EQ(zip_close(z), 0);
    return util::read_file(path);
}

std::uintmax_t tree_bytes(const std::filesystem::path& dir) {
    std::uintmax_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) n += e.file_size();
    }
    return n;
}

TEST(HostileZip, BombOverTheLimitIsRejectedWithoutFillingTheDisk) {
    util::TempDir dir("hostile-zip");
    const std::string archive = make_zip(dir.path() / "bomb.zip", {{"zeros.bin", 64u << 20}});
    EXPECT_LT(archive.size(), 1u << 20);  // it is a bomb: > 64x expansion
    const auto dest = dir.path() / "out";
    std::filesystem::create_directories(dest);
    karton::ExtractLimits limits;
    limits.max_total_bytes = 16u << 20;
    EXPECT_THROW((void)karton::extract_zip(archive, dest, limits), karton::ResourceError);
    EXPECT_LE(tree_bytes(dest), limits.max_total_bytes);
}

TEST(HostileZip, LyingSizeHeadersDoNotBypassTheLimit) {
    util::TempDir dir("hostile-zip");
    std::string archive = make_zip(dir.path() / "liar.zip", {{"zeros.bin", 64u << 20}});
    // Claim 1000 bytes uncompressed in the local header (offset 22) and the central
    // directory entry (offset 24): the real data still inflates to 64 MiB.
    const std::uint32_t fake = 1000;
    ASSERT_EQ(archive.compare(0, 4, "PK\x03\x04"), 0);
    std::memcpy(archive.data() + 22, &fake, 4);
    const auto cd = archive.find("PK\x01\x02");
    ASSERT_NE(cd, std::string::npos);
    std::memcpy(archive.data() + cd + 24, &fake, 4);
    const auto dest = dir.path() / "out";
    std::filesystem::create_directories(dest);
    karton::ExtractLimits limits;
    limits.max_total_bytes = 16u << 20;
    try {
        (void)karton::extract_zip(archive, dest, limits);
    } catch (const util::Error& e) {
        EXPECT_GT(std::strlen(e.what()), 0u);
    }
    EXPECT_LE(tree_bytes(dest), limits.max_total_bytes);
}

TEST(HostileZip, EntryFloodOverTheLimitIsRejected) {
    util::TempDir dir("hostile-zip");
    std::vector<std::pair<std::string, std::size_t>> entries;
    for (int i = 0; i < 300; ++i) entries.emplace_back("f" + std::to_string(i), 0);
    const std::string archive = make_zip(dir.path() / "flood.zip", entries);
    const auto dest = dir.path() / "out";
    std::filesystem::create_directories(dest);
    karton::ExtractLimits limits;
    limits.max_entries = 100;
    EXPECT_THROW((void)karton::extract_zip(archive, dest, limits), karton::ResourceError);
    limits.max_entries = 300;
    EXPECT_EQ(karton::extract_zip(archive, dest, limits), 300u);
}

// Every operator with every wrongly-typed argument: compile + match either gives a bool or
// throws QueryError/FilterError with a message; never another exception, never a crash.
TEST(HostileFilter, EveryOperatorWithEveryWrongArgument) {
    const char* ops[] = {"$all",  "$and",  "$elemMatch", "$eq",      "$exists", "$gt",
                         "$gte",  "$in",   "$lt",        "$lte",     "$mod",    "$ne",
                         "$nin",  "$nor",  "$not",       "$options", "$or",     "$regex",
                         "$size", "$text", "$type",      "$where",   "$bogus",  "$"};
    const char* args[] = {
        "5",     "\"x\"",  "null", "[]",    "{}",   "[1, 2, 3]", "{\"$bogus\": 1}",
        "\"(\"", "[[[]]]", "-1",   "1e308", "true", "\"*[\""};
    json::Object headers;
    headers.set("x", json::Value("abc"));
    headers.set("y", json::parse("[1, \"a\", {\"b\": 2}]"));
    int errors = 0, results = 0;
    for (const char* op : ops) {
        for (const char* arg : args) {
            for (const char* field : {"x", "y", "missing"}) {
                const std::string text = std::string("[{\"") + field + "\": {\"" + op +
                                         "\": " + arg + "}}, {\"" + op + "\": " + arg + "}]";
                SCOPED_TRACE(text);
                try {
                    const auto f = karton::Filter::compile(json::parse(text));
                    (void)f.matches(headers);
                    ++results;
                } catch (const karton::QueryError& e) {
                    EXPECT_GT(std::strlen(e.what()), 0u);
                    ++errors;
                } catch (const karton::FilterError& e) {
                    EXPECT_FALSE(e.python_type().empty());
                    ++errors;
                }
            }
        }
    }
    // Most of these are wrong: the bulk must be reported as errors.
    EXPECT_GT(errors, results);
    // The canonical wrong ones give the reference's error classes.
    auto throws_query = [&](const char* f) {
        EXPECT_THROW((void)karton::Filter::compile(json::parse(f)).matches(headers),
                     karton::QueryError)
            << f;
    };
    throws_query(R"([{"x": {"$bogus": 1}}])");
    throws_query(R"([{"x": {"$regex": "("}}])");
    EXPECT_THROW((void)karton::Filter::compile(json::parse("5")), karton::FilterError);
    EXPECT_THROW((void)karton::Filter::compile(json::parse("[5]")), karton::FilterError);
    std::printf("wrong-operator filters: %d errors, %d results, crashes = 0\n", errors, results);
}

// The guest name drakrun gives a sample (worker and `drakrun analyze`, drakrun/analysis.cpp:
// choose_guest_file_name on the payload name or the local file's name) for hostile names: the
// original is never used; the replacement is safe and keeps a valid extension.
TEST(HostileNames, GuestNameReplacesTraversalControlAndHugeNames) {
    const std::string huge = std::string(4096, 'A') + ".exe";
    for (const std::string& name :
         {std::string("../../etc/passwd"), std::string("..\\..\\x.exe"), std::string("a\x01b.exe"),
          std::string("new\nline.exe"), std::string("cr\r.exe"), std::string("nul\0x.exe", 9),
          std::string("esc\x1b[2J.exe"), huge}) {
        SCOPED_TRACE(name.substr(0, 40));
        const auto g = drakrun::choose_guest_file_name(name, "exe", "PE32 executable", "win32");
        EXPECT_TRUE(g.replaced);
        EXPECT_TRUE(drakrun::is_safe_file_name(g.name)) << g.name;
        EXPECT_EQ(g.name.find_first_of("/\\"), std::string::npos);
        EXPECT_LE(g.name.size(), 20u);
        EXPECT_EQ(g.extension, "exe");
    }
    EXPECT_FALSE(drakrun::is_safe_file_name(huge));
}

}  // namespace
