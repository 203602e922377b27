// Tests for engine/native/wine_debug_parser.hpp on real Wine 8.0 output of our ground-truth
// program tests/programs/pe/pe_behaviour.c (data/wine_pe_behaviour64.stderr, captured with
// WINEDEBUG=+pid,+timestamp,+process,+winsock,+virtual,+loaddll,+seh,+relay and the RelayInclude
// in data/wine_pe_behaviour64.relayinclude, loopback only, beacon name mapped to 127.0.0.1).
#include "engine/native/wine_debug_parser.hpp"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/paths.hpp"

namespace {

using engine::native::ExecMemoryEvent;
using engine::native::parse_wine_line;
using engine::native::ProcessInfo;
using engine::native::ProcessTable;
using engine::native::WineDebugParser;
using engine::native::WineDebugParserOptions;
using Json = nlohmann::ordered_json;

constexpr std::int64_t kParent = 0x114;  // Windows PID of pe_behaviour64.exe in the capture
constexpr std::int64_t kChild = 0x11c;   // its child ("... child drak-gt-marker")

std::filesystem::path data_dir() { return test_support::source_dir() / "tests/unit/engine/data"; }

struct ParsedRun {
    std::vector<Json> records;
    std::vector<ExecMemoryEvent> exec_events;
    std::uint64_t parsed = 0;
    std::uint64_t ignored = 0;
    std::vector<Json> with(const std::string& plugin, const std::string& method) const {
        std::vector<Json> out;
        for (const auto& r : records) {
            if (r["Plugin"] == plugin && r.contains("Method") && r["Method"] == method) {
                out.push_back(r);
            }
        }
        return out;
    }
};

ParsedRun run_fixture(bool with_hooks, ProcessTable& table) {
    ParsedRun run;
    util::FixedStepClock clock(1800000000.0, 0.001);
    WineDebugParserOptions opts;
    opts.clock = &clock;
    if (with_hooks) {
        opts.hooks = engine::native::load_hooks_list(test_support::source_dir() / "data/hooks.txt");
    }
    opts.on_exec_memory = [&](const ExecMemoryEvent& e) { run.exec_events.push_back(e); };
    WineDebugParser parser([&](Json r) { run.records.push_back(std::move(r)); }, table, opts);
    std::ifstream in(data_dir() / "wine_pe_behaviour64.stderr");
    EXPECT_TRUE(in.good()) << "fixture missing";
    std::string line;
    while (std::getline(in, line)) {
        parser.feed_line(line);
    }
    parser.finish();
    EXPECT_TRUE(parser.is_image(kParent, 0x140001000, 16));  // pe_behaviour64.exe's .text
    run.parsed = parser.lines_parsed();
    run.ignored = parser.lines_ignored();
    return run;
}

void add_known_processes(ProcessTable& table) {
    ProcessInfo parent;
    parent.pid = kParent;
    parent.ppid = 0x20;
    parent.process_name = "C:\\pe_behaviour64.exe";
    parent.host_pid = 4242;
    table.upsert(parent);
}

TEST(ParseWineLine, SplitsPrefixKindChannelFunction) {
    auto w = parse_wine_line("928.203:0114:0118:trace:winsock:connect socket 0x58, addr { x }");
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->wine_time.has_value());
    EXPECT_DOUBLE_EQ(*w->wine_time, 928.203);
    EXPECT_EQ(w->pid, 0x114);
    EXPECT_EQ(w->tid, 0x118);
    EXPECT_EQ(w->kind, "trace");
    EXPECT_EQ(w->channel, "winsock");
    EXPECT_EQ(w->function, "connect");
    EXPECT_EQ(w->message, "socket 0x58, addr { x }");

    auto call = parse_wine_line("0114:0118:Call KERNEL32.Sleep(00000001) ret=140001000");
    ASSERT_TRUE(call.has_value());
    EXPECT_FALSE(call->wine_time.has_value());
    EXPECT_EQ(call->kind, "Call");
    EXPECT_EQ(call->message, "KERNEL32.Sleep(00000001) ret=140001000");
    auto ret = parse_wine_line("1.5:0114:0118:Ret  KERNEL32.Sleep() retval=00000000 ret=140001000");
    ASSERT_TRUE(ret.has_value());
    EXPECT_EQ(ret->kind, "Ret");
    EXPECT_EQ(ret->message, "KERNEL32.Sleep() retval=00000000 ret=140001000");

