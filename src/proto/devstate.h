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
#include "util/outfile.h"

/* Values of vhost_user_transfer_state.direction (spec "Device state transfer parameters"). */
enum vhu_ds_dir {
	VHU_DS_SAVE = VHOST_USER_DEVICE_STATE_SAVE, /* back-end -> front-end */
	VHU_DS_LOAD = VHOST_USER_DEVICE_STATE_LOAD, /* front-end -> back-end */
};

/* Streaming buffers: memory use is bounded by them whatever the state
 * size (VHU_DS_NBUF of VHU_DS_BUF bytes, so that hashing can overlap the
 * I/O). */
#define VHU_DS_BUF  (256u * 1024u)
#define VHU_DS_NBUF 4u
/* Progress unit: every --timeout must move at least this much of the
 * stream (or reach its end). */
#define VHU_DS_CHUNK (64u * 1024u)
/* Default of --max-size. */
#define VHU_DS_DEFAULT_MAX_SIZE (UINT64_C(1) << 30)

/* SET_DEVICE_STATE_FD reply (spec "SET_DEVICE_STATE_FD"). */
#define VHU_DS_REPLY_ERROR_MASK 0xffu
#define VHU_DS_REPLY_NOFD	(1u << 8)
#define VHU_DS_REPLY_KNOWN_MASK 0x1ffu

struct vhu_ds_result {
	uint64_t bytes;	     /* bytes that went through the pipe */
	uint8_t sha256[32];  /* SHA-256 of exactly those bytes */
	char sha256_hex[65]; /* the same, lowercase hex */
	uint64_t reply;	     /* SET_DEVICE_STATE_FD reply value */
	bool backend_fd;     /* the back-end returned its own fd (bit 8 clear) */
	bool undefined_bits; /* reply bits 9-63 set: the caller warns */
};

/* Bounds of one transfer, besides the session's --timeout. */
struct vhu_ds_limits {
	/* Largest stream accepted: SAVE beyond it is VHU_E_PROTO, a LOAD
	 * source beyond it VHU_E_USAGE.  0: no limit. */
	uint64_t max_size;
	/* The whole stream, from SET_DEVICE_STATE_FD to its end, in ms
	 * (VHU_E_TIMEOUT).  0: no limit. */
	int transfer_ms;
};

/*
 * The local end of a transfer.
 *  SAVE: an atomic output file (util/outfile.h): FILE must be missing, a
 *        regular file or a link to one; the new content replaces it only
 *        in vhu_ds_file_commit().  FILE itself is never opened.
 *  LOAD: FILE opened read-only and non-blocking (a FIFO without a writer
 *        or a device must not hang the open); a regular file or a block
 *        device is read as is, a FIFO or a character device through
 *        poll, every wait bounded like the stream.  Never written.
 * Every field is owned by the struct; vhu_ds_file_abort() releases them.
 */
struct vhu_ds_file {
	enum vhu_ds_dir dir;
	const char *path;	/* borrowed from the caller, must outlive the struct */
	struct vhu_outfile out; /* SAVE */
	int fd;			/* the temporary (SAVE, = out.fd) or FILE (LOAD); -1 = closed */
};

/* Prepare the local end before anything is sent, so a bad FILE costs no
 * request: VHU_E_USAGE when @path cannot be opened (LOAD), is a
 * directory, a socket, or (LOAD) a regular file larger than
 * @lim->max_size; (SAVE) is anything but a regular file or a link to one,
 * or its directory takes no temporary. */
int vhu_ds_file_open(struct vhu_session *s, enum vhu_ds_dir dir, const char *path,
		     const struct vhu_ds_limits *lim, struct vhu_ds_file *f);

/* SAVE: fsync the temporary, rename it over FILE, fsync the directory.
 * LOAD: close.  On failure the temporary is gone and FILE untouched
 * (VHU_E_IO; a pending signal: its status, see util/intr.h).  Call only
 * after the back-end confirmed the transfer. */
int vhu_ds_file_commit(struct vhu_session *s, struct vhu_ds_file *f);

/* Close, and remove the temporary if it still exists.  Safe to call after
 * commit and more than once. */
void vhu_ds_file_abort(struct vhu_ds_file *f);

/*
 * One whole transfer over @local_fd (borrowed, never closed: the SAVE
 * destination, written from its current offset, or the LOAD source, read
 * to EOF, through poll when it is a FIFO, socket or character device;
 * @name, or "the state file" when NULL, names it in messages):
 *
 *  1. a pipe (O_CLOEXEC); SET_DEVICE_STATE_FD {dir, STOPPED} with the end
 *     the back-end needs (SAVE: write end, LOAD: read end); our copy of it
 *     is closed right after sending;
 *  2. the reply decides which fd carries the data: ours (bit 8 set, no fd)
 *     or the back-end's (bit 8 clear, one fd, which must be a FIFO or a
 *     socket, and is switched to O_NONBLOCK: a back-end that keeps a copy
 *     and drains or refills it behind our back cannot block a read or a
 *     write); bits 0-7 non-zero is a refusal (VHU_E_REFUSED), any other
 *     fd/flag combination a violation (VHU_E_PROTO);
 *  3. the stream: never a blocking call on the data fd; each --timeout
 *     (s->timeout_ms) must move VHU_DS_CHUNK bytes or reach the end
 *     (VHU_E_TIMEOUT, also for a back-end that drips); @lim (NULL: no
 *     limits) bounds the size and the whole duration; a signal caught by
 *     util/intr ends it with vhu_intr_status();
 *  4. CHECK_DEVICE_STATE: non-zero is VHU_E_REFUSED.
 *
 * The SHA-256 runs in a helper thread (OpenSSL libcrypto) while the main
 * thread moves the data.  The device must be suspended (rings stopped)
 * first; that is the caller's business.  @r is filled as far as the
 * transfer got.
 */
int vhu_ds_transfer(struct vhu_session *s, enum vhu_ds_dir dir, int local_fd, const char *name,
		    const struct vhu_ds_limits *lim, struct vhu_ds_result *r);

/* CHECK_DEVICE_STATE alone.  *@status receives the back-end's value;
 * non-zero returns VHU_E_REFUSED. */
int vhu_ds_check(struct vhu_session *s, uint64_t *status);

#endif
