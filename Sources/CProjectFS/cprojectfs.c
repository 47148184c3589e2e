#define _GNU_SOURCE
#include "CProjectFS.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/openat2.h>
#endif

static atomic_int openat2_state = 0; /* 0 unknown, 1 works, -1 unavailable */

static int kind_of_mode(mode_t mode) {
    if (S_ISREG(mode)) return PFS_REGULAR;
    if (S_ISDIR(mode)) return PFS_DIRECTORY;
    if (S_ISLNK(mode)) return PFS_SYMLINK;
    if (S_ISFIFO(mode)) return PFS_FIFO;
    if (S_ISCHR(mode) || S_ISBLK(mode)) return PFS_DEVICE;
    if (S_ISSOCK(mode)) return PFS_SOCKET;
    return PFS_OTHER;
}

static void fill_info(const struct stat *st, pfs_info *info) {
    info->kind = kind_of_mode(st->st_mode);
    info->size = (int64_t)st->st_size;
    info->device = (uint64_t)st->st_dev;
    info->inode = (uint64_t)st->st_ino;
    info->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
}

/* 1 if `path` is a valid relative path (no empty, "." or ".." component, no leading '/'). */
static int valid_relative(const char *path) {
    if (path == NULL || path[0] == '\0' || path[0] == '/') return 0;
    const char *start = path;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t length = (size_t)(p - start);
            if (length == 0) return 0;
            if (length == 1 && start[0] == '.') return 0;
            if (length == 2 && start[0] == '.' && start[1] == '.') return 0;
            if (*p == '\0') return 1;
            start = p + 1;
        }
    }
}

static int walk_open(int dirfd, const char *path, int flags, unsigned int mode) {
    size_t length = strlen(path);
    char component[256];
    int current = dirfd;
    const char *start = path;
    for (;;) {
        const char *slash = memchr(start, '/', (size_t)(path + length - start));
        size_t size = slash ? (size_t)(slash - start) : (size_t)(path + length - start);
        if (size >= sizeof component) {
            if (current != dirfd) close(current);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(component, start, size);
        component[size] = '\0';
        int fd;
        if (slash == NULL) {
            fd = openat(current, component, flags, (mode_t)mode);
        } else {
            fd = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int saved = errno;
        if (current != dirfd) close(current);
        if (fd < 0) {
            errno = saved;
            return -1;
        }
        if (slash == NULL) return fd;
        current = fd;
        start = slash + 1;
    }
}

int pfs_open_beneath(int dirfd, const char *path, int flags, unsigned int mode, int resolve) {
    if (!valid_relative(path)) {
        errno = EINVAL;
        return -1;
    }
    flags |= O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
#if defined(__linux__) && defined(SYS_openat2)
    if (resolve == PFS_RESOLVE_AUTO && atomic_load(&openat2_state) >= 0) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)flags;
        how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (uint64_t)(mode & 07777) : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0) {
            atomic_store(&openat2_state, 1);
            return (int)fd;
        }
        if (errno != ENOSYS && !(errno == EPERM && atomic_load(&openat2_state) == 0)) return -1;
        atomic_store(&openat2_state, -1);
    }
#endif
    return walk_open(dirfd, path, flags, mode);
}

int pfs_openat2_available(void) { return atomic_load(&openat2_state) == 1; }

int pfs_fstat(int fd, pfs_info *info) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    fill_info(&st, info);
    return 0;
}

int pfs_lstatat(int dirfd, const char *name, pfs_info *info) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) {
            memset(info, 0, sizeof *info);
            info->kind = PFS_MISSING;
            return 0;
        }
        return -1;
    }
    fill_info(&st, info);
    return 0;
}

int pfs_clear_nonblock(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

static int kind_of_dirent(int dirfd, const struct dirent *entry) {
    switch (entry->d_type) {
    case DT_REG: return PFS_REGULAR;
    case DT_DIR: return PFS_DIRECTORY;
    case DT_LNK: return PFS_SYMLINK;
    case DT_FIFO: return PFS_FIFO;
    case DT_CHR: case DT_BLK: return PFS_DEVICE;
    case DT_SOCK: return PFS_SOCKET;
    default: {
        pfs_info info;
        if (pfs_lstatat(dirfd, entry->d_name, &info) != 0) return PFS_OTHER;
        return info.kind;
    }
    }
}

long pfs_list_directory(int dirfd, char *buffer, size_t capacity) {
    int copy = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (copy < 0) return -1;
    DIR *dir = fdopendir(copy);
    if (dir == NULL) {
        int saved = errno;
        close(copy);
        errno = saved;
        return -1;
    }
    size_t used = 0;
    long result = 0;
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(dir);
        if (entry == NULL) {
            result = errno != 0 ? -1 : (long)used;
            break;
        }
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        size_t size = strlen(name);
        if (used + size + 2 > capacity) {
            errno = ERANGE;
            result = -1;
            break;
        }
        buffer[used] = (char)kind_of_dirent(dirfd, entry);
        memcpy(buffer + used + 1, name, size + 1);
        used += size + 2;
    }
    int saved = errno;
    closedir(dir);
    errno = saved;
    return result;
}

int pfs_lock_exclusive(int fd) { return flock(fd, LOCK_EX | LOCK_NB); }
