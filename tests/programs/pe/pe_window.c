/* pe_window: creates and shows a window (class "STATIC", title "drak-gt-window"), keeps it
 * 300 ms, destroys it, prints "window ok" and exits 0 (4 if CreateWindow failed). Under Wine
 * the first window of a session starts the desktop process (explorer.exe /desktop), which the
 * native engine's warm-up starts before the sample (tests/programs/README.md). */
#include <windows.h>
#include <stdio.h>

int main(void) {
    HWND w = CreateWindowExA(0, "STATIC", "drak-gt-window", WS_OVERLAPPEDWINDOW, 0, 0, 200, 100,
                             NULL, NULL, GetModuleHandleA(NULL), NULL);
    if (w == NULL) {
        printf("CreateWindow failed error=%lu\n", GetLastError());
        return 4;
    }
    ShowWindow(w, SW_SHOW);
    Sleep(300);
    DestroyWindow(w);
    printf("window ok\n");
    return 0;
}
