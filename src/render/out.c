/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text and JSON from one call per value (the iproute2 print_* idea on top
 * of json-c).  A stack mirrors the nesting: in JSON mode each level is a
 * json_object, in text mode it is an indentation level.
 */
#include "render/out.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/session.h"
#include "render/jsonl.h"
#include "util/hex.h"
#include "util/text.h"

#include "util/version.h"

#define DEPTH_MAX   16
#define LABEL_WIDTH 28

static struct {
	bool json, pretty, finished;
	bool streamed;	    /* the command wrote JSON lines itself */
	json_object *root;  /* the document */
	json_object *steps; /* batch: the steps list */
	json_object *warnings;
	json_object *stack[DEPTH_MAX];
	int depth; /* stack[depth] is the current container */
	int text_depth;
	int out_errno; /* first failure writing stdout, 0 while none */
	bool out_reported;
	bool quiet; /* vhu_out_quiet(): emit nothing */
} o;

/* After writing stdout: keep the errno of its first failure, while it is
 * fresh (the write that failed may have been an automatic flush). */
static void note_write(void)
{
	if (!o.out_errno && ferror(stdout))
		o.out_errno = errno ? errno : EIO;
}

/* A JSON string from text that may come from outside (command lines,
 * file names): json-c copies bytes as they are, and a strict parser
 * rejects a document with invalid UTF-8 in it. */
static json_object *jstr(const char *s)
{
	json_object *j;
	char *clean;

	if (!s)
		s = "";
	if (vhu_utf8_valid(s) || !(clean = vhu_utf8_clean(s)))
		return json_object_new_string(s);
	j = json_object_new_string(clean);
	free(clean);
	return j;
}

void vhu_out_init(bool json, bool pretty)
{
	o.json = json || pretty;
	o.pretty = pretty;
	o.root = json_object_new_object();
	o.stack[0] = o.root;
	o.depth = 0;
	o.text_depth = 0;
}

void vhu_out_set_mode(bool json, bool pretty)
{
	o.json = json || pretty;
	o.pretty = pretty;
}

void vhu_out_streamed(void)
{
	o.streamed = true;
}

bool vhu_out_is_json(void)
{
	return o.json;
}

static void add(const char *key, json_object *v)
{
	json_object *cur = o.stack[o.depth];

	if (json_object_is_type(cur, json_type_array))
		json_object_array_add(cur, v);
	else
		json_object_object_add(cur, key ? key : "value", v);
}

static void spaces(int n)
{
	static const char sp[32] = "                                ";

	for (; n > 0; n -= (int)sizeof(sp))
		fwrite(sp, 1, n < (int)sizeof(sp) ? (size_t)n : sizeof(sp), stdout);
}

/* "LABEL:" padded to the label column, then the value.  By hand rather
 * than printf("%*s%-*s %s"): every text value goes through here. */
static void text_line(const char *label, const char *value)
{
	int ind = 2 * o.text_depth;
	int w = LABEL_WIDTH - ind;
	size_t ll = strnlen(label, 126);

	spaces(ind);
	fwrite(label, 1, ll, stdout);
	putchar(':');
	spaces((w < 1 ? 1 : w) - (int)ll - 1);
	putchar(' ');
	fputs(value, stdout);
	putchar('\n');
	note_write();
}

void vhu_out_begin(const char *command)
{
	json_object *v = json_object_new_object();
	json_object *ver = json_object_new_array();

	json_object_array_add(ver, json_object_new_int(VHU_JSON_FORMAT_MAJOR));
	json_object_array_add(ver, json_object_new_int(VHU_JSON_FORMAT_MINOR));
	json_object_object_add(o.root, "json_format_version", ver);
	json_object_object_add(v, "version", json_object_new_string(vhu_version));
	json_object_object_add(v, "command", jstr(command));
	json_object_object_add(o.root, "vhuctl", v);
}

void vhu_out_steps(void)
{
	if (!o.steps) {
		o.steps = json_object_new_array();
		json_object_object_add(o.root, "steps", o.steps);
	}
}

void vhu_out_step_begin(const char *command, unsigned line)
{
	json_object *step;

	/* Text mode keeps no document of the steps (batch may run many). */
	o.depth = 0;
	o.text_depth = 0;
	if (!o.json)
		return;
	step = json_object_new_object();
	vhu_out_steps();
	json_object_object_add(step, "command", jstr(command));
	json_object_object_add(step, "line", json_object_new_int((int)line));
	json_object_array_add(o.steps, step);
	o.depth = 0;
	o.stack[++o.depth] = step;
	o.text_depth = 0;
}

