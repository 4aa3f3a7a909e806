/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text hygiene for whatever reaches a terminal or a JSON document from
 * outside the program (command lines, batch lines, file names), and the
 * wording of local resource errors.  Never prints.
 */
#ifndef VHU_UTIL_TEXT_H
#define VHU_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* "1 fd", "2 fds": pick the word for @n. */
#define VHU_PLURAL(n, one, many) ((n) == 1 ? (one) : (many))

/* Length (1..4) of the well-formed UTF-8 sequence starting at @s (at
 * most @n bytes), 0 when the byte there does not start one: overlong
 * forms, surrogates and code points above U+10FFFF are not well formed. */
size_t vhu_utf8_seq_len(const char *s, size_t n);

/* True when @s needs no change from vhu_utf8_clean() or vhu_escape_controls(). */
bool vhu_utf8_valid(const char *s);
bool vhu_text_plain(const char *s);

/*
 * Copies of @s for output; the caller frees them.  NULL only when memory
 * runs out.
 *  vhu_utf8_clean(): every byte that is not part of well-formed UTF-8
 *    becomes U+FFFD, so a strict JSON parser accepts the string.
 *  vhu_escape_controls(): C0 and C1 control characters, DEL and bytes
 *    that are not well-formed UTF-8 become \xNN (two lowercase hex digits
 *    per byte), so the text stays on its line and cannot drive a terminal.
 *    Backslashes are kept as they are: back-end strings arrive here
 *    already escaped.
 */
char *vhu_utf8_clean(const char *s);
char *vhu_escape_controls(const char *s);

/*
 * strerror(@err), except that running out of file descriptors names the
 * side that ran out: EMFILE is our own RLIMIT_NOFILE (with its value),
 * ENFILE the system-wide table.  The text lives in a static buffer until
 * the next call.
 */
const char *vhu_strerror(int err);

#endif
