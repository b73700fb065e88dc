/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fs-util.h"
#include "instance-disk.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "problem.h"

#define MIB (1024.0 * 1024.0)

const InstanceDiskTools instance_disk_tools_default = {
        .mke2fs = L4M_MKE2FS,
        .e2fsck = L4M_E2FSCK,
        .resize2fs = L4M_RESIZE2FS,
};

bool instance_disk_has_image_at(int inst_fd) {
        struct stat st;

        return fstatat(inst_fd, INSTANCE_DISK_IMAGE, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
}

/* --- the ext4 superblock ---------------------------------------------- */

/* Used and total bytes from the superblock of the ext4 file system in fd
 * (1024 bytes in; little-endian). */
static int superblock_usage(int fd, uint64_t *ret_used, uint64_t *ret_size) {
        uint8_t sb[1024];
        uint64_t blocks, free_blocks, block_size;
        uint32_t u32;
        uint16_t magic;
        ssize_t k;

        k = pread(fd, sb, sizeof sb, 1024);
        if (k < 0)
                return -errno;
        if (k != (ssize_t) sizeof sb)
                return -EBADMSG;
        memcpy(&magic, sb + 0x38, sizeof magic);
        if (le16toh(magic) != 0xEF53)
                return -EBADMSG;
        memcpy(&u32, sb + 0x18, sizeof u32);
        if (le32toh(u32) > 6)           /* 1 KiB << 6 = 64 KiB, ext4's largest */
                return -EBADMSG;
        block_size = UINT64_C(1024) << le32toh(u32);
        memcpy(&u32, sb + 0x04, sizeof u32);
        blocks = le32toh(u32);
        memcpy(&u32, sb + 0x0C, sizeof u32);
        free_blocks = le32toh(u32);
        memcpy(&u32, sb + 0x60, sizeof u32);
        if (le32toh(u32) & 0x80) {      /* INCOMPAT_64BIT */
                memcpy(&u32, sb + 0x150, sizeof u32);
                blocks |= (uint64_t) le32toh(u32) << 32;
                memcpy(&u32, sb + 0x158, sizeof u32);
                free_blocks |= (uint64_t) le32toh(u32) << 32;
        }
        if (free_blocks > blocks)
                return -EBADMSG;
        *ret_used = (blocks - free_blocks) * block_size;
        *ret_size = blocks * block_size;
        return 0;
}

int instance_disk_usage_at(int inst_fd, uint64_t *ret_used, uint64_t *ret_size) {
        _cleanup_close_ int disk_fd = -1, image_fd = -1;
        struct statx sx;

        if (!instance_disk_has_image_at(inst_fd))
                return -ENOENT;
        disk_fd = openat(inst_fd, INSTANCE_DISK_MOUNT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (disk_fd >= 0 && statx(disk_fd, "", AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) >= 0 &&
            (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
                struct statvfs sv;

                if (fstatvfs(disk_fd, &sv) < 0)
                        return -errno;
                *ret_used = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
                *ret_size = (uint64_t) sv.f_blocks * sv.f_frsize;
                return 0;
        }
        image_fd = openat(inst_fd, INSTANCE_DISK_IMAGE, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (image_fd < 0)
                return -errno;
        return superblock_usage(image_fd, ret_used, ret_size);
}

int instance_disk_usage(Manager *m, const char *name, uint64_t *ret_used, uint64_t *ret_size) {
        _cleanup_close_ int inst_fd = -1;

        assert(l4m_name_is_valid(name));
        inst_fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0)
                return -errno;
        return instance_disk_usage_at(inst_fd, ret_used, ret_size);
}

int instance_disk_check_max(Manager *m, const char *name, uint64_t disk_max, char **ret_problem) {
        uint64_t used, size;
        int r;

        if (disk_max < INSTANCE_DISK_MIN)
                return problem_setf(ret_problem, -EINVAL, "disk_max must be at least %u MiB (the file system's own "
                                    "structures take a few), not %" PRIu64 " bytes.", INSTANCE_DISK_MIN / (1024 * 1024), disk_max);
        r = instance_disk_usage(m, name, &used, &size);
        if (r == -ENOENT)
                return 0;       /* no image (yet): made at the next start */
        if (r < 0)
                return log_warning_errno(r, "Cannot read the use of the disk image of %s: %s", name, STRERROR(r)), 0;
        if (disk_max == UINT64_MAX)
                return problem_setf(ret_problem, -EOPNOTSUPP,
                                    "Instance \"%s\" keeps its files in a disk image since it had a disk_max; left4med does "
                                    "not move them back to a plain directory: keep a disk_max.", name);
        if (used >= disk_max)
                return problem_setf(ret_problem, -ENOSPC,
                                    "Instance \"%s\" holds %.1f MiB in its disk image, more than disk_max (%.1f MiB): "
                                    "raise disk_max or remove files first.", name, used / MIB, disk_max / MIB);
        return 0;
}

/* --- running e2fsprogs ------------------------------------------------ */

/* Runs argv (argv[0] an absolute path), logging its output as it is the
 * instance's. Returns its exit status (>= 0), or -ENOPKG if the tool is
 * missing, -EIO if it could not run or was killed; *ret_output (if not
 * NULL) gets its last line. */
static int run_tool(const char *name, char **argv, char **ret_last) {
        g_autofree char *out = NULL, *err = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) lines = NULL;
        g_autofree char *joined = NULL, *cmd = NULL;
        int status;

        if (access(argv[0], X_OK) < 0)
                return -ENOPKG;
        cmd = g_strjoinv(" ", argv);
        log_info("Instance %s: running %s", name, cmd);
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error)) {
                log_error("Instance %s: cannot run %s: %s", name, argv[0], error->message);
                if (ret_last)
                        *ret_last = g_strdup(error->message);
                return -EIO;
        }
        joined = g_strconcat(out ? out : "", err ? err : "", NULL);
        lines = g_strsplit(joined, "\n", -1);
        for (size_t k = 0; lines[k]; k++) {
                g_strstrip(lines[k]);
                if (lines[k][0] == '\0')
                        continue;
                log_info("Instance %s: %s: %s", name, argv[0], lines[k]);
                if (ret_last) {
                        g_free(*ret_last);
                        *ret_last = g_strdup(lines[k]);
                }
        }
        if (!WIFEXITED(status)) {
                log_error("Instance %s: %s was killed.", name, argv[0]);
                return -EIO;
        }
        return WEXITSTATUS(status);
}

