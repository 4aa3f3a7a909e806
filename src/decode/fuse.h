/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FUSE replies as a virtio-fs device writes them (virtio spec "File
 * System Device", "Device Operation": a request's device-writable part is
 * fuse_out_header followed by the opcode's output), judged before they
 * are believed.  Pure: bytes in, typed values or a message out, never
 * printing, never reading past the length given.  Layouts are those of
 * the kernel's <linux/fuse.h>; a virtio-fs session uses the driver's byte
 * order (here the host's), so the structs are read as they are.
 *
 * What makes a reply a protocol violation (VHU_E_PROTO, the message in
 * the caller's buffer):
 *  - fewer bytes than fuse_out_header;
 *  - out.len different from the bytes the device says it wrote (the used
 *    length): one of the two lies;
 *  - out.unique not the request's (0 would be a notification, which a
 *    request queue never carries);
 *  - out.error positive or below -511 (the kernel's FUSE device refuses
 *    the same range);
 *  - a successful reply shorter than the fixed output of its opcode;
 *  - a directory entry with an empty name, a name longer than
 *    VHU_FUSE_NAME_MAX, or a name holding '/' or NUL.
 * A reply with a negative errno is not a violation: the caller reports
 * the errno (exit status 1).
 */
#ifndef VHU_DECODE_FUSE_H
#define VHU_DECODE_FUSE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/fuse.h>

/* The longest name the kernel accepts in a directory entry (fs/fuse
 * FUSE_NAME_MAX). */
#define VHU_FUSE_NAME_MAX 1024u

/* A reply that passed vhu_fuse_reply_check(). */
struct vhu_fuse_reply {
	int32_t error;	    /* 0, or a negative errno */
	const uint8_t *arg; /* the output after the header (in the caller's buffer) */
	uint32_t arg_len;   /* its bytes */
};

/*
 * Judge the reply in @buf: @used bytes written by the device (the used
 * length, already checked to lie inside the buffer) for the request
 * @unique; a successful reply must carry at least @min_arg bytes of
 * output.  VHU_OK with *@r filled (r->error may be set), or VHU_E_PROTO
 * with the reason in @err.
 */
int vhu_fuse_reply_check(const void *buf, uint32_t used, uint64_t unique, uint32_t min_arg,
			 struct vhu_fuse_reply *r, char *err, size_t errlen);

/* One directory entry of a READDIR reply; @name is not NUL terminated
 * and points into the reply. */
struct vhu_fuse_dirent {
	uint64_t ino, off;
	uint32_t type; /* DT_* (the S_IFMT bits >> 12) */
	const char *name;
	uint32_t namelen;
};

/*
 * The entry at *@pos of a READDIR output of @len bytes, and *@pos moved
 * past it.  1: an entry; 0: no whole entry left (the kernel, too, stops
 * at a record cut short by the end of the buffer); VHU_E_PROTO (with
 * @err) for an entry no file system can hold.
 */
int vhu_fuse_dirent_next(const uint8_t *buf, uint32_t len, uint32_t *pos, struct vhu_fuse_dirent *e,
			 char *err, size_t errlen);

/* "LOOKUP", "READDIR", ... ("?" for opcodes vhuctl does not send). */
const char *vhu_fuse_opcode_name(uint32_t opcode);
/* "regular", "directory", "symlink", "fifo", "socket", "char", "block",
 * "unknown": of a DT_* value and of a mode's S_IFMT bits. */
const char *vhu_fuse_dtype_name(uint32_t type);
const char *vhu_fuse_mode_type(uint32_t mode);
/* "ENOENT" for 2: the symbolic name of a positive errno, or "E?" when
 * the C library knows none. */
const char *vhu_errno_name(int err);

#endif
