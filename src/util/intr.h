/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interruption by SIGINT, SIGTERM, SIGHUP and SIGQUIT.
 *
 * vhu_intr_install() (main, once, before anything is created) catches the
 * four signals, except those the process inherited as ignored (nohup, a
 * background job of a non-interactive shell): those stay ignored.
 *
 * The first signal caught is only recorded: vhu_intr_signo() turns
 * non-zero and vhu_intr_fd() becomes readable (a self-pipe, so a signal
 * that lands just before a poll() still wakes it).  Every wait of the
 * protocol code polls that fd too and gives up with vhu_intr_status(),
 * and the code then unwinds like for any other failure: an atomic output
 * file (util/outfile.h) is aborted, so FILE keeps its old content and no
 * temporary is left.  The exit status is 128 + the signal number (129
 * SIGHUP, 130 SIGINT, 131 SIGQUIT, 143 SIGTERM), what a shell reports for
 * a process the signal killed.
 *
 * A second signal while the first one is still pending means the
 * unwinding is stuck somewhere (a slow disk in fsync, say): the handler
 * then unlinks every temporary registered with vhu_intr_register() and
 * calls _exit() with that status at once.
 *
 * Handlers are installed without SA_RESTART: a blocking read() of a
 * terminal or a pipe returns EINTR instead of waiting on.  Threads other
 * than the main one should block the four signals (vhu_intr_block()).
 */
#ifndef VHU_UTIL_INTR_H
#define VHU_UTIL_INTR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Catch the four signals (see above).  Idempotent (after
 * vhu_intr_finish() it opens the self-pipe again).  0, or -1 with errno
 * when the self-pipe cannot be created (then signals are recorded but
 * do not wake a poll()). */
int vhu_intr_install(void);

/* Catch @sig (one of the four) even when it was inherited as ignored:
 * for a command whose documented way to end is that signal (watch).
 * The disposition it replaces goes to @old, for sigaction() to restore. */
void vhu_intr_catch(int sig, struct sigaction *old);

/* The signal caught and not yet cleared, or 0. */
int vhu_intr_signo(void);

/* 128 + vhu_intr_signo(), or 0 when no signal is pending. */
int vhu_intr_status(void);

/* True when @status is one vhu_intr_status() can return. */
bool vhu_intr_is_status(int status);

/* "SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", or "signal N". */
const char *vhu_intr_name(int signo);

/* Read end of the self-pipe: readable while a signal is pending; -1
 * before vhu_intr_install().  Owned by this module; never close it. */
int vhu_intr_fd(void);

/* Forget the pending signal (and drain the self-pipe): for a command
 * that treats it as its normal end. */
void vhu_intr_clear(void);

/* Block the four signals in the calling thread, the previous mask into
 * @old (a critical section, or a helper thread); vhu_intr_restore()
 * puts @old back, and a signal that came meanwhile is handled then. */
void vhu_intr_block(sigset_t *old);
void vhu_intr_restore(const sigset_t *old);

/*
 * A named temporary to unlink if the process has to exit from inside the
 * handler (second signal).  @name (at most NAME_MAX bytes, copied) is
 * relative to @dirfd, which must stay open until vhu_intr_unregister().
 * Returns a slot number, or -1 when all VHU_INTR_SLOTS are in use (the
 * file is then only removed by the normal unwinding).
 */
#define VHU_INTR_SLOTS 8
int vhu_intr_register(int dirfd, const char *name);
void vhu_intr_unregister(int slot);

/*
 * The end of the run (main, once): the exit status of a run that ended
 * with @rc (a documented status), which a pending signal turns into
 * vhu_intr_status(); when @rc said something else, "interrupted by
 * SIGxxx" replaces @msg (size @len).  Closes the self-pipe, so that no fd
 * of this module is left open at exit; signals are still recorded.
 */
int vhu_intr_finish(int rc, char *msg, size_t len);

#endif
