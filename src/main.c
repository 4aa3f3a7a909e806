/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhuctl: a command-line vhost-user front-end.
 *
 *   vhuctl [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]
 *
 * main parses the global options, hands the rest to the command table,
 * and maps the result to the documented exit status.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd.h"
#include "render/out.h"
#include "util/intr.h"
#include "util/text.h"
#include "util/version.h"

const char *argp_program_bug_address = NULL;

/* The exit statuses, from the one table (util/rc.h). */
static void print_exit_table(FILE *f)
{
	fprintf(f, "Exit status:\n");
	for (size_t i = 0; i < vhu_exit_nstatuses; i++)
		fprintf(f, "  %-3d %s\n", vhu_exit_statuses[i].status, vhu_exit_statuses[i].text);
	fprintf(f, "      (128 + the signal number; a file being written is left as it was)\n");
}

static struct vhu_ctx ctx;
static int cmd_index;

static error_t root_parser(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	switch (key) {
	case 'V':
		printf("vhuctl %s\n", vhu_version);
		ctx.help_shown = true;
		break;
	case ARGP_KEY_ARG:
		/* The first operand names the command; the rest is its own. */
		cmd_index = state->next - 1;
		state->next = state->argc;
		break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static char *help_filter(int key, const char *text, void *input)
{
	(void)input;
	if (key == ARGP_KEY_HELP_POST_DOC) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			return (char *)text;
		int w = 0;

		fprintf(f, "Commands:\n");
		for (size_t i = 0; i < vhu_cmd_count(); i++)
			if ((int)strlen(vhu_cmd_at(i)->name) > w)
				w = (int)strlen(vhu_cmd_at(i)->name);
		/* Wrap summaries ourselves with a hanging indent: argp would
		 * fold lines past 79 columns back to column 0. */
		for (size_t i = 0; i < vhu_cmd_count(); i++) {
			const char *p = vhu_cmd_at(i)->summary;
			int col = fprintf(f, "  %-*s ", w, vhu_cmd_at(i)->name);

			bool first = true;

			while (*p) {
				size_t n = strcspn(p, " ");

				if (!first && col + 1 + (int)n > 76)
					col = fprintf(f, "\n%*s", w + 3, "") - 1;
				else if (!first)
					col += fprintf(f, " ");
				col += fprintf(f, "%.*s", (int)n, p);
				first = false;
				p += n + (p[n] ? 1 : 0);
			}
			fputc('\n', f);
		}
		fprintf(f, "\nRun `vhuctl COMMAND --help` for a command's options.\n\n");
		print_exit_table(f);
		fprintf(f, "%s",
			"\n\nExamples:\n  vhuctl -s /run/vhost-blk.sock probe\n"
			"  vhuctl -s /run/vhost-blk.sock -T blk get-config -p\n"
			"  vhuctl -s SOCK --trace get-queue-num\n"
			"  vhuctl -s SOCK probe --require 'queues>=2' --require feature=FLUSH\n");
		fclose(f);
		return buf;
	}
	return (char *)text;
}

static const struct argp_option root_opts[] = { { "version", 'V', NULL, 0, "print the program version", -1 },
						{ 0 } };

static const struct argp_child root_children[] = { { &vhu_global_argp, 0, NULL, -2 }, { 0 } };

static const struct argp root_argp = {
	root_opts,
	root_parser,
	"COMMAND [ARG...]",
	"Drive a vhost-user back-end from the command line: connect to its Unix socket, "
	"run protocol requests as commands and print the decoded replies as text or JSON.\v",
	root_children,
	help_filter,
	NULL
};

/*
 * A standard stream that was closed when we started must stay closed in
 * effect, but its number must not be free: the back-end socket would get
 * fd 1 and every line of output would go to the back-end.  Hold the slot
 * with /dev/null opened the wrong way round, so that reading stdin or
 * writing stdout/stderr still fails (EBADF) as it would on a closed fd.
 */
static void hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_CLOEXEC) < 0)
			break; /* then nothing more can be done */
}

