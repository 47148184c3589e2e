/* Descriptor-relative file operations for a confined project directory.
 *
 * Every path here is relative to a directory descriptor and is resolved without following any
 * symbolic link and without leaving that directory: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
 * where the kernel has it, else a walk of one O_NOFOLLOW openat per component. Functions return
 * -1 and set errno on failure, like the system calls they wrap. No pointer is kept past a call.
 */
#ifndef CPROJECTFS_H
#define CPROJECTFS_H
#include <stddef.h>
#include <stdint.h>

/* What a directory entry is. */
#define PFS_MISSING 0
#define PFS_REGULAR 1
#define PFS_DIRECTORY 2
#define PFS_SYMLINK 3
#define PFS_FIFO 4
#define PFS_DEVICE 5
#define PFS_SOCKET 6
#define PFS_OTHER 7

/* The facts of a file the callers need. */
typedef struct {
    int kind;
    int64_t size;
    uint64_t device;
    uint64_t inode;
    int64_t mtime_ns;
} pfs_info;

/* How paths are resolved: openat2 when the kernel has it (ENOSYS, or EPERM from a seccomp filter
 * on first use: walk instead), or always walk component by component (the fallback). */
#define PFS_RESOLVE_AUTO 0
#define PFS_RESOLVE_WALK 1

/* Opens `path` beneath `dirfd`. `path` is relative, made of components separated by '/', none
 * empty, "." or ".."; O_NOFOLLOW | O_CLOEXEC | O_NOCTTY are always added, and `mode` is used only
 * with O_CREAT. A symbolic link anywhere on the path fails with ELOOP (or EXDEV for an escape). */
int pfs_open_beneath(int dirfd, const char *path, int flags, unsigned int mode, int resolve);

/* Whether this kernel resolved a path with openat2 (1) or only by walking (0), so far. */
int pfs_openat2_available(void);

/* fstat: fills `info` (kind PFS_REGULAR, PFS_DIRECTORY, ...). */
int pfs_fstat(int fd, pfs_info *info);

/* fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW): fills `info`; a missing entry is not an error
 * (returns 0 with kind PFS_MISSING). `name` is one component. */
int pfs_lstatat(int dirfd, const char *name, pfs_info *info);

/* Clears O_NONBLOCK (set to open a FIFO without blocking) on `fd`. */
int pfs_clear_nonblock(int fd);

/* Lists the entries of directory `dirfd` (not "." or "..") into `buffer`: for each, one kind byte
 * (PFS_*) then the name and a NUL. Returns the bytes used; -1 with ERANGE when `capacity` is too
 * small (call again with more). `dirfd` itself is left open and unchanged. */
long pfs_list_directory(int dirfd, char *buffer, size_t capacity);

/* flock(fd, LOCK_EX | LOCK_NB); fails with EWOULDBLOCK when another open file holds it. */
int pfs_lock_exclusive(int fd);

#endif
