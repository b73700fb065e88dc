/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs-util.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "worker.h"

typedef struct RmFrame {
        DIR *dir;       /* owns the fd of this directory */
        char *name;     /* its name inside the parent frame's directory */
} RmFrame;

static int open_dir_nofollow(int dir_fd, const char *name) {
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* A directory on another file system, or the root of a mount of this one
 * (a bind mount keeps st_dev, so the kernel's mount-root flag tells). */
static int check_same_mount(int fd, dev_t dev) {
        struct statx stx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return -errno;
        if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != dev)
                return -EXDEV;
        if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return -EXDEV;
        return 0;
}

static int push_frame(GArray *stack, int dir_fd, const char *name, dev_t dev) {
        _cleanup_close_ int fd = -1;
        RmFrame f;
        int r;

        if (stack->len >= RM_RF_MAX_DEPTH)
                return -ELOOP;

        fd = open_dir_nofollow(dir_fd, name);
        if (fd < 0)
                return fd;
        r = check_same_mount(fd, dev);
        if (r < 0)
                return r;

        f.dir = fdopendir(fd);
        if (!f.dir)
                return -errno;
        l4m_take_fd(&fd);
        f.name = g_strdup(name);
        g_array_append_val(stack, f);
        return 0;
}

static void pop_frame(GArray *stack) {
        RmFrame *f = &g_array_index(stack, RmFrame, stack->len - 1);

        closedir(f->dir);
        g_free(f->name);
        g_array_set_size(stack, stack->len - 1);
}

static void rm_stack_free(GArray *stack) {
        while (stack->len > 0)
                pop_frame(stack);
        g_array_free(stack, TRUE);
}

/* Moves directory name below dir_fd up into top_fd (the tree's root) under
 * a fresh name, so that the walk meets it again with a short stack: how
 * trees of any depth go without an fd per level. */
static int lift_dir(int dir_fd, const char *name, int top_fd, dev_t dev, unsigned *counter) {
        struct statx stx;

        if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return -errno;
        if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != dev ||
            ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)))
                return -EXDEV;
        for (;;) {
                char lifted[64];

                snprintf(lifted, sizeof lifted, ".rm-lifted-%u", (*counter)++);
                if (renameat2(dir_fd, name, top_fd, lifted, RENAME_NOREPLACE) >= 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
        }
}

int rm_rf_at(int dir_fd, const char *name) {
        GArray *stack = g_array_new(FALSE, FALSE, sizeof(RmFrame));
        struct stat st;
        unsigned n_lifted = 0;
        bool lifted = false;
        int r = 0, result = 0;

        assert(dir_fd >= 0);
        assert(name && !strchr(name, '/'));

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                goto out;
        }
        if (!S_ISDIR(st.st_mode)) {
                r = unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
                goto out;
        }

        {
                struct stat parent;
                if (fstat(dir_fd, &parent) < 0) {
                        r = -errno;
                        goto out;
                }
                if (parent.st_dev != st.st_dev) {
                        r = -EXDEV;
                        goto out;
                }
                r = push_frame(stack, dir_fd, name, st.st_dev);
                if (r < 0)
                        goto out;
        }

        while (stack->len > 0) {
                RmFrame *top = &g_array_index(stack, RmFrame, stack->len - 1);
                int top_fd = dirfd(top->dir);
                struct dirent *de;

                errno = 0;
                de = readdir(top->dir);
                if (!de && stack->len == 1 && lifted) {
                        /* Directories lifted here meanwhile: read it again. */
                        lifted = false;
                        rewinddir(top->dir);
                        continue;
                }
                if (!de) {
                        g_autofree char *done = NULL;

                        if (errno != 0 && result == 0)
                                result = -errno;
                        done = g_strdup(top->name);
                        pop_frame(stack);
                        int parent_fd = stack->len > 0
                                ? dirfd(g_array_index(stack, RmFrame, stack->len - 1).dir)
                                : dir_fd;
                        if (unlinkat(parent_fd, done, AT_REMOVEDIR) < 0 && result == 0)
                                result = -errno;
                        continue;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;

                if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
                        struct stat cst;
                        if (fstatat(top_fd, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno != ENOENT && result == 0)
                                        result = -errno;
                                continue;
                        }
                        if (S_ISDIR(cst.st_mode)) {
                                if (stack->len >= RM_RF_MAX_DEPTH) {
                                        r = lift_dir(top_fd, de->d_name, dirfd(g_array_index(stack, RmFrame, 0).dir),
                                                     st.st_dev, &n_lifted);
                                        if (r >= 0)
                                                lifted = true;
                                } else
                                        r = push_frame(stack, top_fd, de->d_name, st.st_dev);
                                if (r < 0 && result == 0)
                                        result = r;
                                continue;
                        }
                }
                if (unlinkat(top_fd, de->d_name, 0) < 0 && errno != ENOENT && result == 0)
                        result = -errno;
        }
        r = result;