    for (const char* bad :
         {"", "trace:virtual:NtAllocateVirtualMemory 0x1 (nil)", "a.b:0114:0118:x",
          "0114:zz18:trace:x:y z", "12:34", "0114:", "\x01\x02:\xff"}) {
        EXPECT_FALSE(parse_wine_line(bad).has_value()) << bad;
    }
}

TEST(RelayArguments, SplitAndRender) {
    auto args =
        engine::native::split_relay_arguments(R"(14000a190 L"C:\\a, b\"c",40000000,00000000)");
    ASSERT_EQ(args.size(), 3u);
    EXPECT_EQ(args[0], R"(14000a190 L"C:\\a, b\"c")");
    EXPECT_EQ(engine::native::render_relay_argument("lpFileName", args[0]),
              R"(lpFileName=0x14000a190:"C:\\a, b\"c")");
    EXPECT_EQ(engine::native::render_relay_argument("Arg1", args[1]), "Arg1=0x40000000");
    EXPECT_EQ(engine::native::render_relay_argument("Arg2", args[2]), "Arg2=0x0");
    EXPECT_EQ(engine::native::render_relay_argument("Arg0", R"(14000a051 "beacon")"),
              R"(Arg0=0x14000a051:"beacon")");
    EXPECT_TRUE(engine::native::split_relay_arguments("").empty());
}

TEST(WineDebugParser, ApimonFromRelayWithHookArgumentNames) {
    ProcessTable table;
    add_known_processes(table);
    ParsedRun run = run_fixture(true, table);
    auto create = run.with("apimon", "CreateFileW");
    ASSERT_EQ(create.size(), 1u);
    EXPECT_EQ(
        create[0].dump(),
        R"({"Plugin":"apimon","TimeStamp":")" + create[0]["TimeStamp"].get<std::string>() +
            R"(","PID":276,"PPID":32,"TID":280,"UserId":1,"ProcessName":"C:\\pe_behaviour64.exe","Method":"CreateFileW","EventUID":")" +
            create[0]["EventUID"].get<std::string>() +
            R"(","Event":"api_called","CLSID":null,"CalledFrom":"0x1400019d1","ReturnValue":"0x58","Arguments":["lpFileName=0x14000a190:\"C:\\\\users\\\\Public\\\\drak_gt_dropped.txt\"","dwDesiredAccess=0x40000000","dwShareMode=0x0","lpSecurityAttributes=0x0","dwCreationDisposition=0x2","dwFlagsAndAttributes=0x100000080","hTemplateFile=0x0"]})");
    auto move = run.with("apimon", "MoveFileW");
    ASSERT_EQ(move.size(), 1u);
    EXPECT_EQ(move[0]["Arguments"][1],
              R"(lpNewFileName=0x14000a1f0:"C:\\users\\Public\\drak_gt_renamed.txt")");
    EXPECT_EQ(run.with("apimon", "DeleteFileW").size(), 1u);
    auto set = run.with("apimon", "RegSetValueExW");
    ASSERT_EQ(set.size(), 2u);
    EXPECT_EQ(set[0]["Arguments"][1], R"(lpValueName=0x14000a282:"Marker")");
    EXPECT_EQ(set[1]["Arguments"][1], R"(lpValueName=0x14000a290:"Counter")");
    EXPECT_EQ(set[0]["Arguments"][3], "dwType=0x1");
    auto proc = run.with("apimon", "CreateProcessW");
    ASSERT_EQ(proc.size(), 1u);
    EXPECT_EQ(proc[0]["Arguments"][1],
              R"(lpCommandLine=0x21f7f0:"\"C:\\pe_behaviour64.exe\" child drak-gt-marker")");
    EXPECT_EQ(proc[0]["ReturnValue"], "0x1");
    auto alloc = run.with("apimon", "VirtualAlloc");
    ASSERT_EQ(alloc.size(), 1u);
    EXPECT_EQ(alloc[0]["Arguments"][3], "flProtect=0x40");
    EXPECT_EQ(alloc[0]["ReturnValue"], "0x1920000");
    // Nested call: WinHttpSendRequest's own connect() returns inside it and is logged first.
    auto connects = run.with("apimon", "connect");
    ASSERT_EQ(connects.size(), 2u);
    EXPECT_EQ(connects[1]["ReturnValue"], "0xffffffff");
    EXPECT_EQ(run.with("apimon", "WinHttpSendRequest").size(), 1u);
    // Loader notifications ("PE DLL", "TLS callback") are not API calls.
    for (const auto& r : run.records) {
        if (r["Plugin"] == "apimon") {
            EXPECT_NE(r["Method"], "DLL");
        }
    }
}

