/* pe_behaviour — Windows ground-truth program (built 64- and 32-bit with mingw-w64; see
 * tests/programs/README.md). Files, registry, a child with a known command line, DNS + TCP +
 * HTTPS beacon to beacon.drak-test.example and RWX shellcode with marker bytes.
 * Run it only inside the sandbox's network namespace. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <winhttp.h>
#include <stdio.h>
#include <string.h>

static const unsigned char kCode[] = {0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3}; /* mov eax,42; ret */
static const char kRwxMarker[] = "DRAK-PE-RWX-MARKER-0123456789";

static void files(void) {
    HANDLE h = CreateFileW(L"C:\\users\\Public\\drak_gt_dropped.txt", GENERIC_WRITE, 0, NULL,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD written = 0;
    if (h != INVALID_HANDLE_VALUE) {
        WriteFile(h, "drak ground truth\r\n", 19, &written, NULL);
        CloseHandle(h);
    }
    MoveFileW(L"C:\\users\\Public\\drak_gt_dropped.txt", L"C:\\users\\Public\\drak_gt_renamed.txt");
    DeleteFileW(L"C:\\users\\Public\\drak_gt_renamed.txt");
    printf("files written=%lu\n", (unsigned long)written);
}

static void registry(void) {
    HKEY key;
    if (RegCreateKeyExW(HKEY_CURRENT_USER, L"Software\\DrakGroundTruth", 0, NULL, 0, KEY_ALL_ACCESS,
                        NULL, &key, NULL) == ERROR_SUCCESS) {
        const wchar_t value[] = L"drak-gt-value";
        RegSetValueExW(key, L"Marker", 0, REG_SZ, (const BYTE*)value, sizeof value);
        DWORD n = 1337;
        RegSetValueExW(key, L"Counter", 0, REG_DWORD, (const BYTE*)&n, sizeof n);
        RegCloseKey(key);
        printf("registry ok\n");
    }
}

static void child(void) {
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    wchar_t cmd[MAX_PATH + 64];
    _snwprintf(cmd, MAX_PATH + 64, L"\"%ls\" child drak-gt-marker", self);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (CreateProcessW(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        WaitForSingleObject(pi.hProcess, 10000);
        DWORD code = 0;
        GetExitCodeProcess(pi.hProcess, &code);
        printf("child pid=%lu exit=%lu\n", (unsigned long)pi.dwProcessId, (unsigned long)code);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    }
}

static void network(void) {
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo("beacon.drak-test.example", "80", &hints, &res);
    printf("getaddrinfo=%d\n", rc);
    if (rc == 0 && res != NULL) {
        SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, res->ai_addr, (int)res->ai_addrlen) == 0) {
            const char req[] = "GET /drak-beacon HTTP/1.0\r\nHost: beacon.drak-test.example\r\n\r\n";
            send(s, req, sizeof req - 1, 0);
            printf("tcp beacon sent\n");
        }
        closesocket(s);
        freeaddrinfo(res);
    }
    HINTERNET session = WinHttpOpen(L"DrakGroundTruth/1.0", WINHTTP_ACCESS_TYPE_NO_PROXY,
                                    WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
    if (session != NULL) {
        WinHttpSetTimeouts(session, 3000, 3000, 3000, 3000);
        HINTERNET conn = WinHttpConnect(session, L"beacon.drak-test.example", 443, 0);
        HINTERNET req = conn ? WinHttpOpenRequest(conn, L"GET", L"/drak-tls-beacon", NULL,
                                                  WINHTTP_NO_REFERER, WINHTTP_DEFAULT_ACCEPT_TYPES,
                                                  WINHTTP_FLAG_SECURE)
                             : NULL;
        if (req != NULL) {
            DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID |
                          SECURITY_FLAG_IGNORE_CERT_DATE_INVALID |
                          SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
            WinHttpSetOption(req, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof flags);
            BOOL ok = WinHttpSendRequest(req, WINHTTP_NO_ADDITIONAL_HEADERS, 0,
                                         WINHTTP_NO_REQUEST_DATA, 0, 0, 0) &&
                      WinHttpReceiveResponse(req, NULL);
            printf("https beacon ok=%d\n", ok ? 1 : 0);
            WinHttpCloseHandle(req);
        }
        if (conn != NULL) {
            WinHttpCloseHandle(conn);
        }
        WinHttpCloseHandle(session);
    }
    WSACleanup();
}

static int shellcode(void) {
    unsigned char* mem = VirtualAlloc(NULL, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_EXECUTE_READWRITE);
    if (mem == NULL) {
        return -1;
    }
    memcpy(mem, kCode, sizeof kCode);
    memcpy(mem + sizeof kCode, kRwxMarker, sizeof kRwxMarker - 1);
    int (*fn)(void) = (int (*)(void))(void*)mem;
    int r = fn();
    printf("rwx=%p result=%d\n", (void*)mem, r);
    return r;
}

static LONG CALLBACK on_exception(EXCEPTION_POINTERS* info) {
    if (info->ExceptionRecord->ExceptionCode == 0xE0D7A001) {
        return EXCEPTION_CONTINUE_EXECUTION;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static void exception(void) {
    /* A first-chance software exception with a recognisable code, handled by a VEH. */
    PVOID h = AddVectoredExceptionHandler(1, on_exception);
    RaiseException(0xE0D7A001, 0, 0, NULL);
    RemoveVectoredExceptionHandler(h);
    printf("exception handled\n");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child running marker=%s\n", argc > 2 ? argv[2] : "");
        return 5;
    }
    files();
    registry();
    exception();
    child();
    if (argc > 1 && strcmp(argv[1], "--no-network") == 0) {
        printf("network skipped\n");
    } else {
        network();
    }
    return shellcode() == 42 ? 7 : 3;
}
