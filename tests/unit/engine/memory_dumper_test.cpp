// Tests for engine/native/memory_dumper.hpp: DRAKVUF memdump naming, sidecars and records
// (spec §2.9, §6.1), reading this test process's own memory through /proc/<pid>/mem.
#include "engine/native/memory_dumper.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "util/crypto.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace {

using engine::native::DumpRequest;
using engine::native::MemoryDumper;
using engine::native::MemoryDumperOptions;

struct Mapping {
    Mapping(std::size_t len, int prot) : len_(len) {
        ptr_ = static_cast<unsigned char*>(
            ::mmap(nullptr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    }
    ~Mapping() {
        if (ptr_ != MAP_FAILED) {
            ::munmap(ptr_, len_);
        }
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    unsigned char* ptr_;
    std::size_t len_;
};

std::string hex_of(const void* p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%llx",
                  static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(p)));
    return buf;
}

DumpRequest request_for(const void* addr, std::uint64_t size) {
    DumpRequest r;
    r.host_pid = ::getpid();
    r.address = reinterpret_cast<std::uintptr_t>(addr);
    r.size = size;
    r.method = "mprotect";
    r.pid = 1234;
    r.ppid = 1;
    r.tid = 1235;
    r.process_name = "/opt/sample/a.out";
    return r;
}

TEST(ParseMaps, ParsesLinesAndSkipsGarbage) {
    auto maps = engine::native::parse_maps(
        "55d0c0000000-55d0c0001000 r-xp 00001000 08:01 1234   /usr/bin/cat\n"
        "7f0000000000-7f0000002000 rwxp 00000000 00:00 0 \n"
        "not a maps line\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
        "7f1000000000-7f1000001000 rw-s 00000000 00:05 99 /dev/zero (deleted)\n");
    ASSERT_EQ(maps.size(), 4u);
    EXPECT_EQ(maps[0].start, 0x55d0c0000000u);
    EXPECT_EQ(maps[0].end, 0x55d0c0001000u);
    EXPECT_TRUE(maps[0].exec);
    EXPECT_FALSE(maps[0].write);
    EXPECT_EQ(maps[0].offset, 0x1000u);
    EXPECT_EQ(maps[0].path, "/usr/bin/cat");
    EXPECT_FALSE(maps[0].is_private_anonymous());
    EXPECT_TRUE(maps[1].is_private_anonymous());
    EXPECT_TRUE(maps[1].write && maps[1].exec);
    EXPECT_TRUE(maps[2].is_private_anonymous());
    EXPECT_EQ(maps[2].path, "[stack]");
    EXPECT_TRUE(maps[3].shared);
    EXPECT_FALSE(maps[3].is_private_anonymous());
}

TEST(ClassifyDump, BinaryRwxOrShellcode) {
    EXPECT_EQ(engine::native::classify_dump("MZ\x90", true), "Possible binary detected");
    EXPECT_EQ(engine::native::classify_dump("\x7f"
                                            "ELF",
                                            false),
              "Possible binary detected");
    EXPECT_EQ(engine::native::classify_dump("\xb8\x2a", true), "Interesting RWX memory");
    EXPECT_EQ(engine::native::classify_dump("\xb8\x2a", false), "Possible shellcode detected");
}

TEST(MemoryDumper, WritesDrakvufNamesSidecarAndRecord) {
    util::TempDir dir("dumper");
    Mapping m(2 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    ASSERT_NE(m.ptr_, MAP_FAILED);
    const char marker[] = "DRAK-DUMPER-MARKER";
    std::memcpy(m.ptr_ + 100, marker, sizeof marker - 1);
    std::vector<nlohmann::ordered_json> records;
    util::FixedStepClock clock(1753206195.5, 0.25);
    std::uint64_t uid = 0x40;
    MemoryDumperOptions opts;
    opts.next_event_uid = [&] { return ++uid; };
    MemoryDumper dumper(
        dir.path() / "dumps", [&](nlohmann::ordered_json r) { records.push_back(r); }, clock, opts);
    // Unaligned start: the file starts at the requested byte, the name at the page base.
    auto req = request_for(m.ptr_ + 100, 5000);
    auto res = dumper.dump(req);
    ASSERT_TRUE(res.has_value());
    std::string data = util::read_file(dir.path() / "dumps" / res->file_name);
    ASSERT_EQ(data.size(), 5000u);
    EXPECT_EQ(data.substr(0, sizeof marker - 1), marker);
    std::string expected_name = hex_of(m.ptr_) + "_" + util::sha256_hex(data).substr(0, 16);
    EXPECT_EQ(res->file_name, expected_name);
    EXPECT_EQ(res->sequence, 1u);
    EXPECT_EQ(dumper.dumps_count(), 1u);
    std::string meta = util::read_file(dir.path() / "dumps" / "memdump.000001.metadata");
    EXPECT_EQ(meta,
              "{ \"Method\": \"mprotect\", \"DumpReason\": \"Interesting RWX memory\", "
              "\"DumpAddress\": \"0x" +
                  hex_of(m.ptr_) +
                  "\", \"DumpSize\": \"0x1388\", "
                  "\"PID\": 1234, \"PPID\": 1, \"ProcessName\": \"\\/opt\\/sample\\/a.out\", "
                  "\"DataFileName\": \"" +
                  expected_name + "\", \"SequenceNumber\": 1 }");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].dump(),
              "{\"Plugin\":\"memdump\",\"TimeStamp\":\"1753206195.500000\",\"PID\":1234,"
              "\"PPID\":1,\"TID\":1235,\"UserId\":0,\"ProcessName\":\"/opt/sample/a.out\","
              "\"Method\":\"mprotect\",\"EventUID\":\"0x41\",\"DumpReason\":\"Interesting RWX "
              "memory\",\"DumpPID\":1234,\"DumpAddr\":\"0x" +
                  hex_of(m.ptr_) + "\",\"DumpSize\":\"0x1388\",\"DumpFilename\":\"" +
                  expected_name + "\",\"DumpsCount\":1}");
    // Same content at the same base: same data file, a second sidecar.
    auto again = dumper.dump(req);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->file_name, expected_name);
    EXPECT_EQ(again->sequence, 2u);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "dumps" / "memdump.000002.metadata"));
}