TEST(WineDebugParser, HooksListFiltersRelayedCalls) {
    ProcessTable table;
    util::FixedStepClock clock(1.0, 1.0);
    WineDebugParserOptions opts;
    opts.clock = &clock;
    opts.hooks = engine::native::parse_hooks_list("kernel32.dll,DeleteFileW,log,lpcwstr\n");
    std::vector<Json> out;
    WineDebugParser p([&](Json r) { out.push_back(std::move(r)); }, table, opts);
    p.feed_line(R"(0114:0118:Call KERNEL32.MoveFileW(1 L"a",2 L"b") ret=10)");
    p.feed_line("0114:0118:Ret  KERNEL32.MoveFileW() retval=00000001 ret=10");
    p.feed_line(R"(0114:0118:Call KERNEL32.DeleteFileW(1 L"b") ret=20)");
    p.feed_line("0114:0118:Ret  KERNEL32.DeleteFileW() retval=00000001 ret=20");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["Method"], "DeleteFileW");
    EXPECT_EQ(out[0]["Arguments"][0], R"(Arg0=0x1:"b")");
    EXPECT_EQ(out[0]["TimeStamp"], "1.000000");
}

TEST(WineDebugParser, SocketmonFromWinsock) {
    ProcessTable table;
    add_known_processes(table);
    ParsedRun run = run_fixture(true, table);
    std::vector<Json> dns;
    std::vector<Json> tcp;
    for (const auto& r : run.records) {
        if (r["Plugin"] == "socketmon" && r.contains("DnsName")) {
            dns.push_back(r);
        } else if (r["Plugin"] == "socketmon") {
            tcp.push_back(r);
        }
    }
    ASSERT_GE(dns.size(), 2u);
    EXPECT_EQ(dns[0]["Method"], "getaddrinfo");
    EXPECT_EQ(dns[0]["DnsName"], "beacon.drak-test.example");
    EXPECT_EQ(dns[0]["PID"], kParent);
    bool wide = false;
    for (const auto& r : dns) {
        EXPECT_EQ(r["DnsName"], "beacon.drak-test.example");
        wide |= r["Method"] == "GetAddrInfoW";
    }
    EXPECT_TRUE(wide);
    ASSERT_EQ(tcp.size(), 2u);
    const char* expect_first =
        R"("Owner":"C:\\pe_behaviour64.exe","OwnerId":1,"OwnerPID":276,"OwnerPPID":32,"Protocol":"TCPv4","TcpState":"syn_sent","LocalIp":"0.0.0.0","LocalPort":0,"RemoteIp":"127.0.0.1","RemotePort":80})";
    EXPECT_NE(tcp[0].dump().find(expect_first), std::string::npos) << tcp[0].dump();
    EXPECT_EQ(tcp[0]["Method"], "connect");
    EXPECT_EQ(tcp[1]["RemotePort"], 443);
}

