/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Line editing for the interactive batch, on libedit (BSD licence): its
 * own editing keys and history, our completion and our character reader.
 *
 * The reader is ours because a signal must end the wait for a key: the
 * handlers of util/intr record it and wake a poll() through their
 * self-pipe, while libedit's own reader retries a read() that a signal
 * interrupted and would sit on until the next key.
 */
#include "cmds/edit.h"

#include <errno.h>
#include <histedit.h>
#include <locale.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "cmds/cmd.h"
#include "util/intr.h"

struct vhu_edit {
	EditLine *el;
	History *hist;
	char prompt[32];
	mbstate_t mbs;
};

static char *edit_prompt(EditLine *el)
{
	struct vhu_edit *e = NULL;

	el_get(el, EL_CLIENTDATA, &e);
	return e ? e->prompt : (char *)"> ";
}

/* One character from stdin, or -1 (errno EINTR) once a signal is pending. */
static int edit_getc(EditLine *el, wchar_t *wc)
{
	struct vhu_edit *e = NULL;

	el_get(el, EL_CLIENTDATA, &e);
	for (;;) {
		struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { vhu_intr_fd(), POLLIN, 0 } };
		char c;
		ssize_t r;
		size_t k;

		if (vhu_intr_signo()) {
			errno = EINTR;
			return -1;
		}
		if (poll(p, p[1].fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (vhu_intr_signo()) {
			errno = EINTR;
			return -1;
		}
		if (!p[0].revents)
			continue;
		r = read(STDIN_FILENO, &c, 1);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		k = mbrtowc(wc, &c, 1, &e->mbs);
		if (k == (size_t)-2)
			continue; /* more bytes of this character */
		if (k == (size_t)-1) {
			/* Not in the locale's encoding: the byte as it is. */
			memset(&e->mbs, 0, sizeof(e->mbs));
			*wc = (wchar_t)(unsigned char)c;
		}
		return 1;
	}
}

/* ---- completion ---- */

#define MAX_CAND 128

struct cands {
	const char *v[MAX_CAND];
	size_t n;
};

static void cand_add(struct cands *c, const char *w, const char *prefix, size_t len)
{
	if (c->n < MAX_CAND && !strncmp(w, prefix, len))
		c->v[c->n++] = w;
}

/* Global options that take a value in the next word. */
static bool takes_value(const char *w)
{
	static const char *const opts[] = { "-s",	 "-t",	   "-w",     "-T",	  "--socket",
					    "--timeout", "--wait", "--type", "--require", "--require-from",
					    NULL };

	for (size_t i = 0; opts[i]; i++)
		if (!strcmp(w, opts[i]))
			return true;
	return false;
}

static void add_types(struct cands *c, const char *prefix, size_t len, bool none)
{
	for (size_t i = 0; i < vhu_dev_count(); i++)
		cand_add(c, vhu_dev_at(i)->name, prefix, len);
	if (none)
		cand_add(c, "none", prefix, len);
}

/* Candidates for the word @prefix (@len bytes), after the words @w. */
static void candidates(char **w, int nw, const char *prefix, size_t len, struct cands *c)
{
	static const char *const steps[] = { "set", "state", "help", "quit", NULL };
	int i = 0;

	/* Leading global options and their values come before the command. */
	while (i < nw && w[i][0] == '-')
		i += takes_value(w[i]) && !strchr(w[i], '=') ? 2 : 1;
	if (nw > 0 && (!strcmp(w[nw - 1], "-T") || !strcmp(w[nw - 1], "--type"))) {
		add_types(c, prefix, len, false);
		return;
	}
	if (i >= nw) {
		for (size_t k = 0; k < vhu_cmd_count(); k++)
			if (!(vhu_cmd_at(k)->flags & VHU_CMD_NO_BATCH))
				cand_add(c, vhu_cmd_at(k)->name, prefix, len);
		for (size_t k = 0; steps[k]; k++)
			cand_add(c, steps[k], prefix, len);
		return;
	}
	if (strcmp(w[i], "set"))
		return;
	if (nw == i + 1) {
		for (size_t k = 0; vhu_batch_set_options[k]; k++)
			cand_add(c, vhu_batch_set_options[k], prefix, len);
	} else if (nw == i + 2 && !strcmp(w[i + 1], "type")) {
		add_types(c, prefix, len, true);
	} else if (nw == i + 2 && strcmp(w[i + 1], "timeout")) {
		cand_add(c, "on", prefix, len);
		cand_add(c, "off", prefix, len);
	}
}

static unsigned char edit_complete(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	const char *start = li->cursor;
	char before[1024], *w[64], *save = NULL, *tok;
	struct cands c = { .n = 0 };
	size_t len, common, blen;
	int nw = 0;

	(void)ch;
	while (start > li->buffer && start[-1] != ' ' && start[-1] != '\t')
		start--;
	len = (size_t)(li->cursor - start);
	blen = (size_t)(start - li->buffer);
	if (blen >= sizeof(before))
		return CC_ERROR;
	memcpy(before, li->buffer, blen);
	before[blen] = '\0';
	for (tok = strtok_r(before, " \t", &save); tok && nw < 64; tok = strtok_r(NULL, " \t", &save))
		w[nw++] = tok;
	{
		char prefix[256];

		if (len >= sizeof(prefix))
			return CC_ERROR;
		memcpy(prefix, start, len);
		prefix[len] = '\0';
		candidates(w, nw, prefix, len, &c);
	}
	if (!c.n)
		return CC_ERROR;
	if (c.n == 1) {
		if (el_insertstr(el, c.v[0] + len) || el_insertstr(el, " "))
			return CC_ERROR;
		return CC_REFRESH;
	}
	/* Several: as far as they agree, then the list. */
	for (common = len;; common++) {
		size_t k;

		for (k = 1; k < c.n; k++)
			if (c.v[k][common] != c.v[0][common])
				break;
		if (k < c.n || !c.v[0][common])
			break;
	}
	if (common > len) {
		char ins[256];

		if (common - len >= sizeof(ins))
			return CC_ERROR;
		memcpy(ins, c.v[0] + len, common - len);
		ins[common - len] = '\0';
		return el_insertstr(el, ins) ? CC_ERROR : CC_REFRESH;
	}
	fputc('\n', stderr);
	for (size_t k = 0; k < c.n; k++)
		fprintf(stderr, "%s%s", k ? "  " : "", c.v[k]);
	fputc('\n', stderr);
	return CC_REDISPLAY;
}

/* ---- the editor ---- */

struct vhu_edit *vhu_edit_open(const char *prompt)
{
	struct vhu_edit *e = calloc(1, sizeof(*e));
	HistEvent ev;

	if (!e)
		return NULL;
	/* Characters beyond ASCII as the terminal's locale encodes them. */
	setlocale(LC_CTYPE, "");
	snprintf(e->prompt, sizeof(e->prompt), "%s", prompt);
	e->el = el_init("vhuctl", stdin, stderr, stderr);
	e->hist = history_init();
	if (!e->el || !e->hist) {
		vhu_edit_close(e);
		return NULL;
	}
	history(e->hist, &ev, H_SETSIZE, 1000);
	history(e->hist, &ev, H_SETUNIQUE, 1);
	el_set(e->el, EL_CLIENTDATA, e);
	el_set(e->el, EL_EDITOR, "emacs");
	el_set(e->el, EL_PROMPT, edit_prompt);
	el_set(e->el, EL_HIST, history, e->hist);
	el_set(e->el, EL_GETCFN, edit_getc);
	/* The wide call: the narrow EL_ADDFN copies both strings and never
	 * frees them (a leak libedit's own source admits). */
	el_wset(e->el, EL_ADDFN, L"vhu-complete", L"complete a command name, set option or device type",
		edit_complete);
	el_set(e->el, EL_BIND, "^I", "vhu-complete", NULL);
	/* The user's ~/.editrc, as every libedit program reads it. */
	el_source(e->el, NULL);
	return e;
}

const char *vhu_edit_line(struct vhu_edit *e, int *err)
{
	const char *l;
	int n = 0;
	HistEvent ev;

	*err = 0;
	errno = 0;
	l = el_gets(e->el, &n);
	if (!l || n <= 0) {
		if (n < 0 && !vhu_intr_signo())
			*err = errno ? errno : EIO;
		/* The cursor is still on the prompt's line. */
		fputc('\n', stderr);
		return NULL;
	}
	if (l[strspn(l, " \t\r\n")])
		history(e->hist, &ev, H_ENTER, l);
	return l;
}

void vhu_edit_close(struct vhu_edit *e)
{
	if (!e)
		return;
	if (e->el)
		el_end(e->el);
	if (e->hist)
		history_end(e->hist);
	free(e);
}
