/*
 * serial_pty_shim: lets the REAL libserialport (Debian 12's 0.1.1) drive a
 * Linux pseudo-terminal, for tests and the lane simulator. Load it with
 * LD_PRELOAD; see docs/serial-testing.md.
 *
 * libserialport refuses a pty in exactly two places (found with strace):
 *
 *  1. sp_get_port_by_name("/dev/X") lstat()s /sys/class/tty/X and readlink()s
 *     it. A pty slave /dev/pts/N has no such entry, so the lookup fails with
 *     SP_ERR_ARG before the device is ever opened.
 *  2. sp_open() and every sp_set_*() read the modem lines with TIOCMGET and
 *     raise RTS/DTR with TIOCMBIS; the pty driver has no modem lines and
 *     answers ENOTTY, so sp_open() fails with SP_ERR_FAIL.
 *
 * The shim answers only those, and only after the real call has failed in the
 * way a pty makes it fail: everything else (open, termios, read, write, select,
 * tcdrain, hangup) is the kernel's real pty behaviour, reached through the real
 * library. On a real UART nothing fails, so the shim never changes a thing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Unix98 pty slaves (/dev/pts/N) use majors 136 to 143 (UNIX98_PTY_SLAVE_MAJOR
 * and UNIX98_PTY_MAJOR_COUNT in the kernel); nothing else does. Matching on the
 * device rather than the path name keeps the shim off every other file. */
static int is_pty_slave(const struct stat *st) {
    return S_ISCHR(st->st_mode) && major(st->st_rdev) >= 136 && major(st->st_rdev) <= 143;
}

static int fd_is_pty_slave(int fd, dev_t *rdev) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !is_pty_slave(&st)) return 0;
    *rdev = st.st_rdev;
    return 1;
}

/* ---- 1. the sysfs lookup ------------------------------------------------ */

static const char sysfs_tty[] = "/sys/class/tty/";

/* If `path` is /sys/class/tty/X and /dev/X is (or links to) a pty slave,
 * writes the pty's number to *number and returns 1. */
static int sysfs_entry_of_pty(const char *path, unsigned *number) {
    if (!path || strncmp(path, sysfs_tty, sizeof sysfs_tty - 1) != 0) return 0;
    const char *name = path + sizeof sysfs_tty - 1;
    /* libserialport only ever asks for the entry itself; refuse anything that
     * could climb out of /dev. */
    if (*name == '\0' || strstr(name, "..")) return 0;
    char device[4096];
    if (snprintf(device, sizeof device, "/dev/%s", name) >= (int)sizeof device) return 0;
    struct stat st;
    if (stat(device, &st) != 0 || !is_pty_slave(&st)) return 0;
    /* /proc/tty/drivers: "pty_slave /dev/pts 136 0-1048575", so N is the minor. */
    *number = minor(st.st_rdev);
    return 1;
}

/* What an lstat of a real /sys/class/tty entry shows: a symlink. */
static void fake_symlink_stat(struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFLNK | 0777;
    st->st_nlink = 1;
}

/* glibc before 2.33 (and binaries built against it, such as Debian 12's
 * libserialport0) call lstat through __lxstat; newer builds call lstat. Both
 * are wrapped so that a rebuilt library keeps working. */
int __lxstat(int version, const char *path, struct stat *st) {
    static int (*real)(int, const char *, struct stat *);
    if (!real) real = (int (*)(int, const char *, struct stat *))dlsym(RTLD_NEXT, "__lxstat");
    int saved = errno;
    int result = real ? real(version, path, st) : (errno = ENOSYS, -1);
    unsigned number;
    if (result != 0 && errno == ENOENT && sysfs_entry_of_pty(path, &number)) {
        fake_symlink_stat(st);
        errno = saved;
        return 0;
    }
    return result;
}

int lstat(const char *path, struct stat *st) {
    static int (*real)(const char *, struct stat *);
    if (!real) real = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "lstat");
    int saved = errno;
    int result = real ? real(path, st) : (errno = ENOSYS, -1);
    unsigned number;
    if (result != 0 && errno == ENOENT && sysfs_entry_of_pty(path, &number)) {
        fake_symlink_stat(st);
        errno = saved;
        return 0;
    }
    return result;
}

/* libserialport reads the link only to look for "usb" or "bluetooth" in it;
 * a virtual device path makes the pty a native port, as a UART would be. */
