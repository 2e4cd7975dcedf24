/*
 * tsnspawn-handover.node: the part of the handover (src/runtime/run.ts) that
 * JavaScript cannot do. Node replaces itself with the supervisor by execve()
 * in its own pid; a SIGTERM or SIGINT must neither be lost on the way nor
 * kill the process half-way:
 *
 *   - Node's signal handling is libuv's: a handler, on whichever thread the
 *     kernel picks, writes the signal to a pipe the event loop reads later.
 *     One caught after the loop's last read is dropped with the pipe by
 *     execve, and the container goes on running.
 *   - A signal that comes during execve itself, once the handlers are reset
 *     and before the supervisor blocks it, ends the process.
 *
 * A signal blocked in every thread stays pending, and pending signals and
 * the calling thread's mask survive execve: the supervisor blocks them and
 * reads them from its signalfd first thing. So hold() blocks SIGINT and
 * SIGTERM in the calling (main) thread, then makes every other thread block
 * them too: a thread's mask can only be changed by itself, so each gets a
 * nudge signal whose handler adds them to the mask its sigreturn restores.
 * /proc/self/task/TID/status tells which threads block them; hold() nudges
 * until all do (threads made meanwhile inherit their maker's mask, and are
 * found by the next look). A libuv handler running on a thread at that
 * moment blocks every signal while it runs, the nudge included: when its
 * thread shows them blocked, its write to the pipe is done, and the next
 * turn of the event loop hands it to JavaScript.
 *
 * Built apart from the static helper, as a shared object Node loads with
 * process.dlopen. The few Node-API functions it calls are declared here:
 * their ABI is stable across Node versions, and the toolchain's Node has no
 * headers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
#define NAPI_AUTO_LENGTH SIZE_MAX

napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data, napi_value *result);
napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);
napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
napi_status napi_get_value_string_utf8(napi_env env, napi_value value, char *buf, size_t bufsize, size_t *result);
napi_status napi_get_array_length(napi_env env, napi_value value, uint32_t *result);
napi_status napi_get_element(napi_env env, napi_value object, uint32_t index, napi_value *result);
napi_status napi_throw_error(napi_env env, const char *code, const char *msg);
napi_status napi_get_undefined(napi_env env, napi_value *result);

/* The signals tsnspawn turns into a halt or a kill of the container. */
static const int stop_signals[] = { SIGINT, SIGTERM };
/* Asks a thread to block them. A real-time signal: neither Node nor V8 uses one. */
#define NUDGE_SIGNAL (SIGRTMAX)
/* How long hold() nudges before it gives up (the handover is then not made). */
#define NUDGE_ROUNDS 200
#define NUDGE_PAUSE_NS 1000000L

static void add_stop_signals(sigset_t *set) {
        for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
                sigaddset(set, stop_signals[i]);
}

/* The nudge: the mask restored when this handler returns is the thread's mask from then on. */
static void block_in_this_thread(int sig, siginfo_t *si, void *context) {
        add_stop_signals(&((ucontext_t *) context)->uc_sigmask);
}

/* 1: thread TID blocks every stop signal; 0: not (yet); -1: it is gone. */
static int thread_blocks_stop_signals(pid_t tid) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", (int) tid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        unsigned long long blocked = 0;
        bool found = false;
        while (!found && fgets(line, sizeof line, f))
                found = sscanf(line, "SigBlk: %llx", &blocked) == 1;
        fclose(f);
        if (!found)
                return -1;
        for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
                if (!(blocked & (1ULL << (stop_signals[i] - 1))))
                        return 0;
        return 1;
}

/* One look at every other thread, nudging those that do not block the stop signals yet. Returns how many. */
static int nudge_unblocked_threads(pid_t self, int *err) {
        DIR *d = opendir("/proc/self/task");
        if (!d) {
                *err = errno;
                return -1;
        }
        int unblocked = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                pid_t tid = (pid_t) atoi(de->d_name);
                if (tid <= 0 || tid == self || thread_blocks_stop_signals(tid) != 0)
                        continue;
                if (syscall(SYS_tgkill, getpid(), tid, NUDGE_SIGNAL) < 0 && errno != ESRCH) {
                        *err = errno;
                        closedir(d);
                        return -1;
                }
                unblocked++;
        }
        closedir(d);
        return unblocked;
}

static sigset_t stop_set(void) {
        sigset_t set;
        sigemptyset(&set);
        add_stop_signals(&set);
        return set;
}