out:
        rm_stack_free(stack);
        return r;
}

/* Called by walk_tree_fd() for each entry that is not a directory (dir_fd,
 * its name) and for each directory once what is in it was visited (its own
 * fd, name ""). st: what fstatat() said of it, without following links.
 * A negative return is kept as the walk's result (the first one wins). */
typedef int (*TreeVisitFunc)(int dir_fd, const char *name, const struct stat *st, void *userdata);

/* Visits the tree of directory fd by descriptor one directory at a time,
 * never following a symlink, never entering another mount below fd, each
 * directory after what is in it, so that fd itself comes last. At most
 * RM_RF_MAX_DEPTH directories deep (-ELOOP beyond). The first error is
 * returned after the rest of the walk. */
static int walk_tree_fd(int fd, TreeVisitFunc visit, void *userdata) {
        GArray *stack = g_array_new(FALSE, FALSE, sizeof(RmFrame));
        struct stat st;
        int r, result = 0;

        assert(fd >= 0);
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto out;
        }
        r = push_frame(stack, fd, ".", st.st_dev);
        /* The top may be a mount of its own: only what is below it must
         * be on the same one. */
        if (r == -EXDEV) {
                _cleanup_close_ int top = open_dir_nofollow(fd, ".");
                RmFrame f;

                if (top < 0) {
                        r = top;
                        goto out;
                }
                f.dir = fdopendir(top);
                if (!f.dir) {
                        r = -errno;
                        goto out;
                }
                l4m_take_fd(&top);
                f.name = g_strdup(".");
                g_array_append_val(stack, f);
                r = 0;
        }
        if (r < 0)
                goto out;

        while (stack->len > 0) {
                RmFrame *top = &g_array_index(stack, RmFrame, stack->len - 1);
                int top_fd = dirfd(top->dir);
                struct dirent *de;
                struct stat cst;

                errno = 0;
                de = readdir(top->dir);
                if (!de) {
                        if (errno != 0 && result == 0)
                                result = -errno;
                        /* The directory last: until the whole tree is
                         * done, its top is as it was. */
                        if (fstat(top_fd, &cst) < 0) {
                                if (result == 0)
                                        result = -errno;
                        } else if (result == 0) {
                                r = visit(top_fd, "", &cst, userdata);
                                if (r < 0)
                                        result = r;
                        }
                        pop_frame(stack);
                        continue;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(top_fd, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && result == 0)
                                result = -errno;
                        continue;
                }
                if (S_ISDIR(cst.st_mode)) {
                        r = push_frame(stack, top_fd, de->d_name, st.st_dev);
                        /* Another mount below: not ours to change. */
                        if (r < 0 && r != -EXDEV && r != -ENOENT && result == 0)
                                result = r;
                        continue;
                }
                r = visit(top_fd, de->d_name, &cst, userdata);
                if (r < 0 && result == 0)
                        result = r;
        }
        r = result;
out:
        rm_stack_free(stack);
        return r;
}

typedef struct ChownTree {
        uid_t from_uid, uid;
        gid_t from_gid, gid;
} ChownTree;

/* Gives an entry of the walk (or the directory of a frame) to uid and gid
 * where it is from_uid's or from_gid's. */
static int chown_if_from(int dir_fd, const char *name, const struct stat *st, void *userdata) {
        const ChownTree *c = userdata;
        uid_t u = (c->from_uid == CHOWN_TREE_ANY || st->st_uid == c->from_uid) && st->st_uid != c->uid ? c->uid : (uid_t) -1;
        gid_t g = (c->from_gid == (gid_t) CHOWN_TREE_ANY || st->st_gid == c->from_gid) && st->st_gid != c->gid ? c->gid
                                                                                                             : (gid_t) -1;

        if (u == (uid_t) -1 && g == (gid_t) -1)
                return 0;
        if (fchownat(dir_fd, name, u, g, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 0;
}

int chown_tree_fd(int fd, uid_t from_uid, gid_t from_gid, uid_t uid, gid_t gid) {
        ChownTree c = { .from_uid = from_uid, .uid = uid, .from_gid = from_gid, .gid = gid };

        return walk_tree_fd(fd, chown_if_from, &c);
}

typedef struct ChmodTree {
        uid_t uid;
        gid_t gid;
        mode_t add;
        unsigned changed;
} ChmodTree;

static bool chmod_tree_wants(const ChmodTree *c, const struct stat *st) {
        if (st->st_uid != c->uid || st->st_gid != c->gid)
                return false;
        if ((st->st_mode & c->add) == c->add)
                return false;
        if (S_ISDIR(st->st_mode))
                return true;
        /* A set-id program is never made writable by more people. */
        return S_ISREG(st->st_mode) && !(st->st_mode & (S_ISUID | S_ISGID));
}

/* Adds c->add to the mode of an entry of the walk (or the directory of a
 * frame) that chmod_tree_wants(). A file is changed through an O_PATH
 * descriptor of what was checked, so that a link put in its place
 * meanwhile is never followed. */
static int chmod_if_wanted(int dir_fd, const char *name, const struct stat *st, void *userdata) {
        ChmodTree *c = userdata;
        _cleanup_close_ int fd = -1;
        struct stat fst;
        char path[sizeof "/proc/self/fd/" + 3 * sizeof(int)];

        if (!chmod_tree_wants(c, st))
                return 0;
        if (!*name) {
                if (fchmod(dir_fd, (st->st_mode & 07777) | c->add) < 0)
                        return -errno;
                c->changed++;
                return 0;
        }
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &fst) < 0)
                return -errno;
        /* Replaced since it was looked at: left as it is. */
        if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino || !S_ISREG(fst.st_mode) || !chmod_tree_wants(c, &fst))
                return 0;
        /* fchmod() refuses O_PATH descriptors; the magic link is the
         * inode itself, not a path to look up again. */
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (chmod(path, (fst.st_mode & 07777) | c->add) < 0)
                return -errno;
        c->changed++;
        return 0;
}

