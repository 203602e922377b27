/* pe_sleeper — timeout ground truth: prints "sleeper pid=N" and sleeps forever. */
#include <windows.h>
#include <stdio.h>

int main(void) {
    printf("sleeper pid=%lu\n", (unsigned long)GetCurrentProcessId());
    fflush(stdout);
    for (;;) {
        Sleep(INFINITE);
    }
}
