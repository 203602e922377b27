/* elf_forkbomb — containment ground truth: forks children that fork forever.
 * Safety: without --unbounded it stops after 64 processes in total, so an accidental run
 * outside a pids-limited cgroup is harmless. Every process sleeps for 60 s after forking. */
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int unbounded = argc > 1 && strcmp(argv[1], "--unbounded") == 0;
    for (int i = 0; unbounded || i < 6; i++) {
        if (fork() < 0) {
            sleep(1);
        }
    }
    sleep(60);
    return 0;
}