TEST(MemoryDumper, UnreadablePagesBecomeZerosAndExplicitReasonWins) {
    util::TempDir dir("dumper");
    Mapping m(3 * 4096, PROT_READ | PROT_WRITE);
    ASSERT_NE(m.ptr_, MAP_FAILED);
    std::memset(m.ptr_, 0xAA, 3 * 4096);
    ASSERT_EQ(::munmap(m.ptr_ + 4096, 4096), 0);  // a hole in the middle
    util::FixedStepClock clock(1.0, 1.0);
    MemoryDumper dumper(dir.path(), nullptr, clock);
    auto req = request_for(m.ptr_, 3 * 4096);
    req.reason = "Stack heuristic";
    auto res = dumper.dump(req);
    ASSERT_TRUE(res.has_value());
    std::string data = util::read_file(dir.path() / res->file_name);
    ASSERT_EQ(data.size(), 3u * 4096);
    EXPECT_EQ(data.substr(0, 4096), std::string(4096, '\xAA'));
    EXPECT_EQ(data.substr(4096, 4096), std::string(4096, '\0'));
    EXPECT_EQ(data.substr(8192), std::string(4096, '\xAA'));
    EXPECT_NE(util::read_file(dir.path() / "memdump.000001.metadata").find("\"Stack heuristic\""),
              std::string::npos);
}

TEST(MemoryDumper, SkipsImagesExcludedRangesEmptyRequestsAndDeadProcesses) {
    util::TempDir dir("dumper");
    util::FixedStepClock clock(1.0, 1.0);
    MemoryDumper dumper(dir.path(), nullptr, clock);
    // Code of this test binary is a file-backed mapping: an image, never dumped.
    auto code = reinterpret_cast<const void*>(&request_for);
    EXPECT_FALSE(dumper.dump(request_for(code, 64)).has_value());
    Mapping m(4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    EXPECT_FALSE(dumper.dump(request_for(m.ptr_, 0)).has_value());
    dumper.exclude_image(::getpid(), reinterpret_cast<std::uintptr_t>(m.ptr_),
                         reinterpret_cast<std::uintptr_t>(m.ptr_) + 4096);
    EXPECT_FALSE(dumper.dump(request_for(m.ptr_, 4096)).has_value());
    auto gone = request_for(m.ptr_, 16);
    gone.host_pid = 0x7ffffff0;  // beyond pid_max
    EXPECT_FALSE(dumper.dump(gone).has_value());
    EXPECT_EQ(dumper.dumps_count(), 0u);
}

TEST(MemoryDumper, BudgetsAndSizeCap) {
    util::TempDir dir("dumper");
    util::FixedStepClock clock(1.0, 1.0);
    MemoryDumperOptions opts;
    opts.max_dump_size = 4096;
    opts.max_dumps = 2;
    MemoryDumper dumper(dir.path(), nullptr, clock, opts);
    Mapping m(4 * 4096, PROT_READ | PROT_WRITE);
    std::memset(m.ptr_, 1, 4 * 4096);
    auto first = dumper.dump(request_for(m.ptr_, 4 * 4096));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->size, 4096u);
    EXPECT_EQ(std::filesystem::file_size(dir.path() / first->file_name), 4096u);
    EXPECT_TRUE(dumper.dump(request_for(m.ptr_ + 4096, 10)).has_value());
    EXPECT_FALSE(dumper.dump(request_for(m.ptr_ + 8192, 10)).has_value());
}

TEST(MemoryDumper, DumpPrivateExecutableFindsAnonymousCode) {
    util::TempDir dir("dumper");
    util::FixedStepClock clock(1.0, 1.0);
    std::vector<nlohmann::ordered_json> records;
    MemoryDumper dumper(
        dir.path(), [&](nlohmann::ordered_json r) { records.push_back(r); }, clock);
    Mapping m(4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    const char marker[] = "DRAK-PRIVATE-EXEC";
    std::memcpy(m.ptr_, marker, sizeof marker);
    auto results = dumper.dump_private_executable(request_for(nullptr, 0));
    bool found = false;
    for (const auto& r : results) {
        if (r.base == reinterpret_cast<std::uintptr_t>(m.ptr_)) {
            found = true;
            EXPECT_EQ(util::read_file(dir.path() / r.file_name).substr(0, sizeof marker - 1),
                      marker);
        }
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(records.size(), results.size());
}

TEST(MemoryDumper, UncreatableDirectoryThrows) {
    util::FixedStepClock clock(1.0, 1.0);
    EXPECT_THROW(MemoryDumper("/proc/self/no/such/dir", nullptr, clock), util::SystemError);
}

}  // namespace
