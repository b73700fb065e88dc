/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#include <assert.h>
#include <errno.h>
#include <string.h>


#include "authorize.h"
#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "delegation.h"
#include "instance.h"
#include "job.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "manager.h"
#include "password-hash.h"
#include "store.h"

/* Login calls being answered (waiting out a delay or a hash), in all, per
 * connection and per account name; beyond that, Busy. The bound per
 * account keeps those guessing one account's password, whose attempts wait
 * out long delays, from taking every slot and so blocking everyone's
 * logins. */
#define LOGINS_PENDING_MAX 64u
#define LOGINS_PENDING_PER_CONNECTION_MAX 4u
#define LOGINS_PENDING_PER_ACCOUNT_MAX 2u

/* How much of a name a caller sent goes into a log line. */
#define LOGGED_NAME_MAX 64

#define LOGIN_REFUSED_TEXT "Wrong user name or password."

struct Login {
        Manager *manager;
        sd_bus_message *call;
        char *sender;
        char *user;                     /* NULL if the name given is no valid account name */
        char *user_for_log;             /* the name given, cut and escaped */
        char *hash;                     /* the account's hash the password is checked against */
        char *password;                 /* wiped before it is freed */
        size_t password_len;
        sd_event_source *delay;
};

void login_free(Login *l) {
        if (!l)
                return;
        sd_event_source_disable_unref(l->delay);
        sd_bus_message_unref(l->call);
        if (l->password) {
                explicit_bzero(l->password, l->password_len);
                g_free(l->password);
        }
        g_free(l->sender);
        g_free(l->user);
        g_free(l->user_for_log);
        g_free(l->hash);
        g_free(l);
}

/* What a caller sent as a name, fit for a log line: the first
 * LOGGED_NAME_MAX bytes, with control characters, quotes, backslashes and
 * non-ASCII bytes escaped. */
static char *name_for_log(const char *name) {
        g_autofree char *head = g_strndup(name, LOGGED_NAME_MAX);

        return g_strescape(head, NULL);
}

static void login_finish(Login *l) {
        g_hash_table_remove(l->manager->logins, l);
}

/* Answers the Login with an error and forgets it; returns 0. */
static int login_reply_error(Login *l, const char *name, const char *text) {
        int r = sd_bus_reply_method_error(l->call, &SD_BUS_ERROR_MAKE_CONST(name, text));

        if (r < 0)
                log_debug_errno(r, "Cannot answer Login of %s: %s", l->sender, STRERROR(r));
        login_finish(l);
        return 0;
}

static int login_failed(Login *l) {
        Manager *m = l->manager;
        uint64_t now = (uint64_t) g_get_monotonic_time();

        if (l->user)
                login_throttle_failure(m->login_failures_by_user, l->user, now);
        login_throttle_failure(m->login_failures_by_connection, l->sender, now);
        log_notice("Failed web login as \"%s\"%s from %s.", l->user_for_log,
                   l->user ? "" : " (not a valid account name)", l->sender);
        return login_reply_error(l, SD_BUS_ERROR_ACCESS_DENIED, LOGIN_REFUSED_TEXT);
}

static int login_verified(Login *l, int result) {
        g_autofree char *role_text = NULL, *hash = NULL;
        Manager *m = l->manager;
        WebRole role;
        int r;

        if (result < 0) {
                log_error_errno(result, "Cannot verify a password: %s", STRERROR(result));
                return login_reply_error(l, L4M_ERROR_FAILED, "The password could not be checked.");
        }
        if (result == 0 || !l->user)
                return login_failed(l);

        /* The account may have gone, or its password changed (revoking
         * its sessions), while the password was checked. */
        r = store_user_get(m->db, l->user, &role_text, &hash);
        if (r == -ENOENT || (r >= 0 && g_strcmp0(hash, l->hash) != 0))
                return login_failed(l);
        if (r < 0)
                return login_reply_error(l, L4M_ERROR_FAILED, "The web account could not be read.");
        role = web_role_from_string(role_text);
        if (role < 0)
                return login_reply_error(l, L4M_ERROR_FAILED, "The web account has an unknown role.");

        r = delegation_add(m->delegations, l->sender, l->user, role);
        if (r == -EEXIST)
                return login_reply_error(l, L4M_ERROR_INVALID_ARGUMENT, "This connection has logged in already.");
        if (r == -EBUSY)
                return login_reply_error(l, L4M_ERROR_BUSY, "Too many web sessions; try again later.");
        if (r < 0)
                return login_reply_error(l, L4M_ERROR_FAILED, "The web session could not be set up.");

        login_throttle_success(m->login_failures_by_user, l->user);
        login_throttle_success(m->login_failures_by_connection, l->sender);
        log_info("Web account %s (%s) logged in on %s.", l->user, role_text, l->sender);

        r = sd_bus_reply_method_return(l->call, "s", web_role_to_string(role));
        if (r < 0)
                log_debug_errno(r, "Cannot answer Login of %s: %s", l->sender, STRERROR(r));
        login_finish(l);
        return 0;
}

