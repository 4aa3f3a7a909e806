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
#include "cmds/edit.h"
#include "render/mem.h"
#include "render/out.h"
#include "util/intr.h"
#include "util/parse.h"
#include "util/text.h"

#define MAX_ARGS 64

struct batch_args {
	const char *file;
	bool keep_going, check;
};

enum { OPT_CHECK = 0x300 };

static error_t batch_parser(int key, char *arg, struct argp_state *state)
{
	struct batch_args *a = state->input;

	switch (key) {
	case 'k': a->keep_going = true; return 0;
	case OPT_CHECK: a->check = true; return 0;
	case ARGP_KEY_ARG:
		if (a->file)
			return vhu_reject_operand(state, arg);
		a->file = arg;
		return 0;
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_option batch_opts[] = {
	{ "keep-going", 'k', NULL, 0, "run every step even after a failure (exit status: the first failure)",
	  0 },
	{ "check", OPT_CHECK, NULL, 0,
	  "parse every line and report every bad one (exit status 64), without connecting or running "
	  "anything",
	  0 },
	{ 0 }
};

static const struct argp batch_argp = {
	batch_opts,
	batch_parser,
	"[FILE|-]",
	"Run one command per line of FILE (default: standard input) on a single connection.  Lines use "
	"the command-line syntax without `vhuctl` (quotes group words); `#` starts a comment.  Options on a "
	"line hold for that step only; `set OPTION VALUE` (force, timeout, type, trace, no-sync, keep-going) "
	"changes them for the steps after it, and `state` shows what the session negotiated and set up so "
	"far.  Stops at the first failing step unless --keep-going.  With --json the document has a "
	"\"steps\" "
	"list, one object per step with its own exit_status.  When standard input is a terminal, batch is an "
	"interactive walkthrough with line editing, history and completion of command names: `help` lists "
	"the commands, `quit` ends; a failed step does not end it while the connection lives.",
	NULL,
	NULL,
	NULL
};

/* The global options, as a step may change them for itself only. */
struct step_opts {
	const char *socket, *listen;
	bool socket_given, reconnect;
	int reconnect_ms;
	int timeout_ms, wait_ms;
	bool json, pretty, trace, force, no_sync, stats;
	const struct vhu_dev_info *dev;
	size_t nreqs;
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
	o->nreqs = ctx->nreqs;
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
	/* A step's --require holds for that step. */
	ctx->nreqs = o->nreqs;
	if (ctx->reqs_done > ctx->nreqs)
		ctx->reqs_done = ctx->nreqs;
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

/* ---- set: options for the steps that follow ---- */

const char *const vhu_batch_set_options[] = { "force",	 "timeout",    "type", "trace",
					      "no-sync", "keep-going", NULL };

static int on_off(struct vhu_ctx *ctx, const char *opt, const char *v, bool *b)
{
	if (!strcmp(v, "on")) {
		*b = true;
		return VHU_OK;
	}
	if (!strcmp(v, "off")) {
		*b = false;
		return VHU_OK;
	}
	return vhu_usage(ctx, "set: %s takes on or off, not '%s'", opt, v);
}

static void show_settings(const struct vhu_ctx *ctx, const struct batch_args *a)
{
	vhu_out_open("settings", "Settings");
	vhu_out_bool("force", "force", ctx->force);
	vhu_out_uint("timeout_ms", "timeout", (uint64_t)ctx->timeout_ms, "ms");
	vhu_out_string("type", "type", ctx->dev ? ctx->dev->name : "none");
	vhu_out_bool("trace", "trace", ctx->trace);
	vhu_out_bool("no_sync", "no-sync", ctx->no_sync);
	vhu_out_bool("keep_going", "keep-going", a->keep_going);
	vhu_out_close();
}

/* `set`: show the options; `set OPTION VALUE`: change one for the rest
 * of the batch (the caller keeps it). */
static int step_set(struct vhu_ctx *ctx, struct batch_args *a, int ac, char **av)
{
	const char *opt, *v;
	int rc = VHU_OK;

	if (ac == 1) {
		show_settings(ctx, a);
		return VHU_OK;
	}
	if (ac != 3)
		return vhu_usage(
			ctx, "set: expected `set OPTION VALUE` (OPTION: force, timeout, type, trace, no-sync "
			     "or keep-going), or `set` alone to show them");
	opt = av[1] + (strncmp(av[1], "--", 2) ? 0 : 2);
	v = av[2];
	if (!strcmp(opt, "force")) {
		rc = on_off(ctx, opt, v, &ctx->force);
	} else if (!strcmp(opt, "trace")) {
		rc = on_off(ctx, opt, v, &ctx->trace);
	} else if (!strcmp(opt, "no-sync")) {
		rc = on_off(ctx, opt, v, &ctx->no_sync);
	} else if (!strcmp(opt, "keep-going")) {
		rc = on_off(ctx, opt, v, &a->keep_going);
	} else if (!strcmp(opt, "timeout")) {
		int ms;

		if (vhu_parse_seconds(v, &ms) || ms <= 0)
			rc = vhu_usage(ctx, "set: invalid timeout '%s': expected seconds > 0, e.g. 2 or 0.5",
				       v);
		else
			ctx->timeout_ms = ms;
	} else if (!strcmp(opt, "type")) {
		const struct vhu_dev_info *d = strcmp(v, "none") ? vhu_dev_by_name(v) : NULL;

		if (strcmp(v, "none") && !d)
			rc = vhu_usage(
				ctx,
				"set: unknown device type '%s' (see `vhuctl list types`; none for no type)",
				v);
		else
			ctx->dev = d;
	} else {
		rc = vhu_usage(
			ctx, "set: unknown option '%s' (force, timeout, type, trace, no-sync or keep-going)",
			av[1]);
	}
	if (rc)
		return rc;
	vhu_ctx_apply(ctx);
	show_settings(ctx, a);
	return VHU_OK;
}

/* ---- state: what the session holds ---- */

static int step_state(struct vhu_ctx *ctx, int ac)
{
	const struct vhu_session *s = &ctx->s;
	enum vhu_dev_type dev = vhu_ctx_dev(ctx);
	int rc;

	if (ac != 1)
		return vhu_usage(ctx, "state takes no arguments");
	/* `--require ... state`: the requirements first, as for a command
	 * (with --check: their names only). */
	if (ctx->nreqs > ctx->reqs_done && (rc = vhu_cmd_start(ctx)))
		return rc;
	if (ctx->check_only)
		return VHU_OK;
	vhu_out_open("state", "State");
	vhu_out_bool("connected", "connected", s->fd >= 0);
	if (s->have_features)
		vhu_out_mask("features", "features offered", s->features, VHU_BITS_FEATURES, dev);
	if (s->features_set)
		vhu_out_mask("acked_features", "features acked", s->acked_features, VHU_BITS_FEATURES, dev);
	if (s->have_protocol)
		vhu_out_mask("protocol_features", "protocol features offered", s->protocol, VHU_BITS_PROTOCOL,
			     dev);
	if (s->protocol_set)
		vhu_out_mask("acked_protocol_features", "protocol features acked", s->acked_protocol,
			     VHU_BITS_PROTOCOL, dev);
	vhu_out_bool("owner", "owner", s->owner_set);
	if (s->status_set)
		vhu_out_mask("status", "status set", s->status, VHU_BITS_STATUS, dev);
	if (ctx->res.queue_num)
		vhu_out_uint("queue_num", "queues", ctx->res.queue_num, NULL);
	if (ctx->res.max_mem_slots)
		vhu_out_uint("max_mem_slots", "memory slots", ctx->res.max_mem_slots, NULL);
	vhu_out_open_list("regions", "regions");
	for (unsigned i = 0; i < ctx->res.nregions; i++) {
		const struct vhu_region *g = &ctx->res.regions[i];
		char label[32];

		if (g->removed)
			continue;
		snprintf(label, sizeof(label), "region %u", i);
		vhu_out_open(NULL, label);
		vhu_out_hex("guest_phys_addr", "guest_phys_addr", g->gpa, 1);
		vhu_out_uint("memory_size", "memory_size", g->size, "bytes");
		vhu_out_hex("userspace_addr", "userspace_addr", g->uva, 1);
		vhu_out_bool("sent", "sent", g->sent);
		vhu_out_close();
	}
	vhu_out_close_list();
	vhu_out_open_list("rings", "rings");
	for (unsigned i = 0; i < VHU_MAX_FD_VRINGS; i++)
		if (s->rings[i].set)
			vhu_render_ring_state(i, &s->rings[i]);
	vhu_out_close_list();
	vhu_out_bool("backend_channel", "back-end channel", ctx->chan.open);
	vhu_out_bool("inflight", "inflight buffer", ctx->res.inflight_fd >= 0);
	vhu_out_bool("log", "dirty log", ctx->res.log_fd >= 0);
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

	if (ctx->reconnect && !ctx->check_only && strcmp(argv[0], "reconnect") &&
	    !vhu_session_alive(&ctx->s)) {
		rc = vhu_ctx_reconnect_step(
			ctx, ctx->s.fd < 0 ? "the connection was closed by an earlier step"
					   : "the back-end closed the connection between steps");
		if (rc)
			return rc;
	}
	rc = vhu_dispatch(ctx, argc, argv);
	if (!ctx->reconnect || (rc != VHU_E_IO && rc != VHU_E_TIMEOUT) || ctx->s.fd >= 0 ||
	    vhu_intr_signo() || !strcmp(argv[0], "reconnect"))
		return rc;
	snprintf(cause, sizeof(cause), "%s", ctx->s.err);
	if ((rc = vhu_ctx_reconnect_step(ctx, cause)))
		return rc;
	vhu_out_bool("retried", "Retried", true);
	return vhu_dispatch(ctx, argc, argv);
}

/* ---- the loop ---- */

static void interactive_help(void)
{
	for (size_t i = 0; i < vhu_cmd_count(); i++)
		if (!(vhu_cmd_at(i)->flags & VHU_CMD_NO_BATCH))
			fprintf(stderr, "  %-22s %s\n", vhu_cmd_at(i)->name, vhu_cmd_at(i)->summary);
	fprintf(stderr, "  %-22s %s\n", "set OPTION VALUE",
		"options for the steps that follow: force, timeout, type, trace, no-sync, keep-going");
	fprintf(stderr, "  %-22s %s\n", "state", "what the session negotiated and set up so far");
	fprintf(stderr, "  %-22s %s\n", "quit", "end the session");
}

/* A failure found by --check: reported at once, listed in JSON. */
static void check_bad(struct vhu_ctx *ctx, unsigned lineno, const char *command, unsigned *nbad)
{
	vhu_out_error_line(lineno, "%s", vhu_ctx_err(ctx));
	(*nbad)++;
	if (!vhu_out_is_json())
		return;
	vhu_out_open(NULL, NULL);
	vhu_out_uint("line", NULL, lineno, NULL);
	vhu_out_string("command", NULL, command);
	vhu_out_string("error", NULL, vhu_ctx_err(ctx));
	vhu_out_close();
}

int cmd_batch(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct batch_args a = { 0 };
	struct step_opts opts;
	struct stat st;
	struct vhu_edit *ed = NULL;
	FILE *in;
	const char *src_name;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0, nsteps = 0, nbad = 0;
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
	if (a.check) {
		/* Parse only: every command stops where it would connect
		 * (VHU_RC_CHECKED) and prints nothing. */
		ctx->check_only = true;
		if ((rc = vhu_req_prepare(ctx)))
			goto out;
		ctx->reqs_done = ctx->nreqs;
		vhu_out_open("check", "Check");
		vhu_out_string("file", "file", src_name);
		if (vhu_out_is_json())
			vhu_out_open_list("errors", "errors");
	} else {
		rc = vhu_cmd_start(ctx);
		if (rc)
			goto out;
		vhu_out_steps();
	}
	ctx->in_batch = true;
	/* At a terminal, batch is an interactive walkthrough: a prompt on
	 * stderr (stdout stays the command output), line editing, `help`,
	 * `quit`. */
	interactive = !a.check && in == stdin && isatty(STDIN_FILENO);
	if (interactive) {
		const char *path = ctx->listen ? ctx->listen : ctx->socket;
		char *esc = vhu_escape_controls(path);

		fprintf(stderr, "vhuctl: %s %s; one command per line, `help` lists them, `quit` ends\n",
			ctx->listen ? "a back-end connected to" : "connected to", esc ? esc : path);
		free(esc);
		if (isatty(STDERR_FILENO))
			ed = vhu_edit_open("vhuctl> ");
	}
	for (;;) {
		char *av[MAX_ARGS];
		const char *cmdname;
		int ac, src, cmd = 0;

		if (ed) {
			const char *l = vhu_edit_line(ed, &read_err);
			size_t n;

			if (!l)
				break;
			n = strlen(l) + 1;
			if (n > cap) {
				char *nl = realloc(line, n);

				if (!nl) {
					read_err = ENOMEM;
					break;
				}
				line = nl;
				cap = n;
			}
			memcpy(line, l, n);
		} else {
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
		}
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		ac = split(line, av, MAX_ARGS);
		if (ac == 0)
			continue;
		if (interactive && (!strcmp(av[0], "quit") || !strcmp(av[0], "exit")))
			break;
		if (interactive && !strcmp(av[0], "help")) {
			interactive_help();
			continue;
		}
		vhu_ctx_clear_err(ctx);
		ctx->lineno = lineno;
		nsteps++;
		if (ac < 0) {
			cmdname = "?";
			src = vhu_usage(ctx, "unbalanced quote or too many words");
		} else {
			/* Options before the command hold for this step only. */
			src = vhu_parse_leading(ctx, ac, av, &cmd);
			cmdname = av[cmd < ac ? cmd : 0];
		}
		if (!a.check) {
			vhu_out_step_begin(cmdname, lineno);
			if (!vhu_out_is_json()) {
				char *esc = vhu_escape_controls(cmdname);

				vhu_out_text("[%u] %s", lineno, esc ? esc : "?");
				free(esc);
			}
		}
		if (a.check)
			vhu_out_quiet(true);
		if (src == VHU_OK && !strcmp(cmdname, "set")) {
			src = cmd ? vhu_usage(ctx,
					      "set: options do not apply to `set`; give `set OPTION VALUE`")
				  : step_set(ctx, &a, ac, av);
			/* What `set` changed is the batch's own now. */
			if (src == VHU_OK)
				opts_save(ctx, &opts);
		} else if (src == VHU_OK && !strcmp(cmdname, "state")) {
			src = step_state(ctx, ac - cmd);
		} else if (src == VHU_OK) {
			src = batch_step(ctx, ac - cmd, av + cmd);
		}
		vhu_out_quiet(false);
		if (src < 0) {
			/* --help inside a batch (a step without its members), or
			 * a checked step */
			if (src == -1 && !a.check && vhu_out_is_json())
				vhu_out_bool("help", NULL, true);
			src = VHU_OK;
			ctx->help_shown = false;
		}
		if (a.check) {
			if (src)
				check_bad(ctx, lineno, cmdname, &nbad);
			opts_restore(ctx, &opts);
			continue;
		}
		/* Back-end channel messages that came in meanwhile, in order. */
		src = vhu_chan_after_step(ctx, src);
		if (src & VHU_RC_REPORTED)
			src &= ~VHU_RC_REPORTED;
		else if (src)
			vhu_out_error_line(lineno, "%s", vhu_ctx_err(ctx));
		vhu_out_step_end(src, src ? vhu_ctx_err(ctx) : NULL);
		opts_restore(ctx, &opts);
		ctx->lineno = 0;
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
	ctx->lineno = 0;
	vhu_edit_close(ed);
	if (a.check) {
		if (vhu_out_is_json())
			vhu_out_close_list();
		vhu_out_uint("lines", "lines", lineno, NULL);
		vhu_out_uint("steps", "steps", nsteps, NULL);
		vhu_out_uint("bad_lines", "bad lines", nbad, NULL);
		vhu_out_close();
		if (nbad) {
			first_rc = vhu_usage(ctx, "batch --check: %u of %u %s in %s %s bad", nbad, nsteps,
					     VHU_PLURAL(nsteps, "step", "steps"), src_name,
					     VHU_PLURAL(nbad, "is", "are"));
			reported = true;
		}
		rc = first_rc;
	} else {
		rc = first_rc;
		/* The last step's message is already reported; keep it for JSON. */
		if (rc) {
			vhu_ctx_fail(ctx, rc, "a batch step failed (first failing status %d)", rc);
			reported = true;
		}
	}
	/* Steps may be missing after a read error: no success, and not a
	 * step's own failure either. */
	if (read_err) {
		char msg[sizeof(ctx->s.err)];

		if (lineno)
			snprintf(msg, sizeof(msg), "batch: cannot read %s after line %u: %s", src_name,
				 lineno, strerror(read_err));
		else
			snprintf(msg, sizeof(msg), "batch: cannot read %s: %s", src_name, strerror(read_err));
		if (!rc) {
			rc = vhu_ctx_fail(ctx, VHU_E_IO, "%s", msg);
		} else {
			vhu_out_error_line(0, "%s", msg);
		}
	}
out:
	ctx->check_only = false;
	free(line);
	if (in != stdin)
		fclose(in);
	return rc && reported ? (rc | VHU_RC_REPORTED) : rc;
}
