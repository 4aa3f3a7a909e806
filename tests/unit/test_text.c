/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/util/text.c: UTF-8 checks, the JSON clean-up, the
 * control-character escape and the wording of fd exhaustion.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "util/text.h"

static void test_utf8_seq_len(void **state)
{
	(void)state;
	assert_int_equal(vhu_utf8_seq_len("a", 1), 1);
	assert_int_equal(vhu_utf8_seq_len("\xc3\xa9", 2), 2);	      /* é */
	assert_int_equal(vhu_utf8_seq_len("\xe2\x82\xac", 3), 3);     /* € */
	assert_int_equal(vhu_utf8_seq_len("\xf0\x9f\x98\x80", 4), 4); /* U+1F600 */
	assert_int_equal(vhu_utf8_seq_len("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
	/* Not well formed. */
	assert_int_equal(vhu_utf8_seq_len("\xff", 1), 0);
	assert_int_equal(vhu_utf8_seq_len("\x80", 1), 0);	      /* lone continuation */
	assert_int_equal(vhu_utf8_seq_len("\xc0\xaf", 2), 0);	      /* overlong '/' */
	assert_int_equal(vhu_utf8_seq_len("\xe0\x80\xaf", 3), 0);     /* overlong */
	assert_int_equal(vhu_utf8_seq_len("\xed\xa0\x80", 3), 0);     /* surrogate U+D800 */
	assert_int_equal(vhu_utf8_seq_len("\xf4\x90\x80\x80", 4), 0); /* above U+10FFFF */
	assert_int_equal(vhu_utf8_seq_len("\xc3", 1), 0);	      /* cut short */
	assert_int_equal(vhu_utf8_seq_len("\xe2\x82", 2), 0);
	assert_int_equal(vhu_utf8_seq_len("\xe2\x82"
					  "a",
					  3),
			 0);
}

static void test_utf8_clean(void **state)
{
	char *s;

	(void)state;
	assert_true(vhu_utf8_valid("plain ascii, \xc3\xa9t\xc3\xa9"));
	assert_false(vhu_utf8_valid("a\xff"));
	s = vhu_utf8_clean("a\xff"
			   "b\xc3\xa9\xed\xa0\x80");
	assert_non_null(s);
	/* Each offending byte becomes U+FFFD; good sequences stay. */
	assert_string_equal(s, "a\xef\xbf\xbd"
			       "b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(vhu_utf8_valid(s));
	free(s);
	s = vhu_utf8_clean("");
	assert_string_equal(s, "");
	free(s);
}

static void test_escape_controls(void **state)
{
	char *s;

	(void)state;
	assert_true(vhu_text_plain("/run/vhost-blk.sock d\xc3\xa9j\xc3\xa0 \\x41"));
	assert_false(vhu_text_plain("a\nb"));
	assert_false(vhu_text_plain("\x1b[31m"));
	assert_false(vhu_text_plain("\xc2\x9b")); /* C1 CSI */
	assert_false(vhu_text_plain("\xff"));

	s = vhu_escape_controls("a\nb\tc\x1b[31m\x7f\xc2\x9b\xff d\xc3\xa9 \\");
	assert_non_null(s);
	/* Backslashes stay: back-end strings come here escaped already. */
	assert_string_equal(s, "a\\x0ab\\x09c\\x1b[31m\\x7f\\xc2\\x9b\\xff d\xc3\xa9 \\");
	free(s);
}

static void test_plural(void **state)
{
	char buf[64];

	(void)state;
	for (unsigned n = 0; n < 3; n++) {
		snprintf(buf, sizeof(buf), "%u %s", n, VHU_PLURAL(n, "queue", "queues"));
		assert_string_equal(buf, n == 0 ? "0 queues" : n == 1 ? "1 queue" : "2 queues");
	}
}

static void test_strerror_fd_limits(void **state)
{
	struct rlimit rl;
	char want[96];

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	snprintf(want, sizeof(want), "vhuctl ran out of file descriptors (RLIMIT_NOFILE %llu)",
		 (unsigned long long)rl.rlim_cur);
	assert_string_equal(vhu_strerror(EMFILE), want);
	assert_non_null(strstr(vhu_strerror(ENFILE), "system"));
	assert_string_equal(vhu_strerror(ENOENT), strerror(ENOENT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_seq_len),	   cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_escape_controls),	   cmocka_unit_test(test_plural),
		cmocka_unit_test(test_strerror_fd_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