static void on_login_verified(int result, const char *hash, void *userdata) {
        (void) login_verified(userdata, result);
}

static int login_verify(Login *l) {
        int r;

        /* An unknown account is checked against a dummy hash: the answer
         * takes as long as for a known one. */
        if (l->user) {
                r = store_user_get(l->manager->db, l->user, NULL, &l->hash);
                if (r < 0 && r != -ENOENT)
                        return login_reply_error(l, L4M_ERROR_FAILED, "The web account could not be read.");
        }
        r = password_verify_async(l->manager->password_hasher, l->hash, l->password, on_login_verified, l, NULL);
        if (r == -EBUSY)
                return login_reply_error(l, L4M_ERROR_BUSY, "Too many passwords are being checked; try again.");
        if (r < 0)
                return login_reply_error(l, L4M_ERROR_FAILED, "The password could not be checked.");
        return 0;
}

static int on_login_delay(sd_event_source *s, uint64_t usec, void *userdata) {
        Login *l = userdata;

        l->delay = sd_event_source_disable_unref(l->delay);
        return login_verify(l);
}

/* Logins pending from sender, or (sender NULL) for account user. */
static unsigned logins_pending(Manager *m, const char *sender, const char *user) {
        GHashTableIter it;
        gpointer key;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->logins);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                const Login *l = key;

                if (sender ? strcmp(l->sender, sender) == 0 : g_strcmp0(l->user, user) == 0)
                        n++;
        }
        return n;
}

static int method_login(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *user, *password, *sender;
        uint64_t delay, d, now;
        Login *l;
        int r;

        r = sd_bus_message_read(msg, "ss", &user, &password);
        if (r < 0)
                return r;
        sender = sd_bus_message_get_sender(msg);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Caller has no bus name.");
        if (delegation_find(m->delegations, sender))
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                        "This connection has logged in already; each connection logs in once.");

        r = polkit_verify(m->polkit, msg, L4M_ACTION_DELEGATE, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        if (g_hash_table_size(m->logins) >= LOGINS_PENDING_MAX ||
            logins_pending(m, sender, NULL) >= LOGINS_PENDING_PER_CONNECTION_MAX)
                return sd_bus_error_set(error, L4M_ERROR_BUSY, "Too many logins in progress; try again.");
        now = (uint64_t) g_get_monotonic_time();
        if (l4m_name_is_valid(user) && logins_pending(m, NULL, user) >= LOGINS_PENDING_PER_ACCOUNT_MAX) {
                delay = login_throttle_delay(m->login_failures_by_user, user, now);
                return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                         "Too many login attempts for this account; try again in %" G_GUINT64_FORMAT " s.",
                                         MAX(delay, G_USEC_PER_SEC) / G_USEC_PER_SEC);
        }

        l = g_new0(Login, 1);
        l->manager = m;
        l->call = sd_bus_message_ref(msg);
        l->sender = g_strdup(sender);
        l->user = l4m_name_is_valid(user) ? g_strdup(user) : NULL;
        l->user_for_log = name_for_log(user);
        l->password_len = strlen(password);
        l->password = g_memdup2(password, l->password_len + 1);
        g_hash_table_add(m->logins, l);

        /* No account has such a password: refused without hashing what
         * could be megabytes. */
        if (password_problem(l->password, l->password_len)) {
                (void) login_failed(l);
                return 1;
        }

        /* Recent failures for this account or on this connection: the
         * answer waits (a timer; the event loop goes on). */
        delay = login_throttle_delay(m->login_failures_by_connection, sender, now);
        if (l->user) {
                d = login_throttle_delay(m->login_failures_by_user, l->user, now);
                if (d > delay)
                        delay = d;
        }
        if (delay == 0) {
                (void) login_verify(l);
                return 1;
        }

        r = sd_event_add_time_relative(m->event, &l->delay, CLOCK_MONOTONIC, delay, 0, on_login_delay, l);
        if (r < 0) {
                log_error_errno(r, "Cannot delay a login: %s", STRERROR(r));
                (void) login_reply_error(l, L4M_ERROR_FAILED, "The login could not be handled.");
                return 1;
        }
        (void) sd_event_source_set_description(l->delay, "login-delay");
        log_debug("Login%s%s from %s waits %" G_GUINT64_FORMAT " ms after recent failures.",
                  l->user ? " as " : "", l->user ? l->user : "", sender, delay / 1000);
        return 1;
}

