/* pe_diskfill [MIB]: writes 1 MiB blocks to C:\users\Public\drak_fill.bin until MIB (default
 * 4096) or a write fails; prints "written <n> MiB error=<GetLastError()>". On
 * ERROR_DISK_FULL (112) or ERROR_HANDLE_DISK_FULL (39) it resolves
 * "diskfull.drak-test.example" so a test sees the outcome in the netsim DNS log, and exits 0
 * (9 if the disk never filled). Ground truth for the native engine's writable quota (tests/programs/README.md). */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    int limit = argc > 1 ? atoi(argv[1]) : 4096;
    static char block[1 << 20];
    memset(block, 'D', sizeof block);
    HANDLE h = CreateFileW(L"C:\\users\\Public\\drak_fill.bin", GENERIC_WRITE, 0, NULL,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        printf("create failed error=%lu\n", GetLastError());
        return 2;
    }
    int n = 0;
    DWORD err = 0;
    for (; n < limit && err == 0; ++n) {
        DWORD off = 0;
        while (off < sizeof block) { /* a short write near the end: retry the rest */
            DWORD done = 0;
            if (!WriteFile(h, block + off, sizeof block - off, &done, NULL)) {
                err = GetLastError();
                break;
            }
            if (done == 0) {
                err = ERROR_WRITE_FAULT;
                break;
            }
            off += done;
        }
    }
    CloseHandle(h);
    if (err != 0 && n > 0) {
        --n; /* the failed block is not complete */
    }
    printf("written %d MiB error=%lu\n", n, err);
    fflush(stdout);
    if (err != ERROR_DISK_FULL && err != ERROR_HANDLE_DISK_FULL) {
        return 9;
    }
    WSADATA wsa;
    WSAStartup(MAKEWORD(2, 2), &wsa);
    struct addrinfo* ai = NULL;
    int rc = getaddrinfo("diskfull.drak-test.example", "80", NULL, &ai);
    printf("getaddrinfo=%d\n", rc);
    if (ai) {
        freeaddrinfo(ai);
    }
    return 0;
}
