/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strtoull is used for integers because masks and addresses need the full
 * unsigned 64-bit range and hex, which libbsd's strtonum() (signed,
 * decimal) cannot express; sizes use libbsd's expand_number().
 */
#include "util/parse.h"

#include <bsd/libutil.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int vhu_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno || *end || end == s || v > max)
		return -1;
	*out = v;
	return 0;
}

int vhu_parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	/* !(in range) also rejects NaN, whose cast to int is undefined. */
	if (errno || *end || end == s || !(v >= 0 && v <= 86400))
		return -1;
	*ms = (int)(v * 1000.0 + 0.5);
	return 0;
}

int vhu_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return vhu_parse_u64(s, UINT64_MAX, out);
	if (expand_number(s, &v) != 0)
		return -1;
	*out = v;
	return 0;
}

int vhu_parse_mask(const char *s, enum vhu_bit_space space, enum vhu_dev_type dev, uint64_t offered,
		   uint64_t *out, char *bad, size_t badlen)
{
	char word[96];
	uint64_t mask = 0;
	const char *p = s;

	if (!s || !*s) {
		snprintf(bad, badlen, "(empty)");
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (vhu_parse_u64(s, UINT64_MAX, out)) {
			snprintf(bad, badlen, "%s", s);
			return -1;
		}
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ",|+ ");
		unsigned bit;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(word)) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			return -1;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (!strcasecmp(word, "offered") || !strcasecmp(word, "all"))
			mask |= offered;
		else if (!strcasecmp(word, "none"))
			;
		else if (vhu_bit_parse(space, dev, word, &bit) == 0)
			mask |= UINT64_C(1) << bit;
		else {
			snprintf(bad, badlen, "%s", word);
			return -1;
		}
	}
	*out = mask;
	return 0;
}

