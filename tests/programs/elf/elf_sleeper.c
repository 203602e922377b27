/* elf_sleeper — timeout ground truth: forks one child, both ignore SIGTERM/SIGINT/SIGHUP and
 * sleep forever; prints "sleeper parent=P child=C". Only SIGKILL ends them. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    pid_t c = fork();
    if (c > 0) {
        printf("sleeper parent=%d child=%d\n", (int)getpid(), (int)c);
        fflush(stdout);
    }
    for (;;) {
        pause();
    }
}
