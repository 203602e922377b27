// Unit tests for engine/native/wineserver_trace: real `wineserver -f -d1` lines (Wine 8.0,
// a mingw sample that writes, renames and deletes a file, sets a registry value, starts
// cmd.exe and exits with 3) -> procmon/filetracer/regmon records (spec §2.1, §2.3, §2.6).
#include "engine/native/wineserver_trace.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "util/clock.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

const char* const kTrace =
    R"TRACE(0024: init_first_thread( unix_pid=4509, unix_tid=4509, debug_level=0, reply_fd=7, wait_fd=9 )
0024: init_first_thread() = 0 { pid=0020, tid=0024, server_start=1dd7e175abffe68 (-0.2466800), session_id=00000001, info_size=0, machines={8664,014c} }
0024: create_key( access=02000000, options=00000000, objattr={rootdir=0000,attributes=000000c0,sd={},name=L"\\Registry\\User\\S-1-5-21-0-0-0-1000"}, class=L"" )
0024: create_key() = OBJECT_NAME_EXISTS { hkey=0028 }
0024: create_file( access=40100080, sharing=00000000, create=5, options=00000060, attrs=00000000, objattr={rootdir=0000,attributes=00000040,sd={},name=L"\\??\\C:\\users\\user\\Desktop\\dropped.txt"}, filename="/home/user/.wine/dosdevices/c:/users/user/Desktop/dropped.txt" )
0024: create_file() = 0 { handle=0030 }
0024: create_key( access=000f003f, options=00000000, objattr={rootdir=0028,attributes=000000c0,sd={},name=L"Software\\DrakTest"}, class=L"" )
0024: create_key() = 0 { hkey=0030 }
0024: set_key_value( hkey=0030, type=1, namelen=6, name=L"Run", data={65,00,76,00,69,00,6c,00,2e,00,65,00,78,00,65,00,00,00} )
0024: set_key_value() = 0
0024: create_file( access=00110000, sharing=00000007, create=1, options=00000020, attrs=00000000, objattr={rootdir=0000,attributes=00000040,sd={},name=L"\\??\\C:\\users\\user\\Desktop\\dropped.txt"}, filename="/home/user/.wine/dosdevices/c:/users/user/Desktop/dropped.txt" )
0024: create_file() = 0 { handle=0030 }
0024: set_fd_name_info( handle=0030, rootdir=0000, namelen=70, link=0, replace=0, name=L"\\??\\C:\\users\\user\\Desktop\\moved.txt", filename="/home/user/.wine/dosdevices/c:/users/user/Desktop/moved.txt" )
0024: set_fd_name_info() = 0
0024: create_file( access=00110000, sharing=00000007, create=1, options=00001040, attrs=00000000, objattr={rootdir=0000,attributes=00000040,sd={},name=L"\\??\\C:\\users\\user\\Desktop\\moved.txt"}, filename="/home/user/.wine/dosdevices/c:/users/user/Desktop/moved.txt" )
0024: create_file() = 0 { handle=0030 }
0024: new_process( token=0000, debug=0000, parent_process=0000, flags=00000000, socket_fd=15, access=001fffff, machine=0000, info_size=308, handles_size=0, jobs_size=0, objattr={rootdir=0000,attributes=00000000,sd={},name=L""}, handles={}, jobs={}, info={debug_flags=0,console_flags=0,console=fffffffc,hstdin=0008,hstdout=000c,hstderr=0010,x=0,y=0,xsize=0,ysize=0,xchars=0,ychars=0,attribute=00,flags=0,show=0,curdir=L"unix\\tmp\\sbx\\",dllpath=L"",imagepath=L"C:\\windows\\system32\\cmd.exe",cmdline=L"C:\\windows\\system32\\cmd.exe /c echo child",title=L"C:\\windows\\system32\\cmd.exe",desktop=L"",shellinfo=L"",runtime=L""}, env=L"USER=user\0" )
0024: new_process() = 0 { info=0034, pid=00e4, handle=0038 }
00e8: init_first_thread( unix_pid=4751, unix_tid=4751, debug_level=0, reply_fd=5, wait_fd=7 )
00e8: init_first_thread() = 0 { pid=00e4, tid=00e8, server_start=1dd7e175abffe68 (-7.3222820), session_id=00000001, info_size=3108, machines={8664,014c} }
0024: terminate_process( handle=0000, exit_code=3 )
0024: terminate_process() = 0 { self=1 }
0024: terminate_process( handle=ffffffff, exit_code=3 )
0024: terminate_process() = 0 { self=1 }
0020: *process killed*
)TRACE";

