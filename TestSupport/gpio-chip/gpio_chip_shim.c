/*
 * gpio_chip_shim: a GPIO chip for the REAL libgpiod (Debian 12's 1.6.3, the v1
 * character-device ABI) on a machine whose kernel has none. Load it with
 * LD_PRELOAD; see docs/gpio-testing.md.
 *
 * It stands where the kernel stands: it wraps only the C library calls through
 * which libgpiod reaches the kernel (nm -D libgpiod.so.2 lists them: open,
 * lstat, stat, access, scandir, ioctl, read, close) and answers them for
 * /dev/gpiochipN paths and the descriptors it handed out, the way the kernel's
 * gpiolib-cdev does. Every other path and descriptor goes straight through.
 *
 *  - /dev/gpiochipN: open returns a real descriptor (an eventfd), lstat and stat
 *    say "character device 254:N", scandir("/dev") lists it, and
 *    /sys/bus/gpio/devices/gpiochipN/dev reads "254:N\n" (a memfd), which is
 *    what libgpiod's is_gpiochip_cdev() checks.
 *  - GPIO_GET_CHIPINFO_IOCTL, GPIO_GET_LINEINFO_IOCTL, GPIO_GET_LINEHANDLE_IOCTL
 *    and GPIO_GET_LINEEVENT_IOCTL on the chip descriptor, validated like the
 *    kernel does (EINVAL for a bad offset or flags, EBUSY for a line in use).
 *  - A line event request gets the read end of a pipe; the shim writes
 *    struct gpioevent_data records into the other end when a test changes the
 *    line's level, with the timestamp the test chose. The records are whole and
 *    written atomically, so reads return whole events, as from the kernel, and
 *    the kernel's queue of 16 events per line is kept (the rest are dropped).
 *  - GPIOHANDLE_GET/SET_LINE_VALUES_IOCTL on handle and event descriptors,
 *    with active-low applied as the kernel applies it.
 *  - A chip can vanish, as when a USB expander is unplugged: its path and sysfs
 *    entry go (ENOENT), ioctls on its old descriptors fail with ENODEV, reads
 *    on its event descriptors fail with ENODEV and poll reports POLLHUP (the
 *    pipe's writer closes). It can come back; old descriptors stay dead, as
 *    they do in the kernel, and a new open gets a fresh chip. A quiet vanish
 *    leaves the line descriptors silent instead, as kernels without the
 *    gpiolib-cdev hot-unplug fixes do.
 *
 * Tests drive it through the gpio_chip_shim_* functions below, looked up with
 * dlsym in the process that preloads the shim. LANEKIOSK_GPIO_CHIPS declares
 * chips at start, and LANEKIOSK_GPIO_CONTROL names a FIFO that takes commands
 * for hand runs (docs/gpio-testing.md).
 *
 * Not emulated: the v2 ABI (GPIO_V2_*, libgpiod 2.x), line info watches,
 * GPIOHANDLE_SET_CONFIG_IOCTL, dup() of a shim descriptor, and the kernel's
 * reading of the level in its interrupt thread (a test that wants the
 * duplicate edge ids that can cause queues them with
 * gpio_chip_shim_queue_event).
 */
#define _GNU_SOURCE
/* The wrappers below define open and read themselves; fortified inline
 * versions of them (Ubuntu's compilers turn fortification on by default)
 * would clash. */
#undef _FORTIFY_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHIPS 8
#define MAX_LINES 64
#define MAX_FDS 4096
#define MAX_HANDLES 64
/* The v1 ABI's per-line event FIFO (gpiolib-cdev: a kfifo of 16). */
#define KERNEL_QUEUE_EVENTS 16
/* Dynamic majors start at 254 and count down; real chips usually get 254.
 * Nothing here relies on a device with this number existing. */
#define GPIO_MAJOR 254

enum request_kind { LINE_FREE = 0, LINE_EVENTS = 1, LINE_HANDLE = 2 };
enum fd_kind { FD_NONE = 0, FD_CHIP, FD_EVENT, FD_HANDLE };

struct line {
    char name[GPIO_MAX_NAME_SIZE];
    int level;            /* physical input level on the wire, 0 or 1 */
    int kind;             /* enum request_kind */
    uint32_t handleflags; /* as requested (GPIOHANDLE_REQUEST_*) */
    uint32_t eventflags;  /* as requested (GPIOEVENT_REQUEST_*) */
    char consumer[GPIO_MAX_NAME_SIZE];
    int event_writer; /* the pipe's write end while LINE_EVENTS, else -1 */
    int output;       /* physical level driven while requested as an output */
    unsigned dropped; /* events lost to a full queue */
};

struct chip {
    int defined;
    int vanished;
    unsigned generation; /* bumped when the chip vanishes: older descriptors are dead */
    char label[GPIO_MAX_NAME_SIZE];
    unsigned num_lines;
    struct line lines[MAX_LINES];
    unsigned opens; /* successful opens of /dev/gpiochipN */
    /* Event pipes' writers kept open by a quiet vanish, closed on restore. */
    int quiet_writers[MAX_LINES];
};

struct handle {
    int in_use;
    unsigned count;
    unsigned offsets[GPIOHANDLES_MAX];
};