static int tool_failed(char **ret_problem, const char *name, const char *tool, int r, const char *last) {
        g_autofree char *status = r > 0 ? g_strdup_printf(" with status %d", r) : g_strdup("");

        if (r == -ENOPKG)
                return problem_setf(ret_problem, -ENOPKG,
                                    "Instance \"%s\" has a disk_max, which needs e2fsprogs: %s is not installed.", name, tool);
        return problem_setf(ret_problem, -EIO, "Instance \"%s\": %s failed%s%s%s (its output is in left4med's log).", name,
                            tool, status, last ? ": " : "", last ? last : "");
}

/* e2fsck -p (or -fp): 0 if the file system is clean (or was made so). */
static int check_image(const char *image, const char *name, bool force, const InstanceDiskTools *tools,
                       char **ret_problem) {
        char *argv[] = { (char *) tools->e2fsck, (char *) (force ? "-fp" : "-p"), (char *) image, NULL };
        g_autofree char *last = NULL;
        int r = run_tool(name, argv, &last);

        /* 1: errors corrected; 2: corrected, reboot (only for a mounted root). */
        if (r >= 0 && r <= 2)
                return 0;
        return tool_failed(ret_problem, name, tools->e2fsck, r, last);
}

/* --- moving a plain upper/ into an image and back ---------------------- */

/* Whether upper/ is what instance_runtime_prepare() makes for a start: at
 * most an empty left4dead2/. Such a one may go. */