void vhu_out_step_end(int exit_status, const char *error)
{
	json_object *step = o.stack[1];

	if (!o.json || o.depth < 1) {
		o.depth = 0;
		o.text_depth = 0;
		fflush(stdout);
		return;
	}
	json_object_object_add(step, "exit_status", json_object_new_int(exit_status));
	if (error && *error)
		json_object_object_add(step, "error", jstr(error));
	o.depth = 0;
	o.text_depth = 0;
	fflush(stdout);
}

/* Open a nested object (@list false) or list. */
static void push(const char *key, const char *label, bool list)
{
	json_object *c;

	if (o.quiet)
		return;
	if (!o.json) {
		int ind = 2 * o.text_depth;
		printf("%*s%s:\n", ind, "", label);
		note_write();
		o.text_depth++;
		return;
	}
	c = list ? json_object_new_array() : json_object_new_object();
	add(key, c);
	if (o.depth + 1 < DEPTH_MAX)
		o.stack[++o.depth] = c;
}

static void pop(void)
{
	if (o.quiet)
		return;
	if (!o.json) {
		if (o.text_depth > 0)
			o.text_depth--;
		return;
	}
	if (o.depth > 0)
		o.depth--;
}

void vhu_out_open(const char *key, const char *label)
{
	push(key, label, false);
}

void vhu_out_close(void)
{
	pop();
}

void vhu_out_open_list(const char *key, const char *label)
{
	push(key, label, true);
}

void vhu_out_close_list(void)
{
	pop();
}

void vhu_out_uint(const char *key, const char *label, uint64_t v, const char *unit)
{
	char buf[64];

	if (o.quiet)
		return;
	if (o.json) {
		add(key, json_object_new_uint64(v));
		return;
	}
	snprintf(buf, sizeof(buf), "%llu%s%s", (unsigned long long)v, unit ? " " : "", unit ? unit : "");
	text_line(label, buf);
}

void vhu_out_int(const char *key, const char *label, int64_t v, const char *unit)
{
	char buf[64];

	if (o.quiet)
		return;
	if (o.json) {
		add(key, json_object_new_int64(v));
		return;
	}
	snprintf(buf, sizeof(buf), "%lld%s%s", (long long)v, unit ? " " : "", unit ? unit : "");
	text_line(label, buf);
}

void vhu_out_double(const char *key, const char *label, double v, int decimals, const char *unit)
{
	char buf[64];

	if (o.quiet)
		return;
	if (!isfinite(v))
		v = 0;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (o.json) {
		/* json-c would print 17 significant digits; keep ours. */
		add(key, json_object_new_double_s(v, buf));
		return;
	}
	if (unit)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s", unit);
	text_line(label, buf);
}

void vhu_out_uint_named(const char *key, const char *label, uint64_t v, const char *unit, const char *name)
{
	char buf[160];

	if (o.quiet)
		return;
	if (o.json) {
		add(key, json_object_new_uint64(v));
		if (name) {
			snprintf(buf, sizeof(buf), "%s_name", key ? key : "value");
			add(buf, json_object_new_string(name));
		}
		return;
	}
	snprintf(buf, sizeof(buf), "%llu%s%s%s%s%s", (unsigned long long)v, unit ? " " : "", unit ? unit : "",
		 name ? " (" : "", name ? name : "", name ? ")" : "");
	text_line(label, buf);
}

void vhu_out_uint_flags(const char *key, const char *label, uint64_t v, const char *unit,
			const char *const *names, unsigned n)
{
	char tmp[24];

	if (o.quiet)
		return;
	if (o.json) {
		json_object *list = json_object_new_array();
		char k[160];

		add(key, json_object_new_uint64(v));
		for (unsigned b = 0; b < 64; b++) {
			if (!(v & VHU_BIT(b)))
				continue;
			if (b < n && names[b]) {
				json_object_array_add(list, json_object_new_string(names[b]));
			} else {
				snprintf(tmp, sizeof(tmp), "bit_%u", b);
				json_object_array_add(list, json_object_new_string(tmp));
			}
		}
		snprintf(k, sizeof(k), "%s_names", key ? key : "value");
		add(k, list);
		return;
	}
	{
		char buf[2048];
		size_t len;

		snprintf(buf, sizeof(buf), "%llu%s%s", (unsigned long long)v, unit ? " " : "",
			 unit ? unit : "");
		len = strlen(buf);
		for (unsigned b = 0, first = 1; b < 64 && len + 1 < sizeof(buf); b++) {
			const char *nm;

			if (!(v & VHU_BIT(b)))
				continue;
			nm = b < n && names[b] ? names[b] : NULL;
			if (!nm) {
				snprintf(tmp, sizeof(tmp), "bit_%u", b);
				nm = tmp;
			}
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", first ? " (" : ", ",
						nm);
			first = 0;
			if (len >= sizeof(buf))
				len = sizeof(buf) - 1;
		}
		if (v && len + 2 < sizeof(buf))
			strcat(buf, ")");
		text_line(label, buf);
	}
}

