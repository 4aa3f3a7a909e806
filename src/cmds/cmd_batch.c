/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch: many commands on one connection.  vhost-user state (features,
 * owner, memory, rings) lives only as long as the connection, so a
 * walkthrough must run its steps on one session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds/cmd_common.h"
#include "render/out.h"
#include "util/text.h"
#include "util/intr.h"

#define MAX_ARGS 64

struct batch_args {
	const char *file;
	bool keep_going;
};

static error_t batch_parser(int key, char *arg, struct argp_state *state)
{
	struct batch_args *a = state->input;

	switch (key) {
	case 'k':
		a->keep_going = true;
		return 0;
	case ARGP_KEY_ARG:
		if (a->file) {
			argp_error(state, "unexpected argument '%s'", arg);
			return EINVAL;
		}
		a->file = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option batch_opts[] = {
	{ "keep-going", 'k', NULL, 0, "run every step even after a failure (exit status: the first failure)", 0 },
	{ 0 }
};

static const struct argp batch_argp = {
	batch_opts, batch_parser, "[FILE|-]",
	"Run one command per line of FILE (default: standard input) on a single connection.  Lines use "
	"the command-line syntax without `vhuctl` (quotes group words); `#` starts a comment.  Stops at "
	"the first failing step unless --keep-going.  With --json the document has a \"steps\" list, one "
	"object per step with its own exit_status.  When standard input is a terminal, batch is an "
	"interactive walkthrough: a prompt, `help` to list commands, `quit` to end; a failed step does "
	"not end it while the connection lives.",
	NULL, NULL, NULL
};

/* The global options, as a step may change them for itself only. */
struct step_opts {
	const char *socket, *listen;
	bool socket_given, reconnect;
	int reconnect_ms;
	int timeout_ms, wait_ms;
	bool json, pretty, trace, force, no_sync, stats;
	const struct vhu_dev_info *dev;
};

static void opts_save(const struct vhu_ctx *ctx, struct step_opts *o)
{
	o->socket = ctx->socket;
	o->socket_given = ctx->socket_given;
	o->listen = ctx->listen;
	o->reconnect = ctx->reconnect;
	o->reconnect_ms = ctx->reconnect_ms;
	o->timeout_ms = ctx->timeout_ms;
	o->wait_ms = ctx->wait_ms;
	o->json = ctx->json;
	o->pretty = ctx->pretty;
	o->trace = ctx->trace;
	o->force = ctx->force;
	o->no_sync = ctx->no_sync;
	o->stats = ctx->stats;
	o->dev = ctx->dev;
}

static void opts_restore(struct vhu_ctx *ctx, const struct step_opts *o)
{
	ctx->socket = o->socket;
	ctx->socket_given = o->socket_given;
	ctx->listen = o->listen;
	ctx->reconnect = o->reconnect;
	ctx->reconnect_ms = o->reconnect_ms;
	ctx->timeout_ms = o->timeout_ms;
	ctx->wait_ms = o->wait_ms;
	ctx->json = o->json;
	ctx->pretty = o->pretty;
	ctx->trace = o->trace;
	ctx->force = o->force;
	ctx->no_sync = o->no_sync;
	ctx->stats = o->stats;
	ctx->dev = o->dev;
	vhu_ctx_apply(ctx);
}

/* Split @line into words in place; quotes group, no other expansion. */
static int split(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;

	while (*p) {
		char *out, q = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		if (argc >= max - 1)
			return -1;
		argv[argc++] = out = p;
		while (*p && (q || (*p != ' ' && *p != '\t'))) {
			if (!q && (*p == '"' || *p == '\'')) {
				q = *p++;
				continue;
			}
			if (q && *p == q) {
				q = 0;
				p++;
				continue;
			}
			*out++ = *p++;
		}
		if (q)
			return -1;
		if (*p)
			p++;
		*out = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* Reconnect for the step (--reconnect), reported in its object too. */
static int step_reconnect(struct vhu_ctx *ctx, const char *cause)
{
	struct vhu_reconnect *r;
	int rc = vhu_ctx_reconnect(ctx, cause, NULL, &r);

	if (rc)
		return rc;
	vhu_out_open("reconnect", "Reconnect");
	vhu_show_reconnect(r);
	vhu_out_close();
	return VHU_OK;
}

/*
 * One step.  With --reconnect, a connection found gone before the step
 * is made again first, and a step that lost it (I/O error or timeout,
 * after which the session is closed) runs once more on the new one: it
 * may have been carried out by the back-end that went away, or not.
 */
static int batch_step(struct vhu_ctx *ctx, int argc, char **argv)
{
	char cause[sizeof(ctx->s.err)];
	int rc;

	if (ctx->reconnect && strcmp(argv[0], "reconnect") && !vhu_session_alive(&ctx->s)) {
		rc = step_reconnect(ctx, ctx->s.fd < 0 ? "the connection was closed by an earlier step"
						       : "the back-end closed the connection between steps");
		if (rc)
			return rc;
	}
	rc = vhu_dispatch(ctx, argc, argv);
	if (!ctx->reconnect || (rc != VHU_E_IO && rc != VHU_E_TIMEOUT) || ctx->s.fd >= 0 || vhu_intr_signo() ||
	    !strcmp(argv[0], "reconnect"))
		return rc;
	snprintf(cause, sizeof(cause), "%s", ctx->s.err);
	if ((rc = step_reconnect(ctx, cause)))
		return rc;
	vhu_out_bool("retried", "Retried", true);
	return vhu_dispatch(ctx, argc, argv);
}

int cmd_batch(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct batch_args a = { 0 };
	struct step_opts opts;
	struct stat st;
	FILE *in;
	const char *src_name;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	bool interactive;
	int first_rc = VHU_OK, read_err = 0;
	bool reported = false;
	int rc = vhu_cmd_parse(ctx, &batch_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (!a.file || !strcmp(a.file, "-")) {
		in = stdin;
		src_name = "standard input";
	} else if (!(in = fopen(a.file, "re"))) {
		return vhu_usage(ctx, "cannot open batch file %s: %s", a.file, strerror(errno));
	} else {
		src_name = a.file;
	}
	/* A directory opens, and then every read fails: not an empty batch. */
	if (fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = vhu_usage(ctx, "batch: %s is a directory", src_name);
		goto out;
	}
	opts_save(ctx, &opts);
	rc = vhu_ctx_connect(ctx);
	if (rc)
		goto out;
	ctx->in_batch = true;
	vhu_out_steps();
	/* At a terminal, batch is an interactive walkthrough: a prompt on
	 * stderr (stdout stays the command output), `help`, `quit`. */
	interactive = in == stdin && isatty(STDIN_FILENO);
	if (interactive) {
		const char *path = ctx->listen ? ctx->listen : ctx->socket;
		char *esc = vhu_escape_controls(path);

		fprintf(stderr, "vhuctl: %s %s; one command per line, `help` lists them, `quit` ends\n",
			ctx->listen ? "a back-end connected to" : "connected to", esc ? esc : path);
		free(esc);
	}
	for (;;) {
		if (interactive) {
			fputs("vhuctl> ", stderr);
			fflush(stderr);
		}
		errno = 0;
		if (getline(&line, &cap, in) <= 0) {
			if (ferror(in))
				read_err = errno ? errno : EIO;
			break;
		}
		char *av[MAX_ARGS];
		int ac, src, cmd = 0;

		lineno++;
		ctx->batch_line = lineno;
		line[strcspn(line, "\r\n")] = '\0';
		ac = split(line, av, MAX_ARGS);
		if (ac == 0)
			continue;
		if (interactive && (!strcmp(av[0], "quit") || !strcmp(av[0], "exit")))
			break;
		if (interactive && !strcmp(av[0], "help")) {
			for (size_t i = 0; i < vhu_cmd_count(); i++)
				if (!(vhu_cmd_at(i)->flags & VHU_CMD_NO_BATCH))
					fprintf(stderr, "  %-22s %s\n", vhu_cmd_at(i)->name, vhu_cmd_at(i)->summary);
			fprintf(stderr, "  %-22s %s\n", "quit", "end the session");
			continue;
		}
		ctx->s.err[0] = '\0';
		if (ac < 0) {
			vhu_out_step_begin("?", lineno);
			src = vhu_usage(ctx, "unbalanced quote or too many words");
		} else {
			/* Options before the command hold for this step only. */
			src = vhu_parse_leading(ctx, ac, av, &cmd);
			vhu_out_step_begin(av[cmd < ac ? cmd : 0], lineno);
			if (!vhu_out_is_json()) {
				char *esc = vhu_escape_controls(av[cmd < ac ? cmd : 0]);

				vhu_out_text("[%u] %s", lineno, esc ? esc : "?");
				free(esc);
			}
			if (src == VHU_OK)
				src = batch_step(ctx, ac - cmd, av + cmd);
		}
		if (src < 0) {
			src = VHU_OK; /* --help inside a batch */
			ctx->help_shown = false;
			/* The step ran nothing: its command's members are absent. */
			if (vhu_out_is_json())
				vhu_out_bool("help", "Help", true);
		}
		/* Back-end channel messages that came in meanwhile, in order. */
		src = vhu_chan_after_step(ctx, src);
		if (src & VHU_RC_REPORTED) {
			src &= ~VHU_RC_REPORTED;
		} else if (src) {
			char *esc = vhu_text_plain(ctx->s.err) ? NULL : vhu_escape_controls(ctx->s.err);

			fprintf(stderr, "vhuctl: line %u: %s\n", lineno, esc ? esc : ctx->s.err);
			free(esc);
		}
		vhu_out_step_end(src, src ? ctx->s.err : NULL);
		opts_restore(ctx, &opts);
		/* SIGINT & co end the whole batch, not just the step (util/intr). */
		if (vhu_intr_signo())
			break;
		if (src && !first_rc)
			first_rc = src;
		/* Nobody reads the output any more: stop (vhu_out_finish
		 * reports it). */
		if (vhu_out_error()) {
			if (!first_rc)
				first_rc = VHU_E_IO;
			break;
		}
		/* Interactively, a failed step is reported and the session
		 * goes on while the connection lives. */
		if (src && !a.keep_going && !(interactive && ctx->s.fd >= 0))
			break;
	}
	rc = first_rc;
	/* The last step's message is already reported; keep it for JSON. */
	if (rc) {
		vhu_fail(&ctx->s, rc, "a batch step failed (first failing status %d)", rc);
		reported = true;
	}
	/* Steps may be missing after a read error: no success, and not a
	 * step's own failure either. */
	if (read_err) {
		char msg[sizeof(ctx->s.err)], *esc;

		if (lineno)
			snprintf(msg, sizeof(msg), "batch: cannot read %s after line %u: %s", src_name,
				 lineno, strerror(read_err));
		else
			snprintf(msg, sizeof(msg), "batch: cannot read %s: %s", src_name, strerror(read_err));
		if (!rc) {
			rc = vhu_fail(&ctx->s, VHU_E_IO, "%s", msg);
		} else {
			esc = vhu_escape_controls(msg);
			fprintf(stderr, "vhuctl: %s\n", esc ? esc : msg);
			free(esc);
		}
	}
out:
	free(line);
	if (in != stdin)
		fclose(in);
	return rc && reported ? (rc | VHU_RC_REPORTED) : rc;
}
