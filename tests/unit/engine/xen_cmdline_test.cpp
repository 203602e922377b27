// Unit tests of the Xen engine's command lines (spec drakvuf-output.md §4.2, §5, §7.2), the
// inject record parser (§3, real fixtures), the exit-code table (§4.3), storage backends,
// domain config template and network rules.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "engine/engine_factory.hpp"
#include "engine/xen/drakvuf_cmdline.hpp"
#include "engine/xen/network.hpp"
#include "engine/xen/vm.hpp"
#include "engine/xen/xen_engine.hpp"
#include "support/paths.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

using namespace engine::xen;
using Strings = std::vector<std::string>;

namespace {

DrakvufInvocation base_invocation(const std::filesystem::path& profiles) {
    DrakvufInvocation inv;
    inv.plugins = {"procmon", "apimon", "memdump"};
    inv.timeout_s = 600;
    inv.runtime = {4852, 0x1aa002};
    inv.vm_id = 3;
    inv.hooks_file = "/etc/drakrun/hooks.txt";
    inv.output_dir = "/tmp/drakrun/vm-3/output";
    inv.profiles_dir = profiles;
    inv.start_command = "C:\\Users\\user\\Desktop\\sample.exe";
    inv.cwd = "C:\\Users\\user\\Desktop";
    return inv;
}

}  // namespace

TEST(XenCmdline, DrakvufArgvMatchesSpec42Exactly) {
    util::TempDir dir;
    auto inv = base_invocation(dir.path());
    const std::string p = dir.path().string();
    Strings expected = {"drakvuf",
                        "-a",
                        "apimon",
                        "-a",
                        "memdump",
                        "-a",
                        "procmon",
                        "-o",
                        "json",
                        "-F",
                        "-j",
                        "60",
                        "-t",
                        "600",
                        "-i",
                        "4852",
                        "-k",
                        "0x1aa002",
                        "-d",
                        "vm-3",
                        "--dll-hooks-list",
                        "/etc/drakrun/hooks.txt",
                        "--memdump-dir",
                        "/tmp/drakrun/vm-3/output/dumps",
                        "--ipt-dir",
                        "/tmp/drakrun/vm-3/output/ipt",
                        "--ipt-trace-user",
                        "--codemon-dump-dir",
                        "/tmp/drakrun/vm-3/output/ipt",
                        "--codemon-log-everything",
                        "--codemon-analyse-system-dll-vad",
                        "-r",
                        p + "/kernel.json",
                        "-e",
                        "C:\\Users\\user\\Desktop\\sample.exe",
                        "-c",
                        "C:\\Users\\user\\Desktop"};
    EXPECT_EQ(drakvuf_argv(inv), expected);
}

TEST(XenCmdline, OptionalPartsInSpecOrder) {
    util::TempDir dir;
    // Create a subset of profiles, deliberately not in option order.
    for (const char* n : {"x86_mscorwks_profile", "amd64_tcpip_profile", "amd64_ntdll_profile",
                          "wow64_ntdll_profile"}) {
        util::write_file_atomic(dir.path() / (std::string(n) + ".json"), "{}");
    }
    std::filesystem::create_directory(dir.path() /
                                      "amd64_mpr_profile.json");  // a directory: not a profile
    auto inv = base_invocation(dir.path());
    inv.traps_ttl = 100;
    inv.syscall_filter = "/etc/drakrun/syscalls.txt";
    auto argv = drakvuf_argv(inv);
    const std::string p = dir.path().string();
    Strings tail(argv.end() - 12, argv.end());
    Strings expected = {"--traps-ttl",
                        "100",
                        "--json-ntdll",
                        p + "/amd64_ntdll_profile.json",
                        "--json-wow",
                        p + "/wow64_ntdll_profile.json",
                        "--json-tcpip",
                        p + "/amd64_tcpip_profile.json",
                        "--json-mscorwks",
                        p + "/x86_mscorwks_profile.json",
                        "-S",
                        "/etc/drakrun/syscalls.txt"};
    EXPECT_EQ(tail, expected);
    EXPECT_EQ(argv[argv.size() - 13], "C:\\Users\\user\\Desktop");
    inv.traps_ttl = 0;
    auto no_ttl = drakvuf_argv(inv);
    EXPECT_EQ(std::count(no_ttl.begin(), no_ttl.end(), std::string("--traps-ttl")), 0);
}

