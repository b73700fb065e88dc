/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/helpers/: left4me-overlay, the root helper that mounts a server instance's overlayfs stack. */
/* left4me-overlay: mounts and unmounts an instance's overlayfs stack.
 *
 * Run by systemd only, as root outside the server's sandbox:
 *   ExecStartPre=/usr/libexec/left4me-overlay mount NAME
 *   ExecStopPost=/usr/libexec/left4me-overlay umount NAME
 *   PermissionsStartOnly=yes
 * and always in PID 1's mount namespace, which it joins itself first:
 * systemd 252 still gives such a command the private namespace of a unit
 * with TemporaryFileSystem=, BindPaths=, ProtectSystem= and the like, and
 * a mount made in there would be gone before ExecStart=.
 * It takes nothing but the instance name from its caller; everything else
 * comes from root-owned files under the compiled-in state directory, and
 * even those are checked: runtime/NAME/instance.env (see
 * lib/l4m-instance-env.h) names the lower layers, which may only be
 * overlays/<id>, runtime/NAME/config and installation, each reached
 * without following a symbolic link. If the instance has a disk image
 * (runtime/NAME/disk.img, made by left4med for a finite disk_max), it is
 * attached to a loop device and mounted at runtime/NAME/disk first, and
 * the stack's upper and work directories are disk/upper and disk/work: the
 * server's writes end with ENOSPC at the image's size. See
 * left4me-overlay(8). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <glib.h>

#include "config.h"
#include "l4m-instance-env.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"

/* How many mounts stacked on merged/ we take off before giving up. */
#define UNMOUNT_MAX 16

/* runtime/NAME/disk.img, its mount point, and the upper and work
 * directories in it (see instance-disk.h). */
#define DISK_IMAGE "disk.img"
#define DISK_MOUNT "disk"
/* Another process may take the free loop device we were told of first. */
#define LOOP_ATTACH_TRIES 16

/* Options besides the layers; the same on both paths. index=off: an
 * instance's blueprint may change between starts, and with the index on
 * overlayfs refuses an upper directory that was used with other layers. */
static const char *const fixed_options[][2] = {
        { "redirect_dir", "nofollow" },
        { "metacopy", "off" },
        { "index", "off" },
};

typedef enum {
        MOUNT_API_AUTO,
        MOUNT_API_NEW,
        MOUNT_API_NEW_BY_PATH,  /* testing aid: what 6.8 to 6.12 do */
        MOUNT_API_LEGACY,
} MountApi;

static MountApi arg_mount_api = MOUNT_API_AUTO;

/* --- the host's mount namespace --------------------------------------- */

/* Joins PID 1's mount namespace unless this process is in it already.
 * Called before anything else is opened: a descriptor opened before
 * setns() keeps pointing into the namespace it was opened in. */