int chmod_tree_add_fd(int fd, uid_t uid, gid_t gid, mode_t add, unsigned *ret_changed) {
        ChmodTree c = { .uid = uid, .gid = gid, .add = add & 0777 };
        int r;

        assert((add & ~0777) == 0);
        r = walk_tree_fd(fd, chmod_if_wanted, &c);
        if (ret_changed)
                *ret_changed = c.changed;
        return r;
}

int open_or_create_dir_at(int dir_fd, const char *name, unsigned mode) {
        int fd;

        fd = open_dir_nofollow(dir_fd, name);
        if (fd != -ENOENT)
                return fd;
        if (mkdirat(dir_fd, name, mode) < 0) {
                if (errno != EEXIST)
                        return -errno;
                return open_dir_nofollow(dir_fd, name);
        }
        fd = open_dir_nofollow(dir_fd, name);
        /* We made it: its mode must not depend on the umask. */
        if (fd >= 0 && fchmod(fd, mode) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int parse_id(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || s[0] < '1' || s[0] > '9')
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        *ret = v;
        return 0;
}

typedef struct BackgroundRemoval {
        int dir_fd;
        char *name;
} BackgroundRemoval;

static void background_removal_free(void *userdata) {
        BackgroundRemoval *b = userdata;

        close(b->dir_fd);
        g_free(b->name);
        g_free(b);
}

static int background_removal(void *userdata) {
        BackgroundRemoval *b = userdata;
        int r = rm_rf_at(b->dir_fd, b->name);

        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Cannot remove %s: %s", b->name, STRERROR(r));
        return r;
}

int rm_rf_in_background(int dir_fd, const char *name) {
        g_autofree char *trash = NULL;
        BackgroundRemoval *b;
        int fd;

        /* Out of the way already (a removal a restart interrupted)? */
        if (g_str_has_prefix(name, ".trash-"))
                trash = g_strdup(name);
        else {
                trash = g_strdup_printf(".trash-%s-%08x", name, g_random_int());
                if (renameat(dir_fd, name, dir_fd, trash) < 0)
                        return -errno;
        }
        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;

        b = g_new0(BackgroundRemoval, 1);
        b->dir_fd = fd;
        b->name = g_steal_pointer(&trash);
        /* Not waited for at exit: the hidden name is swept at the next start. */
        if (worker_start_detached("rm-rf", background_removal, b, background_removal_free) < 0) {
                /* No thread: do it here rather than not at all. */
                (void) background_removal(b);
                background_removal_free(b);
        }
        return 0;
}

ssize_t read_full(int fd, void *data, size_t size, off_t offset) {
        size_t done = 0;

        while (done < size) {
                ssize_t n = offset < 0 ? read(fd, (char *) data + done, size - done) :
                                         pread(fd, (char *) data + done, size - done, offset + (off_t) done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int pipe_for_client(int *ret_read_end, int *ret_write_end) {
        int fds[2];

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        if (fcntl(fds[0], F_SETFL, 0) < 0) {
                int r = -errno;

                close(fds[0]);
                close(fds[1]);
                return r;
        }
        *ret_read_end = fds[0];
        *ret_write_end = fds[1];
        return 0;
}

int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, unsigned mode,
                         uid_t uid, gid_t gid, bool sync) {
        g_autofree char *tmp = g_strdup_printf(".#%s.%08" G_GINT32_MODIFIER "x", name, g_random_int());
        _cleanup_close_ int fd = -1;
        int r;

        assert(dir_fd >= 0);
        assert(name);

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r >= 0 && fchown(fd, uid, gid) < 0)
                r = -errno;
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}