std::vector<nlohmann::json> run(
    ProcessTable& table, bool tree_only = true,
    const std::function<void(WineserverTraceOptions&)>& configure = nullptr) {
    util::TempDir dir("wst");
    util::FixedStepClock clock(1700000000.0, 0.125);
    std::vector<nlohmann::json> out;
    {
        RecordWriter writer(dir.path() / "drakmon.log", clock);
        WineserverTraceOptions opt;
        opt.first_image = "C:\\users\\user\\Desktop\\hello.exe";
        opt.first_command_line = "C:\\users\\user\\Desktop\\hello.exe";
        opt.sample_tree_only = tree_only;
        if (configure) {
            configure(opt);
        }
        WineserverTrace trace(writer, table, opt);
        std::istringstream in(kTrace);
        std::string line;
        while (std::getline(in, line)) {
            trace.feed_line(line);
        }
        EXPECT_EQ(trace.first_pid(), 0x20);
    }
    std::istringstream log(util::read_file(dir.path() / "drakmon.log"));
    std::string line;
    while (std::getline(log, line)) {
        out.push_back(nlohmann::json::parse(line));
    }
    return out;
}

const nlohmann::json* find(const std::vector<nlohmann::json>& recs, const std::string& method,
                           const std::string& key, const std::string& value) {
    for (const auto& r : recs) {
        if (r["Method"] == method && r.contains(key) && r[key] == value) {
            return &r;
        }
    }
    return nullptr;
}

TEST(WineserverTrace, FileRecords) {
    ProcessTable table;
    auto recs = run(table);
    auto* created =
        find(recs, "NtCreateFile", "FileName", "\\??\\C:\\users\\user\\Desktop\\dropped.txt");
    ASSERT_NE(created, nullptr);
    EXPECT_EQ((*created)["Plugin"], "filetracer");
    EXPECT_EQ((*created)["PID"], 0x20);
    EXPECT_EQ((*created)["TID"], 0x24);
    EXPECT_EQ((*created)["ProcessName"], "C:\\users\\user\\Desktop\\hello.exe");
    EXPECT_EQ((*created)["FileHandle"], "0x30");
    EXPECT_EQ((*created)["ObjectAttributes"], "OBJ_CASE_INSENSITIVE");
    EXPECT_EQ((*created)["DesiredAccess"], "GENERIC_WRITE | SYNCHRONIZE | FILE_READ_ATTRIBUTES");
    EXPECT_EQ((*created)["ShareAccess"], "(null)");
    EXPECT_EQ((*created)["CreateDisposition"], "FILE_OVERWRITE_IF");
    EXPECT_EQ((*created)["CreateOptions"],
              "FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE");
    EXPECT_EQ((*created)["Status"], "SUCCESS");

    auto* renamed = find(recs, "NtSetInformationFile", "Operation", "FileRenameInformation");
    ASSERT_NE(renamed, nullptr);
    EXPECT_EQ((*renamed)["FileSrc"], "\\??\\C:\\users\\user\\Desktop\\dropped.txt");
    EXPECT_EQ((*renamed)["FileDst"], "\\??\\C:\\users\\user\\Desktop\\moved.txt");
    EXPECT_EQ((*renamed)["FileHandle"], "0x30");

    auto* deleted = find(recs, "NtSetInformationFile", "Operation", "FileDispositionInformation");
    ASSERT_NE(deleted, nullptr);
    EXPECT_EQ((*deleted)["FileName"], "\\??\\C:\\users\\user\\Desktop\\moved.txt");
}

