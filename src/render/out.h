/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only code that writes stdout.  One call per value emits either an
 * aligned "Label: value" text line or a JSON member (json-c), so text and
 * JSON cannot drift apart.  A run produces exactly one JSON document:
 *
 *   { "json_format_version": [1, 1],
 *     "vhuctl": { "version", "command", "exit_status", "exit_status_name" },
 *     ...command members...,
 *     "error": "message"            (only on failure) }
 *
 * Keys are snake_case; 64-bit masks are { "mask": "0x%016x", "names": [...],
 * "bits": [N, ...] } with unknown bits named "bit_N".  Strings passed in are copied; in JSON
 * bytes that are not well-formed UTF-8 become U+FFFD, in text (and in
 * warnings on stderr) control characters and such bytes become \xNN.
 */
#ifndef VHU_RENDER_OUT_H
#define VHU_RENDER_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bits.h"
#include "util/rc.h"

#define VHU_JSON_FORMAT_MAJOR 1
#define VHU_JSON_FORMAT_MINOR 1

void vhu_out_init(bool json, bool pretty);
/* Change the mode before anything was emitted (options after the command). */
void vhu_out_set_mode(bool json, bool pretty);
bool vhu_out_is_json(void);
/* The command wrote its output as JSON lines (render/jsonl.h): a run that
 * ends with exit status 0 adds no document; a failure still ends with one,
 * carrying the error. */
void vhu_out_streamed(void);

/* Names the command in the document; for batch, each step is an element
 * of "steps" opened with vhu_out_step_begin() and closed with
 * vhu_out_step_end(). */
void vhu_out_begin(const char *command);
void vhu_out_steps(void); /* an empty "steps" list, for a batch without steps */
void vhu_out_step_begin(const char *command, unsigned line);
void vhu_out_step_end(int exit_status, const char *error);

/* Nested object (key in an object, or key NULL inside a list). */
void vhu_out_open(const char *key, const char *label);
void vhu_out_close(void);
void vhu_out_open_list(const char *key, const char *label);
void vhu_out_close_list(void);

void vhu_out_uint(const char *key, const char *label, uint64_t v, const char *unit);
void vhu_out_int(const char *key, const char *label, int64_t v, const char *unit);
/* A real number with @decimals digits after the point, in text and in
 * JSON alike (a JSON number, never NaN: those become 0). */
void vhu_out_double(const char *key, const char *label, double v, int decimals, const char *unit);
/* JSON: "0x..." string of @digits hex digits; text: the same. */
void vhu_out_hex(const char *key, const char *label, uint64_t v, int digits);
void vhu_out_string(const char *key, const char *label, const char *v);
void vhu_out_bool(const char *key, const char *label, bool v);
/* A bit mask with the name (bit_N when unnamed) and number of every set bit. */
void vhu_out_mask(const char *key, const char *label, uint64_t mask, enum vhu_bit_space space,
		  enum vhu_dev_type dev);
/*
 * A number with a name for its value: JSON @key and "@key_name" (only
 * when @name is not NULL); text "V unit (name)".
 */
void vhu_out_uint_named(const char *key, const char *label, uint64_t v, const char *unit, const char *name);
/*
 * A number whose bits have names: JSON @key and "@key_names", the name of
 * every set bit lowest first (@names[bit], or bit_N when NULL or beyond
 * @n); text "V (NAME, NAME)".
 */
void vhu_out_uint_flags(const char *key, const char *label, uint64_t v, const char *unit,
			const char *const *names, unsigned n);
/* Bytes: text hex dump with offsets; JSON lowercase hex string. */
void vhu_out_bytes(const char *key, const char *label, const uint8_t *buf, size_t len, uint32_t base);
/* A free text line (text mode only; JSON ignores it). */
void vhu_out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Raw bytes on stdout (text mode only; JSON ignores them): data a
 * command reads from a device.  0 or an errno. */
int vhu_out_raw(const void *buf, size_t len);
/* A warning: text mode prints "warning: ..." on stderr; JSON adds it to
 * the "warnings" list of the document as well. */
void vhu_out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A progress line on stderr, whatever the output mode (stdout keeps the
 * one document): with @tty rewritten in place ("\r", the line, erase to
 * its end), else one line each.  vhu_out_progress_end() erases a @tty
 * line before the results come.
 */
void vhu_out_progress(bool tty, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vhu_out_progress_end(bool tty);
/* While on, every emitting call does nothing (batch --check runs the
 * commands' parsers, not their output). */
void vhu_out_quiet(bool on);

/* JSON null (text mode: nothing). */
void vhu_out_null(const char *key);

/* One error line on stderr, "vhuctl: [line N: ]MESSAGE" (@lineno 0:
 * without the line), whatever the message quotes from the command line
 * or the back-end: control characters are escaped.  What stdout holds
 * goes out first. */
void vhu_out_error_line(unsigned lineno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Before a message goes to stderr: what stdout holds goes out first, so
 * that a terminal or a merged stream shows them in order (a batch step's
 * header, then the step's messages).  Costs nothing when stdout holds
 * nothing. */
void vhu_out_before_stderr(void);

/* 0 while everything written to stdout went out (flushing it first),
 * else the errno of the failure (EIO when unknown); it stays set. */
int vhu_out_error(void);

/* Finish the document: JSON mode prints it (with @error when non-NULL);
 * text mode flushes.  Returns @exit_status, or VHU_E_IO when stdout could
 * not be written and @exit_status was 0 (the failure is reported once on
 * stderr either way). */
int vhu_out_finish(int exit_status, const char *error);
/* Drop the document without printing it (after --help); returns 0, or
 * VHU_E_IO as vhu_out_finish() when the help text could not be written. */
int vhu_out_discard(void);

#endif
