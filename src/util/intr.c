/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interruption by SIGINT, SIGTERM, SIGHUP and SIGQUIT (see intr.h).
 *
 * The handler only does async-signal-safe things: it stores the signal
 * number, writes one byte to the self-pipe and, on a second signal,
 * unlinks the registered temporaries and calls _exit().
 */
#define _GNU_SOURCE /* pipe2 */
#include "util/intr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))

static volatile sig_atomic_t caught;
static int pipefd[2] = { -1, -1 };
static bool installed;

static struct {
	volatile sig_atomic_t used;
	int dirfd;
	char name[NAME_MAX + 1];
} slots[VHU_INTR_SLOTS];

static void put_str(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* nothing left to tell it with */
	}
}

/* Second signal: the unwinding did not finish.  Only async-signal-safe
 * calls from here on. */
static void exit_now(int sig)
{
	char num[4] = { 0 };
	int st = 128 + sig;

	for (unsigned i = 0; i < VHU_INTR_SLOTS; i++)
		if (slots[i].used)
			unlinkat(slots[i].dirfd, slots[i].name, 0);
	num[0] = (char)('0' + st / 100);
	num[1] = (char)('0' + st / 10 % 10);
	num[2] = (char)('0' + st % 10);
	put_str("vhuctl: interrupted again by ");
	put_str(vhu_intr_name(sig));
	put_str(": exiting at once with status ");
	put_str(num);
	put_str("\n");
	_exit(st);
}

static void on_signal(int sig)
{
	int saved = errno;

	if (caught)
		exit_now(sig);
	caught = sig;
	if (pipefd[1] >= 0 && write(pipefd[1], "", 1) < 0) {
		/* full: it is readable already */
	}
	errno = saved;
}

static void catch_one(int sig, bool force)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* The other three are blocked while the handler runs, so two
	 * different signals at once count as a "second" one only after the
	 * first handler returned. */
	for (unsigned i = 0; i < NSIGS; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	/* No SA_RESTART: a blocking read of a terminal must end (EINTR). */
	sa.sa_flags = 0;
	if (!force && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigaction(sig, &sa, NULL);
}

int vhu_intr_install(void)
{
	int rc = 0;

	if (installed && pipefd[0] >= 0)
		return 0;
	installed = true;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		pipefd[0] = pipefd[1] = -1;
		rc = -1;
	}
	for (unsigned i = 0; i < NSIGS; i++)
		catch_one(sigs[i], false);
	return rc;
}

void vhu_intr_catch(int sig, struct sigaction *old)
{
	if (!installed)
		vhu_intr_install();
	sigaction(sig, NULL, old);
	catch_one(sig, true);
}

int vhu_intr_signo(void)
{
	return caught;
}

int vhu_intr_status(void)
{
	return caught ? 128 + caught : 0;
}

bool vhu_intr_is_status(int status)
{
	for (unsigned i = 0; i < NSIGS; i++)
		if (status == 128 + sigs[i])
			return true;
	return false;
}

const char *vhu_intr_name(int signo)
{
	/* Async-signal-safe: constant strings only. */
	switch (signo) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	case SIGQUIT: return "SIGQUIT";
	default: return "a signal";
	}
}

int vhu_intr_fd(void)
{
	return pipefd[0];
}

void vhu_intr_clear(void)
{
	sigset_t old;
	char buf[16];

	vhu_intr_block(&old);
	if (pipefd[0] >= 0)
		while (read(pipefd[0], buf, sizeof(buf)) > 0)
			;
	caught = 0;
	vhu_intr_restore(&old);
}

void vhu_intr_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (unsigned i = 0; i < NSIGS; i++)
		sigaddset(&set, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

void vhu_intr_restore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int vhu_intr_register(int dirfd, const char *name)
{
	size_t n = strlen(name);

	if (n > NAME_MAX)
		return -1;
	for (int i = 0; i < VHU_INTR_SLOTS; i++) {
		if (slots[i].used)
			continue;
		slots[i].dirfd = dirfd;
		memcpy(slots[i].name, name, n + 1);
		/* Published last: the handler never sees a half-written slot. */
		slots[i].used = 1;
		return i;
	}
	return -1;
}

void vhu_intr_unregister(int slot)
{
	if (slot >= 0 && slot < VHU_INTR_SLOTS)
		slots[slot].used = 0;
}

int vhu_intr_finish(int rc, char *msg, size_t len)
{
	int st = vhu_intr_status();
	sigset_t old;

	vhu_intr_block(&old);
	for (int i = 0; i < 2; i++) {
		if (pipefd[i] >= 0)
			close(pipefd[i]);
		pipefd[i] = -1;
	}
	vhu_intr_restore(&old);
	if (!st || rc == st)
		return rc;
	if (msg && len)
		snprintf(msg, len, "interrupted by %s", vhu_intr_name(caught));
	return st;
}