static int join_host_mount_namespace(void) {
        _cleanup_close_ int fd = -1;
        struct stat host, self;

        fd = open("/proc/1/ns/mnt", O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open /proc/1/ns/mnt (PID 1's mount namespace): %s",
                                       STRERROR(errno));
        if (fstat(fd, &host) < 0)
                return log_error_errno(errno, "Cannot stat /proc/1/ns/mnt: %s", STRERROR(errno));
        if (stat("/proc/self/ns/mnt", &self) < 0)
                return log_error_errno(errno, "Cannot stat /proc/self/ns/mnt: %s", STRERROR(errno));
        if (host.st_dev == self.st_dev && host.st_ino == self.st_ino)
                return 0;

        if (setns(fd, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Cannot join PID 1's mount namespace (a mount made here would "
                                       "stay in a private one, unseen by the server): %s", STRERROR(errno));
        /* The old root and working directory belong to the namespace left. */
        if (chdir("/") < 0)
                return log_error_errno(errno, "Cannot enter / of PID 1's mount namespace: %s", STRERROR(errno));
        log_debug("Joined PID 1's mount namespace.");
        return 0;
}

/* --- opening things without following symlinks ------------------------ */

/* Opens the directory at path (relative, '/'-separated, no empty, "." or
 * ".." components: the callers validated it) beneath dir_fd, one component
 * at a time with O_NOFOLLOW, so that no symbolic link is followed anywhere
 * on the way. */
static int open_dir_beneath(int dir_fd, const char *path, int *ret_fd) {
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        _cleanup_close_ int fd = -1;

        for (size_t i = 0; parts[i]; i++) {
                int next;

                if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0)
                        return -EINVAL;
                next = openat(fd >= 0 ? fd : dir_fd, parts[i],
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                if (fd >= 0)
                        close(fd);
                fd = next;
        }
        if (fd < 0)
                return -EINVAL;
        *ret_fd = l4m_take_fd(&fd);
        return 0;
}

/* A clear word for why open_dir_beneath failed. */
static const char *open_error_text(int r) {
        switch (-r) {
        case ELOOP:
        case ENOTDIR:
                return "is (or passes through) a symbolic link or not a directory";
        case ENOENT:
                return "does not exist";
        default:
                return g_strerror(-r);  /* interned: outlives this call */
        }
}

/* Directories on the way to instance.env must be root's and writable by
 * nobody else, or the file could be swapped under us. */
static int check_trusted_dir(int fd, const char *what) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat %s: %s", what, STRERROR(errno));
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(EPERM, "Refusing %s: owned by uid %u with mode %04o, "
                                       "not root's and writable by root only.",
                                       what, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        return 0;
}

static int open_state_dir(int *ret_fd) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(L4M_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open the state directory %s: %s", L4M_STATE_DIR, STRERROR(errno));
        r = check_trusted_dir(fd, L4M_STATE_DIR);
        if (r < 0)
                return r;
        *ret_fd = l4m_take_fd(&fd);
        return 0;
}

/* Opens runtime/NAME beneath the state directory; -ENOENT is returned
 * without a message (umount treats it as nothing to do). */
static int open_instance_dir(int state_fd, const char *name, int *ret_fd) {
        g_autofree char *path = g_strconcat("runtime/", name, NULL);
        _cleanup_close_ int runtime_fd = -1, fd = -1;
        int r;

        r = open_dir_beneath(state_fd, "runtime", &runtime_fd);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return log_error_errno(r, "Refusing %s/runtime: it %s.", L4M_STATE_DIR, open_error_text(r));
        r = check_trusted_dir(runtime_fd, "runtime/");
        if (r < 0)
                return r;
        r = open_dir_beneath(runtime_fd, name, &fd);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return log_error_errno(r, "Refusing %s: it %s.", path, open_error_text(r));
        r = check_trusted_dir(fd, path);
        if (r < 0)
                return r;
        *ret_fd = l4m_take_fd(&fd);
        return 0;
}

/* > 0 if the directory fd is the root of a mount. */
static int is_mount_root(int fd, int parent_fd) {
        struct statx sx, psx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
                return -errno;
        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        /* Kernels before 5.8: another device than the parent's. */
        if (statx(parent_fd, "", AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &psx) < 0)
                return -errno;
        return sx.stx_dev_major != psx.stx_dev_major || sx.stx_dev_minor != psx.stx_dev_minor;
}

/* --- unmounting ------------------------------------------------------- */

/* Takes every mount off runtime/NAME/<dir> (inst_fd: runtime/NAME; dir:
 * merged or disk). Returns how many were unmounted. Never follows a
 * symlink. */
static int unmount_all(int inst_fd, const char *name, const char *dir) {
        int n = 0, r;

        if (fchdir(inst_fd) < 0)
                return log_error_errno(errno, "Cannot enter runtime/%s: %s", name, STRERROR(errno));

        for (;;) {
                _cleanup_close_ int fd = -1;

                fd = openat(inst_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                return n;
                        return log_error_errno(errno, "Refusing runtime/%s/%s: it %s.", name, dir,
                                               open_error_text(-errno));
                }
                r = is_mount_root(fd, inst_fd);
                if (r < 0)
                        return log_error_errno(r, "Cannot stat runtime/%s/%s: %s", name, dir, STRERROR(r));
                if (r == 0)
                        return n;
                if (n >= UNMOUNT_MAX)
                        return log_error_errno(EBUSY, "runtime/%s/%s still holds a mount after %d unmounts.",
                                               name, dir, n);
                close(l4m_take_fd(&fd));        /* no reference of ours keeps it busy */

                if (umount2(dir, UMOUNT_NOFOLLOW) < 0) {
                        r = -errno;
                        if (r == -EINVAL)       /* gone meanwhile */
                                continue;
                        if (r != -EBUSY)
                                return log_error_errno(r, "Cannot unmount runtime/%s/%s: %s", name, dir, STRERROR(r));
                        log_warning("runtime/%s/%s is busy; detaching it lazily.", name, dir);
                        if (umount2(dir, UMOUNT_NOFOLLOW | MNT_DETACH) < 0)
                                return log_error_errno(errno, "Cannot detach runtime/%s/%s: %s",
                                                       name, dir, STRERROR(errno));
                }
                n++;
        }
}

static int unmount_merged(int inst_fd, const char *name) {
        return unmount_all(inst_fd, name, "merged");
}

static int do_umount(const char *name) {
        _cleanup_close_ int state_fd = -1, inst_fd = -1;
        int r;

        r = open_state_dir(&state_fd);
        if (r < 0)
                return r;
        r = open_instance_dir(state_fd, name, &inst_fd);
        if (r == -ENOENT) {
                log_info("Nothing to unmount for %s: runtime/%s does not exist.", name, name);
                return 0;
        }
        if (r < 0)
                return r;
        r = unmount_merged(inst_fd, name);
        if (r < 0)
                return r;
        if (r == 0)
                log_info("Nothing mounted at runtime/%s/merged.", name);
        else
                log_info("Unmounted runtime/%s/merged.", name);
        /* Then the disk image under it; its loop device goes with it
         * (LO_FLAGS_AUTOCLEAR). */
        r = unmount_all(inst_fd, name, DISK_MOUNT);
        if (r < 0)
                return r;
        if (r > 0)
                log_info("Unmounted runtime/%s/" DISK_MOUNT " (the disk image).", name);
        return 0;
}

/* --- mounting --------------------------------------------------------- */

typedef struct Stack {
        const char *name;
        L4mInstanceEnv *env;
        int *layer_fds;         /* env->n_layers of them */
        int upper_fd, work_fd, merged_fd;
        char *upper, *work, *merged;    /* relative to the state directory */
} Stack;

static void stack_done(Stack *s) {
        if (s->layer_fds)
                for (size_t i = 0; i < s->env->n_layers; i++)
                        l4m_close_fdp(&s->layer_fds[i]);
        g_free(s->layer_fds);
        l4m_close_fdp(&s->upper_fd);
        l4m_close_fdp(&s->work_fd);
        l4m_close_fdp(&s->merged_fd);
        g_free(s->upper);
        g_free(s->work);
        g_free(s->merged);
        l4m_instance_env_free(s->env);
}

static int open_stack_dir(int state_fd, const char *path, const char *what, int *ret_fd) {
        int r = open_dir_beneath(state_fd, path, ret_fd);

        if (r < 0)
                return log_error_errno(r, "Refusing %s %s: it %s.", what, path, open_error_text(r));
        return 0;
}

/* Reads the fs context's messages (the kernel's reasons) after a failed
 * fsconfig(); returns the last error one, or NULL. */
static char *fs_context_error(int fs_fd) {
        char buf[512], *last = NULL;

        for (;;) {
                ssize_t k = read(fs_fd, buf, sizeof(buf) - 1);

                if (k <= 0)
                        break;
                buf[k] = '\0';
                g_strchomp(buf);
                log_debug("overlayfs says: %s", buf);
                if (buf[0] == 'e' && buf[1] == ' ') {
                        g_free(last);
                        last = g_strdup(buf + 2);
                }
        }
        return last;
}

static int fs_set(int fs_fd, unsigned cmd, const char *key, const char *value, int aux, const char *what) {
        g_autofree char *why = NULL;
        int r;

        if (fsconfig(fs_fd, cmd, key, value, aux) >= 0)
                return 0;
        r = -errno;
        why = fs_context_error(fs_fd);
        return log_error_errno(r, "overlayfs refuses %s: %s%s%s", what, STRERROR(r),
                               why ? ": " : "", why ? why : "");
}

/* The new mount API: one lowerdir+ per layer, so no page limit. Layers go
 * by file descriptor where the kernel takes that (6.13+), else by path
 * relative to the state directory (the cwd). -EOPNOTSUPP: this kernel has
 * no lowerdir+ (or no fsopen) and nothing was mounted. */
/* Whether overlayfs parses fsconfig() parameters itself (5.x/6.1-6.4 do
 * not: there the VFS's "legacy" context accepts any key and only the final
 * mount(2)-style parse fails, far too late to fall back). Asked on a
 * throwaway context with a key nothing knows. */
static bool overlay_parses_parameters(void) {
        _cleanup_close_ int fd = -1;

        fd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fd < 0)
                return false;
        if (fsconfig(fd, FSCONFIG_SET_STRING, "left4me_probe", "1", 0) >= 0) {
                log_debug("overlayfs takes mount options the legacy way: no lowerdir+.");
                return false;
        }
        return errno == EINVAL;
}

static int mount_new_api(Stack *s, bool by_fd) {
        _cleanup_close_ int fs_fd = -1, mnt_fd = -1;
        g_autofree char *why = NULL;
        int r;

        fs_fd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0) {
                r = -errno;
                if (r == -ENOSYS || r == -EPERM || r == -ENODEV)
                        return log_debug_errno(r, "fsopen(overlay) failed: %s", STRERROR(r)), -EOPNOTSUPP;
                return log_error_errno(r, "Cannot create an overlayfs context: %s", STRERROR(r));
        }
        if (!overlay_parses_parameters())
                return -EOPNOTSUPP;

        r = fs_set(fs_fd, FSCONFIG_SET_STRING, "source", "overlay", 0, "the source name");
        if (r < 0)
                return r;

        /* Probe with the first layer: by fd (6.13+), else by path (6.8+),
         * else this kernel has no lowerdir+. EINVAL is what overlayfs
         * answers for a parameter (or a parameter type) it does not know. */
        if (!by_fd || fsconfig(fs_fd, FSCONFIG_SET_FD, "lowerdir+", NULL, s->layer_fds[0]) < 0) {
                r = by_fd ? -errno : -EINVAL;
                why = by_fd ? fs_context_error(fs_fd) : NULL;
                if (r != -EINVAL)
                        return log_error_errno(r, "overlayfs refuses layer %s: %s%s%s", s->env->layers[0],
                                               STRERROR(r), why ? ": " : "", why ? why : "");
                if (by_fd)
                        log_debug("lowerdir+ by file descriptor refused (%s); trying by path.", why ? why : STRERROR(r));
                g_clear_pointer(&why, g_free);
                by_fd = false;
                if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "lowerdir+", s->env->layers[0], 0) < 0) {
                        r = -errno;
                        why = fs_context_error(fs_fd);
                        if (r == -EINVAL) {
                                log_debug("overlayfs has no lowerdir+: %s", why ? why : STRERROR(r));
                                return -EOPNOTSUPP;
                        }
                        return log_error_errno(r, "overlayfs refuses layer %s: %s%s%s", s->env->layers[0],
                                               STRERROR(r), why ? ": " : "", why ? why : "");
                }
        }
        for (size_t i = 1; i < s->env->n_layers; i++) {
                r = by_fd ? fs_set(fs_fd, FSCONFIG_SET_FD, "lowerdir+", NULL, s->layer_fds[i], s->env->layers[i])
                          : fs_set(fs_fd, FSCONFIG_SET_STRING, "lowerdir+", s->env->layers[i], 0, s->env->layers[i]);
                if (r < 0)
                        return r;
        }
        r = by_fd ? fs_set(fs_fd, FSCONFIG_SET_FD, "upperdir", NULL, s->upper_fd, s->upper)
                  : fs_set(fs_fd, FSCONFIG_SET_STRING, "upperdir", s->upper, 0, s->upper);
        if (r < 0)
                return r;
        r = by_fd ? fs_set(fs_fd, FSCONFIG_SET_FD, "workdir", NULL, s->work_fd, s->work)
                  : fs_set(fs_fd, FSCONFIG_SET_STRING, "workdir", s->work, 0, s->work);
        if (r < 0)
                return r;
        for (size_t i = 0; i < L4M_ELEMENTSOF(fixed_options); i++) {
                r = fs_set(fs_fd, FSCONFIG_SET_STRING, fixed_options[i][0], fixed_options[i][1], 0,
                           fixed_options[i][0]);
                if (r < 0)
                        return r;
        }
        r = fs_set(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0, "the stack");
        if (r < 0)
                return r;

        mnt_fd = fsmount(fs_fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        if (mnt_fd < 0)
                return log_error_errno(errno, "Cannot create the overlayfs mount: %s", STRERROR(errno));
        if (move_mount(mnt_fd, "", s->merged_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "Cannot attach the overlayfs mount at %s: %s", s->merged, STRERROR(errno));

        log_info("Mounted %zu layers at %s with the new mount API (lowerdir+ by %s).",
                 s->env->n_layers, s->merged, by_fd ? "file descriptor" : "path");
        return 0;
}

/* mount(2) with one option string of paths relative to the state
 * directory (the cwd): 100 layers stay far below the page limit. */
static int mount_legacy(Stack *s) {
        g_autoptr(GString) o = g_string_new("lowerdir=");
        g_autofree char *target = NULL;
        long page = sysconf(_SC_PAGESIZE);

        for (size_t i = 0; i < s->env->n_layers; i++) {
                if (i > 0)
                        g_string_append_c(o, ':');
                g_string_append(o, s->env->layers[i]);
        }
        g_string_append_printf(o, ",upperdir=%s,workdir=%s", s->upper, s->work);
        for (size_t i = 0; i < L4M_ELEMENTSOF(fixed_options); i++)
                g_string_append_printf(o, ",%s=%s", fixed_options[i][0], fixed_options[i][1]);
        if (page <= 0)
                page = 4096;
        if (o->len + 1 > (size_t) page)
                return log_error_errno(E2BIG, "The mount options for %zu layers need %zu bytes, more than a page "
                                       "(%ld): too many layers for mount(2) without lowerdir+.",
                                       s->env->n_layers, o->len + 1, page);

        /* The very directory we checked, not whatever the path names now. */
        target = g_strdup_printf("/proc/self/fd/%d", s->merged_fd);
        if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, o->str) < 0)
                return log_error_errno(errno, "Cannot mount overlayfs at %s: %s", s->merged, STRERROR(errno));

        log_info("Mounted %zu layers at %s with mount(2) (legacy lowerdir= option, %zu bytes).",
                 s->env->n_layers, s->merged, o->len);
        return 0;
}