TEST(WineserverTrace, RegistryRecords) {
    ProcessTable table;
    auto recs = run(table);
    auto* created = find(recs, "NtCreateKey", "Key",
                         "\\REGISTRY\\USER\\S-1-5-21-0-0-0-1000\\Software\\DrakTest");
    ASSERT_NE(created, nullptr);
    EXPECT_TRUE((*created)["ValueName"].is_null());
    EXPECT_TRUE((*created)["Value"].is_null());
    auto* set = find(recs, "NtSetValueKey", "ValueName", "Run");
    ASSERT_NE(set, nullptr);
    EXPECT_EQ((*set)["Plugin"], "regmon");
    EXPECT_EQ((*set)["Key"], "\\REGISTRY\\USER\\S-1-5-21-0-0-0-1000\\Software\\DrakTest");
    EXPECT_EQ((*set)["Value"], "evil.exe");
}

TEST(WineserverTrace, ProcessRecordsAndTable) {
    ProcessTable table;
    auto recs = run(table);
    auto* child =
        find(recs, "NtCreateUserProcess", "ImagePathName", "C:\\windows\\system32\\cmd.exe");
    ASSERT_NE(child, nullptr);
    EXPECT_EQ((*child)["PID"], 0x20);
    EXPECT_EQ((*child)["NewPid"], 0xe4);
    EXPECT_EQ((*child)["Status"], "0x0");
    EXPECT_EQ((*child)["NewProcessHandle"], "0x38");
    // CommandLine carries DRAKVUF's C-escaping (backslashes doubled).
    EXPECT_EQ((*child)["CommandLine"], "C:\\\\windows\\\\system32\\\\cmd.exe /c echo child");

    auto* term = find(recs, "NtTerminateProcess", "ExitStatus", "0x3");
    ASSERT_NE(term, nullptr);
    EXPECT_EQ((*term)["ExitPid"], 0);
    EXPECT_EQ((*term)["PID"], 0x20);
    EXPECT_EQ((*term)["ExitStatusStr"], "SUCCESS:0:NONE:0x3");
    bool cleaned = false;
    for (const auto& r : recs) {
        cleaned = cleaned || (r["Method"] == "MmCleanProcessAddressSpace" && r["ExitPid"] == 0x20);
    }
    EXPECT_TRUE(cleaned);

    auto sample = table.find(0x20);
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->sandbox_pid, 4509);
    EXPECT_TRUE(sample->exited.has_value());
    auto cmd = table.find(0xe4);
    ASSERT_TRUE(cmd);
    EXPECT_EQ(cmd->ppid, 0x20);
    EXPECT_EQ(cmd->process_name, "C:\\windows\\system32\\cmd.exe");
    EXPECT_EQ(cmd->command_line, "C:\\windows\\system32\\cmd.exe /c echo child");
    EXPECT_EQ(cmd->sandbox_pid, 4751);
}

// Bitness of a new process comes from its image (the engine reads the PE header in the
// sandbox); the creator's bitness goes along for WoW64 redirection of system32.
TEST(WineserverTrace, NewProcessBitnessComesFromTheImageAndTheCreator) {
    ProcessTable table;
    std::vector<std::pair<std::string, bool>> asked;
    auto recs = run(table, true, [&](WineserverTraceOptions& o) {
        o.first_bitness = 32;
        o.image_bitness = [&](const std::string& image, bool creator_32) {
            asked.emplace_back(image, creator_32);
            return creator_32 ? 32 : 64;
        };
    });
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0].first, "C:\\windows\\system32\\cmd.exe");
    EXPECT_TRUE(asked[0].second) << "the sample (first process) is 32-bit";
    auto* child =
        find(recs, "NtCreateUserProcess", "ImagePathName", "C:\\windows\\system32\\cmd.exe");
    ASSERT_NE(child, nullptr);
    EXPECT_EQ((*child)["Bitness"], 32);

    // Unknown (0) and no reader at all: 64, as before.
    ProcessTable t2;
    auto unknown = run(t2, true, [](WineserverTraceOptions& o) {
        o.image_bitness = [](const std::string&, bool) { return 0; };
    });
    auto* c2 = find(unknown, "NtCreateUserProcess", "ImagePathName",
                    "C:\\windows\\system32\\cmd.exe");
    ASSERT_NE(c2, nullptr);
    EXPECT_EQ((*c2)["Bitness"], 64);
}

