/*
 * The field test's helper inside the VM (static, busybox has no equivalent):
 *
 *   fieldtool ctl SOCKET JSON        one request to laned's control socket, prints the reply line
 *   fieldtool pull FILE STEP...      writes gpio-sim pull attributes with precise gaps:
 *                                    STEP is "down", "up" or a pause in microseconds;
 *                                    prints the CLOCK_MONOTONIC ns of each write
 *   fieldtool clock                  prints CLOCK_REALTIME - CLOCK_MONOTONIC in ns
 *   fieldtool runas UID GID GIDS PROG ARGS...
 *                                    runs PROG as UID:GID with the supplementary groups
 *                                    GIDS (comma-separated), as systemd's User= and
 *                                    SupplementaryGroups= would; busybox's setpriv cannot
 *
 * Bounces of 5 ms cannot be made from a shell under TCG: every echo is a
 * fork and an exec costing more than that. The clock offset turns the
 * kernel's edge timestamps (CLOCK_MONOTONIC) into the wall-clock times of
 * laned's journal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int ctl(const char *path, const char *json) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (fd < 0 || strlen(path) >= sizeof addr.sun_path) return 2;
    strcpy(addr.sun_path, path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "fieldtool: connect %s: %s\n", path, strerror(errno));
        return 3;
    }
    size_t n = strlen(json);
    if (write(fd, json, n) != (ssize_t)n || write(fd, "\n", 1) != 1) return 3;
    shutdown(fd, SHUT_WR);
    char buf[65536];
    ssize_t r;
    int newline = 0;
    while (!newline && (r = read(fd, buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)r, stdout);
        newline = memchr(buf, '\n', (size_t)r) != NULL;
    }
    close(fd);
    return newline ? 0 : 4;
}

static int pull(const char *file, int argc, char **argv) {
    int fd = open(file, O_WRONLY);
    if (fd < 0) {
        fprintf(stderr, "fieldtool: %s: %s\n", file, strerror(errno));
        return 2;
    }
    int64_t next = ns(CLOCK_MONOTONIC);
    for (int i = 0; i < argc; i++) {
        const char *step = argv[i];
        if (strcmp(step, "down") == 0 || strcmp(step, "up") == 0) {
            const char *value = step[0] == 'd' ? "pull-down" : "pull-up";
            int64_t at = ns(CLOCK_MONOTONIC);
            if (pwrite(fd, value, strlen(value), 0) < 0) {
                fprintf(stderr, "fieldtool: write %s to %s: %s\n", value, file, strerror(errno));
                return 3;
            }
            printf("%s %lld\n", step, (long long)at);
            next = at;
        } else {
            /* Gaps count from the previous write, not from when this one
             * returned, so a burst keeps its rhythm. */
            next += strtoll(step, NULL, 10) * 1000;
            struct timespec t = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
        }
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "ctl") == 0) return ctl(argv[2], argv[3]);
    if (argc >= 3 && strcmp(argv[1], "pull") == 0) return pull(argv[2], argc - 3, argv + 3);
    if (argc == 2 && strcmp(argv[1], "clock") == 0) {
        int64_t m1 = ns(CLOCK_MONOTONIC), r = ns(CLOCK_REALTIME), m2 = ns(CLOCK_MONOTONIC);
        printf("%lld\n", (long long)(r - (m1 + m2) / 2));
        return 0;
    }
    if (argc >= 6 && strcmp(argv[1], "runas") == 0) {
        gid_t groups[16];
        int n = 0;
        for (char *g = strtok(argv[4], ","); g && n < 16; g = strtok(NULL, ",")) groups[n++] = (gid_t)atoi(g);
        if (setgroups((size_t)n, groups) != 0 || setgid((gid_t)atoi(argv[3])) != 0 || setuid((uid_t)atoi(argv[2])) != 0) {
            perror("fieldtool runas");
            return 2;
        }
        execv(argv[5], argv + 5);
        perror(argv[5]);
        return 127;
    }
    fprintf(stderr, "usage: fieldtool ctl SOCKET JSON | pull FILE down|up|MICROSECONDS... | clock | runas UID GID GIDS PROG ARGS...\n");
    return 64;
}
