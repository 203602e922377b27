/* elf_behaviour — ELF ground-truth program (tests/programs/README.md lists what it does).
 * Files, a child with a known command line, a DNS-looking UDP datagram, a TCP beacon to
 * 127.0.0.1 and RWX shellcode carrying recognisable marker bytes. Loopback only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* mov eax, 42 ; ret ; then the marker (never executed). */
static const unsigned char kCode[] = {0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3};
static const char kRwxMarker[] = "DRAK-RWX-MARKER-0123456789";
static const char kRxMarker[] = "DRAK-MPROTECT-MARKER-9876543210";

static int run_code(int use_mprotect) {
    size_t len = 4096;
    int prot = use_mprotect ? (PROT_READ | PROT_WRITE) : (PROT_READ | PROT_WRITE | PROT_EXEC);
    unsigned char* mem = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return -1;
    }
    memcpy(mem, kCode, sizeof kCode);
    const char* marker = use_mprotect ? kRxMarker : kRwxMarker;
    memcpy(mem + sizeof kCode, marker, strlen(marker));
    if (use_mprotect && mprotect(mem, len, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return -1;
    }
    int (*fn)(void) = (int (*)(void))(void*)mem;
    int r = fn();
    printf("%s=%p result=%d\n", use_mprotect ? "rx" : "rwx", (void*)mem, r);
    return r;
}

static void dns_query(void) {
    /* A standard query for beacon.drak-test.example, type A, sent to 127.0.0.1:53. */
    unsigned char pkt[512];
    size_t n = 0;
    const unsigned char hdr[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(pkt, hdr, sizeof hdr);
    n = sizeof hdr;
    const char* labels[] = {"beacon", "drak-test", "example"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(labels[i]);
        pkt[n++] = (unsigned char)l;
        memcpy(pkt + n, labels[i], l);
        n += l;
    }
    pkt[n++] = 0;
    pkt[n++] = 0;
    pkt[n++] = 1;
    pkt[n++] = 0;
    pkt[n++] = 1;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(s, pkt, n, 0, (struct sockaddr*)&a, sizeof a) < 0) {
        perror("sendto");
    }
    close(s);
}

static void beacon(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(l, (struct sockaddr*)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr*)&a, &al) != 0) {
        perror("listen");
        return;
    }
    printf("port=%d\n", ntohs(a.sin_port));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr*)&a, sizeof a) != 0) {
        perror("connect");
        return;
    }
    const char req[] = "GET /drak-beacon HTTP/1.0\r\nHost: beacon.drak-test.example\r\n\r\n";
    if (write(c, req, sizeof req - 1) < 0) {
        perror("write");
    }
    int s = accept(l, NULL, NULL);
    char buf[256];
    ssize_t got = read(s, buf, sizeof buf - 1);
    if (got > 0) {
        buf[got] = 0;
        printf("server got %zd bytes\n", got);
    }
    close(s);
    close(c);
    close(l);
}

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : ".";
    setvbuf(stdout, NULL, _IONBF, 0);
    char dropped[4096], renamed[4096];
    snprintf(dropped, sizeof dropped, "%s/drak_gt_dropped.txt", dir);
    snprintf(renamed, sizeof renamed, "%s/drak_gt_renamed.txt", dir);
    int fd = open(dropped, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "drak ground truth\n", 18) != 18) {
        perror("write file");
        return 2;
    }
    close(fd);
    if (rename(dropped, renamed) != 0 || unlink(renamed) != 0) {
        perror("rename/unlink");
        return 2;
    }
    pid_t child = fork();
    if (child == 0) {
        char* args[] = {"/bin/echo", "drak-gt-child", "--marker=42", NULL};
        char* env[] = {"PATH=/usr/bin:/bin", NULL};
        execve(args[0], args, env);
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child=%d status=%d\n", (int)child, status);
    dns_query();
    beacon();
    if (run_code(0) != 42 || run_code(1) != 42) {
        return 3;
    }
    return 7; /* distinctive exit status: the tracer must pass it through */
}
