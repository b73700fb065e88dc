/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "dlopen-sodium.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "password-hash.h"
#include "worker.h"

/* A crypto_pwhash_str() of a random password that was thrown away, with the
 * parameters password_hash_async() uses, so that verifying against it takes
 * as long as verifying against a real account's hash. */
#define DUMMY_HASH "$argon2id$v=19$m=65536,t=2,p=1$1OzynWjkmjcn+8hyjwUWDA$d1Xgi5KsFX3WrcifwzPAg1CxydCOFyJkXyRr9EIXMoQ"

typedef struct PasswordOp {
        PasswordHasher *hasher;
        bool verify;
        char *password;                 /* wiped before it is freed */
        size_t password_len;
        char hash[crypto_pwhash_STRBYTES];      /* verify: the input; hash: the output */
        Worker *worker;
        PasswordDoneFunc done;
        void *userdata;
        GDestroyNotify free_userdata;
} PasswordOp;

struct PasswordHasher {
        sd_event *event;
        GQueue queued;                  /* PasswordOp* (owned) */
        GPtrArray *running;             /* PasswordOp* (owned) */
};

const char *password_problem(const char *password, size_t len) {
        G_STATIC_ASSERT(PASSWORD_MIN_CHARS == 8 && PASSWORD_MAX_BYTES == 1024);

        if (len > PASSWORD_MAX_BYTES)
                return "A password may be at most 1024 bytes long.";
        if (memchr(password, 0, len))
                return "A password cannot contain a NUL character.";
        if (!g_utf8_validate(password, (gssize) len, NULL))
                return "A password must be UTF-8 text.";
        if (g_utf8_strlen(password, (gssize) len) < PASSWORD_MIN_CHARS)
                return "A password needs at least 8 characters.";
        return NULL;
}

static void op_free(PasswordOp *op) {
        if (!op)
                return;
        op->worker = worker_free(op->worker);
        if (op->password) {
                explicit_bzero(op->password, op->password_len);
                g_free(op->password);
        }
        explicit_bzero(op->hash, sizeof op->hash);
        if (op->free_userdata)
                op->free_userdata(op->userdata);
        g_free(op);
}

int password_hasher_new(sd_event *event, PasswordHasher **ret) {
        PasswordHasher *h;

        assert(event);
        assert(ret);

        h = g_new0(PasswordHasher, 1);
        h->event = sd_event_ref(event);
        g_queue_init(&h->queued);
        h->running = g_ptr_array_new_with_free_func((GDestroyNotify) op_free);
        *ret = h;
        return 0;
}

void password_hasher_free(PasswordHasher *h) {
        PasswordOp *op;

        if (!h)
                return;
        /* Joins the threads still hashing. */
        g_ptr_array_free(h->running, TRUE);
        while ((op = g_queue_pop_head(&h->queued)))
                op_free(op);
        sd_event_unref(h->event);
        g_free(h);
}

unsigned password_hasher_pending(PasswordHasher *h) {
        return h->running->len + h->queued.length;
}

static int op_work(void *userdata) {
        PasswordOp *op = userdata;

        if (op->verify)
                return sym_crypto_pwhash_str_verify(op->hash, op->password, op->password_len) == 0;
        if (sym_crypto_pwhash_str(op->hash, op->password, op->password_len,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
                return -ENOMEM;        /* the only way it fails: no 64 MiB to be had */
        return 0;
}

static void start_queued(PasswordHasher *h);

static void on_op_done(Worker *w, int result, void *userdata) {
        PasswordOp *op = userdata;
        PasswordHasher *h = op->hasher;

        guint index;

        op->worker = worker_free(op->worker);
        if (g_ptr_array_find(h->running, op, &index))
                g_ptr_array_steal_index_fast(h->running, index);
        op->done(result, !op->verify && result >= 0 ? op->hash : NULL, op->userdata);
        op_free(op);
        start_queued(h);
}

static void start_queued(PasswordHasher *h) {
        PasswordOp *op;
        int r;

        while (h->running->len < PASSWORD_HASH_RUNNING_MAX && (op = g_queue_pop_head(&h->queued))) {
                r = worker_start(h->event, "password-hash", op_work, on_op_done, op, &op->worker);
                if (r < 0) {
                        log_error_errno(r, "Cannot start hashing a password: %s", STRERROR(r));
                        op->done(r, NULL, op->userdata);
                        op_free(op);
                        continue;
                }
                g_ptr_array_add(h->running, op);
        }
}

/* libsodium, loaded and initialised on the first password. */
static int load_sodium(void) {
        int r;

        r = dlopen_sodium();
        if (r < 0)
                return r;
        if (sym_sodium_init() < 0)      /* thread-safe; 1 when done before */
                return log_error_errno(EIO, "Cannot initialise libsodium.");
        return 0;
}

static int submit(PasswordHasher *h, bool verify, const char *hash, const char *password, PasswordDoneFunc done,
                  void *userdata, GDestroyNotify free_userdata) {
        PasswordOp *op;
        int r;

        assert(h);
        assert(password);
        assert(done);

        if (h->queued.length >= PASSWORD_HASH_QUEUED_MAX)
                return -EBUSY;
        r = load_sodium();
        if (r < 0)
                return r;

        op = g_new0(PasswordOp, 1);
        op->hasher = h;
        op->verify = verify;
        op->password_len = strlen(password);
        op->password = g_memdup2(password, op->password_len + 1);
        if (verify)
                g_strlcpy(op->hash, hash ? hash : DUMMY_HASH, sizeof op->hash);
        op->done = done;
        op->userdata = userdata;
        op->free_userdata = free_userdata;
        g_queue_push_tail(&h->queued, op);
        start_queued(h);
        return 0;
}

int password_hash_async(PasswordHasher *h, const char *password, PasswordDoneFunc done, void *userdata,
                        GDestroyNotify free_userdata) {
        return submit(h, false, NULL, password, done, userdata, free_userdata);
}

int password_verify_async(PasswordHasher *h, const char *hash, const char *password, PasswordDoneFunc done,
                          void *userdata, GDestroyNotify free_userdata) {
        return submit(h, true, hash, password, done, userdata, free_userdata);
}
