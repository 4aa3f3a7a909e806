/* SPDX-License-Identifier: Apache-2.0 */
/* Strict parsers for command-line values.  Return 0 or -1; never print. */
#ifndef VHU_UTIL_PARSE_H
#define VHU_UTIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal, or hex with 0x; whole string; value <= @max. */
int vhu_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Seconds with an optional fraction ("2", "0.5") into milliseconds. */
int vhu_parse_seconds(const char *s, int *ms);
/* A size with an optional unit suffix (K, M, G, T; powers of 1024), via
 * libbsd expand_number(). */
int vhu_parse_size(const char *s, uint64_t *out);

#endif