struct fd_record {
    int chip;           /* index into chips, which is also N in gpiochipN */
    unsigned generation;
    unsigned offset;    /* FD_EVENT: the line */
    int handle;         /* FD_HANDLE: index into handles */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct chip chips[MAX_CHIPS];
static struct handle handles[MAX_HANDLES];
static struct fd_record records[MAX_FDS];
/* Read without the lock on every read(), ioctl() and close() in the process,
 * so that descriptors that are not the shim's cost one load. Written under the
 * lock. */
static _Atomic unsigned char kinds[MAX_FDS];

/* The control FIFO for hand runs, at the end of this file. */
static void start_control(void);
static pthread_once_t control_started = PTHREAD_ONCE_INIT;

/* ---- the real functions ------------------------------------------------- */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_lstat)(const char *, struct stat *);
static int (*real_stat)(const char *, struct stat *);
static int (*real_access)(const char *, int);
static int (*real_scandir)(const char *, struct dirent ***, int (*)(const struct dirent *),
                           int (*)(const struct dirent **, const struct dirent **));
static int (*real_ioctl)(int, unsigned long, ...);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_close)(int);

static void resolve(void) {
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    real_lstat = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "lstat");
    real_stat = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "stat");
    real_access = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
    real_scandir = (int (*)(const char *, struct dirent ***, int (*)(const struct dirent *),
                            int (*)(const struct dirent **, const struct dirent **)))dlsym(RTLD_NEXT, "scandir");
    real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

static pthread_once_t resolved = PTHREAD_ONCE_INIT;
#define REAL(name) (pthread_once(&resolved, resolve), real_##name)

/* ---- paths ---------------------------------------------------------------- */

static const char dev_prefix[] = "/dev/gpiochip";
static const char sysfs_prefix[] = "/sys/bus/gpio/devices/gpiochip";

/* Parses the decimal N at `text` up to `end` (a suffix that must follow, or
 * ""), refusing leading zeros and anything after, as the kernel names chips. */
static int parse_number(const char *text, const char *end, unsigned *number) {
    if (*text < '0' || *text > '9' || (text[0] == '0' && text[1] >= '0' && text[1] <= '9')) return 0;
    unsigned value = 0;
    while (*text >= '0' && *text <= '9') {
        value = value * 10 + (unsigned)(*text - '0');
        if (value >= MAX_CHIPS) return 0;
        text++;
    }
    if (strcmp(text, end) != 0) return 0;
    *number = value;
    return 1;
}

/* The chip N when `path` is /dev/gpiochipN of a chip that is there now. Caller holds the lock. */
static int present_chip_at(const char *path, const char *prefix, size_t prefix_length, const char *suffix) {
    unsigned number;
    if (!path || strncmp(path, prefix, prefix_length) != 0) return -1;
    if (!parse_number(path + prefix_length, suffix, &number)) return -1;
    if (!chips[number].defined || chips[number].vanished) return -1;
    return (int)number;
}

static int device_chip(const char *path) {
    return present_chip_at(path, dev_prefix, sizeof dev_prefix - 1, "");
}

static int sysfs_dev_chip(const char *path) {
    return present_chip_at(path, sysfs_prefix, sizeof sysfs_prefix - 1, "/dev");
}

/* Whether `path` names a chip the shim defined, present or not: those paths
 * belong to the shim even while the chip is gone (then ENOENT). */
static int shim_path(const char *path) {
    unsigned number;
    if (!path) return 0;
    if (strncmp(path, dev_prefix, sizeof dev_prefix - 1) == 0 &&
        parse_number(path + sizeof dev_prefix - 1, "", &number))
        return chips[number].defined;
    if (strncmp(path, sysfs_prefix, sizeof sysfs_prefix - 1) == 0 &&
        parse_number(path + sizeof sysfs_prefix - 1, "/dev", &number))
        return chips[number].defined;
    return 0;
}

/* ---- descriptors ---------------------------------------------------------- */

static void remember(int fd, int kind, struct fd_record record) {
    if (fd < 0 || fd >= MAX_FDS) return;
    records[fd] = record;
    atomic_store(&kinds[fd], (unsigned char)kind);
}

static void forget(int fd) {
    if (fd < 0 || fd >= MAX_FDS) return;
    atomic_store(&kinds[fd], FD_NONE);
    memset(&records[fd], 0, sizeof records[fd]);
}

static int fd_kind(int fd) {
    if (fd < 0 || fd >= MAX_FDS) return FD_NONE;
    return atomic_load(&kinds[fd]);
}

/* A descriptor from before its chip vanished: the kernel answers ENODEV. */
static int is_dead(int fd) {
    struct chip *chip = &chips[records[fd].chip];
    return chip->vanished || chip->generation != records[fd].generation;
}

static void release_line(struct line *line) {
    if (line->kind == LINE_EVENTS && line->event_writer >= 0) REAL(close)(line->event_writer);
    line->kind = LINE_FREE;
    line->event_writer = -1;
    line->handleflags = 0;
    line->eventflags = 0;
    line->consumer[0] = '\0';
}

/* ---- open, stat, access, scandir --------------------------------------- */