TEST(XenCmdline, HexKpgdLikePythonHex) {
    EXPECT_EQ(hex_kpgd(0), "0x0");
    EXPECT_EQ(hex_kpgd(0x1aa002), "0x1aa002");
    EXPECT_EQ(hex_kpgd(0xffffffffffffffffULL), "0xffffffffffffffff");
}

TEST(XenCmdline, InjectorArgvSpec5) {
    InjectorCall c{"injector", 2, "/profiles/kernel.json", {1234, 0x1aa002}};
    EXPECT_EQ(injector_write_file_argv(c, "%USERPROFILE%\\Desktop\\a b.exe", "/tmp/s"),
              (Strings{"injector", "-o", "json", "-d", "vm-2", "-r", "/profiles/kernel.json", "-i",
                       "1234", "-k", "0x1aa002", "-m", "writefile", "-e",
                       "%USERPROFILE%\\Desktop\\a b.exe", "-B", "/tmp/s"}));
    EXPECT_EQ(injector_createproc_argv(c, "cmd /C ipconfig /renew >nul"),
              (Strings{"injector", "-o", "json", "-d", "vm-2", "-r", "/profiles/kernel.json", "-i",
                       "1234", "-k", "0x1aa002", "-m", "createproc", "-e",
                       "cmd /C ipconfig /renew >nul", "-w"}));
}

TEST(XenInjectRecord, ParsesEveryRealFixtureLine) {
    auto fx = test_support::shared_dir() / "fixtures" / "drakvuf";
    auto capa = test_support::read_lines(fx / "capa-testfiles-93b2d184" / "inject.jsonl");
    ASSERT_EQ(capa.size(), 1u);
    auto r = parse_inject_record(capa[0]);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "CreateProc");
    EXPECT_EQ(r->status, "Success");
    EXPECT_EQ(r->process_name, "C:\\Users\\litter\\Desktop\\malware.exe");
    EXPECT_EQ(r->injected_pid, 4852);
    EXPECT_EQ(r->injected_tid, 6020);

    auto docs = test_support::read_lines(fx / "sandbox-docs" / "inject.jsonl");
    ASSERT_EQ(docs.size(), 3u);
    auto w = parse_inject_record(docs[1]);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->method, "WriteFile");
    EXPECT_EQ(w->process_name, "C:\\Users\\user\\Desktop\\ntdll.dll");
    EXPECT_EQ(w->injected_pid, 0);

    auto errs = test_support::read_lines(fx / "sandbox-issue-897" / "inject.jsonl");
    ASSERT_EQ(errs.size(), 2u);
    auto e0 = parse_inject_record(errs[0]);
    auto e1 = parse_inject_record(errs[1]);
    ASSERT_TRUE(e0 && e1);
    EXPECT_EQ(e0->status, "Error");
    EXPECT_EQ(e0->error_code, 225);
    EXPECT_EQ(e0->error, "ERROR_VIRUS_INFECTED");
    EXPECT_EQ(e1->error, "ERROR_ELEVATION_REQUIRED");
}

