#include "engine/start_command.hpp"

#include <gtest/gtest.h>

using namespace engine;

TEST(StartCommand, ExtensionTable) {
    const std::string p = "C:\\Users\\bob\\Desktop\\sample.exe";
    EXPECT_EQ(default_start_command("win32", "exe", p, ""), p);
    EXPECT_EQ(default_start_command("win32", "dll", "C:\\s.dll", "DllRegisterServer"),
              "regsvr32 /s C:\\s.dll");
    EXPECT_EQ(default_start_command("win32", "dll", "C:\\s.dll", "DllMain"), "rundll32 C:\\s.dll");
    EXPECT_EQ(default_start_command("win32", "dll", "C:\\s.dll", "Start"),
              "rundll32 C:\\s.dll,Start");
    EXPECT_EQ(default_start_command("win32", "ps1", "C:\\a.ps1", ""),
              "powershell.exe -executionpolicy bypass -File C:\\a.ps1");
    EXPECT_EQ(default_start_command("win32", "docm", "C:\\a.docm", ""),
              "cmd.exe /C \"start winword.exe /t C:\\a.docm\"");
    EXPECT_EQ(default_start_command("win32", "vbs", "C:\\a.vbs", ""), "wscript.exe C:\\a.vbs");
    EXPECT_EQ(default_start_command("win32", "hta", "C:\\a.hta", ""), "mshta.exe C:\\a.hta");
    EXPECT_EQ(default_start_command("win32", "zip", "C:\\a.zip", ""),
              "cmd.exe /C \"start C:\\a.zip\"");
    EXPECT_EQ(default_start_command("linux", "", "/sandbox/sample", ""), "/sandbox/sample");
}

TEST(StartCommand, WindowsQuotingRules) {
    EXPECT_EQ(join_windows_command_line({"a b", "c"}), "\"a b\" c");
    EXPECT_EQ(join_windows_command_line({"say \"hi\""}), "\"say \\\"hi\\\"\"");
    EXPECT_EQ(join_windows_command_line({"C:\\dir with space\\"}), "\"C:\\dir with space\\\\\"");
    EXPECT_EQ(join_windows_command_line({"C:\\no\\quotes\\"}), "C:\\no\\quotes\\");
    EXPECT_EQ(join_windows_command_line({""}), "\"\"");
}

TEST(StartCommand, UserTemplate) {
    EXPECT_EQ(expand_user_start_command("rundll32 %f,Run", "C:\\x.dll"), "rundll32 C:\\x.dll,Run");
    EXPECT_EQ(expand_user_start_command("cmd /c %f %f", "a"), "cmd /c a a");
    EXPECT_EQ(expand_user_start_command("100%", "a"), "100%");
}