void vhu_out_hex(const char *key, const char *label, uint64_t v, int digits)
{
	char buf[32];

	if (o.quiet)
		return;
	snprintf(buf, sizeof(buf), "0x%0*llx", digits, (unsigned long long)v);
	if (o.json)
		add(key, json_object_new_string(buf));
	else
		text_line(label, buf);
}

void vhu_out_string(const char *key, const char *label, const char *v)
{
	char *esc;

	if (o.quiet)
		return;
	if (!v)
		v = "";
	if (o.json) {
		add(key, jstr(v));
		return;
	}
	if (vhu_text_plain(v) || !(esc = vhu_escape_controls(v))) {
		text_line(label, v);
		return;
	}
	text_line(label, esc);
	free(esc);
}

void vhu_out_bool(const char *key, const char *label, bool v)
{
	if (o.quiet)
		return;
	if (o.json)
		add(key, json_object_new_boolean(v));
	else
		text_line(label, v ? "yes" : "no");
}

void vhu_out_mask(const char *key, const char *label, uint64_t mask, enum vhu_bit_space space,
		  enum vhu_dev_type dev)
{
	unsigned nbits = space == VHU_BITS_STATUS ? 8 : 64;
	char hex[32];

	if (o.quiet)
		return;
	snprintf(hex, sizeof(hex), "0x%0*llx", space == VHU_BITS_STATUS ? 2 : 16, (unsigned long long)mask);
	if (o.json) {
		json_object *obj = vhu_jsonl_mask(mask, space, dev, nbits), *names;

		/* The numbers too: a script finds a bit without knowing the
		 * name a device table gives it. */
		names = json_object_new_array();
		for (unsigned b = 0; b < nbits; b++)
			if (mask & VHU_BIT(b))
				json_object_array_add(names, json_object_new_int((int)b));
		json_object_object_add(obj, "bits", names);
		add(key, obj);
		return;
	}
	text_line(label, hex);
	for (unsigned b = 0; b < nbits; b++) {
		/* "  NAME<pad to 40> (B)": built by hand, since masks are most
		 * of what a batch of get-features prints and printf's padding
		 * cost more than the round trip's own work. */
		char line[2 * DEPTH_MAX + 2 + 128 + 8], num[8], *p = line;
		int ind = 2 * o.text_depth + 2, w;
		const char *n;
		size_t nl;

		if (!(mask & VHU_BIT(b)))
			continue;
		n = vhu_bit_name(space, dev, b);
		num[b >= 10] = (char)('0' + b % 10);
		if (b >= 10)
			num[0] = (char)('0' + b / 10);
		num[1 + (b >= 10)] = '\0';
		if (ind > 2 * DEPTH_MAX + 2)
			ind = 2 * DEPTH_MAX + 2;
		memset(p, ' ', (size_t)ind);
		p += ind;
		nl = n ? strlen(n) : 4 + strlen(num);
		if (nl > 120)
			nl = 120;
		if (n) {
			memcpy(p, n, nl);
		} else {
			memcpy(p, "bit_", 4);
			memcpy(p + 4, num, nl - 4);
		}
		p += nl;
		for (w = (int)nl; w < 40; w++)
			*p++ = ' ';
		*p++ = ' ';
		*p++ = '(';
		memcpy(p, num, strlen(num));
		p += strlen(num);
		*p++ = ')';
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), stdout);
	}
	note_write();
}

/* Lowercase hex of @len bytes; caller frees. */
static char *calloc_hex(const uint8_t *buf, size_t len)
{
	char *hex = malloc(2 * len + 1);

	if (!hex)
		return NULL;
	vhu_format_hex(buf, len, hex);
	return hex;
}

void vhu_out_bytes(const char *key, const char *label, const uint8_t *buf, size_t len, uint32_t base)
{
	if (o.quiet)
		return;
	if (o.json) {
		char *hex = calloc_hex(buf, len);
		add(key, json_object_new_string(hex ? hex : ""));
		free(hex);
		return;
	}
	printf("%*s%s: (%zu %s)\n", 2 * o.text_depth, "", label, len, VHU_PLURAL(len, "byte", "bytes"));
	for (size_t i = 0; i < len; i += 16) {
		/* One line built by hand: a printf per byte made a 256-byte
		 * config dump the costliest part of `probe`. */
		static const char hx[] = "0123456789abcdef";
		char line[16 * 3 + 1 + 16 + 2], *p = line;

		printf("%*s%04zx: ", 2 * o.text_depth + 2, "", (size_t)base + i);
		for (size_t j = 0; j < 16; j++) {
			if (i + j < len) {
				*p++ = hx[buf[i + j] >> 4];
				*p++ = hx[buf[i + j] & 0xf];
			} else {
				*p++ = ' ';
				*p++ = ' ';
			}
			*p++ = ' ';
		}
		*p++ = ' ';
		for (size_t j = 0; j < 16 && i + j < len; j++)
			*p++ = (buf[i + j] >= 0x20 && buf[i + j] < 0x7f) ? (char)buf[i + j] : '.';
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), stdout);
	}
	note_write();
}