static napi_value undefined(napi_env env) {
        napi_value v;
        napi_get_undefined(env, &v);
        return v;
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
        const char *name = strerrorname_np(err);
        napi_throw_error(env, name ? name : "EIO", msg);
        return NULL;
}

/* Every thread of this process blocks SIGINT and SIGTERM when it returns; throws (nothing held) if that cannot be done. */
static napi_value hold(napi_env env, napi_callback_info info) {
        sigset_t set = stop_set();
        int err = pthread_sigmask(SIG_BLOCK, &set, NULL);
        if (err)
                return throw_errno(env, err, "cannot block SIGTERM and SIGINT");
        /* The nudge's handler stays: a nudge still queued for a thread must find it, not the default (which kills). */
        struct sigaction sa = { .sa_sigaction = block_in_this_thread, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigfillset(&sa.sa_mask);
        if (sigaction(NUDGE_SIGNAL, &sa, NULL) < 0) {
                err = errno;
                pthread_sigmask(SIG_UNBLOCK, &set, NULL);
                return throw_errno(env, err, "cannot install the handler that makes Node's threads block SIGTERM");
        }
        pid_t self = (pid_t) syscall(SYS_gettid);
        for (int round = 0; round < NUDGE_ROUNDS; round++) {
                int unblocked = nudge_unblocked_threads(self, &err);
                if (unblocked == 0)
                        return undefined(env);
                if (unblocked < 0)
                        break;
                nanosleep(&(struct timespec) { .tv_nsec = NUDGE_PAUSE_NS }, NULL);
                err = ETIMEDOUT;
        }
        /* The main thread takes the signals again; threads already nudged keep them blocked, which changes nothing. */
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        return throw_errno(env, err, "not every thread of Node blocked SIGTERM and SIGINT");
}

/* The main thread takes SIGINT and SIGTERM again (pending ones now): the handover was not made. */
static napi_value release(napi_env env, napi_callback_info info) {
        sigset_t set = stop_set();
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        return undefined(env);
}

static char *string_of(napi_env env, napi_value v) {
        size_t len;
        if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != 0)
                return NULL;
        char *s = malloc(len + 1);
        if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* A NULL-terminated copy of an array of strings (NULL if it is not one). */
static char **strings_of(napi_env env, napi_value array) {
        uint32_t n;
        if (napi_get_array_length(env, array, &n) != 0)
                return NULL;
        char **out = calloc((size_t) n + 1, sizeof *out);
        for (uint32_t i = 0; out && i < n; i++) {
                napi_value v;
                if (napi_get_element(env, array, i, &v) != 0 || !(out[i] = string_of(env, v))) {
                        for (uint32_t j = 0; j < i; j++)
                                free(out[j]);
                        free(out);
                        return NULL;
                }
        }
        return out;
}

static void free_strings(char **s) {
        for (size_t i = 0; s && s[i]; i++)
                free(s[i]);
        free(s);
}

/* execve(file, argv, envp) with stdio kept open (Node opens it close-on-exec at times); throws if it fails. */
static napi_value exec_supervisor(napi_env env, napi_callback_info info) {
        size_t argc = 3;
        napi_value args[3];
        if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != 0 || argc != 3) {
                napi_throw_error(env, "EINVAL", "execve(file, argv, envp) takes three arguments");
                return NULL;
        }
        char *file = string_of(env, args[0]);
        char **argv = strings_of(env, args[1]), **envp = strings_of(env, args[2]);
        if (!file || !argv || !envp) {
                free(file);
                free_strings(argv);
                free_strings(envp);
                napi_throw_error(env, "EINVAL", "execve(file, argv, envp) takes a string and two arrays of strings");
                return NULL;
        }
        int saved[3];
        for (int fd = 0; fd < 3; fd++) {
                saved[fd] = fcntl(fd, F_GETFD);
                if (saved[fd] >= 0)
                        fcntl(fd, F_SETFD, saved[fd] & ~FD_CLOEXEC);
        }
        execve(file, argv, envp);
        int err = errno;
        for (int fd = 0; fd < 3; fd++)
                if (saved[fd] >= 0)
                        fcntl(fd, F_SETFD, saved[fd]);
        char what[512];
        snprintf(what, sizeof what, "execve %s", file);
        free(file);
        free_strings(argv);
        free_strings(envp);
        return throw_errno(env, err, what);
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
        napi_value fn;
        if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == 0)
                napi_set_named_property(env, exports, name, fn);
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
        export_function(env, exports, "holdStopSignals", hold);
        export_function(env, exports, "releaseStopSignals", release);
        export_function(env, exports, "execve", exec_supervisor);
        return exports;
}