ssize_t readlink(const char *path, char *buffer, size_t size) {
    static ssize_t (*real)(const char *, char *, size_t);
    if (!real) real = (ssize_t (*)(const char *, char *, size_t))dlsym(RTLD_NEXT, "readlink");
    int saved = errno;
    ssize_t result = real ? real(path, buffer, size) : (errno = ENOSYS, -1);
    unsigned number;
    if (result < 0 && errno == ENOENT && sysfs_entry_of_pty(path, &number)) {
        char target[64];
        int length = snprintf(target, sizeof target, "../../devices/virtual/serial-pty-shim/pts/%u", number);
        if (length < 0) return result;
        size_t count = (size_t)length < size ? (size_t)length : size; /* readlink truncates silently */
        memcpy(buffer, target, count);
        errno = saved;
        return (ssize_t)count;
    }
    return result;
}

/* ---- 2. the modem-control ioctls ---------------------------------------- */

/* A pty has no modem lines. The shim keeps what the program last set on the
 * outputs (DTR, RTS) per pty, so that reading back what was written works as
 * on a UART, and shows the inputs of a null-modem cable whose far end is up
 * (CTS, DSR, CD asserted, RI not). Nothing on the pty changes: the far end
 * cannot see DTR/RTS, and a closed far end does not drop CD; it shows as a
 * hangup on read and write instead, which is the kernel's. */
#define SHADOW_SLOTS 64
static struct {
    dev_t rdev;
    int used;
    int outputs;
} shadow[SHADOW_SLOTS];
static pthread_mutex_t shadow_lock = PTHREAD_MUTEX_INITIALIZER;
static const int input_lines = TIOCM_CTS | TIOCM_DSR | TIOCM_CAR;
static const int output_lines = TIOCM_DTR | TIOCM_RTS;

/* Returns the pty's outputs, taking a free slot when the pty is new.
 * Called with the lock held. */
static int *outputs_of(dev_t rdev) {
    for (int i = 0; i < SHADOW_SLOTS; i++)
        if (shadow[i].used && shadow[i].rdev == rdev) return &shadow[i].outputs;
    for (int i = 0; i < SHADOW_SLOTS; i++)
        if (!shadow[i].used) {
            shadow[i].used = 1;
            shadow[i].rdev = rdev;
            shadow[i].outputs = 0;
            return &shadow[i].outputs;
        }
    /* Full: pty numbers are reused as ptys close, so overwrite a slot chosen
     * by the number; a stale DTR/RTS bit is harmless here. */
    int i = (int)(minor(rdev) % SHADOW_SLOTS);
    shadow[i].rdev = rdev;
    shadow[i].outputs = 0;
    return &shadow[i].outputs;
}

static int fake_modem_ioctl(dev_t rdev, unsigned long request, int *bits) {
    if (!bits) {
        errno = EFAULT;
        return -1;
    }
    pthread_mutex_lock(&shadow_lock);
    int *outputs = outputs_of(rdev);
    switch (request) {
    case TIOCMGET: *bits = *outputs | input_lines; break;
    case TIOCMSET: *outputs = *bits & output_lines; break;
    case TIOCMBIS: *outputs |= *bits & output_lines; break;
    case TIOCMBIC: *outputs &= ~(*bits & output_lines); break;
    }
    pthread_mutex_unlock(&shadow_lock);
    return 0;
}

int ioctl(int fd, unsigned long request, ...) {
    static int (*real)(int, unsigned long, ...);
    if (!real) real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    va_list arguments;
    va_start(arguments, request);
    void *argument = va_arg(arguments, void *);
    va_end(arguments);
    int saved = errno;
    int result = real(fd, request, argument);
    if (result < 0 && errno == ENOTTY
        && (request == TIOCMGET || request == TIOCMSET || request == TIOCMBIS || request == TIOCMBIC)) {
        dev_t rdev;
        if (fd_is_pty_slave(fd, &rdev)) {
            errno = saved;
            return fake_modem_ioctl(rdev, request, (int *)argument);
        }
        errno = ENOTTY;
    }
    return result;
}

/* Lets a test prove that the shim is loaded (dlsym(RTLD_DEFAULT, ...)) rather
 * than guess from the environment. */
const char *serial_pty_shim_version(void) { return "serial-pty-shim 1"; }
