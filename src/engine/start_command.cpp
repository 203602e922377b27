#include "engine/start_command.hpp"

#include <algorithm>
#include <array>

namespace engine {

namespace {
bool one_of(std::string_view ext, std::initializer_list<std::string_view> set) {
    return std::find(set.begin(), set.end(), ext) != set.end();
}

std::vector<std::string> office(std::string_view app, std::string_view path) {
    // The inner "start ..." is itself one argument of cmd.exe /C (hence the outer quotes).
    std::string inner =
        join_windows_command_line({"start", std::string(app), "/t", std::string(path)});
    return {"cmd.exe", "/C", inner};
}
}  // namespace

std::vector<std::string> start_argv(std::string_view ext, std::string_view path,
                                    std::string_view dll_entry) {
    std::string p(path);
    if (ext == "dll") {
        if (dll_entry == "DllRegisterServer") {
            return {"regsvr32", "/s", p};
        }
        if (dll_entry == "DllMain" || dll_entry.empty()) {
            return {"rundll32", p};
        }
        return {"rundll32", p + "," + std::string(dll_entry)};
    }
    if (one_of(ext, {"exe", "bat"})) {
        return {p};
    }
    if (ext == "ps1") {
        return {"powershell.exe", "-executionpolicy", "bypass", "-File", p};
    }
    if (one_of(ext, {"doc", "docm", "docx", "dotm", "rtf"})) {
        return office("winword.exe", p);
    }
    if (one_of(ext, {"xls", "xlsx", "xlsm", "xltx", "xltm"})) {
        return office("excel.exe", p);
    }
    if (one_of(ext, {"ppt", "pptx"})) {
        return office("powerpnt.exe", p);
    }
    if (one_of(ext, {"js", "jse", "vbs", "vbe"})) {
        return {"wscript.exe", p};
    }
    if (one_of(ext, {"hta", "html", "htm"})) {
        return {"mshta.exe", p};
    }
    return {"cmd.exe", "/C", join_windows_command_line({"start", p})};
}

std::string join_windows_command_line(const std::vector<std::string>& argv) {
    std::string out;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (i > 0) {
            out.push_back(' ');
        }
        const std::string& a = argv[i];
        bool needs_quotes = a.empty() || a.find_first_of(" \t\n\v\"") != std::string::npos;
        if (!needs_quotes) {
            out += a;
            continue;
        }
        out.push_back('"');
        std::size_t backslashes = 0;
        for (char c : a) {
            if (c == '\\') {
                ++backslashes;
                continue;
            }
            if (c == '"') {
                out.append(backslashes * 2 + 1, '\\');
            } else {
                out.append(backslashes, '\\');
            }
            backslashes = 0;
            out.push_back(c);
        }
        out.append(backslashes * 2, '\\');
        out.push_back('"');
    }
    return out;
}

std::string expand_user_start_command(std::string_view templ, std::string_view guest_path) {
    std::string out;
    for (std::size_t i = 0; i < templ.size(); ++i) {
        if (templ[i] == '%' && i + 1 < templ.size() && templ[i + 1] == 'f') {
            out += guest_path;
            ++i;
        } else {
            out.push_back(templ[i]);
        }
    }
    return out;
}

std::string default_start_command(std::string_view platform, std::string_view extension,
                                  std::string_view guest_path, std::string_view dll_entry) {
    if (platform == "linux") {
        return std::string(guest_path);
    }
    return join_windows_command_line(start_argv(extension, guest_path, dll_entry));
}

}  // namespace engine
