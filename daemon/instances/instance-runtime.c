/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "instance-disk.h"
#include "instance-runtime.h"
#include "l4m-instance-env.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"

#define INSTANCE_DIR_MODE 0711
#define GAME_DIR_MODE 0755
/* upper/ and work/: the server's uid alone (and root). The merged root
 * takes upper/'s owner and mode, so the server keeps its cwd. */
#define SERVER_DIR_MODE 0700
#define ROOT_DIR_MODE 0755
#define SERVER_CFG_MODE 0640

char *instance_server_cfg_text(const char *name, const char *server_cfg, const char *hostname,
                               const char *rcon_password) {
        GString *s = g_string_new(NULL);

        g_string_append_printf(s, "// Written by left4med at each start of instance %s; changes here are lost.\n", name);
        if (server_cfg && *server_cfg) {
                g_string_append(s, "// The blueprint's ServerCfg:\n");
                g_string_append(s, server_cfg);
                if (!g_str_has_suffix(server_cfg, "\n"))
                        g_string_append_c(s, '\n');
        }
        g_string_append(s, "// Set by left4me, last so that nothing above changes them:\n");
        if (hostname && *hostname)
                g_string_append_printf(s, "hostname \"%s\"\n", hostname);
        g_string_append_printf(s, "rcon_password \"%s\"\n", rcon_password);
        return g_string_free(s, FALSE);
}

int instance_generate_password(char **ret) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        char *p = g_malloc(INSTANCE_RCON_PASSWORD_LEN + 1);
        size_t n = 0;

        /* Rejection sampling keeps every character equally likely. */
        while (n < INSTANCE_RCON_PASSWORD_LEN) {
                unsigned char buf[64];
                ssize_t k = getrandom(buf, sizeof buf, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        g_free(p);
                        return -errno;
                }
                for (ssize_t j = 0; j < k && n < INSTANCE_RCON_PASSWORD_LEN; j++)
                        if (buf[j] < 248)       /* 4 × 62 */
                                p[n++] = alphabet[buf[j] % 62];
        }
        p[n] = '\0';
        *ret = p;
        return 0;
}

static int bind_probe(int type, uint16_t port) {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
        struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
        _cleanup_close_ int fd = -1;
        int one = 1;

        /* IPv4 first: servers bind 0.0.0.0. */
        fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A closed connection in TIME_WAIT does not make the port busy. */
        if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &a4, sizeof a4) < 0)
                return errno == EADDRINUSE ? -EADDRINUSE : -errno;
        l4m_close_fdp(&fd);
        fd = -1;

        fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errno == EAFNOSUPPORT ? 0 : -errno;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
                return -errno;
        if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0)
                return errno == EADDRINUSE ? -EADDRINUSE : (errno == EADDRNOTAVAIL ? 0 : -errno);
        return 0;
}

int instance_port_check_free(uint16_t port) {
        int r = bind_probe(SOCK_DGRAM, port);

        if (r < 0)
                return r;
        return bind_probe(SOCK_STREAM, port);
}

/* A directory of the server's uid: made if missing, handed over if not
 * already its. One that another uid owns was the server's under that uid
 * (every server ran as left4me-game before each had its own): what that
 * uid owns in it becomes this one's, what root owns (copied up from the
 * layers) stays root's. The top changes last, so a walk cut short is done
 * again at the next start. */
static int open_game_dir(int dir_fd, const char *name, unsigned mode, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open_or_create_dir_at(dir_fd, name, mode);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != uid && st.st_uid != 0) {
                int r;

                log_info("Handing %s over from uid %u to %u.", name, (unsigned) st.st_uid, (unsigned) uid);
                r = chown_tree_fd(fd, st.st_uid, st.st_gid != 0 ? st.st_gid : (gid_t) -1, uid, gid);
                if (r < 0)
                        return r;
                if (fstat(fd, &st) < 0)
                        return -errno;
        }
        if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
                return -errno;
        if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
                return -errno;
        return l4m_take_fd(&fd);
}

/* A root directory: made if missing; one that is not root's or is
 * writable by others is refused (nobody else ever gets to make one). */