TEST(WineDebugParser, LibrarymonExmonAndExecutableMemory) {
    ProcessTable table;  // empty: ProcessName falls back to the first .exe each PID loaded
    ParsedRun run = run_fixture(false, table);
    std::vector<Json> libs = run.with("librarymon", "LdrLoadDll");
    bool exe = false;
    bool dnsapi = false;
    bool child_exe = false;
    for (const auto& r : libs) {
        exe |= r["PID"] == kParent && r["ModuleName"] == "pe_behaviour64.exe" &&
               r["ModulePath"] == "C:\\pe_behaviour64.exe";
        child_exe |= r["PID"] == kChild && r["ModuleName"] == "pe_behaviour64.exe";
        dnsapi |= r["ModulePath"] == "C:\\windows\\system32\\dnsapi.dll";
    }
    EXPECT_TRUE(exe);
    EXPECT_TRUE(child_exe);
    EXPECT_TRUE(dnsapi);

    auto ex = run.with("exmon", "KiDispatchException");
    ASSERT_EQ(ex.size(), 1u);
    EXPECT_EQ(ex[0]["ExceptionCode"], "0xe0d7a001");
    EXPECT_EQ(ex[0]["RIP"], "0x7b013d7e");
    EXPECT_EQ(ex[0]["RAX"], "0x7b013d30");
    EXPECT_EQ(ex[0]["RSP"], 0x21fb60);
    EXPECT_EQ(ex[0]["R11"], "0x202");
    EXPECT_EQ(ex[0]["Name"], "C:\\pe_behaviour64.exe");
    EXPECT_EQ(ex[0]["ProcessName"], "C:\\pe_behaviour64.exe");
    EXPECT_EQ(ex[0]["PPID"], 0);

    // The sample's VirtualAlloc(PAGE_EXECUTE_READWRITE) at 0x1920000 — an address where
    // dnsapi.dll (an image) had been mapped and unloaded before.
    auto allocs = run.with("procmon", "NtAllocateVirtualMemory");
    bool sample_alloc = false;
    for (const auto& r : allocs) {
        if (r["BaseAddress"] == "0x1920000") {
            sample_alloc = true;
            EXPECT_EQ(r["NewProtectWin32"], "PAGE_EXECUTE_READWRITE");
            EXPECT_EQ(r["RegionSize"], 4096);
            EXPECT_EQ(r["ProcessHandle"], "0xffffffffffffffff");
        }
    }
    EXPECT_TRUE(sample_alloc);
    bool event = false;
    for (const auto& e : run.exec_events) {
        if (e.address == 0x1920000) {
            event = true;
            EXPECT_EQ(e.method, "NtAllocateVirtualMemory");
            EXPECT_EQ(e.size, 4096u);
            EXPECT_EQ(e.protect, 0x40u);
            EXPECT_EQ(e.pid, kParent);
        }
        // Loader protections inside images (e.g. dnsapi .text at 0x1921000) are not reported.
        EXPECT_NE(e.address, 0x1921000u);
    }
    EXPECT_TRUE(event);
    for (const auto& r : run.with("procmon", "NtProtectVirtualMemory")) {
        EXPECT_NE(r["BaseAddress"], "0x1921000");
    }
    EXPECT_GT(run.parsed, 7000u);
}

TEST(WineDebugParser, HostileInputNeverCrashes) {
    ProcessTable table;
    util::FixedStepClock clock(1.0, 1.0);
    WineDebugParserOptions opts;
    opts.clock = &clock;
    std::vector<Json> out;
    WineDebugParser p([&](Json r) { out.push_back(std::move(r)); }, table, opts);
    p.feed_line(std::string(100000, 'x'));
    p.feed_line("0114:0118:Ret  KERNEL32.Sleep() retval=00000000 ret=1");  // no Call
    p.feed_line("0114:0118:Call KERNEL32.Sleep(");                         // truncated
    p.feed_line("0114:0118:Call KERNEL32.Sleep(\"unterminated) ret=1");
    p.feed_line("0114:0118:trace:winsock:connect socket 0x58, addr { family AF_INET");
    p.feed_line("0114:0118:trace:winsock:getaddrinfo node \"unterminated");
    p.feed_line("0114:0118:trace:virtual:NtProtectVirtualMemory zz 0x1 0x2");
    p.feed_line("0114:0118:trace:virtual:dump_view View: 0x2000 - 0x1000 (image)");
    p.feed_line("0114:0118:trace:seh:dispatch_exception code=zz flags=1 addr=");
    p.feed_line("0114:0118:trace:seh:dispatch_exception  rax=nothex rbx=1");
    p.feed_line("0114:0118:trace:loaddll:build_module Loaded L\"C:\\\\x.dll");
    p.feed_line(std::string("0114:0118:\xff\xfe\x00garbage", 21));
    for (int i = 0; i < 1000; ++i) {
        p.feed_line("0114:0118:Call KERNEL32.Sleep(00000001) ret=140001000");
    }
    p.finish();
    ASSERT_EQ(out.size(), 1u);  // only the (odd but well-formed) exception
    EXPECT_EQ(out[0]["Plugin"], "exmon");
    EXPECT_EQ(p.lines_ignored(), 1u);
}

}  // namespace