TEST(XenInjectRecord, RejectsOtherLinesAndFindsRecordAfterBanner) {
    EXPECT_FALSE(parse_inject_record(""));
    EXPECT_FALSE(parse_inject_record("{\"Plugin\": \"procmon\", \"Status\": \"x\"}"));
    EXPECT_FALSE(parse_inject_record("{\"Plugin\": \"inject\""));
    EXPECT_FALSE(parse_inject_record("[1,2]"));
    EXPECT_FALSE(parse_inject_record("{\"Plugin\": \"inject\", \"Method\": \"CreateProc\"}"));
    // Wrong types are ignored, not fatal.
    auto odd =
        parse_inject_record("{\"Plugin\":\"inject\",\"Status\":\"Crash\",\"InjectedPid\":\"x\"}");
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->injected_pid, 0);
    auto r = find_inject_record(
        "banner "
        "line\n{\"Plugin\":\"inject\",\"Method\":\"WriteFile\",\"Status\":\"Success\","
        "\"ProcessName\":\"C:\\\\x\"}\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->process_name, "C:\\x");
    EXPECT_FALSE(find_inject_record(
        std::string(100, '\n') + "{\"Plugin\":\"inject\",\"Status\":\"Success\"}", 64));
}

TEST(XenExitCodes, Table43) {
    EXPECT_TRUE(classify_drakvuf_exit(0).ok);
    for (int c : {1, 2, 3, 5, 6, 7, 10, 11}) {
        auto e = classify_drakvuf_exit(c);
        EXPECT_FALSE(e.ok) << c;
        EXPECT_TRUE(e.retryable) << c;
    }
    EXPECT_EQ(classify_drakvuf_exit(4).name, "INJECTION_UNSUCCESSFUL");
    EXPECT_FALSE(classify_drakvuf_exit(4).retryable);
    EXPECT_EQ(classify_drakvuf_exit(2).name, "INJECTION_TIMEOUT");
    EXPECT_EQ(classify_drakvuf_exit(10).name, "KERNEL_PANIC");
    EXPECT_EQ(classify_drakvuf_exit(139).name, "KILLED_BY_SIGNAL_11");
    EXPECT_TRUE(classify_drakvuf_exit(139).retryable);
    EXPECT_EQ(classify_drakvuf_exit(42).name, "UNKNOWN_EXIT_42");
}

TEST(XenRuntimeProfile, DsLayoutAndFlatAndErrors) {
    auto a = parse_runtime_profile(R"({"vmi_offsets": {"kpgd": 1744898}, "inject_pid": 3340})");
    EXPECT_EQ(a.inject_pid, 3340);
    EXPECT_EQ(a.kpgd, 0x1aa002u);
    auto b = parse_runtime_profile(R"({"inject_pid": 1, "kpgd": "0x1aa002"})");
    EXPECT_EQ(b.kpgd, 0x1aa002u);
    EXPECT_THROW(parse_runtime_profile("nope"), util::InputError);
    EXPECT_THROW(parse_runtime_profile(R"({"kpgd": 1})"), util::InputError);
    EXPECT_THROW(parse_runtime_profile(R"({"inject_pid": -1, "kpgd": 1})"), util::InputError);
    EXPECT_THROW(parse_runtime_profile(R"({"inject_pid": 1, "kpgd": "-5"})"), util::InputError);
    EXPECT_THROW(parse_runtime_profile(R"({"inject_pid": 1})"), util::InputError);
}