/* --stats: proof for scripts that a long session leaks nothing. */
static void report_stats(int fds_at_start)
{
	int fds_at_exit = vhu_count_fds();
	const struct vhu_stats *st = &ctx.s.stats;

	fprintf(stderr,
		"vhuctl: stats: sent %llu messages (%llu bytes), received %llu (%llu bytes), open fds at "
		"start %d, at exit %d\n",
		(unsigned long long)st->sent, (unsigned long long)st->bytes_sent,
		(unsigned long long)st->received, (unsigned long long)st->bytes_received, fds_at_start,
		fds_at_exit);
	if (vhu_out_is_json()) {
		vhu_out_open("stats", "stats");
		vhu_out_uint("sent", "sent", st->sent, NULL);
		vhu_out_uint("bytes_sent", "bytes sent", st->bytes_sent, NULL);
		vhu_out_uint("received", "received", st->received, NULL);
		vhu_out_uint("bytes_received", "bytes received", st->bytes_received, NULL);
		vhu_out_int("fds_at_start", "fds at start", fds_at_start, NULL);
		vhu_out_int("fds_at_exit", "fds at exit", fds_at_exit, NULL);
		vhu_out_close();
	}
}

/* --stats (or an abbreviation argp would accept) anywhere on the command
 * line.  The fds open at start must be counted before anything opens
 * one, which is before argp runs; without --stats nothing is scanned. */
static bool wants_stats(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (!strcmp(argv[i], "--"))
			break;
		if (n >= 4 && !strncmp(argv[i], "--stats", n))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	int fds_at_start;
	const char *env = getenv("VHUCTL_SOCKET");
	int rc;

	hold_std_fds();
	fds_at_start = wants_stats(argc, argv) ? vhu_count_fds() : -1;

	/* A back-end that hangs up must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	/* SIGINT, SIGTERM, SIGHUP, SIGQUIT: unwind, then exit 128 + N. */
	vhu_intr_install();
	vhu_session_init(&ctx.s);
	vhu_listener_init(&ctx.lsn);
	vhu_res_init(&ctx.res);
	ctx.timeout_ms = 5000;
	ctx.socket = env && *env ? env : NULL;
	vhu_out_init(false, false);

	rc = vhu_cmd_parse(&ctx, &root_argp, argc, argv, NULL);
	if (rc < 0) { /* --help, --usage or --version */
		vhu_req_free(&ctx);
		return vhu_out_discard();
	}
	if (rc == VHU_OK && !cmd_index)
		rc = vhu_usage(&ctx, "missing COMMAND (see `vhuctl --help`)");
	if (rc == VHU_OK) {
		vhu_out_begin(argv[cmd_index]);
		rc = vhu_dispatch(&ctx, argc - cmd_index, argv + cmd_index);
		if (rc < 0) { /* --help of the command */
			vhu_session_fini(&ctx.s);
			vhu_listener_close(&ctx.lsn);
			vhu_res_free(&ctx.res);
			vhu_req_free(&ctx);
			return vhu_out_discard();
		}
	}
	rc = vhu_intr_finish(rc & ~VHU_RC_REPORTED, vhu_ctx_err(&ctx), sizeof(ctx.err)) |
	     (rc & VHU_RC_REPORTED);
	if (rc & VHU_RC_REPORTED) {
		rc &= ~VHU_RC_REPORTED; /* a batch step printed its message */
	} else if (rc) {
		vhu_out_error_line(0, "%s", vhu_ctx_err(&ctx)[0] ? vhu_ctx_err(&ctx) : vhu_exit_name(rc));
	}
	vhu_show_reconnects(&ctx);
	vhu_reconnects_free(&ctx);
	vhu_chan_release(&ctx.chan);
	vhu_session_fini(&ctx.s);
	vhu_listener_close(&ctx.lsn);
	vhu_res_free(&ctx.res);
	vhu_req_free(&ctx);
	if (ctx.stats)
		report_stats(fds_at_start);
	return vhu_out_finish(rc, rc ? vhu_ctx_err(&ctx) : NULL);
}
