/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/backups/: backups of instances: records and rules, the writer, restore, import and export. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "authorize.h"
#include "backup.h"
#include "bus-util.h"
#include "caller.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* Every backup method: the owner needs owner_action, anyone else
 * org.left4me.admin. */
static int authorize(Manager *m, sd_bus_message *msg, const char *owner_action, const char *verb, const char *name,
                     const char *owner, Actor *ret_actor, sd_bus_error *error) {
        return authorize_call(m, msg, &(AuthorizeRequest) {
                                      .action = owner_action,
                                      .verb = verb,
                                      .kind = "backup",
                                      .name = name,
                                      .owners = { owner },
                              }, ret_actor, error);
}

static int reply_job(sd_bus_message *msg, int r, Job *j, const char *problem, sd_bus_error *error) {
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Queuing the job");
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static int backup_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        int b, r;

        if (strcmp(key, "stop") != 0)
                return 0;
        r = sd_bus_message_read(msg, "v", "b", &b);
        if (r < 0)
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option stop takes a boolean.");
        *(bool *) userdata = b;
        return 1;
}

int backup_method_instance_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        bool stop = false;
        Job *j = NULL;
        int r;

        r = bus_message_read_options(msg, backup_option, &stop, error);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(instance_authorize(i, msg, L4M_ACTION_INSTANCE_CONTROL, "back up", &actor, error));
        r = backup_submit(i->manager, &actor, i, stop, &j, &problem);
        return reply_job(msg, r, j, problem, error);
}

typedef struct ListState {
        Manager *manager;
        sd_bus_message *call;
        sd_bus_message *reply;
} ListState;

static int append_backup(const StoreBackup *b, void *userdata) {
        ListState *s = userdata;

        if (!caller_sees(s->manager, s->call, b->owner))
                return 0;
        return sd_bus_message_append(s->reply, "(tssttb)", b->id, b->instance, b->owner, b->created, b->size,
                                     (int) b->consistent);
}

static int method_list_backups(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        Manager *m = userdata;
        const char *name;
        uint64_t instance_id = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (*name) {
                Instance *i;

                r = caller_find_by_name(m, msg, m->instances_by_name, offsetof(Instance, owner), "instance", name,
                                        (void **) &i, error);
                if (r < 0)
                        return r;
                instance_id = i->id;
        }
        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tssttb)");
        if (r >= 0)
                r = store_backup_foreach(m->db, instance_id, append_backup, &(ListState) { m, msg, reply });
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return bus_error_internal(error, r, "Listing the backups");
        return sd_bus_send(NULL, reply, NULL);
}

/* Backup id: NotFound if there is none or the caller does not see it;
 * else authorize_call() of owner_action for its owner (> 0 go on, 0 a
 * check in flight, < 0 refused). */
static int authorize_backup(Manager *m, sd_bus_message *msg, uint64_t id, const char *owner_action, const char *verb,
                            Actor *ret_actor, sd_bus_error *error) {
        g_autofree char *owner = NULL, *instance = NULL, *name = NULL;
        int r;

        r = backup_lookup(m, id, &owner, &instance);
        if (r == -ENOENT || (r >= 0 && !caller_sees(m, msg, owner)))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "There is no backup %" PRIu64 ".", id);
        if (r < 0)
                return bus_error_internal(error, r, "Looking up the backup");
        name = g_strdup_printf("%" PRIu64 " of instance %s", id, instance);
        return authorize(m, msg, owner_action, verb, name, owner, ret_actor, error);
}

static int method_restore_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        g_auto(Actor) actor = { NULL };
        Manager *m = userdata;
        Job *j = NULL;
        uint64_t id;
        int r;

        r = sd_bus_message_read(msg, "t", &id);
        if (r < 0)
                return r;
        r = bus_message_refuse_options(msg, error);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_backup(m, msg, id, L4M_ACTION_INSTANCE_MANAGE, "restore", &actor, error));
        r = backup_restore_submit(m, &actor, id, &j, &problem);
        return reply_job(msg, r, j, problem, error);
}

static int method_delete_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Manager *m = userdata;
        uint64_t id;
        int r;

        r = sd_bus_message_read(msg, "t", &id);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_backup(m, msg, id, L4M_ACTION_INSTANCE_MANAGE, "delete", NULL, error));
        r = backup_delete(m, id, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Deleting the backup");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_export_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        _cleanup_close_ int fd = -1;
        Manager *m = userdata;
        uint64_t id;
        int r;

        r = sd_bus_message_read(msg, "t", &id);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_backup(m, msg, id, L4M_ACTION_READ, "export", NULL, error));
        r = backup_open(m, id, &fd, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Opening the backup");
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int method_import_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        _cleanup_close_ int fd = -1;
        Manager *m = userdata;
        const char *name;
        Instance *i;
        Job *j = NULL;
        int passed, r;

        r = bus_message_read_name(msg, "instance", &name, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "h", &passed);
        if (r < 0)
                return r;
        r = bus_message_refuse_options(msg, error);
        if (r < 0)
                return r;
        r = caller_find_by_name(m, msg, m->instances_by_name, offsetof(Instance, owner), "instance", name, (void **) &i,
                                error);
        if (r < 0)
                return r;
        r = bus_check_input_fd(passed, error);
        if (r < 0)
                return r;

        RETURN_UNLESS_AUTHORIZED(instance_authorize(i, msg, L4M_ACTION_INSTANCE_MANAGE, "import a backup into", &actor,
                                                    error));
        fd = fcntl(passed, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return bus_error_internal(error, -errno, "Keeping the passed file descriptor");
        r = backup_import_submit(m, &actor, i, l4m_take_fd(&fd), &j, &problem);
        return reply_job(msg, r, j, problem, error);
}

const sd_bus_vtable backup_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListBackups",
                                SD_BUS_ARGS("s", instance),
                                SD_BUS_RESULT("a(tssttb)", backups),
                                method_list_backups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreBackup",
                                SD_BUS_ARGS("t", id, "a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                method_restore_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteBackup",
                                SD_BUS_ARGS("t", id),
                                SD_BUS_NO_RESULT,
                                method_delete_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExportBackup",
                                SD_BUS_ARGS("t", id),
                                SD_BUS_RESULT("h", archive),
                                method_export_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportBackup",
                                SD_BUS_ARGS("s", instance, "h", archive, "a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                method_import_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