TEST(XenStorage, CommandLinesPerBackend) {
    StorageOptions q;
    q.volumes_dir = "/var/lib/drakrun/volumes";
    auto qcow = make_storage_backend(q);
    EXPECT_EQ(
        qcow->prepare_commands(2),
        (std::vector<Strings>{{"qemu-img", "create", "-f", "qcow2", "-o",
                               "backing_file=/var/lib/drakrun/volumes/vm-0.img,backing_fmt=qcow2",
                               "/var/lib/drakrun/volumes/vm-2.img"}}));
    EXPECT_EQ(qcow->disk_spec(2), "tap:qcow2:/var/lib/drakrun/volumes/vm-2.img,xvda,w");
    EXPECT_EQ(qcow->cleanup_commands(2),
              (std::vector<Strings>{{"rm", "-f", "/var/lib/drakrun/volumes/vm-2.img"}}));

    StorageOptions l;
    l.backend = "lvm";
    l.lvm_volume_group = "drakvg";
    auto lvm = make_storage_backend(l);
    EXPECT_EQ(
        lvm->prepare_commands(2),
        (std::vector<Strings>{{"lvcreate", "-s", "-L", "1G", "-n", "vm-2-snap", "drakvg/vm-0"}}));
    EXPECT_EQ(lvm->disk_spec(2), "phy:/dev/drakvg/vm-2-snap,xvda,w");
    EXPECT_EQ(lvm->cleanup_commands(2),
              (std::vector<Strings>{{"lvremove", "-f", "drakvg/vm-2-snap"}}));

    StorageOptions z;
    z.backend = "zfs";
    z.zfs_dataset = "tank/drak";
    auto zfs = make_storage_backend(z);
    EXPECT_EQ(
        zfs->prepare_commands(2),
        (std::vector<Strings>{{"zfs", "clone", "-p", "tank/drak/vm-0@booted", "tank/drak/vm-2"}}));
    EXPECT_EQ(zfs->disk_spec(2), "phy:/dev/zvol/tank/drak/vm-2,xvda,w");
    EXPECT_EQ(zfs->cleanup_commands(2),
              (std::vector<Strings>{{"zfs", "destroy", "-Rfr", "tank/drak/vm-2"}}));

    StorageOptions bad;
    bad.backend = "btrfs";
    EXPECT_THROW(make_storage_backend(bad), util::InputError);
    bad.backend = "lvm";
    EXPECT_THROW(make_storage_backend(bad), util::InputError);
    bad.backend = "qcow2";
    EXPECT_THROW(make_storage_backend(bad), util::InputError);
}

TEST(XenDomainConfig, TemplateRendering) {
    DomainParams p;
    p.vm_id = 4;
    p.disk = "tap:qcow2:/v/vm-4.img,xvda,w";
    p.bridge = "drak4";
    p.vnc_port = 5904;
    p.vnc_password = "pw";
    auto cfg = render_domain_config(
        "name='{{VM_NAME}}'\ndisk=[ {{ DISKS }} ]\nvif=['bridge={{ BRIDGE }}']\n", p);
    EXPECT_EQ(cfg, "name='vm-4'\ndisk=[ 'tap:qcow2:/v/vm-4.img,xvda,w' ]\nvif=['bridge=drak4']\n");
    auto full = render_domain_config(kDefaultDomainTemplate, p);
    EXPECT_NE(full.find("name = 'vm-4'"), std::string::npos);
    EXPECT_NE(full.find("vnclisten = '0.0.0.0:5904'"), std::string::npos);
    EXPECT_EQ(full.find("{{"), std::string::npos);
    EXPECT_THROW(render_domain_config("{{ NOPE }}", p), util::InputError);
    EXPECT_THROW(render_domain_config("{{ VM_ID", p), util::InputError);
    p.vnc_password = "x'\nmalicious = 1";
    EXPECT_THROW(render_domain_config(kDefaultDomainTemplate, p), util::InputError);
}

TEST(XenNetwork, IsolatedRulesDropHostAndGuestTraffic) {
    NetworkParams p;
    p.vm_id = 5;
    auto steps = network_steps(p);
    std::vector<std::string> applied;
    for (const auto& s : steps) {
        std::string line;
        for (const auto& a : s.apply) {
            line += (line.empty() ? "" : " ") + a;
        }
        applied.push_back(line);
    }
    Strings expected = {
        "ip link add drak5 type bridge",
        "ip addr add 10.13.5.1/24 dev drak5",
        "ip link set dev drak5 up",
        "iptables -A INPUT -i drak5 -p udp --dport 67 -j ACCEPT",
        "iptables -A INPUT -i drak5 -d 10.13.5.1 -p udp --dport 53 -j ACCEPT",
        "iptables -A INPUT -i drak5 -d 10.13.5.1 -p tcp --dport 53 -j ACCEPT",
        "iptables -A INPUT -i drak5 -j DROP",
        "iptables -A FORWARD -i drak5 -d 10.13.0.0/16 -j DROP",
        "iptables -A FORWARD -o drak5 -s 10.13.0.0/16 -j DROP",
        "iptables -A FORWARD -i drak5 -j DROP",
        "iptables -A FORWARD -o drak5 -j DROP",
    };
    EXPECT_EQ(applied, expected);
    // Each iptables rule is undone by -D of the same specification.
    for (const auto& s : steps) {
        if (s.apply[0] == "iptables") {
            Strings undo = s.apply;
            undo[1] = "-D";
            EXPECT_EQ(s.undo, undo);
        }
    }
    EXPECT_EQ(steps[0].undo, (Strings{"ip", "link", "del", "drak5"}));
}