/* --- account administration --------------------------------------------- */

/* CreateUser and SetPassword once the new password is hashed. */
typedef struct UserWrite {
        Manager *manager;
        sd_bus_message *call;
        char *name;
        char *role;                     /* NULL: SetPassword */
} UserWrite;

static void user_write_free(UserWrite *w) {
        if (!w)
                return;
        sd_bus_message_unref(w->call);
        g_free(w->name);
        g_free(w->role);
        g_free(w);
}

/* Revokes the sessions logged in as account, but the connection except
 * (NULL for none), and names them in SessionsRevoked so that the bridge
 * ends them too. */
static void revoke_sessions(Manager *m, const char *account, const char *except, const char *why) {
        g_autoptr(sd_bus_message) signal = NULL;
        g_auto(GStrv) senders = NULL;
        unsigned n;
        int r;

        n = delegation_revoke_account(m->delegations, account, except, &senders);
        log_info("Web account %s %s; %u session(s) revoked.", account, why, n);
        if (n == 0 || !m->bus)
                return;

        r = sd_bus_message_new_signal(m->bus, &signal, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "SessionsRevoked");
        if (r >= 0)
                r = sd_bus_message_append(signal, "s", account);
        if (r >= 0)
                r = sd_bus_message_append_strv(signal, senders);
        if (r >= 0)
                r = sd_bus_send(m->bus, signal, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot announce the revoked sessions of %s: %s", account, STRERROR(r));
}

static void on_password_hashed(int result, const char *hash, void *userdata) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        UserWrite *w = userdata;
        int r;

        if (result < 0)
                r = bus_error_internal(&error, result, "Hashing the password");
        else if (w->role) {
                StoreUser u = {
                        .name = w->name,
                        .role = w->role,
                        .password_hash = hash,
                        .created = (uint64_t) g_get_real_time(),
                };

                r = store_user_insert(w->manager->db, &u);
                if (r == -EEXIST)
                        r = sd_bus_error_setf(&error, L4M_ERROR_EXISTS, "Web account \"%s\" already exists.", w->name);
                else if (r < 0)
                        r = bus_error_internal(&error, r, "Storing the web account");
                else
                        log_info("Web account %s (%s) created.", w->name, w->role);
        } else {
                r = store_user_set_password(w->manager->db, w->name, hash);
                if (r == -ENOENT)
                        r = sd_bus_error_setf(&error, L4M_ERROR_NOT_FOUND, "No web account \"%s\".", w->name);
                else if (r < 0)
                        r = bus_error_internal(&error, r, "Storing the password");
                else
                        /* A session changing its own password keeps
                         * itself; every other one must log in again. */
                        revoke_sessions(w->manager, w->name, sd_bus_message_get_sender(w->call), "has a new password");
        }

        r = r < 0 ? sd_bus_reply_method_error(w->call, &error) : sd_bus_reply_method_return(w->call, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot answer a web account call: %s", STRERROR(r));
}

static int hash_then_write(Manager *m, sd_bus_message *msg, const char *name, const char *role, const char *password,
                           sd_bus_error *error) {
        UserWrite *w = g_new0(UserWrite, 1);
        int r;

        w->manager = m;
        w->call = sd_bus_message_ref(msg);
        w->name = g_strdup(name);
        w->role = g_strdup(role);
        r = password_hash_async(m->password_hasher, password, on_password_hashed, w, (GDestroyNotify) user_write_free);
        if (r < 0) {
                user_write_free(w);
                if (r == -EBUSY)
                        return sd_bus_error_set(error, L4M_ERROR_BUSY, "Too many passwords are being hashed; try again.");
                return bus_error_internal(error, r, "Hashing the password");
        }
        return 1;
}

static int check_account_name(const char *name, sd_bus_error *error) {
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid web account name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                            name, L4M_NAME_MAX);
        return 0;
}

static int check_password(const char *password, sd_bus_error *error) {
        const char *problem = password_problem(password, strlen(password));

        if (problem)
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, problem);
        return 0;
}

/* Managing web accounts is administration. */
static int authorize_admin(Manager *m, sd_bus_message *msg, const char *verb, const char *kind, const char *name,
                           sd_bus_error *error) {
        return authorize_call(m, msg, &(AuthorizeRequest) {
                                      .action = L4M_ACTION_ADMIN,
                                      .verb = verb,
                                      .kind = kind,
                                      .name = name,
                              }, NULL, error);
}

/* 1 if the account exists, 0 if not, < 0 (error set) if the store fails. */
static int account_exists(Manager *m, const char *name, sd_bus_error *error) {
        int r = store_user_get(m->db, name, NULL, NULL);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return bus_error_internal(error, r, "Reading the web account");
        return 1;
}