// Wine creates the new process's first thread with a separate new_thread(process=<handle>)
// from the creating thread right after new_process: its reply fills NewTid and
// NewThreadHandle. Other threads' lines in between do not release the record early.
TEST(WineserverTrace, NewTidComesFromTheCreatorsNewThreadReply) {
    util::TempDir dir("wst");
    util::FixedStepClock clock(1700000000.0, 0.125);
    ProcessTable table;
    {
        RecordWriter writer(dir.path() / "drakmon.log", clock);
        WineserverTraceOptions opt;
        opt.first_image = "C:\\x.exe";
        WineserverTrace trace(writer, table, opt);
        for (const char* l : {
                 "0024: init_first_thread( unix_pid=4, unix_tid=4, debug_level=0, reply_fd=8, wait_fd=10 )",
                 "0024: init_first_thread() = 0 { pid=0020, tid=0024, info_size=0 }",
                 "0024: new_process( flags=00000000, info={curdir=L\"C:\\\\\",dllpath=L\"\",imagepath=L\"C:\\\\a.exe\",cmdline=L\"a.exe\"} )",
                 "0024: new_process() = 0 { info=0010, pid=0028, handle=0014 }",
                 "0030: open_key( parent=0000, access=00020019, attributes=00000040, name=L\"x\" )",
                 "0024: new_thread( process=0014, access=001fffff, flags=00000001, request_fd=-1, objattr={} )",
                 "0024: *fd* 02f6 -> 28",
                 "0024: new_thread() = 0 { tid=002c, handle=0018 }",
                 // A second creation with no new_thread: written at the creator's next request.
                 "0024: new_process( flags=00000000, info={imagepath=L\"C:\\\\b.exe\",cmdline=L\"b.exe\"} )",
                 "0024: new_process() = 0 { info=0030, pid=0034, handle=0038 }",
                 "0024: close_handle( handle=0038 )",
                 // A third, still held when the trace ends: finish() writes it.
                 "0024: new_process( flags=00000000, info={imagepath=L\"C:\\\\c.exe\",cmdline=L\"c.exe\"} )",
                 "0024: new_process() = 0 { info=0040, pid=0044, handle=0048 }",
             }) {
            trace.feed_line(l);
        }
        trace.finish();
        EXPECT_EQ(trace.records(), 3u);
    }
    std::vector<nlohmann::json> recs;
    std::istringstream log(util::read_file(dir.path() / "drakmon.log"));
    std::string line;
    while (std::getline(log, line)) {
        recs.push_back(nlohmann::json::parse(line));
    }
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0]["NewPid"], 0x28);
    EXPECT_EQ(recs[0]["NewTid"], 0x2c);
    EXPECT_EQ(recs[0]["NewThreadHandle"], "0x18");
    EXPECT_EQ(recs[1]["NewPid"], 0x34);
    EXPECT_EQ(recs[1]["NewTid"], 0);
    EXPECT_EQ(recs[2]["NewPid"], 0x44);
}

TEST(WineserverTrace, DecodesStringsAndEscapes) {
    EXPECT_EQ(decode_wine_string(R"(C:\\a\"b\n\x01\u00e9\ud83d\ude00)"),
              "C:\\a\"b\n\x01\xc3\xa9\xf0\x9f\x98\x80");
    EXPECT_EQ(decode_wine_string(R"(\ud83d)"), "\xef\xbf\xbd");
    EXPECT_EQ(decode_wine_string(R"(trailing\)"), "trailing\\");
    EXPECT_EQ(decode_wine_string(R"(\xZZ)"), "\\xZZ");
    EXPECT_EQ(c_escape("C:\\a \"b\"\n\xc3\xa9"), "C:\\\\a \\\"b\\\"\\n\\303\\251");
    EXPECT_EQ(ntstatus_name(0), "STATUS_SUCCESS");
    EXPECT_EQ(ntstatus_name(0xc0000005), "STATUS_ACCESS_VIOLATION");
    EXPECT_EQ(ntstatus_name(5), "SUCCESS:0:NONE:0x5");
}

