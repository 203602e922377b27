// Tests for engine/native/hooks_list.hpp: DRAKVUF hooks-list parsing (spec §4.4), our
// data/hooks.txt, and the Wine RelayInclude value derived from it.
#include "engine/native/hooks_list.hpp"

#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "util/error.hpp"

namespace {

using engine::native::find_hook;
using engine::native::load_hooks_list;
using engine::native::parse_hooks_list;
using engine::native::relay_include;

TEST(HooksList, ParsesSpecExampleLine) {
    auto hooks = parse_hooks_list("kernel32.dll,DeleteFileW,log,lpwstr\n");
    ASSERT_EQ(hooks.size(), 1u);
    EXPECT_EQ(hooks[0].dll, "kernel32.dll");
    EXPECT_EQ(hooks[0].function, "DeleteFileW");
    EXPECT_EQ(hooks[0].action, "log");
    EXPECT_FALSE(hooks[0].stack_heuristic());
    EXPECT_FALSE(hooks[0].clsid.has_value());
    EXPECT_FALSE(hooks[0].rva.has_value());
    ASSERT_EQ(hooks[0].args.size(), 1u);
    EXPECT_EQ(hooks[0].args[0].name, "");
    EXPECT_EQ(hooks[0].args[0].type, "lpwstr");
}

TEST(HooksList, ParsesNamesClsidRvaCommentsAndCrlf) {
    auto hooks = parse_hooks_list(
        "# comment\r\n"
        "\r\n"
        "ole32.dll,CoCreateInstance,clsid,{0002DF01-0000-0000-C000-000000000046},log+stack,"
        "rclsid:refclsid,pUnkOuter:lpvoid\r\n"
        "  ntdll.dll , RtlSomething , 1a2B , log , lpvoid \n"
        "kernel32.dll,IsDebuggerPresent,log");
    ASSERT_EQ(hooks.size(), 3u);
    ASSERT_TRUE(hooks[0].clsid.has_value());
    EXPECT_EQ(*hooks[0].clsid, "{0002DF01-0000-0000-C000-000000000046}");
    EXPECT_TRUE(hooks[0].stack_heuristic());
    ASSERT_EQ(hooks[0].args.size(), 2u);
    EXPECT_EQ(hooks[0].args[0].name, "rclsid");
    EXPECT_EQ(hooks[0].args[0].type, "refclsid");
    EXPECT_EQ(hooks[1].function, "RtlSomething");
    ASSERT_TRUE(hooks[1].rva.has_value());
    EXPECT_EQ(*hooks[1].rva, 0x1a2bu);
    EXPECT_EQ(hooks[1].action, "log");
    EXPECT_TRUE(hooks[2].args.empty());
}

TEST(HooksList, MalformedLinesNameTheLine) {
    struct Case {
        const char* text;
        const char* needle;
    };
    const Case cases[] = {
        {"kernel32.dll,CreateFileW\n", "line 1"},
        {"# ok\nkernel32.dll,CreateFileW,logg,lpcwstr\n", "line 2"},
        {"kernel32.dll,CreateFileW,1000,lpcwstr\n", "RVA must be followed"},
        {"kernel32.dll,CreateFileW,log,:lpcwstr\n", "bad argument"},
        {"kernel32.dll,CreateFileW,log,lpcwstr,\n", "empty argument"},
        {"kernel 32.dll,CreateFileW,log\n", "bad dll"},
        {"kernel32.dll,CreateFileW,clsid\n", "line 1"},
    };
    for (const auto& c : cases) {
        try {
            parse_hooks_list(c.text);
            ADD_FAILURE() << "accepted: " << c.text;
        } catch (const util::InputError& e) {
            EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos)
                << c.text << " -> " << e.what();
        }
    }
    EXPECT_THROW(parse_hooks_list(std::string(5000, 'a')), util::InputError);
}

TEST(HooksList, ShippedHooksFileParsesAndCoversGroundTruthApis) {
    auto hooks = load_hooks_list(test_support::source_dir() / "data" / "hooks.txt");
    EXPECT_EQ(hooks.size(), 83u);
    for (const char* fn : {"CreateFileW", "DeleteFileW", "MoveFileW", "CreateProcessW",
                           "VirtualAlloc", "RaiseException"}) {
        EXPECT_NE(find_hook(hooks, "KERNEL32", fn), nullptr) << fn;
    }
    for (const char* fn : {"RegCreateKeyExW", "RegSetValueExW"}) {
        EXPECT_NE(find_hook(hooks, "advapi32.dll", fn), nullptr) << fn;
    }
    EXPECT_NE(find_hook(hooks, "ws2_32", "connect"), nullptr);
    EXPECT_NE(find_hook(hooks, "winhttp", "WinHttpConnect"), nullptr);
    EXPECT_EQ(find_hook(hooks, "kernel32", "NoSuchFunction"), nullptr);
    const auto* create = find_hook(hooks, "kernel32.dll", "CreateFileW");
    ASSERT_NE(create, nullptr);
    ASSERT_EQ(create->args.size(), 7u);
    EXPECT_EQ(create->args[0].name, "lpFileName");
    EXPECT_EQ(create->args[0].type, "lpcwstr");
}

TEST(HooksList, RelayIncludeIsLowerCaseStemDotFunctionDeduplicated) {
    auto hooks = parse_hooks_list(
        "KERNEL32.DLL,CreateFileW,log\n"
        "kernel32.dll,CreateFileW,log\n"
        "ws2_32.dll,connect,log\n"
        "ntdll.dll,Hidden,10,log\n"
        "winhttp,WinHttpConnect,log\n");
    EXPECT_EQ(relay_include(hooks), "kernel32.CreateFileW;ws2_32.connect;winhttp.WinHttpConnect");
    EXPECT_EQ(relay_include({}), "");
}

}  // namespace
