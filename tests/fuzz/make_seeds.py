#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/seed-*: small extracts of the shared
karton vectors, DRAKVUF fixtures, the Wine captures in tests/unit/engine/data and our own test
programs. Run from the repo root with the shared/ checkout beside it; regressions/ folders are
never touched. Usage: python3 tests/fuzz/make_seeds.py [SHARED_DIR] [PROGRAMS_BUILD_DIR]"""
import io, json, os, re, sys, zipfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared")
programs = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "build-main", "programs")
corpus = os.path.join(root, "tests", "fuzz", "corpus")
vec = os.path.join(shared, "spec", "karton-vectors")
fix = os.path.join(shared, "fixtures", "drakvuf")


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def lines(path, n):
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:n]


tasks = jsonl(os.path.join(vec, "tasks.jsonl"))
for i, t in enumerate(tasks[:10]):
    if "serialized" in t:
        put("task", f"vec{i}", t["serialized"])
        put("json", f"task{i}", t["serialized"])
for i, t in enumerate(jsonl(os.path.join(vec, "task-compat.jsonl"))[:6]):
    for k in ("serialized", "stored", "input"):
        if isinstance(t.get(k), str):
            put("task", f"compat{i}", t[k])
            break
for name, text in {
    "bigint": '[12345678901234567890123456789, -0, 1e400, NaN, -Infinity, 1.5e-7]',
    "surrogate": '{"a": "\\ud800x\\udc00", "b": "\\ud83d\\ude00", "a": 2}',
    "nested": "[" * 40 + "]" * 40,
    "ws": ' \t\n{"k" : [true,false,null]}  \n',
}.items():
    put("json", name, text)

filters = jsonl(os.path.join(vec, "filters.jsonl"))
for i, f in enumerate(filters[::4]):
    put("filter", f"{f['id']}", json.dumps(f["filters"]) + "\n" + json.dumps(f["headers"]))

for i, c in enumerate(jsonl(os.path.join(vec, "config.jsonl"))):
    for j, text in enumerate(c.get("files", {}).values()):
        put("config_ini", f"{c['id']}-{j}", text)

fixture_logs = [os.path.join(dp, fn) for dp, _, fns in os.walk(fix) for fn in sorted(fns)
                if fn.endswith(".jsonl")]
fixture_logs.sort()
for p in fixture_logs:
    tag = os.path.basename(os.path.dirname(p)) + "-" + os.path.basename(p)[:-6]
    ls = lines(p, 12)
    put("split", tag, b"\n".join(ls) + b"\nnot json\n{\"Plugin\": \"x\", \"a\": [1,\n")
    for k, l in enumerate(ls[:3]):
        if l:
            put("py_json", f"{tag}-{k}", l)
    if "procmon" in p:
        put("process_tree", tag, b"\n".join(lines(p, 60)))

engine_data = os.path.join(root, "tests", "unit", "engine", "data")
stderr = lines(os.path.join(engine_data, "wine_pe_behaviour64.stderr"), 100000)
for k in range(0, min(len(stderr), 600), 150):
    put("wine_debug", f"pe_behaviour64-{k}", b"\n".join(stderr[k:k + 150]))
with open(os.path.join(root, "tests", "unit", "engine", "wineserver_trace_test.cpp")) as f:
    m = re.search(r'R"TRACE\((.*?)\)TRACE"', f.read(), re.S)
trace = m.group(1).split("\n")
put("wineserver_trace", "full", "\n".join(trace))
put("wineserver_trace", "head", "\n".join(trace[:8]))
put("wineserver_trace", "process", "\n".join(trace[16:]))

for fn in ("pe_sleeper32.exe", "pe_memhog64.exe", "elf_behaviour", "elf_forkbomb"):
    p = os.path.join(programs, fn)
    if os.path.exists(p):
        with open(p, "rb") as f:
            put("sample_info", fn.replace(".", "_"), f.read(4096))
put("sample_info", "mz-only", b"MZ" + b"\0" * 62)
put("sample_info", "text", b"#!/bin/sh\necho hi\n")

xml = {
    0: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a/b</Key><RequestId>1</RequestId></Error>',
    1: '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>',
    2: '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken><Contents><Key>k1</Key><Size>12</Size><ETag>"e"</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents><Contents><Key>k&amp;2</Key><Size>0</Size></Contents></ListBucketResult>',
    3: '<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>k</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest></Version><DeleteMarker><Key>k</Key><VersionId>v0</VersionId></DeleteMarker></ListVersionsResult>',
    4: '<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>',
    5: '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>',
    6: '<CompleteMultipartUploadResult><Location>http://x/b/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>',
}
for sel, body in xml.items():
    put("s3_xml", f"sel{sel}", bytes([sel]) + body.encode())
put("s3_xml", "broken", bytes([2]) + b"<ListBucketResult><Contents><Key>x")


def mkzip(entries, name):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries:
            if isinstance(n, zipfile.ZipInfo):
                z.writestr(n, data)
            else:
                z.writestr(n, data)
    put("zip", name, buf.getvalue())


mkzip([("a.txt", "hello"), ("dir/b.bin", b"\0" * 300)], "plain")
mkzip([("../evil.txt", "x")], "dotdot")
mkzip([("/abs.txt", "x")], "absolute")
mkzip([("a\\b.txt", "x")], "backslash")
link = zipfile.ZipInfo("link")
link.external_attr = (0o120777 << 16)
mkzip([(link, "/etc/passwd")], "symlink")
mkzip([], "empty")
mkzip([("zeros.bin", b"\0" * 200000)], "zeros")

for name, parts in {
    "exe": ["invoice.exe", "exe", "PE32+ executable (GUI) x86-64, for MS Windows", "win64"],
    "dll": ["lib.dll", "", "PE32 executable (DLL) (GUI) Intel 80386, for MS Windows", "win32"],
    "dotdot": ["../../etc/passwd", "", "ASCII text", "win32"],
    "ctrl": ["a\x01b\nc.exe", "exe", "", "win64"],
    "long": ["A" * 300 + ".doc", "doc", "", "win64"],
    "elf": ["run", "", "ELF 64-bit LSB pie executable", "linux"],
}.items():
    put("file_names", name, "\0".join(parts))

res = {"__karton_resource__": {"bucket": "karton", "flags": [], "metadata": {},
                               "name": "invoice.exe", "size": 10,
                               "uid": "11111111-2222-4333-8444-555555555555",
                               "sha256": "00" * 32}}
for i, payload in enumerate([
    {"sample": res},
    {"sample": res, "timeout": 120, "plugins": ["procmon", "apimon"], "file_name": "x.exe",
     "start_command": "cmd /c x.exe"},
    {"sample": res, "timeout": 99999999},
    {"sample": res, "timeout": "600", "analysis_uid": "../x"},
    {"sample": 5},
]):
    t = {"error": None, "headers": {"type": "sample", "kind": "runnable", "platform": "win64",
                                    "extension": "exe", "quality": "high"},
         "headers_persistent": {}, "last_update": 1700000000.0, "orig_uid": None,
         "parent_uid": None, "payload": payload, "payload_persistent": {},
         "priority": "normal", "root_uid": "00000000-0000-4000-8000-00000000000%d" % i,
         "status": "Spawned", "uid": "00000000-0000-4000-8000-00000000000%d" % i}
    put("task_request", f"req{i}", json.dumps(t, sort_keys=True))

put("process_tree", "cmdline", '{"Plugin": "procmon", "Method": "NtCreateUserProcess", "TimeStamp": "1.5", "PID": 10, "PPID": 4, "NewPid": 11, "ProcessName": "a.exe", "ImagePathName": "C:\\\\x.exe", "CommandLine": "\\"C:\\\\x.exe\\" a\\\\\\"b \\"c d\\"", "Status": 0}\n{"Plugin": "procmon", "Method": "NtTerminateProcess", "TimeStamp": "2.0", "PID": 11, "ExitPid": 11}\n')
put("process_tree", "garbage", "{}\n[]\n\"x\"\n{\"Plugin\": \"procmon\"}\n")


# multipart (drak-web POST /upload): line 1 = boundary ('~' + byte: chunked transfer), rest =
# the body (see tests/fuzz/targets/multipart.cpp).
def form(boundary, parts, close=True):
    out = b""
    for name, filename, data in parts:
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disp.encode("utf-8", "surrogatepass")
        if filename is not None:
            out += b"\r\nContent-Type: application/octet-stream"
        out += b"\r\n\r\n" + data + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return out


B = b"----drakfuzz7MA4YWxk"
for name, (first, body) in {
    "ok": (B, form(B, [("file", "sample.exe", b"MZ\x90\x00" + b"\x00" * 60)])),
    "fields": (B, form(B, [("file", "a.bin", b"\x7fELF\x02\x01\x01"), ("file_name", None, b"run"),
                           ("timeout", None, b"120"), ("plugins", None, b'["procmon", "apimon"]'),
                           ("start_command", None, b"cmd /c run")])),
    "chunked": (b"~\x27" + B, form(B, [("file", "x.dll", b"MZ" * 40), ("timeout", None, b"60")])),
    # 1-byte chunks: cpp-httplib 0.11.4 answers 400 when the first boundary line is split.
    "chunked1": (b"~\x00" + B, form(B, [("file", "x.dll", b"MZ" * 8)])),
    "dotdot": (B, form(B, [("file", "../../etc/passwd", b"root:x:0:0")])),
    "ctrl": (B, form(B, [("file", "a.exe", b"x"), ("file_name", None, b"a\x01b\nc.exe")])),
    "longname": (B, form(B, [("file", "A" * 4096 + ".exe", b"MZ")])),
    "toolarge": (b"~\x3f" + B, form(B, [("file", "big.exe", b"A" * 5000)])),
    "twofiles": (B, form(B, [("file", "a.exe", b"1"), ("file", "b.exe", b"2")])),
    "nofile": (B, form(B, [("timeout", None, b"10")])),
    "unterminated": (B, form(B, [("file", "a.exe", b"MZ")], close=False)),
    "badplugins": (B, form(B, [("file", "a.exe", b"MZ"), ("plugins", None, b"[" * 3000)])),
    "manyfields": (B, form(B, [("f%d" % i, None, b"v") for i in range(20)] + [("file", "a.exe", b"MZ")])),
    "nodisposition": (B, b"--" + B + b"\r\nX: y\r\n\r\nzz\r\n--" + B + b"--\r\n"),
    "emptyboundary": (b"", form(b"", [("file", "a.exe", b"MZ")])),
}.items():
    put("multipart", name, first + b"\n" + body)
