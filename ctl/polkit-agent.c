/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "l4m-log.h"
#include "l4m-util.h"
#include "polkit-agent.h"

#define PKTTYAGENT_NAME "pkttyagent"
#define PKTTYAGENT_FALLBACK_PATH "/usr/bin/pkttyagent"

static pid_t agent_pid = 0;

static char *find_agent(void) {
        char *p = g_find_program_in_path(PKTTYAGENT_NAME);

        if (p)
                return p;
        if (access(PKTTYAGENT_FALLBACK_PATH, X_OK) == 0)
                return g_strdup(PKTTYAGENT_FALLBACK_PATH);
        return NULL;
}

/* Move fd above stdin/stdout/stderr (close-on-exec), so that the child's
 * standard streams can never be mistaken for it. */
static int fd_move_above_stdio(int fd) {
        int copy;

        if (fd > STDERR_FILENO)
                return fd;
        copy = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (copy < 0)
                return -errno;
        (void) close(fd);
        return copy;
}

/* In the child, between fork() and exec(): only async-signal-safe calls. */
static void close_all_fds_but(int keep) {
        assert(keep > STDERR_FILENO);

        if (keep > STDERR_FILENO + 1 &&
            close_range(STDERR_FILENO + 1, (unsigned) keep - 1, 0) < 0)
                goto fallback;
        if (close_range((unsigned) keep + 1, UINT_MAX, 0) < 0)
                goto fallback;
        return;

fallback: {
        struct rlimit rl;
        int max = 65536;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX)
                max = (int) rl.rlim_cur;
        for (int fd = STDERR_FILENO + 1; fd < max; fd++)
                if (fd != keep)
                        (void) close(fd);
        }
}

static _Noreturn void exec_agent(const char *path, char *const argv[], int notify_fd, pid_t parent) {
        /* Die with us, and don't outlive a parent that died already. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);

        /* The notify fd is the only descriptor besides stdio the agent
         * gets; it must survive exec(), everything else was O_CLOEXEC. */
        close_all_fds_but(notify_fd);
        if (fcntl(notify_fd, F_SETFD, 0) < 0)
                _exit(EXIT_FAILURE);

        execv(path, argv);
        _exit(127);
}

static int wait_for_agent(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        /* pkttyagent closes (or writes to) the notify fd once it has
         * registered with polkit, or exits if it cannot. */
        for (;;) {
                if (poll(&p, 1, -1) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int polkit_agent_open(void) {
        _cleanup_close_ int notify_read = -1, notify_write = -1;
        g_autofree char *path = NULL;
        g_autofree char *fd_arg = NULL;
        int pipe_fds[2], r;
        pid_t parent, pid;

        if (agent_pid > 0)
                return 0;

        path = find_agent();
        if (!path)
                return log_warning_errno(-ENOENT, "cannot start the polkit agent: %s not found", PKTTYAGENT_NAME);

        if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
                r = -errno;
                return log_warning_errno(r, "cannot create a pipe for the polkit agent: %s", STRERROR(r));
        }
        notify_read = pipe_fds[0];
        notify_write = pipe_fds[1];

        r = fd_move_above_stdio(notify_write);
        if (r < 0)
                return log_warning_errno(r, "cannot duplicate a file descriptor: %s", STRERROR(r));
        notify_write = r;

        fd_arg = g_strdup_printf("%i", notify_write);
        char *const argv[] = { path, (char *) "--notify-fd", fd_arg, (char *) "--fallback", NULL };

        parent = getpid();
        pid = fork();
        if (pid < 0) {
                r = -errno;
                return log_warning_errno(r, "cannot fork the polkit agent: %s", STRERROR(r));
        }
        if (pid == 0)
                exec_agent(path, argv, notify_write, parent);

        agent_pid = pid;

        /* Our copy of the write end must go, or we never see EOF. */
        (void) close(l4m_take_fd(&notify_write));

        r = wait_for_agent(notify_read);
        if (r < 0)
                log_warning_errno(r, "cannot wait for the polkit agent: %s", STRERROR(r));
        return 0;
}

void polkit_agent_close(void) {
        pid_t pid = agent_pid;

        if (pid <= 0)
                return;
        agent_pid = 0;

        (void) kill(pid, SIGTERM);
        (void) kill(pid, SIGCONT);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