static int open_root_dir(int dir_fd, const char *name, unsigned mode) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open_or_create_dir_at(dir_fd, name, mode);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        return l4m_take_fd(&fd);
}

/* Replaces dir_fd/name with text: a temporary file renamed into place, so
 * that the helper never reads half a file. No fsync: every start writes
 * the file afresh, so one lost in a crash costs nothing. */
static int replace_file_at(int dir_fd, const char *name, const char *text, unsigned mode, gid_t gid) {
        return write_file_atomic_at(dir_fd, name, text, strlen(text), mode, 0, gid, false);
}

/* upper/left4dead2/cfg/server.cfg, if the server wrote one: it would hide
 * the generated file. Reached without following links the game user could
 * have planted; anything but a directory on the way means there is none. */
static int remove_upper_server_cfg(int upper_fd) {
        _cleanup_close_ int game_fd = -1, cfg_fd = -1;

        game_fd = openat(upper_fd, "left4dead2", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (game_fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
        cfg_fd = openat(game_fd, "cfg", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfg_fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
        if (unlinkat(cfg_fd, "server.cfg", 0) < 0 && errno != ENOENT) {
                if (errno != EISDIR)
                        return -errno;
                /* A directory in its place: remove it as a tree. */
                return rm_rf_at(cfg_fd, "server.cfg");
        }
        return 0;
}

static int fail_with(char **ret_error, int r, const char *format, ...) G_GNUC_PRINTF(3, 4);
static int fail_with(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                g_autofree char *what = NULL;

                va_start(ap, format);
                what = g_strdup_vprintf(format, ap);
                va_end(ap);
                *ret_error = g_strdup_printf("%s: %s", what, STRERROR(r));
        }
        return r;
}

int instance_runtime_prepare(Instance *i, const Blueprint *b, uid_t game_uid, gid_t game_gid, char **ret_error) {
        Manager *m = i->manager;
        _cleanup_close_ int inst_fd = -1, upper_fd = -1, work_fd = -1, merged_fd = -1, config_fd = -1,
                            game_fd = -1, cfg_fd = -1, upper_game_fd = -1, upper_cfg_fd = -1;
        g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *text = NULL, *env_error = NULL;
        bool has_image;
        int r;

        assert(l4m_name_is_valid(i->name));

        inst_fd = open_root_dir(m->runtime_fd, i->name, INSTANCE_DIR_MODE);
        if (inst_fd < 0)
                return fail_with(ret_error, inst_fd, "Cannot open runtime/%s", i->name);
        if (fchmod(inst_fd, INSTANCE_DIR_MODE) < 0)
                return fail_with(ret_error, -errno, "Cannot set the mode of runtime/%s", i->name);
        /* With a disk image (instance-disk.h) upper/ and work/ are in it,
         * and the helper removes a server.cfg there. */
        has_image = instance_disk_has_image_at(inst_fd);
        if (!has_image) {
                upper_fd = open_game_dir(inst_fd, "upper", SERVER_DIR_MODE, game_uid, game_gid);
                if (upper_fd < 0)
                        return fail_with(ret_error, upper_fd, "Cannot prepare runtime/%s/upper", i->name);
                work_fd = open_game_dir(inst_fd, "work", SERVER_DIR_MODE, game_uid, game_gid);
                if (work_fd < 0)
                        return fail_with(ret_error, work_fd, "Cannot prepare runtime/%s/work", i->name);
        }
        merged_fd = open_root_dir(inst_fd, "merged", ROOT_DIR_MODE);
        if (merged_fd < 0)
                return fail_with(ret_error, merged_fd, "Cannot prepare runtime/%s/merged", i->name);

        /* The config layer: only root writes below config/. */
        config_fd = open_root_dir(inst_fd, "config", ROOT_DIR_MODE);
        if (config_fd >= 0)
                game_fd = open_root_dir(config_fd, "left4dead2", ROOT_DIR_MODE);
        if (game_fd >= 0)
                cfg_fd = open_root_dir(game_fd, "cfg", ROOT_DIR_MODE);
        r = config_fd < 0 ? config_fd : game_fd < 0 ? game_fd : cfg_fd;
        if (r < 0)
                return fail_with(ret_error, r, "Cannot prepare runtime/%s/config/left4dead2/cfg", i->name);
        text = instance_server_cfg_text(i->name, b->server_cfg, i->hostname, i->rcon_password);
        /* The RCON password is in there: the game user's group reads it,
         * through the mount; nobody else. */
        r = replace_file_at(cfg_fd, "server.cfg", text, SERVER_CFG_MODE, game_gid);
        if (r < 0)
                return fail_with(ret_error, r, "Cannot write runtime/%s/config/left4dead2/cfg/server.cfg", i->name);
        /* The merged game directory takes its owner from upper/'s copy: the
         * server may write below left4dead2/ (logs, downloads) whoever
         * owns the layers' copies. */
        if (!has_image) {
                upper_game_fd = open_game_dir(upper_fd, "left4dead2", GAME_DIR_MODE, game_uid, game_gid);
                if (upper_game_fd < 0)
                        return fail_with(ret_error, upper_game_fd, "Cannot prepare runtime/%s/upper/left4dead2", i->name);
                /* And cfg/, where the game writes banned_user.cfg and banned_ip.cfg:
                 * the config layer's (root's) would else decide who may. Its
                 * server.cfg stays the config layer's: the server's own copy goes
                 * below, at each start. */
                upper_cfg_fd = open_game_dir(upper_game_fd, "cfg", GAME_DIR_MODE, game_uid, game_gid);
                if (upper_cfg_fd < 0)
                        return fail_with(ret_error, upper_cfg_fd, "Cannot prepare runtime/%s/upper/left4dead2/cfg", i->name);
                r = remove_upper_server_cfg(upper_fd);
                if (r < 0)
                        return fail_with(ret_error, r, "Cannot remove the server's own runtime/%s/upper/left4dead2/cfg/server.cfg",
                                         i->name);
        }

        for (guint k = 0; k < b->overlays->len; k++)
                g_ptr_array_add(layers, l4m_instance_env_overlay_layer(g_array_index(b->overlays, uint64_t, k)));
        g_ptr_array_add(layers, l4m_instance_env_config_layer(i->name));
        g_ptr_array_add(layers, g_strdup(L4M_INSTANCE_ENV_INSTALLATION));
        r = l4m_instance_env_write_at(inst_fd, i->name, (char *const *) layers->pdata, layers->len, &env_error);
        if (r < 0) {
                if (ret_error)
                        *ret_error = g_strdup_printf("Cannot write runtime/%s/" L4M_INSTANCE_ENV_FILE ": %s", i->name,
                                                     env_error ? env_error : STRERROR(r));
                return r;
        }
        return 0;
}

static bool is_mount_point_at(int inst_fd, const char *name) {
        struct statx stx;

        return statx(inst_fd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
               (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Whether inst_fd/merged, or the disk image at inst_fd/disk (under it),
 * is a mount point. */
static bool merged_is_mounted(int inst_fd) {
        return is_mount_point_at(inst_fd, "merged") || is_mount_point_at(inst_fd, INSTANCE_DISK_MOUNT);
}

bool instance_runtime_mounted(Manager *m, const char *name) {
        _cleanup_close_ int inst_fd = -1;

        inst_fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return inst_fd >= 0 && merged_is_mounted(inst_fd);
}

int instance_runtime_remove(Manager *m, const char *name) {
        _cleanup_close_ int inst_fd = -1;

        assert(l4m_name_is_valid(name));
        inst_fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno != ENOTDIR && errno != ELOOP)
                        return -errno;
                /* Not a directory: nothing can be mounted in it. */
                return unlinkat(m->runtime_fd, name, 0) < 0 ? -errno : 0;
        }
        /* A stack still mounted (a stop whose ExecStopPost= never ran):
         * removing would reach into the server's files and the layers. */
        if (merged_is_mounted(inst_fd))
                return -EBUSY;
        /* upper/ holds whatever the server wrote, of any size and number
         * of files: removed in a thread, after a rename out of the way
         * (the start-up sweep finishes what a restart interrupts). */
        return rm_rf_in_background(m->runtime_fd, name);
}

/* Adds the owners but root of what dir_fd/name holds: upper/ and work/,
 * and in a tree being removed the directories rm_rf_at() lifted up from
 * deep inside upper/. */
static void add_owners(int dir_fd, const char *name, GHashTable *uids) {
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d)
                return;
        l4m_take_fd(&fd);
        while ((de = readdir(d))) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && st.st_uid != 0)
                        g_hash_table_add(uids, GUINT_TO_POINTER(st.st_uid));
        }
        closedir(d);
}

