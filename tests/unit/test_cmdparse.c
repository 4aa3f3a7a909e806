/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for vhu_cmd_parse() (src/cmds/dispatch.c): a refused command
 * line becomes one usage error in the command context, worded as glibc's
 * getopt words it (checked against getopt itself), without anything
 * written to stderr and without the process's stderr being swapped while
 * argp runs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmds/cmd.h"

enum { OPT_BETA = 0x100 };

static const struct argp_option opts[] = { { "alpha", 'a', NULL, 0, "no argument", 0 },
					   { "alfa", 0, NULL, OPTION_ALIAS, NULL, 0 },
					   { "alpine", 'x', "N", 0, "required argument", 0 },
					   { "beta", OPT_BETA, "N", OPTION_ARG_OPTIONAL, "optional argument",
					     0 },
					   { 0 } };

/* stderr as the parser saw it, and how often it was called. */
static FILE *seen_stderr;
static unsigned ncalls;

static error_t parser(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	(void)state;
	ncalls++;
	seen_stderr = stderr;
	switch (key) {
	case 'a':
	case 'x':
	case OPT_BETA:
	case ARGP_KEY_ARG: return 0;
	default: return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp test_argp = { opts, parser, "[OPERAND...]", NULL, NULL, NULL, NULL };

static struct vhu_ctx ctx;

static void ctx_reset(void)
{
	memset(&ctx, 0, sizeof(ctx));
	vhu_session_init(&ctx.s);
	ctx.timeout_ms = 5000;
	/* Inside a batch the output mode is left alone. */
	ctx.in_batch = true;
}

/* Split @line on spaces into @av (av[0] is the program). */
static int split(char *line, char **av, int max)
{
	int n = 0;

	av[n++] = (char *)"vhuctl";
	for (char *t = strtok(line, " "); t && n < max - 1; t = strtok(NULL, " "))
		av[n++] = t;
	av[n] = NULL;
	return n;
}

/* What glibc's getopt prints for @line (its first line, the program name
 * taken off), through the same options: argp without ARGP_NO_ERRS, fd 2
 * sent to a file. */
static void getopt_says(const char *line, char *out, size_t len)
{
	static const struct argp_child children[] = { { &vhu_global_argp, 0, NULL, 0 }, { 0 } };
	struct argp a = test_argp;
	char copy[256], *av[32], tmpl[] = "/tmp/vhu-test-cmdparse-XXXXXX";
	int ac, fd = mkstemp(tmpl), saved, idx;
	FILE *f;

	assert_true(fd >= 0);
	unlink(tmpl);
	a.children = children;
	snprintf(copy, sizeof(copy), "%s", line);
	ac = split(copy, av, 32);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	argp_parse(&a, ac, av, ARGP_NO_EXIT | ARGP_NO_HELP | ARGP_IN_ORDER, &idx, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	out[0] = '\0';
	if (fgets(out, (int)len, f)) {
		out[strcspn(out, "\n")] = '\0';
		if (!strncmp(out, "vhuctl: ", 8))
			memmove(out, out + 8, strlen(out + 8) + 1);
	}
	fclose(f);
}

/* vhu_cmd_parse() of @line: its rc, ctx.err and what reached fd 2. */
static int we_say(const char *line, char *out, size_t len, char *on_fd2, size_t fd2len)
{
	char copy[256], *av[32], tmpl[] = "/tmp/vhu-test-cmdparse-XXXXXX";
	int ac, rc, fd = mkstemp(tmpl), saved;
	ssize_t n;

	assert_true(fd >= 0);
	unlink(tmpl);
	ctx_reset();
	snprintf(copy, sizeof(copy), "%s", line);
	ac = split(copy, av, 32);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	rc = vhu_cmd_parse(&ctx, &test_argp, ac, av, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, on_fd2, fd2len - 1, 0);
	on_fd2[n > 0 ? n : 0] = '\0';
	close(fd);
	snprintf(out, len, "%s", ctx.err);
	vhu_req_free(&ctx);
	return rc;
}

/* Command lines getopt refuses: the message is getopt's own, word for word. */
static void test_getopt_wording(void **state)
{
	static const char *const lines[] = {
		"--bogus",
		"--bogus=1",
		"--alp",
		"--alp=3",
		"--alpha=1",
		"--alfa=1",
		"--alpine",
		"--al",
		"-Z",
		"-aZ",
		"-Za",
		"-x",
		"-ax",
		"op --bogus",
		"-x -a --bogus",
		"--alpine --alpha --bogus",
		"--re",
		"--time",
		"-t",
		"--json=1",
		"-j -Z",
		"-:",
		"-;",
		"--be=2 --b",
		"-a -- x --bogus --al",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char want[512], got[512], fd2[512], expect[600];
		int rc;

		/* Ours first: the global options' parser then has a context. */
		rc = we_say(lines[i], got, sizeof(got), fd2, sizeof(fd2));
		getopt_says(lines[i], want, sizeof(want));
		if (!want[0]) {
			/* getopt took every option ("-a -- ..."): no complaint either. */
			assert_int_equal(rc, VHU_OK);
			continue;
		}
		snprintf(expect, sizeof(expect), "%s (see `vhuctl --help`)", want);
		if (strcmp(got, expect))
			fail_msg("'%s': got \"%s\", getopt says \"%s\"", lines[i], got, want);
		assert_int_equal(rc, VHU_E_USAGE);
		if (fd2[0])
			fail_msg("'%s': wrote \"%s\" on stderr", lines[i], fd2);
	}
}

/* A parser's own complaint (vhu_argp_error()) and an operand nobody takes. */
static void test_parser_complaints(void **state)
{
	char got[512], fd2[512];

	(void)state;
	assert_int_equal(we_say("-t abc", got, sizeof(got), fd2, sizeof(fd2)), VHU_E_USAGE);
	assert_string_equal(
		got, "invalid --timeout 'abc': expected seconds > 0, e.g. 2 or 0.5 (see `vhuctl --help`)");
	assert_string_equal(fd2, "");
	assert_int_equal(we_say("-T nosuch -t abc", got, sizeof(got), fd2, sizeof(fd2)), VHU_E_USAGE);
	/* The first complaint is the one. */
	assert_string_equal(got, "unknown device type 'nosuch' (see `vhuctl list types`)");
	assert_int_equal(we_say("-a -x 3 --beta=2 op -t 2", got, sizeof(got), fd2, sizeof(fd2)), VHU_OK);
	assert_string_equal(got, "");
	assert_int_equal(ctx.timeout_ms, 2000);
}

/* The process's stderr is the same stream while argp runs. */
static void test_stderr_untouched(void **state)
{
	FILE *before = stderr;
	char got[512], fd2[512];

	(void)state;
	ncalls = 0;
	seen_stderr = NULL;
	we_say("-a --bogus", got, sizeof(got), fd2, sizeof(fd2));
	assert_true(ncalls > 0);
	assert_ptr_equal(seen_stderr, before);
	assert_ptr_equal(stderr, before);
	ncalls = 0;
	seen_stderr = NULL;
	we_say("-a -t abc", got, sizeof(got), fd2, sizeof(fd2));
	assert_true(ncalls > 0);
	assert_ptr_equal(seen_stderr, before);
}

/* The command table: sorted, and what each row asks of vhu_cmd_start()
 * is something it can do. */
static void test_table(void **state)
{
	(void)state;
	assert_true(vhu_cmd_count() > 0);
	for (size_t i = 0; i < vhu_cmd_count(); i++) {
		const struct vhu_cmd *c = vhu_cmd_at(i);

		assert_non_null(c->name);
		assert_non_null(c->summary);
		assert_non_null(c->run);
		assert_ptr_equal(vhu_cmd_find(c->name), c);
		if (i)
			assert_true(strcmp(vhu_cmd_at(i - 1)->name, c->name) < 0);
		/* A command without a back-end negotiates nothing. */
		if (c->flags & VHU_CMD_NO_SOCKET)
			assert_true(c->level == VHU_NEG_NONE && !(c->flags & VHU_CMD_QUEUES));
		/* The queue count is asked only with MQ negotiated. */
		if (c->flags & VHU_CMD_QUEUES)
			assert_true(c->level >= VHU_NEG_PROTOCOL);
	}
	assert_null(vhu_cmd_at(vhu_cmd_count()));
}

/* vhu_cmd_start() for a row without a back-end refuses, sending nothing. */
static void test_start_no_socket(void **state)
{
	(void)state;
	ctx_reset();
	ctx.cmd = vhu_cmd_find("list");
	assert_non_null(ctx.cmd);
	assert_true(ctx.cmd->flags & VHU_CMD_NO_SOCKET);
	assert_int_equal(vhu_cmd_start(&ctx), VHU_E_USAGE);
	assert_int_equal(ctx.s.fd, -1);
	/* A row with a back-end but no socket given: the usual usage error. */
	ctx_reset();
	ctx.cmd = vhu_cmd_find("get-features");
	assert_int_equal(vhu_cmd_start(&ctx), VHU_E_USAGE);
	assert_string_equal(vhu_ctx_err(&ctx),
			    "no back-end socket: give -s PATH (or -L PATH) or set VHUCTL_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getopt_wording),	 cmocka_unit_test(test_parser_complaints),
		cmocka_unit_test(test_stderr_untouched), cmocka_unit_test(test_table),
		cmocka_unit_test(test_start_no_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
