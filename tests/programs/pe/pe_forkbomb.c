/* pe_forkbomb — containment ground truth: every instance starts two copies of itself and then
 * sleeps 60 s. Safety: without --unbounded the depth is limited to 5 (at most 63 processes). */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    int unbounded = argc > 1 && strcmp(argv[1], "--unbounded") == 0;
    int depth = argc > 2 ? atoi(argv[2]) : 0;
    if (unbounded || depth < 5) {
        char self[MAX_PATH];
        GetModuleFileNameA(NULL, self, MAX_PATH);
        char cmd[MAX_PATH + 64];
        snprintf(cmd, sizeof cmd, "\"%s\" %s %d", self, unbounded ? "--unbounded" : "--bounded",
                 depth + 1);
        for (int i = 0; i < 2; i++) {
            STARTUPINFOA si;
            PROCESS_INFORMATION pi;
            memset(&si, 0, sizeof si);
            si.cb = sizeof si;
            if (CreateProcessA(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
                CloseHandle(pi.hThread);
                CloseHandle(pi.hProcess);
            }
        }
    }
    Sleep(60000);
    return 0;
}
