/* SPDX-License-Identifier: Apache-2.0 */
#include "util/text.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Well-formed sequences as in the Unicode standard's table of them
 * (chapter "Conformance", UTF-8): the second byte's range depends on the
 * first, which rules out overlong forms, surrogates and > U+10FFFF. */
size_t vhu_utf8_seq_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (!n)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A C0 control, DEL, or (as a two-byte sequence) a C1 control. */
static bool is_control(const unsigned char *p, size_t len)
{
	if (len == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	return len == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

bool vhu_utf8_valid(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = vhu_utf8_seq_len(s + i, n - i)))
			return false;
	return true;
}

bool vhu_text_plain(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = vhu_utf8_seq_len(s + i, n - i)) || is_control((const unsigned char *)s + i, k))
			return false;
	return true;
}

char *vhu_utf8_clean(const char *s)
{
	size_t n = strlen(s), o = 0;
	/* One invalid byte grows into the three bytes of U+FFFD. */
	char *out = malloc(3 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0, k; i < n; i += k) {
		k = vhu_utf8_seq_len(s + i, n - i);
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		}
	}
	out[o] = '\0';
	return out;
}

char *vhu_escape_controls(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), o = 0;
	/* Each byte at most grows into \xNN. */
	char *out = malloc(4 * n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0, k; i < n; i += k) {
		const unsigned char *p = (const unsigned char *)s + i;

		k = vhu_utf8_seq_len(s + i, n - i);
		if (k && !is_control(p, k)) {
			memcpy(out + o, p, k);
			o += k;
			continue;
		}
		if (!k)
			k = 1;
		for (size_t j = 0; j < k; j++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[j] >> 4];
			out[o++] = hex[p[j] & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

const char *vhu_strerror(int err)
{
	static char buf[160];
	struct rlimit rl;

	if (err == EMFILE) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			snprintf(buf, sizeof(buf), "vhuctl ran out of file descriptors (RLIMIT_NOFILE %llu)",
				 (unsigned long long)rl.rlim_cur);
		else
			snprintf(buf, sizeof(buf), "vhuctl ran out of file descriptors (RLIMIT_NOFILE)");
		return buf;
	}
	if (err == ENFILE)
		return "the system ran out of file descriptors (ENFILE: the system-wide open file limit)";
	return strerror(err);
}