static int open_device(int number, int flags) {
    int fd = eventfd(0, (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
    if (fd < 0) return -1;
    if (fd >= MAX_FDS) {
        REAL(close)(fd);
        errno = EMFILE;
        return -1;
    }
    chips[number].opens++;
    pthread_once(&control_started, start_control);
    remember(fd, FD_CHIP, (struct fd_record){.chip = number, .generation = chips[number].generation});
    return fd;
}

/* The sysfs attribute as a file that reads what sysfs would. */
static int open_sysfs_dev(int number, int flags) {
    if ((flags & O_ACCMODE) != O_RDONLY) {
        errno = EACCES;
        return -1;
    }
    int fd = memfd_create("gpio-chip-shim-sysfs-dev", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (fd < 0) return -1;
    char text[32];
    int length = snprintf(text, sizeof text, "%u:%d\n", GPIO_MAJOR, number);
    if (write(fd, text, (size_t)length) != length || lseek(fd, 0, SEEK_SET) != 0) {
        int saved = errno;
        REAL(close)(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Returns -2 when `path` is not the shim's. */
static int shim_open(const char *path, int flags) {
    pthread_mutex_lock(&lock);
    int result = -2;
    if (shim_path(path)) {
        int number;
        if ((number = device_chip(path)) >= 0)
            result = open_device(number, flags);
        else if ((number = sysfs_dev_chip(path)) >= 0)
            result = open_sysfs_dev(number, flags);
        else {
            errno = ENOENT;
            result = -1;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

static mode_t mode_argument(int flags, va_list arguments) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(arguments, int) : 0;
}

int open(const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = mode_argument(flags, arguments);
    va_end(arguments);
    int result = shim_open(path, flags);
    return result != -2 ? result : REAL(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = mode_argument(flags, arguments);
    va_end(arguments);
    int result = shim_open(path, flags);
    return result != -2 ? result : REAL(open64)(path, flags, mode);
}

int openat(int directory, const char *path, int flags, ...) {
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = mode_argument(flags, arguments);
    va_end(arguments);
    int result = path[0] == '/' ? shim_open(path, flags) : -2;
    return result != -2 ? result : REAL(openat)(directory, path, flags, mode);
}

/* Returns 1 with *st filled, 0 with errno set (ENOENT), -1 when not the shim's. */
static int shim_stat(const char *path, struct stat *st) {
    pthread_mutex_lock(&lock);
    int result = -1;
    if (shim_path(path)) {
        int number;
        memset(st, 0, sizeof *st);
        st->st_nlink = 1;
        st->st_blksize = 4096;
        if ((number = device_chip(path)) >= 0) {
            /* What devtmpfs shows for a chip whose udev rule gave it to group gpio. */
            st->st_mode = S_IFCHR | 0660;
            st->st_rdev = makedev(GPIO_MAJOR, (unsigned)number);
            st->st_ino = 0x6770696fu + (unsigned)number;
            result = 1;
        } else if ((number = sysfs_dev_chip(path)) >= 0) {
            st->st_mode = S_IFREG | 0444;
            st->st_size = 4096;
            st->st_ino = 0x73797366u + (unsigned)number;
            result = 1;
        } else {
            errno = ENOENT;
            result = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int lstat(const char *path, struct stat *st) {
    int shim = shim_stat(path, st);
    if (shim >= 0) return shim ? 0 : -1;
    return REAL(lstat)(path, st);
}

int stat(const char *path, struct stat *st) {
    int shim = shim_stat(path, st);
    if (shim >= 0) return shim ? 0 : -1;
    return REAL(stat)(path, st);
}

int lstat64(const char *path, struct stat64 *st) {
    return lstat(path, (struct stat *)st); /* the same layout on 64-bit Linux */
}

int stat64(const char *path, struct stat64 *st) {
    return stat(path, (struct stat *)st);
}

int access(const char *path, int mode) {
    pthread_mutex_lock(&lock);
    int shim = shim_path(path);
    int present = shim && (device_chip(path) >= 0 || sysfs_dev_chip(path) >= 0);
    int writable = device_chip(path) >= 0;
    pthread_mutex_unlock(&lock);
    if (!shim) return REAL(access)(path, mode);
    if (!present) {
        errno = ENOENT;
        return -1;
    }
    if (((mode & W_OK) && !writable) || (mode & X_OK)) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

/* libgpiod finds chips with scandir("/dev", ..., "gpiochip*", alphasort). */
int scandir(const char *directory, struct dirent ***list, int (*filter)(const struct dirent *),
            int (*compare)(const struct dirent **, const struct dirent **)) {
    int count = REAL(scandir)(directory, list, filter, compare);
    if (count < 0 || (strcmp(directory, "/dev") != 0 && strcmp(directory, "/dev/") != 0))
        return count;
    pthread_mutex_lock(&lock);
    for (int number = 0; number < MAX_CHIPS; number++) {
        if (!chips[number].defined || chips[number].vanished) continue;
        struct dirent *entry = calloc(1, sizeof *entry);
        if (!entry) break;
        entry->d_ino = 0x6770696fu + (unsigned)number;
        entry->d_type = DT_CHR;
        entry->d_reclen = sizeof *entry;
        snprintf(entry->d_name, sizeof entry->d_name, "gpiochip%d", number);
        struct dirent **grown = filter && !filter(entry) ? NULL : realloc(*list, sizeof **list * (size_t)(count + 1));
        if (!grown) {
            free(entry);
            continue;
        }
        *list = grown;
        (*list)[count++] = entry;
    }
    pthread_mutex_unlock(&lock);
    if (compare)
        qsort(*list, (size_t)count, sizeof **list, (int (*)(const void *, const void *))compare);
    return count;
}

/* ---- ioctl ---------------------------------------------------------------- */

static int fail(int code) {
    errno = code;
    return -1;
}

#define VALID_HANDLE_FLAGS                                                                              \
    (GPIOHANDLE_REQUEST_INPUT | GPIOHANDLE_REQUEST_OUTPUT | GPIOHANDLE_REQUEST_ACTIVE_LOW |            \
     GPIOHANDLE_REQUEST_OPEN_DRAIN | GPIOHANDLE_REQUEST_OPEN_SOURCE | GPIOHANDLE_REQUEST_BIAS_PULL_UP | \
     GPIOHANDLE_REQUEST_BIAS_PULL_DOWN | GPIOHANDLE_REQUEST_BIAS_DISABLE)
#define BIAS_FLAGS \
    (GPIOHANDLE_REQUEST_BIAS_PULL_UP | GPIOHANDLE_REQUEST_BIAS_PULL_DOWN | GPIOHANDLE_REQUEST_BIAS_DISABLE)

/* gpiolib-cdev's linehandle_validate_flags. */
static int handle_flags_valid(uint32_t flags) {
    if (flags & ~VALID_HANDLE_FLAGS) return 0;
    if ((flags & GPIOHANDLE_REQUEST_INPUT) && (flags & GPIOHANDLE_REQUEST_OUTPUT)) return 0;
    if ((flags & GPIOHANDLE_REQUEST_OPEN_DRAIN) && (flags & GPIOHANDLE_REQUEST_OPEN_SOURCE)) return 0;
    if (!(flags & GPIOHANDLE_REQUEST_OUTPUT) &&
        (flags & (GPIOHANDLE_REQUEST_OPEN_DRAIN | GPIOHANDLE_REQUEST_OPEN_SOURCE)))
        return 0;
    if (!(flags & (GPIOHANDLE_REQUEST_INPUT | GPIOHANDLE_REQUEST_OUTPUT)) && (flags & BIAS_FLAGS)) return 0;
    uint32_t bias = flags & BIAS_FLAGS;
    if (bias & (bias - 1)) return 0;
    return 1;
}

static uint32_t line_info_flags(const struct line *line) {
    if (line->kind == LINE_FREE) return 0;
    uint32_t flags = GPIOLINE_FLAG_KERNEL;
    if (line->handleflags & GPIOHANDLE_REQUEST_OUTPUT) flags |= GPIOLINE_FLAG_IS_OUT;
    if (line->handleflags & GPIOHANDLE_REQUEST_ACTIVE_LOW) flags |= GPIOLINE_FLAG_ACTIVE_LOW;
    if (line->handleflags & GPIOHANDLE_REQUEST_OPEN_DRAIN) flags |= GPIOLINE_FLAG_OPEN_DRAIN;
    if (line->handleflags & GPIOHANDLE_REQUEST_OPEN_SOURCE) flags |= GPIOLINE_FLAG_OPEN_SOURCE;
    if (line->handleflags & GPIOHANDLE_REQUEST_BIAS_PULL_UP) flags |= GPIOLINE_FLAG_BIAS_PULL_UP;
    if (line->handleflags & GPIOHANDLE_REQUEST_BIAS_PULL_DOWN) flags |= GPIOLINE_FLAG_BIAS_PULL_DOWN;
    if (line->handleflags & GPIOHANDLE_REQUEST_BIAS_DISABLE) flags |= GPIOLINE_FLAG_BIAS_DISABLE;
    return flags;
}

static int active_low(const struct line *line) {
    return (line->handleflags & GPIOHANDLE_REQUEST_ACTIVE_LOW) != 0;
}

/* The value a reader of the line sees: the kernel applies active-low. */
static int logical_value(const struct line *line) {
    int physical = (line->handleflags & GPIOHANDLE_REQUEST_OUTPUT) ? line->output : line->level;
    return physical ^ active_low(line);
}

static int chip_ioctl(int fd, unsigned long request, void *argument) {
    struct chip *chip = &chips[records[fd].chip];
    int number = records[fd].chip;
    if (is_dead(fd)) return fail(ENODEV);
    switch (request) {
    case GPIO_GET_CHIPINFO_IOCTL: {
        struct gpiochip_info *info = argument;
        memset(info, 0, sizeof *info);
        snprintf(info->name, sizeof info->name, "gpiochip%d", number);
        memcpy(info->label, chip->label, sizeof info->label);
        info->lines = chip->num_lines;
        return 0;
    }
    case GPIO_GET_LINEINFO_IOCTL: {
        struct gpioline_info *info = argument;
        if (info->line_offset >= chip->num_lines) return fail(EINVAL);
        struct line *line = &chip->lines[info->line_offset];
        memcpy(info->name, line->name, sizeof info->name);
        memcpy(info->consumer, line->consumer, sizeof info->consumer);
        info->flags = line_info_flags(line);
        return 0;
    }
    case GPIO_GET_LINEHANDLE_IOCTL: {
        struct gpiohandle_request *request = argument;
        if (request->lines == 0 || request->lines > GPIOHANDLES_MAX) return fail(EINVAL);
        if (!handle_flags_valid(request->flags)) return fail(EINVAL);
        for (unsigned i = 0; i < request->lines; i++) {
            if (request->lineoffsets[i] >= chip->num_lines) return fail(EINVAL);
            if (chip->lines[request->lineoffsets[i]].kind != LINE_FREE) return fail(EBUSY);
            for (unsigned j = 0; j < i; j++)
                if (request->lineoffsets[j] == request->lineoffsets[i]) return fail(EBUSY);
        }
        int slot = -1;
        for (int i = 0; i < MAX_HANDLES && slot < 0; i++)
            if (!handles[i].in_use) slot = i;
        if (slot < 0) return fail(ENOMEM);
        int handle_fd = eventfd(0, EFD_CLOEXEC);
        if (handle_fd < 0) return -1;
        if (handle_fd >= MAX_FDS) {
            REAL(close)(handle_fd);
            return fail(EMFILE);
        }
        handles[slot].in_use = 1;
        handles[slot].count = request->lines;
        for (unsigned i = 0; i < request->lines; i++) {
            struct line *line = &chip->lines[request->lineoffsets[i]];
            handles[slot].offsets[i] = request->lineoffsets[i];
            line->kind = LINE_HANDLE;
            line->handleflags = request->flags;
            line->eventflags = 0;
            memcpy(line->consumer, request->consumer_label, sizeof line->consumer);
            line->consumer[sizeof line->consumer - 1] = '\0';
            if (request->flags & GPIOHANDLE_REQUEST_OUTPUT)
                line->output = (request->default_values[i] != 0) ^ active_low(line);
        }
        remember(handle_fd, FD_HANDLE,
                 (struct fd_record){.chip = number, .generation = chip->generation, .handle = slot});
        request->fd = handle_fd;
        return 0;
    }
    case GPIO_GET_LINEEVENT_IOCTL: {
        struct gpioevent_request *request = argument;
        if (request->lineoffset >= chip->num_lines) return fail(EINVAL);
        if ((request->handleflags & ~VALID_HANDLE_FLAGS) || (request->eventflags & ~GPIOEVENT_REQUEST_BOTH_EDGES))
            return fail(EINVAL);
        /* "This is just wrong: we don't look for events on output lines" (gpiolib-cdev). */
        if (request->handleflags &
            (GPIOHANDLE_REQUEST_OUTPUT | GPIOHANDLE_REQUEST_OPEN_DRAIN | GPIOHANDLE_REQUEST_OPEN_SOURCE))
            return fail(EINVAL);
        uint32_t bias = request->handleflags & BIAS_FLAGS;
        if (bias & (bias - 1)) return fail(EINVAL);
        struct line *line = &chip->lines[request->lineoffset];
        if (line->kind != LINE_FREE) return fail(EBUSY);
        int ends[2];
        if (pipe2(ends, O_CLOEXEC) != 0) return -1;
        if (ends[0] >= MAX_FDS) {
            REAL(close)(ends[0]);
            REAL(close)(ends[1]);
            return fail(EMFILE);
        }
        line->kind = LINE_EVENTS;
        line->handleflags = request->handleflags | GPIOHANDLE_REQUEST_INPUT;
        line->eventflags = request->eventflags;
        line->event_writer = ends[1];
        line->dropped = 0;
        memcpy(line->consumer, request->consumer_label, sizeof line->consumer);
        line->consumer[sizeof line->consumer - 1] = '\0';
        remember(ends[0], FD_EVENT,
                 (struct fd_record){.chip = number, .generation = chip->generation,
                                    .offset = request->lineoffset});
        request->fd = ends[0];
        return 0;
    }
    default:
        /* Not emulated (v2 ABI, line info watches): as a kernel without them. */
        return fail(ENOTTY);
    }
}

static int values_ioctl(int fd, int kind, unsigned long request, void *argument) {
    if (is_dead(fd)) return fail(ENODEV);
    struct chip *chip = &chips[records[fd].chip];
    struct gpiohandle_data *data = argument;
    unsigned single = records[fd].offset;
    const struct handle *handle = kind == FD_HANDLE ? &handles[records[fd].handle] : NULL;
    unsigned count = handle ? handle->count : 1;
    switch (request) {
    case GPIOHANDLE_GET_LINE_VALUES_IOCTL:
        memset(data, 0, sizeof *data);
        for (unsigned i = 0; i < count; i++)
            data->values[i] = (uint8_t)logical_value(&chip->lines[handle ? handle->offsets[i] : single]);
        return 0;
    case GPIOHANDLE_SET_LINE_VALUES_IOCTL:
        if (!handle || !(chip->lines[handle->offsets[0]].handleflags & GPIOHANDLE_REQUEST_OUTPUT))
            return fail(EPERM);
        for (unsigned i = 0; i < count; i++) {
            struct line *line = &chip->lines[handle->offsets[i]];
            line->output = (data->values[i] != 0) ^ active_low(line);
        }
        return 0;
    default:
        return fail(kind == FD_EVENT ? ENOTTY : EINVAL);
    }
}

int ioctl(int fd, unsigned long request, ...) {
    va_list arguments;
    va_start(arguments, request);
    void *argument = va_arg(arguments, void *);
    va_end(arguments);
    int kind = fd_kind(fd);
    if (kind == FD_NONE) return REAL(ioctl)(fd, request, argument);
    pthread_mutex_lock(&lock);
    int result;
    kind = fd_kind(fd); /* closed meanwhile? */
    if (kind == FD_CHIP)
        result = chip_ioctl(fd, request, argument);
    else if (kind == FD_EVENT || kind == FD_HANDLE)
        result = values_ioctl(fd, kind, request, argument);
    else
        result = -2;
    pthread_mutex_unlock(&lock);
    return result != -2 ? result : REAL(ioctl)(fd, request, argument);
}

/* ---- read and close ------------------------------------------------------- */

ssize_t read(int fd, void *buffer, size_t count) {
    if (fd_kind(fd) != FD_EVENT) return REAL(read)(fd, buffer, count);
    pthread_mutex_lock(&lock);
    int dead = fd_kind(fd) == FD_EVENT && is_dead(fd);
    pthread_mutex_unlock(&lock);
    if (dead) return fail(ENODEV);
    /* lineevent_read: whole events only, and at least one must fit. */
    if (count < sizeof(struct gpioevent_data)) return fail(EINVAL);
    count -= count % sizeof(struct gpioevent_data);
    return REAL(read)(fd, buffer, count);
}

int close(int fd) {
    int kind = fd_kind(fd);
    if (kind == FD_NONE) return REAL(close)(fd);
    pthread_mutex_lock(&lock);
    kind = fd_kind(fd);
    if (kind != FD_NONE && !is_dead(fd)) {
        struct chip *chip = &chips[records[fd].chip];
        if (kind == FD_EVENT) release_line(&chip->lines[records[fd].offset]);
        if (kind == FD_HANDLE) {
            struct handle *handle = &handles[records[fd].handle];
            for (unsigned i = 0; i < handle->count; i++) release_line(&chip->lines[handle->offsets[i]]);
        }
    }
    if (kind == FD_HANDLE) handles[records[fd].handle].in_use = 0;
    forget(fd);
    int result = REAL(close)(fd);
    pthread_mutex_unlock(&lock);
    return result;
}

/* ---- the test's side ------------------------------------------------------ */

/* Present when the shim is loaded; tests ask dlsym for it. */
int gpio_chip_shim_version(void) { return 1; }

static int defined_chip(unsigned number) {
    return number < MAX_CHIPS && chips[number].defined;
}

static int existing_line(unsigned number, unsigned offset) {
    return defined_chip(number) && offset < chips[number].num_lines;
}

/* Adds a chip with `num_lines` lines labelled `label`; `names` is a
 * comma-separated list of line names by offset ("" or NULL: unnamed; an empty
 * item leaves that line unnamed). Inputs read high, as a button on a pulled-up
 * line that nobody presses. Returns N of /dev/gpiochipN, the lowest number not
 * taken by a real chip or another shim chip, or -1 with errno set. */
int gpio_chip_shim_add_chip(const char *label, unsigned num_lines, const char *names) {
    if (!label || num_lines == 0 || num_lines > MAX_LINES) return fail(EINVAL);
    pthread_mutex_lock(&lock);
    int number = -1;
    for (int candidate = 0; candidate < MAX_CHIPS && number < 0; candidate++) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/dev/gpiochip%d", candidate);
        if (!chips[candidate].defined && REAL(lstat)(path, &st) != 0) number = candidate;
    }
    if (number < 0) {
        pthread_mutex_unlock(&lock);
        return fail(ENOSPC);
    }
    struct chip *chip = &chips[number];
    memset(chip, 0, sizeof *chip);
    snprintf(chip->label, sizeof chip->label, "%s", label);
    chip->num_lines = num_lines;
    for (unsigned i = 0; i < MAX_LINES; i++) {
        chip->lines[i].level = 1;
        chip->lines[i].event_writer = -1;
        chip->quiet_writers[i] = -1;
    }
    const char *cursor = names ? names : "";
    for (unsigned i = 0; i < num_lines && *cursor; i++) {
        size_t length = strcspn(cursor, ",");
        size_t kept = length < GPIO_MAX_NAME_SIZE - 1 ? length : GPIO_MAX_NAME_SIZE - 1;
        memcpy(chip->lines[i].name, cursor, kept);
        cursor += length + (cursor[length] == ',');
    }
    chip->defined = 1;
    pthread_mutex_unlock(&lock);
    return number;
}

static uint64_t monotonic_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Appends to `out` the event the kernel would queue when the line goes to
 * physical `level` at `timestamp`; returns 1 if it did. Caller holds the lock. */
static int edge(struct line *line, int level, uint64_t timestamp, struct gpioevent_data *out) {
    if (level == line->level) return 0;
    int before = line->level ^ active_low(line);
    line->level = level;
    if (line->kind != LINE_EVENTS) return 0;
    int after = level ^ active_low(line);
    uint32_t wanted = after > before ? GPIOEVENT_REQUEST_RISING_EDGE : GPIOEVENT_REQUEST_FALLING_EDGE;
    if (!(line->eventflags & wanted)) return 0;
    memset(out, 0, sizeof *out);
    out->timestamp = timestamp;
    out->id = after ? GPIOEVENT_EVENT_RISING_EDGE : GPIOEVENT_EVENT_FALLING_EDGE;
    return 1;
}

/* Queues `count` events in one write, so a reader sees all or none of them;
 * drops what does not fit the kernel's 16-event queue. Caller holds the lock. */
static int queue(struct line *line, const struct gpioevent_data *events, unsigned count) {
    if (count == 0 || line->kind != LINE_EVENTS || line->event_writer < 0) return 0;
    int queued_bytes = 0;
    /* The pipe's reader is the request's descriptor; FIONREAD on the writer
     * of a pipe reports the same buffer. */
    if (REAL(ioctl)(line->event_writer, FIONREAD, &queued_bytes) != 0) queued_bytes = 0;
    unsigned room = KERNEL_QUEUE_EVENTS - (unsigned)queued_bytes / sizeof(struct gpioevent_data);
    if ((unsigned)queued_bytes / sizeof(struct gpioevent_data) >= KERNEL_QUEUE_EVENTS) room = 0;
    unsigned kept = count < room ? count : room;
    line->dropped += count - kept;
    if (kept == 0) return 0;
    ssize_t size = (ssize_t)(kept * sizeof *events);
    return write(line->event_writer, events, (size_t)size) == size ? (int)kept : -1;
}

/* Sets the physical input levels of a line, one per timestamp (nanoseconds on
 * CLOCK_MONOTONIC, as the kernel stamps v1 events), and queues the edges a
 * requested line reports, in one write. Returns how many events were queued,
 * or -1 with errno set. */
int gpio_chip_shim_set_levels(unsigned number, unsigned offset, const int *levels,
                              const uint64_t *timestamps, unsigned count) {
    if (count > KERNEL_QUEUE_EVENTS * 4) return fail(EINVAL);
    pthread_mutex_lock(&lock);
    int result;
    if (!existing_line(number, offset)) {
        result = fail(EINVAL);
    } else {
        struct line *line = &chips[number].lines[offset];
        struct gpioevent_data events[KERNEL_QUEUE_EVENTS * 4];
        unsigned made = 0;
        for (unsigned i = 0; i < count; i++)
            made += (unsigned)edge(line, levels[i] != 0, timestamps[i], &events[made]);
        result = chips[number].vanished ? 0 : queue(line, events, made);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* Queues one event exactly as given, without touching the level: the kernel's
 * v1 interrupt thread reads the level after the edge, so a bouncing contact can
 * produce two rising edges in a row. Returns 1, 0 if the line is not requested
 * for events or the queue is full, or -1. */
int gpio_chip_shim_queue_event(unsigned number, unsigned offset, uint32_t id, uint64_t timestamp) {
    pthread_mutex_lock(&lock);
    int result;
    if (!existing_line(number, offset)) {
        result = fail(EINVAL);
    } else {
        struct gpioevent_data event = {.timestamp = timestamp, .id = id};
        result = chips[number].vanished ? 0 : queue(&chips[number].lines[offset], &event, 1);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* The physical level a line drives as an output, or -1 if it is not one. */
int gpio_chip_shim_output(unsigned number, unsigned offset) {
    pthread_mutex_lock(&lock);
    int result = -1;
    if (existing_line(number, offset) && !chips[number].vanished) {
        const struct line *line = &chips[number].lines[offset];
        if (line->kind == LINE_HANDLE && (line->handleflags & GPIOHANDLE_REQUEST_OUTPUT)) result = line->output;
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* What the kernel was asked for a line: returns enum request_kind (0 free, 1
 * events, 2 handle) or -1, and fills the flags and the consumer (32 bytes). */
int gpio_chip_shim_request(unsigned number, unsigned offset, uint32_t *handleflags, uint32_t *eventflags,
                           char *consumer) {
    pthread_mutex_lock(&lock);
    int result = -1;
    if (existing_line(number, offset)) {
        const struct line *line = &chips[number].lines[offset];
        result = line->kind;
        if (handleflags) *handleflags = line->handleflags;
        if (eventflags) *eventflags = line->eventflags;
        if (consumer) memcpy(consumer, line->consumer, GPIO_MAX_NAME_SIZE);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* Events lost because the line's queue was full. */
unsigned gpio_chip_shim_dropped(unsigned number, unsigned offset) {
    pthread_mutex_lock(&lock);
    unsigned result = existing_line(number, offset) ? chips[number].lines[offset].dropped : 0;
    pthread_mutex_unlock(&lock);
    return result;
}

/* How many times /dev/gpiochipN was opened successfully. */
unsigned gpio_chip_shim_opens(unsigned number) {
    pthread_mutex_lock(&lock);
    unsigned result = defined_chip(number) ? chips[number].opens : 0;
    pthread_mutex_unlock(&lock);
    return result;
}

/* Marks a line as requested by another program (consumer `consumer`), as
 * gpiomon or a second laned would: requests fail with EBUSY until
 * gpio_chip_shim_unhold. Works while the chip is gone, so that a test can
 * have the line taken the moment the chip comes back. Returns 0, or -1 with
 * errno EBUSY if the line is already requested. */
int gpio_chip_shim_hold(unsigned number, unsigned offset, const char *consumer) {
    pthread_mutex_lock(&lock);
    int result;
    if (!existing_line(number, offset)) {
        result = fail(EINVAL);
    } else if (chips[number].lines[offset].kind != LINE_FREE) {
        result = fail(EBUSY);
    } else {
        struct line *line = &chips[number].lines[offset];
        line->kind = LINE_HANDLE;
        line->handleflags = GPIOHANDLE_REQUEST_INPUT;
        snprintf(line->consumer, sizeof line->consumer, "%s", consumer ? consumer : "");
        result = 0;
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* Lets go of a line taken with gpio_chip_shim_hold. */
int gpio_chip_shim_unhold(unsigned number, unsigned offset) {
    pthread_mutex_lock(&lock);
    int result = existing_line(number, offset) ? 0 : fail(EINVAL);
    if (result == 0) release_line(&chips[number].lines[offset]);
    pthread_mutex_unlock(&lock);
    return result;
}

/* Unplugs the chip. Returns 0, or -1 if there is no such chip. */
int gpio_chip_shim_vanish(unsigned number) {
    pthread_mutex_lock(&lock);
    int result = defined_chip(number) ? 0 : fail(EINVAL);
    if (result == 0 && !chips[number].vanished) {
        struct chip *chip = &chips[number];
        chip->vanished = 1;
        chip->generation++;
        /* Closing the writers makes every reader's poll say POLLHUP. */
        /* Handle slots stay taken until their dead descriptors are closed. */
        for (unsigned i = 0; i < chip->num_lines; i++) release_line(&chip->lines[i]);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* Unplugs the chip as kernels without the gpiolib-cdev hot-unplug fixes do:
 * the path goes and ioctls fail with ENODEV, but the line event descriptors
 * stay silent (no POLLHUP, reads just wait). */
int gpio_chip_shim_vanish_quietly(unsigned number) {
    pthread_mutex_lock(&lock);
    int result = defined_chip(number) ? 0 : fail(EINVAL);
    if (result == 0 && !chips[number].vanished) {
        struct chip *chip = &chips[number];
        chip->vanished = 1;
        chip->generation++;
        for (unsigned i = 0; i < chip->num_lines; i++) {
            struct line *line = &chip->lines[i];
            chip->quiet_writers[i] = line->kind == LINE_EVENTS ? line->event_writer : -1;
            line->event_writer = -1;
            release_line(line);
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* Plugs it back in: a fresh chip at the same path, every line free. */
int gpio_chip_shim_restore(unsigned number) {
    pthread_mutex_lock(&lock);
    int result = defined_chip(number) ? 0 : fail(EINVAL);
    if (result == 0) {
        chips[number].vanished = 0;
        for (unsigned i = 0; i < chips[number].num_lines; i++) {
            if (chips[number].quiet_writers[i] >= 0) REAL(close)(chips[number].quiet_writers[i]);
            chips[number].quiet_writers[i] = -1;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

/* ---- hand runs: LANEKIOSK_GPIO_CHIPS and LANEKIOSK_GPIO_CONTROL ------------ */

/* "label:lines[:name,name,...]" items separated by ';'. */
static void add_chips_from(const char *specification) {
    char *copy = strdup(specification);
    if (!copy) return;
    char *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *label = item;
        char *count = strchr(item, ':');
        if (!count) continue;
        *count++ = '\0';
        char *names = strchr(count, ':');
        if (names) *names++ = '\0';
        int number = gpio_chip_shim_add_chip(label, (unsigned)strtoul(count, NULL, 10), names);
        if (number < 0) fprintf(stderr, "gpio-chip-shim: cannot add chip %s: %s\n", label, strerror(errno));
    }
    free(copy);
}

/* One command per line:
 *   level N OFFSET 0|1 [TIMESTAMP_NS]   set a line's physical level (now if no timestamp)
 *   vanish N                             unplug /dev/gpiochipN
 *   restore N                            plug it back in */
static void run_command(char *line) {
    unsigned number = 0, offset = 0;
    int level = 0;
    unsigned long long timestamp = 0;
    int fields;
    if ((fields = sscanf(line, "level %u %u %d %llu", &number, &offset, &level, &timestamp)) >= 3) {
        uint64_t when = fields == 4 ? (uint64_t)timestamp : monotonic_now();
        if (gpio_chip_shim_set_levels(number, offset, &level, &when, 1) < 0)
            fprintf(stderr, "gpio-chip-shim: %s: %s\n", line, strerror(errno));
    } else if (sscanf(line, "vanish %u", &number) == 1) {
        gpio_chip_shim_vanish(number);
    } else if (sscanf(line, "restore %u", &number) == 1) {
        gpio_chip_shim_restore(number);
    } else if (line[0] != '\0' && line[0] != '#') {
        fprintf(stderr, "gpio-chip-shim: unknown command: %s\n", line);
    }
}

static void *control_loop(void *argument) {
    const char *path = argument;
    /* O_RDWR: a FIFO opened so never blocks in open and never reads end-of-file
     * when a writer goes, so `echo ... > FIFO` works again and again. */
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "gpio-chip-shim: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    /* One reader per FIFO: a second process of the same run leaves it to the first. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return NULL;
    }
    FILE *fifo = fdopen(fd, "r");
    if (!fifo) return NULL;
    char line[256];
    while (fgets(line, sizeof line, fifo)) {
        line[strcspn(line, "\r\n")] = '\0';
        run_command(line);
    }
    return NULL;
}

/* Started by the first open of a shim chip, not at load: every process that
 * inherits LD_PRELOAD loads the shim (timeout, strace, a shell), and only one
 * that uses GPIO should take the commands. */
static void start_control(void) {
    const char *control = getenv("LANEKIOSK_GPIO_CONTROL");
    if (!control || !*control) return;
    pthread_t thread;
    char *path = strdup(control);
    if (path && pthread_create(&thread, NULL, control_loop, path) == 0)
        pthread_detach(thread);
    else
        fprintf(stderr, "gpio-chip-shim: cannot start the control thread\n");
}

__attribute__((constructor)) static void start(void) {
    const char *specification = getenv("LANEKIOSK_GPIO_CHIPS");
    if (specification && *specification) add_chips_from(specification);
}