static int method_create_user(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *password, *role;
        int r;

        r = sd_bus_message_read(msg, "sss", &name, &password, &role);
        if (r < 0)
                return r;
        r = check_account_name(name, error);
        if (r < 0)
                return r;
        r = check_password(password, error);
        if (r < 0)
                return r;
        if (web_role_from_string(role) < 0)
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid role \"%.32s\": expected user or admin.", role);

        RETURN_UNLESS_AUTHORIZED(authorize_admin(m, msg, "create", "web account", name, error));

        r = account_exists(m, name, error);
        if (r < 0)
                return r;
        if (r > 0)
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Web account \"%s\" already exists.", name);
        return hash_then_write(m, msg, name, role, password, error);
}

static int method_set_password(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const Delegation *d;
        const char *name, *password;
        bool own;
        int r;

        r = sd_bus_message_read(msg, "ss", &name, &password);
        if (r < 0)
                return r;
        r = check_account_name(name, error);
        if (r < 0)
                return r;
        r = check_password(password, error);
        if (r < 0)
                return r;

        /* A web session changes its own account's password; any other
         * is administration. */
        d = caller_delegation(m, msg);
        own = d && strcmp(d->account, name) == 0;
        r = authorize_call(m, msg, &(AuthorizeRequest) {
                                   .action = own ? L4M_ACTION_READ : L4M_ACTION_ADMIN,
                                   .verb = "set the password of",
                                   .kind = "web account",
                                   .name = name,
                           }, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = account_exists(m, name, error);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No web account \"%s\".", name);
        return hash_then_write(m, msg, name, NULL, password, error);
}

static unsigned count_active_jobs_of(Manager *m, const char *owner) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const Job *j = value;

                if (job_state_is_active(j->state) && strcmp(j->owner, owner) == 0)
                        n++;
        }
        return n;
}

static int method_delete_user(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *principal = NULL;
        const Delegation *d;
        Manager *m = userdata;
        unsigned overlays, blueprints, instances, jobs;
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = check_account_name(name, error);
        if (r < 0)
                return r;

        /* The session would go with it, in the middle of what it does. */
        d = caller_delegation(m, msg);
        if (d && strcmp(d->account, name) == 0)
                return sd_bus_error_set(error, L4M_ERROR_BUSY, "You cannot delete the account you are logged in with.");

        RETURN_UNLESS_AUTHORIZED(authorize_admin(m, msg, "delete", "web account", name, error));

        r = account_exists(m, name, error);
        if (r < 0)
                return r;
        if (r == 0)
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No web account \"%s\".", name);

        /* What it owns would be left to a principal nobody can act as. */
        principal = g_strconcat(WEB_PRINCIPAL_PREFIX, name, NULL);
        overlays = manager_count_overlays_of(m, principal);
        blueprints = manager_count_blueprints_of(m, principal);
        instances = manager_count_instances_of(m, principal);
        jobs = count_active_jobs_of(m, principal);
        if (overlays + blueprints + instances + jobs > 0)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                         "Web account \"%s\" still owns %u overlay(s), %u blueprint(s), %u instance(s) "
                                         "and %u running job(s); delete or cancel them first.",
                                         name, overlays, blueprints, instances, jobs);

        r = store_user_delete(m->db, name);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No web account \"%s\".", name);
        if (r < 0)
                return bus_error_internal(error, r, "Deleting the web account");

        revoke_sessions(m, name, NULL, "deleted");
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_user(const StoreUser *u, void *userdata) {
        return sd_bus_message_append(userdata, "(sst)", u->name, u->role, u->created);
}

static int method_list_users(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        Manager *m = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_admin(m, msg, "list", "web accounts", "(all)", error));

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sst)");
        if (r >= 0)
                r = store_user_foreach(m->db, append_user, reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return bus_error_internal(error, r, "Listing web accounts");
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable user_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Login",
                                SD_BUS_ARGS("s", user, "s", password),
                                SD_BUS_RESULT("s", role),
                                method_login, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("CreateUser",
                                SD_BUS_ARGS("s", name, "s", password, "s", role),
                                SD_BUS_NO_RESULT,
                                method_create_user, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("SetPassword",
                                SD_BUS_ARGS("s", name, "s", password),
                                SD_BUS_NO_RESULT,
                                method_set_password, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("DeleteUser",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_NO_RESULT,
                                method_delete_user, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListUsers",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sst)", users),
                                method_list_users, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("SessionsRevoked", SD_BUS_ARGS("s", user, "as", connections), 0),
        SD_BUS_VTABLE_END
};