TEST(XenNetwork, InternetOnlyWithNetEnable) {
    NetworkParams p;
    p.vm_id = 5;
    p.net_enable = true;
    EXPECT_THROW(network_steps(p), util::InputError);  // no uplink configured
    p.out_interface = "eth0; rm";
    EXPECT_THROW(network_steps(p), util::InputError);
    p.out_interface = "eth0";
    auto steps = network_steps(p);
    Strings last3;
    for (auto it = steps.end() - 3; it != steps.end(); ++it) {
        std::string line;
        for (const auto& a : it->apply) {
            line += (line.empty() ? "" : " ") + a;
        }
        last3.push_back(line);
    }
    EXPECT_EQ(
        last3,
        (Strings{
            "iptables -A FORWARD -i drak5 -o eth0 -j ACCEPT",
            "iptables -A FORWARD -i eth0 -o drak5 -m state --state ESTABLISHED,RELATED -j ACCEPT",
            "iptables -t nat -A POSTROUTING -s 10.13.5.0/24 -o eth0 -j MASQUERADE"}));
    // guest->host and guest->guest drops stay in place with Internet enabled.
    int drops = 0;
    for (const auto& s : steps) {
        drops += s.apply.back() == "DROP";
    }
    EXPECT_EQ(drops, 3);
    p.vm_id = 0;
    EXPECT_THROW(network_steps(p), util::InputError);
}

TEST(XenOptions, ParseFlatKeys) {
    auto o = parse_xen_options({{"vm_id", "3"},
                                {"storage", "zfs"},
                                {"zfs_dataset", "tank/d"},
                                {"traps_ttl", "50"},
                                {"tool.xl", "/opt/xl"},
                                {"drakvuf_grace_s", "5"}});
    EXPECT_EQ(o.vm_id, 3);
    EXPECT_EQ(o.storage.backend, "zfs");
    EXPECT_EQ(o.traps_ttl, 50);
    EXPECT_EQ(o.tools.at("xl"), "/opt/xl");
    EXPECT_EQ(o.drakvuf_grace, std::chrono::seconds(5));
    EXPECT_THROW(parse_xen_options({{"vm_id", "0"}}), util::InputError);
    EXPECT_THROW(parse_xen_options({{"vm_id", "3x"}}), util::InputError);
    EXPECT_THROW(parse_xen_options({{"bogus", "1"}}), util::InputError);
}

TEST(XenSnapshot, VersionIsFileMtime) {
    util::TempDir dir;
    auto f = dir.path() / "snapshot.sav";
    util::write_file_atomic(f, "x");
    struct timespec times[2] = {{1700000000, 0}, {1700000123, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), times, 0), 0);
    EXPECT_EQ(snapshot_version(f), 1700000123);
    EXPECT_THROW(snapshot_version(dir.path() / "missing"), util::SystemError);
}

TEST(XenFactory, MakeEngineXen) {
    auto e =
        engine::make_engine("xen", {{"vm_id", "2"}, {"volumes_dir", "/var/lib/drakrun/volumes"}});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->name(), "xen");
    EXPECT_TRUE(e->supports_platform("win64"));
    EXPECT_THROW(engine::make_engine("xen", {{"volumes_dir", "/v"}, {"nope", "1"}}),
                 util::InputError);
    EXPECT_THROW(engine::make_engine("xen", {{"storage", "lvm"}}),
                 util::InputError);  // no volume group
}
