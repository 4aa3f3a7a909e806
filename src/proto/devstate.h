/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device-state transfer (VHOST_USER_PROTOCOL_F_DEVICE_STATE, reference
 * 6.8 and 5.10): SET_DEVICE_STATE_FD opens a pipe between front-end and
 * back-end, the opaque state streams through it, and CHECK_DEVICE_STATE
 * tells whether the back-end was happy with it.
 *
 * The state file is the raw stream, byte for byte, with no header: what
 * `save` writes is exactly what `load` sends.
 *
 * Nothing here prints.  Failures return a vhu_rc with a one-line message
 * in the session ("REQ: problem", or "FILE: problem" for local files).
 *
 * SIGPIPE: a LOAD to a back-end that closed its end early writes to a
 * pipe without a reader.  The caller must ignore SIGPIPE (main does) so
 * that this is an EPIPE error and not the end of the process.
 */
#ifndef VHU_PROTO_DEVSTATE_H
#define VHU_PROTO_DEVSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/session.h"

/* Values of vhost_user_transfer_state.direction (spec "Device state transfer parameters"). */
enum vhu_ds_dir {
	VHU_DS_SAVE = VHOST_USER_DEVICE_STATE_SAVE, /* back-end -> front-end */
	VHU_DS_LOAD = VHOST_USER_DEVICE_STATE_LOAD, /* front-end -> back-end */
};

/* Streaming buffer: memory use is bounded by it whatever the state size. */
#define VHU_DS_CHUNK (64u * 1024u)

/* SET_DEVICE_STATE_FD reply (spec "SET_DEVICE_STATE_FD"). */
#define VHU_DS_REPLY_ERROR_MASK 0xffu
#define VHU_DS_REPLY_NOFD (1u << 8)
#define VHU_DS_REPLY_KNOWN_MASK 0x1ffu

struct vhu_ds_result {
	uint64_t bytes;          /* bytes that went through the pipe */
	uint8_t sha256[32];      /* SHA-256 of exactly those bytes */
	char sha256_hex[65];     /* the same, lowercase hex */
	uint64_t reply;          /* SET_DEVICE_STATE_FD reply value */
	bool backend_fd;         /* the back-end returned its own fd (bit 8 clear) */
	bool undefined_bits;     /* reply bits 9-63 set: the caller warns */
};

/*
 * The local end of a transfer.
 *  SAVE: a temporary ".NAME.XXXXXX" created with mkstemp in the directory
 *        of @path; it replaces @path (rename) only in vhu_ds_file_commit().
 *        @path itself is never opened.
 *  LOAD: @path opened read-only; never written.
 * Every field is owned by the struct; vhu_ds_file_abort() releases them.
 */
struct vhu_ds_file {
	enum vhu_ds_dir dir;
	const char *path;   /* borrowed from the caller, must outlive the struct */
	char *tmp;          /* owned (malloc): the temporary's path, SAVE only */
	int fd;             /* owned: the temporary (SAVE) or @path (LOAD); -1 = closed */
};

/* Prepare the local end before anything is sent, so a bad FILE costs no
 * request: VHU_E_USAGE when @path cannot be opened (LOAD), is a directory,
 * or its directory takes no temporary (SAVE). */
int vhu_ds_file_open(struct vhu_session *s, enum vhu_ds_dir dir, const char *path, struct vhu_ds_file *f);

/* SAVE: fsync the temporary, rename it over @path, fsync the directory.
 * LOAD: close.  On failure the temporary is gone and @path untouched
 * (VHU_E_IO).  Call only after the back-end confirmed the transfer. */
int vhu_ds_file_commit(struct vhu_session *s, struct vhu_ds_file *f);

/* Close, and unlink the temporary if it still exists.  Safe to call after
 * commit and more than once. */
void vhu_ds_file_abort(struct vhu_ds_file *f);

/*
 * One whole transfer over @local_fd (borrowed, never closed: the SAVE
 * destination, written from its current offset, or the LOAD source, read
 * to EOF; @name, or "the state file" when NULL, names it in messages):
 *
 *  1. a pipe (O_CLOEXEC); SET_DEVICE_STATE_FD {dir, STOPPED} with the end
 *     the back-end needs (SAVE: write end, LOAD: read end); our copy of it
 *     is closed right after sending;
 *  2. the reply decides which fd carries the data: ours (bit 8 set, no fd)
 *     or the back-end's (bit 8 clear, one fd, which must be a FIFO or a
 *     socket); bits 0-7 non-zero is a refusal (VHU_E_REFUSED), any other
 *     fd/flag combination a violation (VHU_E_PROTO);
 *  3. the stream, 64 KiB at a time, each wait bounded by s->timeout_ms
 *     (VHU_E_TIMEOUT when the back-end stalls), no limit on the size;
 *  4. CHECK_DEVICE_STATE: non-zero is VHU_E_REFUSED.
 *
 * The device must be suspended (rings stopped) first; that is the
 * caller's business.  @r is filled as far as the transfer got.
 */
int vhu_ds_transfer(struct vhu_session *s, enum vhu_ds_dir dir, int local_fd, const char *name,
		    struct vhu_ds_result *r);

/* CHECK_DEVICE_STATE alone.  *@status receives the back-end's value;
 * non-zero returns VHU_E_REFUSED. */
int vhu_ds_check(struct vhu_session *s, uint64_t *status);

#endif
