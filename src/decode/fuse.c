/* SPDX-License-Identifier: Apache-2.0 */
/* FUSE reply checks and directory entry parsing (see fuse.h). */
#define _GNU_SOURCE /* strerrorname_np */
#include "decode/fuse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/rc.h"

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return VHU_E_PROTO;
}

int vhu_fuse_reply_check(const void *buf, uint32_t used, uint64_t unique, uint32_t min_arg,
			 struct vhu_fuse_reply *r, char *err, size_t errlen)
{
	struct fuse_out_header oh;

	memset(r, 0, sizeof(*r));
	if (used < sizeof(oh))
		return bad(err, errlen, "reply of %u bytes, shorter than fuse_out_header (%zu)", used,
			   sizeof(oh));
	memcpy(&oh, buf, sizeof(oh));
	if (oh.len != used)
		return bad(err, errlen, "reply header says %u bytes (out.len) but the device wrote %u",
			   oh.len, used);
	if (oh.unique != unique)
		return bad(err, errlen, "reply for unique %llu, but the request's unique is %llu",
			   (unsigned long long)oh.unique, (unsigned long long)unique);
	/* The kernel's FUSE device rejects these too (fuse_dev_do_write). */
	if (oh.error > 0 || oh.error <= -512)
		return bad(err, errlen, "reply error %d is not 0 or a negative errno", oh.error);
	r->error = oh.error;
	/* An error reply's output, if any, means nothing. */
	if (oh.error)
		return 0;
	r->arg = (const uint8_t *)buf + sizeof(oh);
	r->arg_len = used - (uint32_t)sizeof(oh);
	if (r->arg_len < min_arg)
		return bad(err, errlen,
			   "reply of %u bytes after the header, less than the %u its opcode needs",
			   r->arg_len, min_arg);
	return 0;
}

int vhu_fuse_dirent_next(const uint8_t *buf, uint32_t len, uint32_t *pos, struct vhu_fuse_dirent *e,
			 char *err, size_t errlen)
{
	struct fuse_dirent d;
	uint64_t rec;
	uint32_t at = *pos;

	if (at >= len || len - at < FUSE_NAME_OFFSET)
		return 0;
	memcpy(&d, buf + at, FUSE_NAME_OFFSET);
	/* The checks of the kernel's fuse_parse_dirfile(), plus NUL. */
	if (!d.namelen || d.namelen > VHU_FUSE_NAME_MAX)
		return bad(err, errlen, "directory entry at byte %u: name length %u (1..%u)", at, d.namelen,
			   VHU_FUSE_NAME_MAX);
	rec = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + (uint64_t)d.namelen);
	if (rec > len - at)
		return 0;
	e->ino = d.ino;
	e->off = d.off;
	e->type = d.type;
	e->name = (const char *)buf + at + FUSE_NAME_OFFSET;
	e->namelen = d.namelen;
	if (memchr(e->name, '/', d.namelen) || memchr(e->name, '\0', d.namelen))
		return bad(err, errlen, "directory entry at byte %u: the name holds %s", at,
			   memchr(e->name, '/', d.namelen) ? "'/'" : "a NUL byte");
	*pos = at + (uint32_t)rec;
	return 1;
}

const char *vhu_fuse_opcode_name(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_LOOKUP: return "LOOKUP";
	case FUSE_FORGET: return "FORGET";
	case FUSE_GETATTR: return "GETATTR";
	case FUSE_OPEN: return "OPEN";
	case FUSE_READ: return "READ";
	case FUSE_RELEASE: return "RELEASE";
	case FUSE_INIT: return "INIT";
	case FUSE_OPENDIR: return "OPENDIR";
	case FUSE_READDIR: return "READDIR";
	case FUSE_RELEASEDIR: return "RELEASEDIR";
	case FUSE_READDIRPLUS: return "READDIRPLUS";
	default: return "?";
	}
}

const char *vhu_fuse_dtype_name(uint32_t type)
{
	switch (type) {
	case 1: return "fifo";
	case 2: return "char";
	case 4: return "directory";
	case 6: return "block";
	case 8: return "regular";
	case 10: return "symlink";
	case 12: return "socket";
	default: return "unknown";
	}
}

const char *vhu_fuse_mode_type(uint32_t mode)
{
	return vhu_fuse_dtype_name((mode >> 12) & 017);
}

const char *vhu_errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "E?";
}