TEST(WineserverTrace, HostileLinesAreIgnored) {
    util::TempDir dir("wst");
    util::FixedStepClock clock(1, 1);
    RecordWriter writer(dir.path() / "drakmon.log", clock);
    ProcessTable table;
    WineserverTrace trace(writer, table, {});
    for (const std::string& l :
         {std::string(""), std::string("zzzz: x"), std::string("0024: "),
          std::string("0024: create_file("), std::string("0024: create_file() = "),
          std::string("0024: set_key_value( hkey=, data={zz,,}, name=L\"\\u12"),
          std::string("0024: new_process( info={imagepath=L\"a") + std::string(2000, '{'),
          std::string(3 << 20, 'a')}) {
        trace.feed_line(l);
    }
    EXPECT_EQ(trace.records(), 0u);
}

TEST(WineserverTrace, ParsesArgsWithNestedValues) {
    auto a = parse_trace_args(R"(handle=0030, objattr={rootdir=0000,sd={},name=L"a, b}"}, x=1)");
    EXPECT_EQ(a["handle"], "0030");
    EXPECT_EQ(a["objattr"], R"({rootdir=0000,sd={},name=L"a, b}"})");
    EXPECT_EQ(a["x"], "1");
}

// The engine's warm-up (a Unix-started process before the sample) starts wineboot; with
// skip_unix_started=1 the sample is the next Unix-started process and nothing of the
// warm-up's tree is reported.
TEST(WineserverTrace, WarmUpProcessAndItsChildrenAreNotTheSample) {
    const char* const warm_trace =
        R"TRACE(0024: init_first_thread( unix_pid=10, unix_tid=10, debug_level=0, reply_fd=7, wait_fd=9 )
0024: init_first_thread() = 0 { pid=0020, tid=0024, server_start=1 (-0.1), session_id=00000001, info_size=0, machines={8664,014c} }
0024: new_process( token=0000, debug=0000, parent_process=0000, flags=00000000, socket_fd=15, access=001fffff, machine=0000, info_size=308, handles_size=0, jobs_size=0, objattr={rootdir=0000,attributes=00000000,sd={},name=L""}, handles={}, jobs={}, info={debug_flags=0,console_flags=0,console=fffffffc,hstdin=0008,hstdout=000c,hstderr=0010,x=0,y=0,xsize=0,ysize=0,xchars=0,ychars=0,attribute=00,flags=0,show=0,curdir=L"C:\\",dllpath=L"",imagepath=L"C:\\windows\\system32\\wineboot.exe",cmdline=L"\"C:\\windows\\system32\\wineboot.exe\" --init",title=L"",desktop=L"",shellinfo=L"",runtime=L""}, env=L"USER=user\0" )
0024: new_process() = 0 { info=0034, pid=0028, handle=0038 }
002c: init_first_thread( unix_pid=11, unix_tid=11, debug_level=0, reply_fd=5, wait_fd=7 )
002c: init_first_thread() = 0 { pid=0028, tid=002c, server_start=1 (-0.2), session_id=00000001, info_size=3108, machines={8664,014c} }
002c: create_file( access=40100080, sharing=00000000, create=5, options=00000060, attrs=00000000, objattr={rootdir=0000,attributes=00000040,sd={},name=L"\\??\\C:\\windows\\boot.txt"}, filename="/home/user/.wine/dosdevices/c:/windows/boot.txt" )
002c: create_file() = 0 { handle=0030 }
0024: terminate_process( handle=ffffffff, exit_code=0 )
0024: terminate_process() = 0 { self=1 }
0020: *process killed*
0034: init_first_thread( unix_pid=12, unix_tid=12, debug_level=0, reply_fd=7, wait_fd=9 )
0034: init_first_thread() = 0 { pid=0030, tid=0034, server_start=1 (-0.3), session_id=00000001, info_size=0, machines={8664,014c} }
0034: create_file( access=40100080, sharing=00000000, create=5, options=00000060, attrs=00000000, objattr={rootdir=0000,attributes=00000040,sd={},name=L"\\??\\C:\\users\\Public\\sample.txt"}, filename="/home/user/.wine/dosdevices/c:/users/Public/sample.txt" )
0034: create_file() = 0 { handle=0038 }
002c: new_process( token=0000, debug=0000, parent_process=0000, flags=00000000, socket_fd=15, access=001fffff, machine=0000, info_size=308, handles_size=0, jobs_size=0, objattr={rootdir=0000,attributes=00000000,sd={},name=L""}, handles={}, jobs={}, info={debug_flags=0,console_flags=0,console=fffffffc,hstdin=0008,hstdout=000c,hstderr=0010,x=0,y=0,xsize=0,ysize=0,xchars=0,ychars=0,attribute=00,flags=0,show=0,curdir=L"C:\\",dllpath=L"",imagepath=L"C:\\users\\Public\\svc.exe",cmdline=L"C:\\users\\Public\\svc.exe",title=L"",desktop=L"",shellinfo=L"",runtime=L""}, env=L"USER=user\0" )
002c: new_process() = 0 { info=0040, pid=0048, handle=0044 }
)TRACE";
    for (int skip : {0, 1}) {
        util::TempDir dir("wst");
        util::FixedStepClock clock(1700000000.0, 0.125);
        ProcessTable table;
        std::string log;
        {
            RecordWriter writer(dir.path() / "drakmon.log", clock);
            WineserverTraceOptions opt;
            opt.first_image = "C:\\users\\user\\Desktop\\s.exe";
            opt.skip_unix_started = skip;
            WineserverTrace trace(writer, table, opt);
            std::istringstream in(warm_trace);
            std::string line;
            while (std::getline(in, line)) {
                trace.feed_line(line);
            }
            EXPECT_EQ(trace.first_pid(), skip ? 0x30 : 0x20);
        }
        log = util::read_file(dir.path() / "drakmon.log");
        if (skip) {
            EXPECT_EQ(log.find("--init"), std::string::npos) << log;  // wineboot's creation
            EXPECT_EQ(log.find("boot.txt"), std::string::npos) << log;
            EXPECT_NE(log.find("sample.txt"), std::string::npos) << log;
            ASSERT_TRUE(table.find(0x28));
            EXPECT_EQ(table.find(0x28)->ppid, 0x20);  // still tracked, just not reported
            // Created after the sample started (a service it started): reported, with its
            // real parent.
            EXPECT_NE(log.find("svc.exe"), std::string::npos) << log;
            EXPECT_NE(log.find("\"PID\":40"), std::string::npos) << log;
        } else {
            EXPECT_NE(log.find("wineboot"), std::string::npos) << log;
            EXPECT_NE(log.find("boot.txt"), std::string::npos) << log;
            EXPECT_EQ(log.find("sample.txt"), std::string::npos) << log;  // not in the tree
        }
    }
}

// The engine's early exit: only once every reported process has been seen to exit.
TEST(WineserverTrace, SampleTreeExitedOnlyWhenEveryReportedProcessExited) {
    util::TempDir dir("wst");
    util::FixedStepClock clock(1700000000.0, 0.125);
    ProcessTable table;
    RecordWriter writer(dir.path() / "drakmon.log", clock);
    WineserverTrace trace(writer, table, WineserverTraceOptions{});
    EXPECT_FALSE(trace.sample_tree_exited());  // not started yet
    std::istringstream in(kTrace);
    std::string line;
    while (std::getline(in, line)) {
        trace.feed_line(line);
    }
    // The sample (0x20) was killed, its child cmd.exe (0xe4) still runs.
    EXPECT_FALSE(trace.sample_tree_exited());
    trace.feed_line("00e4: *process killed*");
    EXPECT_TRUE(trace.sample_tree_exited());
}

}  // namespace
}  // namespace engine::native