void vhu_out_text(const char *fmt, ...)
{
	va_list ap;

	if (o.quiet)
		return;
	if (o.json)
		return;
	spaces(2 * o.text_depth);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	note_write();
}

int vhu_out_raw(const void *buf, size_t len)
{
	if (o.quiet)
		return 0;
	if (o.json || !len)
		return 0;
	errno = 0;
	if (fwrite(buf, 1, len, stdout) != len)
		return errno ? errno : EIO;
	return 0;
}

void vhu_out_warn(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	char *esc;

	if (o.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	esc = vhu_text_plain(buf) ? NULL : vhu_escape_controls(buf);
	vhu_out_before_stderr();
	fprintf(stderr, "vhuctl: warning: %s\n", esc ? esc : buf);
	free(esc);
	if (!o.json)
		return;
	/* Inside a batch step the warning belongs to that step. */
	if (o.steps && o.depth >= 1) {
		json_object *list;

		if (!json_object_object_get_ex(o.stack[1], "warnings", &list)) {
			list = json_object_new_array();
			json_object_object_add(o.stack[1], "warnings", list);
		}
		json_object_array_add(list, jstr(buf));
		return;
	}
	if (!o.warnings) {
		o.warnings = json_object_new_array();
		json_object_object_add(o.root, "warnings", o.warnings);
	}
	json_object_array_add(o.warnings, jstr(buf));
}

void vhu_out_progress(bool tty, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (tty)
		fprintf(stderr, "\r%s\033[K", buf);
	else
		fprintf(stderr, "%s\n", buf);
	fflush(stderr);
}

void vhu_out_progress_end(bool tty)
{
	if (tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

void vhu_out_quiet(bool on)
{
	o.quiet = on;
}

void vhu_out_null(const char *key)
{
	if (o.quiet)
		return;
	if (o.json)
		add(key, NULL);
}

void vhu_out_before_stderr(void)
{
	if (o.finished || !o.root || o.json)
		return;
	fflush(stdout);
	note_write();
}

void vhu_out_error_line(unsigned lineno, const char *fmt, ...)
{
	char msg[2048], *esc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	esc = vhu_text_plain(msg) ? NULL : vhu_escape_controls(msg);
	vhu_out_before_stderr();
	if (lineno)
		fprintf(stderr, "vhuctl: line %u: %s\n", lineno, esc ? esc : msg);
	else
		fprintf(stderr, "vhuctl: %s\n", esc ? esc : msg);
	free(esc);
}

int vhu_out_error(void)
{
	note_write();
	if (o.out_errno)
		return o.out_errno;
	/* After a failed write stdio keeps the data and the next flush
	 * tries again, so errno here is that of a fresh failure. */
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		o.out_errno = errno ? errno : EIO;
	return o.out_errno;
}

/* A failure writing stdout: one message, and exit status 74 unless the
 * run has failed already. */
static int out_status(int exit_status)
{
	int err = vhu_out_error();

	if (!err)
		return exit_status;
	if (!o.out_reported)
		fprintf(stderr, "vhuctl: cannot write standard output: %s\n", strerror(err));
	o.out_reported = true;
	return exit_status ? exit_status : VHU_E_IO;
}

int vhu_out_finish(int exit_status, const char *error)
{
	json_object *v;

	if (o.finished)
		return exit_status;
	o.finished = true;
	if (!o.json || (o.streamed && exit_status == 0)) {
		json_object_put(o.root);
		return out_status(exit_status);
	}
	if (!json_object_object_get_ex(o.root, "vhuctl", &v)) {
		vhu_out_begin(NULL);
		json_object_object_get_ex(o.root, "vhuctl", &v);
	}
	json_object_object_add(v, "exit_status", json_object_new_int(exit_status));
	json_object_object_add(v, "exit_status_name", json_object_new_string(vhu_exit_name(exit_status)));
	if (error && *error)
		json_object_object_add(o.root, "error", jstr(error));
	puts(json_object_to_json_string_ext(o.root,
					    (o.pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	note_write();
	json_object_put(o.root);
	o.root = NULL;
	return out_status(exit_status);
}

int vhu_out_discard(void)
{
	if (o.root)
		json_object_put(o.root);
	o.root = NULL;
	o.finished = true;
	return out_status(VHU_OK);
}