uid_t instance_runtime_server_uid(Manager *m, const char *name, uid_t uid) {
        _cleanup_close_ int inst_fd = -1;
        struct stat st;

        assert(l4m_name_is_valid(name));
        inst_fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0 || fstatat(inst_fd, "upper", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid == 0)
                return uid;
        return st.st_uid;
}

int instance_runtime_uids_in_use(Manager *m, GHashTable *uids) {
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = openat(m->runtime_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        l4m_take_fd(&fd);
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                add_owners(dirfd(d), de->d_name, uids);
        }
        if (errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

int instance_runtime_stacked_overlays(Manager *m, const char *name, GArray **ret) {
        g_autoptr(L4mInstanceEnv) env = NULL;
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        _cleanup_close_ int inst_fd = -1;
        int r;

        assert(l4m_name_is_valid(name));
        inst_fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0)
                return -errno;
        /* Only the daemon (root) writes it; the helper reads the same. */
        r = l4m_instance_env_read_at(inst_fd, 0, name, &env, NULL);
        if (r < 0)
                return r;
        for (size_t k = 0; k < env->n_layers; k++) {
                const char *layer = env->layers[k];
                uint64_t id;

                if (g_str_has_prefix(layer, "overlays/") && parse_id(layer + strlen("overlays/"), &id) >= 0)
                        g_array_append_val(ids, id);
        }
        *ret = g_steal_pointer(&ids);
        return 0;
}

/* Whether an entry of runtime/ named name belongs to no instance row: a
 * removal a restart interrupted (".trash-*"), or a directory whose row is
 * gone. */
static bool runtime_entry_is_stray(Manager *m, const char *name) {
        return !l4m_name_is_valid(name) || !g_hash_table_contains(m->instances_by_name, name);
}

int manager_sweep_runtime_dirs(Manager *m) {
        g_autoptr(GPtrArray) stray = g_ptr_array_new_with_free_func(g_free);
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = openat(m->runtime_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open runtime/: %s", STRERROR(errno));
        d = fdopendir(fd);
        if (!d)
                return log_error_errno(errno, "Cannot read runtime/: %s", STRERROR(errno));
        l4m_take_fd(&fd);

        /* Collect first, remove after: no changes while the listing runs. */
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (runtime_entry_is_stray(m, de->d_name))
                        g_ptr_array_add(stray, g_strdup(de->d_name));
        }
        if (errno != 0)
                r = log_error_errno(errno, "Cannot read runtime/: %s", STRERROR(errno));
        closedir(d);

        for (guint k = 0; k < stray->len; k++) {
                const char *name = stray->pdata[k];
                g_autofree char *field = g_strconcat("L4M_SWEPT=runtime/", name, NULL);
                _cleanup_close_ int inst_fd = -1;
                int q;

                /* Never pull a directory out from under a mounted stack. */
                inst_fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (inst_fd >= 0 && merged_is_mounted(inst_fd)) {
                        log_warning("Leaving runtime/%s, which has no instance row: its merged/ is a mount point.", name);
                        continue;
                }
                q = rm_rf_in_background(m->runtime_fd, name);
                if (q < 0)
                        r = log_error_errno(q, "Cannot remove runtime/%s, which has no instance row: %s", name, STRERROR(q));
                else
                        log_struct_errno(LOG_NOTICE, 0,
                                         ((const char *[]) { "L4M_EVENT=runtime-dir-swept", field, NULL }),
                                         "Removing runtime/%s: no instance row refers to it.", name);
        }
        return r;
}