static bool upper_is_skeleton(int inst_fd) {
        _cleanup_close_ int fd = -1, game_fd = -1;
        g_autoptr(GError) unused = NULL;
        DIR *d;
        struct dirent *de;
        bool skeleton = true;

        fd = openat(inst_fd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT;
        for (int pass = 0; pass < 2 && skeleton; pass++) {
                int dfd = fcntl(pass == 0 ? fd : game_fd, F_DUPFD_CLOEXEC, 3);

                if (dfd < 0)
                        return false;
                d = fdopendir(dfd);
                if (!d) {
                        close(dfd);
                        return false;
                }
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                            (pass == 1 || strcmp(de->d_name, "left4dead2") != 0))
                                skeleton = false;
                closedir(d);
                if (pass == 0) {
                        game_fd = openat(fd, "left4dead2", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (game_fd < 0)
                                return skeleton && errno == ENOENT;
                }
        }
        return skeleton;
}

/* A migration into an image that a crash interrupted: before the image
 * was renamed into place, disk-seed/ holds the instance's files (and the
 * upper/ there may only be a fresh skeleton: they go back); after it, the
 * image holds them and disk-seed/ is a copy to remove. */
static int recover_seed(int inst_fd, const char *name, char **ret_problem) {
        _cleanup_close_ int seed_fd = -1;
        int r;

        (void) unlinkat(inst_fd, INSTANCE_DISK_IMAGE_NEW, 0);
        seed_fd = openat(inst_fd, INSTANCE_DISK_SEED, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (seed_fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot open runtime/%s/" INSTANCE_DISK_SEED ": %s.",
                                    name, name, STRERROR(errno));
        }
        if (!instance_disk_has_image_at(inst_fd) && faccessat(seed_fd, "upper", F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (!upper_is_skeleton(inst_fd))
                        return problem_setf(ret_problem, -EEXIST,
                                            "Instance \"%s\": both runtime/%s/upper and runtime/%s/" INSTANCE_DISK_SEED
                                            "/upper (an interrupted move into a disk image) hold files; "
                                            "left4med will not choose between them.", name, name, name);
                log_notice("Instance %s: moving its files back from an interrupted move into a disk image.", name);
                r = rm_rf_at(inst_fd, "upper");
                if (r >= 0 && renameat(seed_fd, "upper", inst_fd, "upper") < 0)
                        r = -errno;
                if (r >= 0 && faccessat(seed_fd, "work", F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                        r = rm_rf_at(inst_fd, "work");
                        if (r >= 0 && renameat(seed_fd, "work", inst_fd, "work") < 0)
                                r = -errno;
                }
                if (r < 0)
                        return problem_setf(ret_problem, r, "Instance \"%s\": cannot move runtime/%s/" INSTANCE_DISK_SEED
                                            " back: %s.", name, name, STRERROR(r));
        }
        r = rm_rf_at(inst_fd, INSTANCE_DISK_SEED);
        if (r < 0)
                return problem_setf(ret_problem, r, "Instance \"%s\": cannot remove runtime/%s/" INSTANCE_DISK_SEED ": %s.",
                                    name, name, STRERROR(r));
        return 0;
}

/* Makes runtime/<name>/disk.img of size bytes holding the plain upper/
 * and work/ (moved into disk-seed/ for mke2fs -d, removed once the image
 * is in place). The unit is stopped: no process of the server's writes. */
static int make_image(int inst_fd, const char *inst_path, const char *name, uint64_t size,
                      const InstanceDiskTools *tools, char **ret_problem) {
        g_autofree char *seed = g_build_filename(inst_path, INSTANCE_DISK_SEED, NULL);
        g_autofree char *image = g_build_filename(inst_path, INSTANCE_DISK_IMAGE_NEW, NULL);
        g_autofree char *last = NULL;
        _cleanup_close_ int seed_fd = -1, image_fd = -1, upper_fd = -1, work_fd = -1;
        struct stat st;
        int r;

        if (access(tools->mke2fs, X_OK) < 0)
                return tool_failed(ret_problem, name, tools->mke2fs, -ENOPKG, NULL);

        upper_fd = openat(inst_fd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper_fd < 0 || fstat(upper_fd, &st) < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot open runtime/%s/upper: %s.", name, name,
                                    STRERROR(errno));
        if (mkdirat(inst_fd, INSTANCE_DISK_SEED, 0755) < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot make runtime/%s/" INSTANCE_DISK_SEED ": %s.",
                                    name, name, STRERROR(errno));
        seed_fd = openat(inst_fd, INSTANCE_DISK_SEED, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (seed_fd < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot open runtime/%s/" INSTANCE_DISK_SEED ": %s.",
                                    name, name, STRERROR(errno));
        if (renameat(inst_fd, "upper", seed_fd, "upper") < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot move runtime/%s/upper: %s.", name, name,
                                    STRERROR(errno));
        /* overlayfs' work directory holds nothing worth keeping: a fresh
         * one of upper/'s owner and mode (0700: the server's alone). */
        r = rm_rf_at(inst_fd, "work");
        if (r >= 0) {
                work_fd = open_or_create_dir_at(seed_fd, "work", 0700);
                r = work_fd;
        }
        if (r >= 0 && (fchown(work_fd, st.st_uid, st.st_gid) < 0 || fchmod(work_fd, st.st_mode & 07777) < 0))
                r = -errno;
        if (r < 0) {
                (void) recover_seed(inst_fd, name, NULL);
                return problem_setf(ret_problem, r, "Instance \"%s\": cannot make the work directory of its disk image: %s.",
                                    name, STRERROR(r));
        }

        image_fd = openat(inst_fd, INSTANCE_DISK_IMAGE_NEW, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (image_fd < 0 || ftruncate(image_fd, (off_t) size) < 0) {
                r = -errno;
                (void) recover_seed(inst_fd, name, NULL);
                return problem_setf(ret_problem, r, "Instance \"%s\": cannot make runtime/%s/" INSTANCE_DISK_IMAGE_NEW ": %s.",
                                    name, name, STRERROR(r));
        }
        l4m_close_fdp(&image_fd);

        {
                /* -m 0: nothing reserved for root, the server may use it
                 * all; -T default: 4 KiB blocks and an inode per 16 KiB
                 * at any size (mke2fs' "small" type, below 512 MiB, has
                 * 1 KiB blocks and four times the inodes: more overhead,
                 * and an image may grow later); -d: the seed's tree,
                 * owners and modes kept. */
                char *argv[] = { (char *) tools->mke2fs, (char *) "-q", (char *) "-F", (char *) "-t", (char *) "ext4",
                                 (char *) "-T", (char *) "default", (char *) "-m", (char *) "0", (char *) "-L",
                                 (char *) "left4me", (char *) "-d", seed, image, NULL };

                r = run_tool(name, argv, &last);
        }
        if (r != 0) {
                int k = tool_failed(ret_problem, name, tools->mke2fs, r, last);

                (void) recover_seed(inst_fd, name, NULL);
                return k;
        }
        if (fsync(inst_fd) < 0 || renameat(inst_fd, INSTANCE_DISK_IMAGE_NEW, inst_fd, INSTANCE_DISK_IMAGE) < 0) {
                r = -errno;
                (void) recover_seed(inst_fd, name, NULL);
                return problem_setf(ret_problem, r, "Instance \"%s\": cannot put its disk image in place: %s.", name,
                                    STRERROR(r));
        }
        (void) fsync(inst_fd);
        /* The copy in disk-seed/ goes; a failure here is finished at the
         * next start. */
        r = rm_rf_at(inst_fd, INSTANCE_DISK_SEED);
        if (r < 0)
                log_warning_errno(r, "Instance %s: cannot remove runtime/%s/" INSTANCE_DISK_SEED ": %s", name, name,
                                  STRERROR(r));
        log_info("Instance %s: made its disk image of %" PRIu64 " bytes.", name, size);
        return 0;
}

/* Grows or shrinks the image to size bytes. */
static int resize_image(int inst_fd, const char *inst_path, const char *name, uint64_t size, uint64_t old_size,
                        const InstanceDiskTools *tools, char **ret_problem) {
        g_autofree char *image = g_build_filename(inst_path, INSTANCE_DISK_IMAGE, NULL);
        g_autofree char *size_arg = g_strdup_printf("%" PRIu64 "K", size / 1024);
        g_autofree char *last = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t used, fs_size;
        int r;

        fd = openat(inst_fd, INSTANCE_DISK_IMAGE, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot open its disk image: %s.", name,
                                    STRERROR(errno));
        if (size < old_size && superblock_usage(fd, &used, &fs_size) >= 0 && used >= size)
                return problem_setf(ret_problem, -ENOSPC,
                                    "Instance \"%s\" holds %.1f MiB in its disk image, more than disk_max (%.1f MiB): "
                                    "raise disk_max or remove files first.", name, used / MIB, size / MIB);

        /* resize2fs wants a freshly checked file system. */
        r = check_image(image, name, true, tools, ret_problem);
        if (r < 0)
                return r;
        if (size > old_size && ftruncate(fd, (off_t) size) < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot grow its disk image: %s.", name,
                                    STRERROR(errno));
        {
                char *argv[] = { (char *) tools->resize2fs, image, size_arg, NULL };

                r = run_tool(name, argv, &last);
        }
        if (r != 0) {
                if (size > old_size)    /* the file system has its old size still */
                        (void) ftruncate(fd, (off_t) old_size);
                if (r > 0 && size < old_size)
                        return problem_setf(ret_problem, -ENOSPC,
                                            "Instance \"%s\": its files do not fit a disk image of disk_max (%.1f MiB)%s%s: "
                                            "raise disk_max or remove files first.", name, size / MIB,
                                            last ? "; resize2fs: " : "", last ? last : "");
                return tool_failed(ret_problem, name, tools->resize2fs, r, last);
        }
        if (size < old_size && ftruncate(fd, (off_t) size) < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot shrink its disk image file: %s.", name,
                                    STRERROR(errno));
        log_info("Instance %s: resized its disk image from %" PRIu64 " to %" PRIu64 " bytes.", name, old_size, size);
        return 0;
}

int instance_disk_prepare_at(int inst_fd, const char *inst_path, const char *name, uint64_t disk_max,
                             const InstanceDiskTools *tools, char **ret_problem) {
        g_autofree char *image = g_build_filename(inst_path, INSTANCE_DISK_IMAGE, NULL);
        uint64_t size;
        struct stat st;
        int r;

        if (!tools)
                tools = &instance_disk_tools_default;
        r = recover_seed(inst_fd, name, ret_problem);
        if (r < 0)
                return r;

        if (disk_max == UINT64_MAX) {
                if (!instance_disk_has_image_at(inst_fd))
                        return 0;
                return problem_setf(ret_problem, -EOPNOTSUPP,
                                    "Instance \"%s\" keeps its files in a disk image since it had a disk_max; left4med does "
                                    "not move them back to a plain directory: set a disk_max again.", name);
        }
        /* Whole 4 KiB blocks. */
        size = disk_max & ~UINT64_C(4095);
        if (size < INSTANCE_DISK_MIN)
                return problem_setf(ret_problem, -EINVAL, "Instance \"%s\": disk_max must be at least %u MiB, not %" PRIu64 " bytes.",
                                    name, INSTANCE_DISK_MIN / (1024 * 1024), disk_max);

        if (!instance_disk_has_image_at(inst_fd)) {
                r = make_image(inst_fd, inst_path, name, size, tools, ret_problem);
                return r < 0 ? r : 1;
        }

        /* A crash may have left it unclean: preen it (quick if clean). */
        r = check_image(image, name, false, tools, ret_problem);
        if (r < 0)
                return r;
        if (fstatat(inst_fd, INSTANCE_DISK_IMAGE, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return problem_setf(ret_problem, -errno, "Instance \"%s\": cannot stat its disk image: %s.", name,
                                    STRERROR(errno));
        if ((uint64_t) st.st_size != size) {
                r = resize_image(inst_fd, inst_path, name, size, (uint64_t) st.st_size, tools, ret_problem);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* --- on a Worker ------------------------------------------------------ */

typedef struct DiskPrepare {
        Instance *instance;
        int inst_fd;
        char *inst_path;
        char *name;
        uint64_t disk_max;
        char *problem;
        InstanceDiskDoneFunc done;
        void *userdata;
} DiskPrepare;

static void disk_prepare_free(DiskPrepare *p) {
        l4m_close_fdp(&p->inst_fd);
        g_free(p->inst_path);
        g_free(p->name);
        g_free(p->problem);
        g_free(p);
}

static int disk_prepare_work(void *userdata) {
        DiskPrepare *p = userdata;

        return instance_disk_prepare_at(p->inst_fd, p->inst_path, p->name, p->disk_max, NULL, &p->problem);
}

static void disk_prepare_done(Worker *w, int result, void *userdata) {
        DiskPrepare *p = userdata;

        if (result < 0)
                log_error_errno(result, "Cannot prepare the disk image of %s: %s", p->name,
                                p->problem ? p->problem : STRERROR(result));
        p->done(p->instance, result, p->problem, p->userdata);
        disk_prepare_free(p);
}

int instance_disk_prepare_async(Instance *i, uint64_t disk_max, InstanceDiskDoneFunc done, void *userdata,
                                Worker **ret) {
        Manager *m = i->manager;
        DiskPrepare *p = g_new0(DiskPrepare, 1);
        int r;

        p->instance = i;
        p->name = g_strdup(i->name);
        p->inst_path = g_build_filename(m->state_dir, "runtime", i->name, NULL);
        p->disk_max = disk_max;
        p->done = done;
        p->userdata = userdata;
        p->inst_fd = openat(m->runtime_fd, i->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (p->inst_fd < 0) {
                r = -errno;
                disk_prepare_free(p);
                return r;
        }
        r = worker_start(m->event, "disk-prepare", disk_prepare_work, disk_prepare_done, p, ret);
        if (r < 0)
                disk_prepare_free(p);
        return r;
}
