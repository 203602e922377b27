/* pe_memhog — containment ground truth: commits and touches 16 MiB steps up to argv[1] MiB
 * (default 4096), printing "allocated N MiB" after each step, then sleeps 60 s. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    long limit = argc > 1 ? atol(argv[1]) : 4096;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (long mib = 16; mib <= limit; mib += 16) {
        char* p = VirtualAlloc(NULL, 16L << 20, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
        if (p == NULL) {
            printf("alloc failed at %ld MiB\n", mib);
            break;
        }
        memset(p, 0xAB, 16L << 20);
        printf("allocated %ld MiB\n", mib);
    }
    Sleep(60000);
    return 0;
}