/* --- the disk image --------------------------------------------------- */

/* Opens runtime/NAME/disk.img for the loop device: -ENOENT (no message) if
 * there is none; anything but a regular file of root's that only root may
 * write is refused. */
static int open_disk_image(int inst_fd, const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(inst_fd, DISK_IMAGE, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                return log_error_errno(errno, "Refusing runtime/%s/" DISK_IMAGE ": %s", name,
                                       errno == ELOOP ? "it is a symbolic link" : STRERROR(errno));
        }
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat runtime/%s/" DISK_IMAGE ": %s", name, STRERROR(errno));
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EPERM, "Refusing runtime/%s/" DISK_IMAGE ": not a regular file.", name);
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(EPERM, "Refusing runtime/%s/" DISK_IMAGE ": owned by uid %u with mode %04o, "
                                       "not root's and writable by root only.",
                                       name, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        *ret_fd = l4m_take_fd(&fd);
        return 0;
}

/* Opens /dev/loopNR, making its node first if the kernel has the device
 * but /dev has no node for it (a container's /dev holds only the nodes
 * bound into it; the kernel makes new loop devices on demand). */
static int open_loop_device(int nr, int *ret_fd) {
        char path[32], sys[64], buf[32] = "";
        _cleanup_close_ int fd = -1, sys_fd = -1;
        unsigned ma, mi;
        struct stat st;
        ssize_t k;

        snprintf(path, sizeof path, "/dev/loop%d", nr);
        fd = open(path, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                snprintf(sys, sizeof sys, "/sys/devices/virtual/block/loop%d/dev", nr);
                sys_fd = open(sys, O_RDONLY | O_NOCTTY | O_CLOEXEC);
                if (sys_fd < 0)
                        return log_error_errno(errno, "%s does not exist and %s cannot be read: %s", path, sys,
                                               STRERROR(errno));
                k = read(sys_fd, buf, sizeof buf - 1);
                if (k <= 0 || sscanf(buf, "%u:%u", &ma, &mi) != 2)
                        return log_error_errno(EIO, "Cannot read the device numbers of loop%d from %s.", nr, sys);
                if (mknod(path, S_IFBLK | 0600, makedev(ma, mi)) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "%s does not exist and cannot be made: %s", path, STRERROR(errno));
                log_notice("Made %s (%u:%u): /dev had no node for it.", path, ma, mi);
                fd = open(path, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        }
        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s: %s", path, STRERROR(errno));
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat %s: %s", path, STRERROR(errno));
        if (!S_ISBLK(st.st_mode))
                return log_error_errno(ENOTBLK, "Refusing %s: not a block device.", path);
        *ret_fd = l4m_take_fd(&fd);
        return 0;
}

/* Attaches image_fd to a free loop device that detaches itself once
 * nothing holds it any more (LO_FLAGS_AUTOCLEAR): the mount, after the
 * returned descriptor is closed. */
static int loop_attach(int image_fd, const char *name, int *ret_fd, int *ret_nr) {
        _cleanup_close_ int control = -1;

        control = open("/dev/loop-control", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (control < 0)
                return log_error_errno(errno, "Cannot open /dev/loop-control (the disk image of %s needs a loop device): %s",
                                       name, STRERROR(errno));
        for (unsigned tries = 0; tries < LOOP_ATTACH_TRIES; tries++) {
                struct loop_config config = {
                        .fd = (uint32_t) image_fd,
                        .info.lo_flags = LO_FLAGS_AUTOCLEAR,
                };
                _cleanup_close_ int fd = -1;
                int nr, r;

                nr = ioctl(control, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return log_error_errno(errno, "No free loop device for the disk image of %s: %s", name,
                                               STRERROR(errno));
                r = open_loop_device(nr, &fd);
                if (r < 0)
                        return r;
                snprintf((char *) config.info.lo_file_name, sizeof config.info.lo_file_name,
                         "left4me:%s/" DISK_IMAGE, name);
                if (ioctl(fd, LOOP_CONFIGURE, &config) < 0) {
                        if (errno == EBUSY)     /* taken meanwhile: ask again */
                                continue;
                        return log_error_errno(errno, "Cannot attach the disk image of %s to /dev/loop%d: %s", name, nr,
                                               STRERROR(errno));
                }
                *ret_fd = l4m_take_fd(&fd);
                *ret_nr = nr;
                return 0;
        }
        return log_error_errno(EBUSY, "Every free loop device was taken before the disk image of %s could be attached.",
                               name);
}

/* disk/upper/left4dead2/cfg/server.cfg, if the server wrote one: it would
 * hide the generated file (left4med removes it from a plain upper/; this
 * one it cannot reach). No link is followed; anything but a directory on
 * the way means there is none. */
static int remove_disk_server_cfg(int root_fd, const char *name) {
        static const char *const way[] = { "upper", "left4dead2", "cfg" };
        _cleanup_close_ int fd = -1;

        for (size_t i = 0; i < L4M_ELEMENTSOF(way); i++) {
                int next = openat(fd >= 0 ? fd : root_fd, way[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

                if (next < 0)
                        return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 :
                                log_error_errno(errno, "Cannot open %s in the disk image of %s: %s", way[i], name,
                                                STRERROR(errno));
                l4m_close_fdp(&fd);
                fd = next;
        }
        if (unlinkat(fd, "server.cfg", 0) >= 0) {
                log_info("Removed the server's own upper/left4dead2/cfg/server.cfg from the disk image of %s.", name);
                return 0;
        }
        if (errno == ENOENT)
                return 0;
        if (errno == EISDIR && unlinkat(fd, "server.cfg", AT_REMOVEDIR) >= 0)
                return 0;
        return log_error_errno(errno, "Cannot remove upper/left4dead2/cfg/server.cfg from the disk image of %s "
                               "(it would hide the generated one): %s", name, STRERROR(errno));
}

/* Mounts runtime/NAME/disk.img at runtime/NAME/disk (ext4, nosuid, nodev)
 * if there is one: 1 if it was mounted, 0 if the instance has none. */
static int mount_disk(int inst_fd, const char *name) {
        _cleanup_close_ int image_fd = -1, disk_fd = -1, loop_fd = -1, root_fd = -1;
        char source[64], target[64];
        int nr = -1, r;

        r = open_disk_image(inst_fd, name, &image_fd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        /* A mount left over (a stop whose ExecStopPost= never ran). */
        r = unmount_all(inst_fd, name, DISK_MOUNT);
        if (r < 0)
                return r;
        if (r > 0)
                log_notice("Unmounted a stale mount at runtime/%s/" DISK_MOUNT " before mounting.", name);

        if (mkdirat(inst_fd, DISK_MOUNT, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot make runtime/%s/" DISK_MOUNT ": %s", name, STRERROR(errno));
        disk_fd = openat(inst_fd, DISK_MOUNT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (disk_fd < 0)
                return log_error_errno(errno, "Refusing runtime/%s/" DISK_MOUNT ": it %s.", name, open_error_text(-errno));
        r = check_trusted_dir(disk_fd, "the disk image's mount point");
        if (r < 0)
                return r;

        r = loop_attach(image_fd, name, &loop_fd, &nr);
        if (r < 0)
                return r;
        /* The very directory we checked, not whatever the path names now;
         * the device by its name in root's /dev (what mountinfo shows),
         * held open until the mount holds it. */
        snprintf(source, sizeof source, "/dev/loop%d", nr);
        snprintf(target, sizeof target, "/proc/self/fd/%d", disk_fd);
        if (mount(source, target, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
                return log_error_errno(errno, "Cannot mount the disk image of %s (/dev/loop%d) at runtime/%s/" DISK_MOUNT
                                       ": %s", name, nr, name, STRERROR(errno));
        log_info("Mounted runtime/%s/" DISK_IMAGE " (/dev/loop%d) at runtime/%s/" DISK_MOUNT ".", name, nr, name);

        root_fd = openat(inst_fd, DISK_MOUNT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(errno, "Cannot open the mounted runtime/%s/" DISK_MOUNT ": %s", name, STRERROR(errno));
        r = check_trusted_dir(root_fd, "the root of the disk image");
        if (r < 0)
                return r;
        r = remove_disk_server_cfg(root_fd, name);
        if (r < 0)
                return r;
        return 1;
}

static int do_mount(const char *name) {
        Stack s = {
                .name = name,
                .upper_fd = -1,
                .work_fd = -1,
                .merged_fd = -1,
        };
        _cleanup_close_ int state_fd = -1, inst_fd = -1;
        g_autofree char *error = NULL;
        int r;

        r = open_state_dir(&state_fd);
        if (r < 0)
                return r;
        r = open_instance_dir(state_fd, name, &inst_fd);
        if (r == -ENOENT)
                return log_error_errno(r, "Cannot mount %s: runtime/%s does not exist.", name, name);
        if (r < 0)
                return r;

        r = l4m_instance_env_read_at(inst_fd, 0, name, &s.env, &error);
        if (r < 0)
                return log_error_errno(r, "Refusing runtime/%s/" L4M_INSTANCE_ENV_FILE ": %s.", name, error);

        s.layer_fds = g_new(int, s.env->n_layers);
        for (size_t i = 0; i < s.env->n_layers; i++)
                s.layer_fds[i] = -1;
        for (size_t i = 0; i < s.env->n_layers; i++) {
                r = open_stack_dir(state_fd, s.env->layers[i], "layer", &s.layer_fds[i]);
                if (r < 0)
                        goto out;
        }
        s.merged = g_strdup_printf("runtime/%s/merged", name);

        /* A mount left over (a stop whose ExecStopPost= never ran) may
         * hold another stack: replace it, so that what is mounted is
         * always what instance.env says. */
        r = unmount_merged(inst_fd, name);
        if (r < 0)
                goto out;
        if (r > 0)
                log_notice("Unmounted a stale mount at %s before mounting.", s.merged);

        /* With a disk image, upper and work are in it. */
        r = mount_disk(inst_fd, name);
        if (r < 0)
                goto out;
        if (r > 0) {
                s.upper = g_strdup_printf("runtime/%s/" DISK_MOUNT "/upper", name);
                s.work = g_strdup_printf("runtime/%s/" DISK_MOUNT "/work", name);
        } else {
                s.upper = g_strdup_printf("runtime/%s/upper", name);
                s.work = g_strdup_printf("runtime/%s/work", name);
        }
        r = open_stack_dir(state_fd, s.upper, "upper directory", &s.upper_fd);
        if (r >= 0)
                r = open_stack_dir(state_fd, s.work, "work directory", &s.work_fd);
        if (r < 0)
                goto out;
        r = open_stack_dir(state_fd, s.merged, "mount point", &s.merged_fd);
        if (r < 0)
                goto out;
        r = is_mount_root(s.merged_fd, inst_fd);
        if (r != 0) {
                r = log_error_errno(r < 0 ? r : EBUSY, "%s is still a mount point.", s.merged);
                goto out;
        }

        /* Relative layer paths (both paths may use them) start here. */
        if (fchdir(state_fd) < 0) {
                r = log_error_errno(errno, "Cannot enter %s: %s", L4M_STATE_DIR, STRERROR(errno));
                goto out;
        }

        switch (arg_mount_api) {
        case MOUNT_API_NEW:
        case MOUNT_API_NEW_BY_PATH:
                r = mount_new_api(&s, arg_mount_api == MOUNT_API_NEW);
                if (r == -EOPNOTSUPP)
                        r = log_error_errno(r, "The new mount API with lowerdir+ is not available on this kernel.");
                break;
        case MOUNT_API_LEGACY:
                r = mount_legacy(&s);
                break;
        case MOUNT_API_AUTO:
        default:
                r = mount_new_api(&s, true);
                if (r == -EOPNOTSUPP)
                        r = mount_legacy(&s);
                break;
        }

out:
        stack_done(&s);
        return r;
}

/* --- command line ----------------------------------------------------- */

static void help(void) {
        printf("%s [OPTIONS...] mount|umount NAME\n\n"
               "Mounts or unmounts the overlayfs stack of left4me instance NAME at\n"
               "%s/runtime/NAME/merged. Run by systemd, not by hand.\n\n"
               "  -h --help                    Show this help\n"
               "     --version                 Show the version\n"
               "     --mount-api=auto|new|new-by-path|legacy\n"
               "                               (testing aid) force one way of mounting\n",
               program_invocation_short_name, L4M_STATE_DIR);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_MOUNT_API };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "mount-api", required_argument, NULL, ARG_MOUNT_API },
                { NULL, 0, NULL, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("left4me-overlay %s\n", L4M_VERSION);
                        return 0;
                case ARG_MOUNT_API:
                        if (strcmp(optarg, "auto") == 0)
                                arg_mount_api = MOUNT_API_AUTO;
                        else if (strcmp(optarg, "new") == 0)
                                arg_mount_api = MOUNT_API_NEW;
                        else if (strcmp(optarg, "new-by-path") == 0)
                                arg_mount_api = MOUNT_API_NEW_BY_PATH;
                        else if (strcmp(optarg, "legacy") == 0)
                                arg_mount_api = MOUNT_API_LEGACY;
                        else
                                return log_error_errno(EINVAL, "--mount-api= takes auto, new, new-by-path or legacy, not '%s'.", optarg);
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return log_error_errno(EINVAL, "Unexpected option.");
                }
        if (argc - optind != 2)
                return log_error_errno(EINVAL, "Usage: %s [--mount-api=MODE] mount|umount NAME",
                                       program_invocation_short_name);
        return 1;
}

int main(int argc, char *argv[]) {
        const char *verb, *name;
        g_autofree char *shown = NULL;
        int r;

        l4m_log_open("left4me-overlay");
        /* A server unit's ExecStartPre= and ExecStopPost=: we are gone
         * before journald could look up our unit. */
        l4m_log_use_stream();
        umask(0022);

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        verb = argv[optind];
        name = argv[optind + 1];

        if (!l4m_name_is_valid(name)) {
                g_autofree char *head = g_strndup(name, 64);
                shown = g_strescape(head, NULL);
                log_error("Refusing instance name '%s': not [a-z0-9][a-z0-9_-]{0,47}.", shown);
                return EXIT_FAILURE;
        }
        if (geteuid() != 0) {
                log_error("left4me-overlay must run as root (systemd runs it as root before and after a server).");
                return EXIT_FAILURE;
        }

        if (strcmp(verb, "mount") != 0 && strcmp(verb, "umount") != 0 && strcmp(verb, "unmount") != 0) {
                log_error("Unknown command '%s': mount or umount.", verb);
                return EXIT_FAILURE;
        }
        if (join_host_mount_namespace() < 0)
                return EXIT_FAILURE;

        if (strcmp(verb, "mount") == 0)
                r = do_mount(name);
        else
                r = do_umount(name);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
