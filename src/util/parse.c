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
