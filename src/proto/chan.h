/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The back-end channel (spec "Back-end communication", "Back-end message
 * types"): a socketpair whose far end is handed over with
 * SET_BACKEND_REQ_FD; the back-end then sends its own requests on it and
 * the front-end answers them.  Plus the two front-end requests that
 * return objects rather than numbers: GET_SHARED_OBJECT (41) and crosvm's
 * GET_SHARED_MEMORY_REGIONS (1004).
 *
 * Nothing here prints.  Failures return a vhu_rc with the message in
 * vhu_session_error(); channel traffic goes through the session's trace
 * hook as VHU_DIR_BACKEND_RECV / VHU_DIR_BACKEND_SEND.
 *
 * File descriptors: every fd that arrives on the channel (or with a
 * GET_SHARED_OBJECT reply) is described with fstat() and closed inside
 * this module before the call returns; callers never own one.  vhuctl
 * holds no guest, so it has no use for them, and keeping none open means
 * a long `watch` cannot leak.
 */
#ifndef VHU_PROTO_CHAN_H
#define VHU_PROTO_CHAN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/session.h"

/*
 * Our end of the channel.  A zeroed struct is a closed channel, so it can
 * live in static storage without an init call.
 */
struct vhu_chan {
	bool open;
	int fd;	  /* owned while @open */
	bool eof; /* the back-end hung up (not set by vhu_chan_close) */
	/* Set with @eof, cleared by vhu_chan_take_eof(): the hang-up may be
	 * read while serving a main-socket wait, and must still be reported
	 * once by whoever drains the channel next. */
	bool eof_unseen;
	uint64_t received; /* back-end requests read */
	uint64_t answered; /* replies sent */
	/* Set by a front-end that serves IOTLB misses (driver --iommu): a
	 * BACKEND_IOTLB_MSG miss is not answered on receipt, the caller
	 * answers it with vhu_chan_answer() once the update went out (spec
	 * "IOMMU support": ack after the matching IOTLB_MSG). */
	bool hold_iotlb_miss;
	/* Optional: while waiting for a message, a signal that interrupts
	 * the wait ends it early (as "idle") when *@stop is non-zero. */
	volatile sig_atomic_t *stop;

	/* Messages read and answered while the session waited for a reply
	 * on the main socket (struct vhu_session side_fn), kept in order
	 * until vhu_chan_take_queued(); malloc'd, owned by the channel. */
	struct vhu_session *attached;
	struct vhu_chan_msg *queue;
	unsigned nqueue, qcap;
	uint64_t dropped; /* answered but not kept: the queue was full */
	int deferred_rc;  /* a channel failure seen while serving */
	int64_t limit;	  /* while serving: no wait goes past it (0 = none) */
	char deferred_err[512];
};

/* Close our end and detach it from the session; safe on a closed
 * channel.  Reads then fail (usage).  Queued messages stay queued. */
void vhu_chan_close(struct vhu_chan *c);
/* True once after the back-end hung up, whoever read the hang-up. */
bool vhu_chan_take_eof(struct vhu_chan *c);
/* vhu_chan_close() and free the queue (at exit). */
void vhu_chan_release(struct vhu_chan *c);

/*
 * SET_BACKEND_REQ_FD: create a socketpair (SOCK_STREAM, as QEMU does, spec
 * 6.12), send one end (gated on VHOST_USER_PROTOCOL_F_BACKEND_REQ; the
 * REPLY_ACK ack is handled by vhu_request), close that end here and keep
 * the other in @c.  Nothing is sent, and an open channel stays, when the
 * gate is closed; otherwise an open channel is closed first (a back-end
 * drops its old channel on a new SET_BACKEND_REQ_FD as well).
 */
int vhu_chan_open(struct vhu_session *s, struct vhu_chan *c);

/* What an fd that arrived turned out to be (fstat before closing). */
enum vhu_fd_kind {
	VHU_FD_REGULAR, /* S_ISREG: a file or a memfd */
	VHU_FD_FIFO,	/* S_ISFIFO: a pipe end */
	VHU_FD_SOCKET,	/* S_ISSOCK */
	VHU_FD_OTHER,	/* eventfd, dma-buf, device, ... */
	VHU_FD_REFUSED, /* closed unexamined: BACKEND_SEND_FD not negotiated */
};

struct vhu_fd_info {
	enum vhu_fd_kind kind;
	int64_t size; /* st_size; -1 when not examined */
};

/* "regular", "fifo", "socket", "other", "refused". */
const char *vhu_fd_kind_name(enum vhu_fd_kind k);
/* fstat @fd into @info, then close it (always; @fd may be < 0). */
void vhu_fd_describe_close(int fd, struct vhu_fd_info *info);

/* One back-end request, decoded.  Holds no fds (see above). */
struct vhu_chan_msg {
	struct vhost_user_hdr hdr;
	const struct vhu_req_desc *desc;  /* catalog row, NULL = unknown code */
	uint8_t payload[VHU_MAX_PAYLOAD]; /* hdr.size bytes, kept raw */
	unsigned nfds;			  /* fds that came with it (all closed) */
	struct vhu_fd_info fd[VHOST_USER_MAX_FDS];
	bool need_reply;   /* NEED_REPLY was set */
	bool answered;	   /* a reply was sent ... */
	uint64_t answer;   /* ... carrying this u64 */
	char problem[160]; /* tolerated oddity ("" = none) */
};

enum vhu_chan_event {
	VHU_CHAN_IDLE,	 /* nothing arrived within the wait */
	VHU_CHAN_MSG,	 /* @m holds a message */
	VHU_CHAN_CLOSED, /* the back-end closed the channel (at a message boundary, or
			  * while we answered); repeated on every later call */
};

/*
 * Read one back-end request.  Waits up to @wait_ms for its first byte (0:
 * just look, < 0: no limit); the rest must follow within the session
 * timeout.  Checks: header version 1, REPLY and
 * reserved bits clear; size within the catalog row before a payload byte
 * is read (unknown codes: at most 4096 bytes, kept raw); fds only with the
 * first byte, at most 8, and only when BACKEND_SEND_FD was negotiated
 * (otherwise closed unexamined and noted).  Every fd is described and
 * closed.  A violation closes the channel (the stream is out of step) and
 * returns VHU_E_PROTO; EOF inside a message or a read error VHU_E_IO.
 * Does not answer: see vhu_chan_answer().
 */
int vhu_chan_recv(struct vhu_session *s, struct vhu_chan *c, int wait_ms, struct vhu_chan_msg *m,
		  enum vhu_chan_event *ev);

/*
 * The u64 vhuctl answers @m with: 0 for what it accepts (IOTLB_MSG,
 * CONFIG_CHANGE_MSG, VRING_HOST_NOTIFIER_MSG, VRING_CALL/ERR,
 * SHARED_OBJECT_ADD/REMOVE), 1 for what it cannot do (SHARED_OBJECT_LOOKUP:
 * it holds no objects; SHMEM_MAP/UNMAP: it has no shared memory regions)
 * and for unknown codes.
 */
uint64_t vhu_chan_answer_value(const struct vhu_chan_msg *m);

/*
 * Answer @m when NEED_REPLY is set, and always for SHARED_OBJECT_LOOKUP
 * (its reply is not optional): flags REPLY|version with NEED_REPLY clear,
 * a u64 payload, never an fd.  Sets m->answered/answer.  A failed send
 * closes the channel (VHU_E_IO).
 */
int vhu_chan_answer(struct vhu_session *s, struct vhu_chan *c, struct vhu_chan_msg *m);

/* A BACKEND_IOTLB_MSG miss (type 1) of full size: *@out is its payload. */
bool vhu_chan_iotlb_miss(const struct vhu_chan_msg *m, struct vhost_iotlb_msg_wire *out);

/* vhu_chan_recv() then, for a message, vhu_chan_answer() (not for a miss
 * while c->hold_iotlb_miss is set). */
int vhu_chan_next(struct vhu_session *s, struct vhu_chan *c, int wait_ms, struct vhu_chan_msg *m,
		  enum vhu_chan_event *ev);

/*
 * GET_SHARED_OBJECT (gated on SHARED_OBJECT): look up @uuid (the 16 bytes
 * of VhostUserShared in RFC 4122 order, as vhu_parse_uuid() gives them).  The reply
 * payload is 0 bytes (rust-vmm) or the UUID echoed (libvhost-user); any
 * other size, or another UUID, is a violation.  0 or 1 fd: *@found tells
 * which; the fd is described into @fd and closed.
 */
int vhu_get_shared_object(struct vhu_session *s, const uint8_t uuid[16], bool *found, struct vhu_fd_info *fd);

/*
 * GET_SHARED_MEMORY_REGIONS (1004), a crosvm front-end-family extension
 * that is not part of the common vhost-user spec; no gate (the crosvm
 * client sends it unconditionally).  Reply: u64 count, then count 16-byte
 * regions {id u8, padding 7, length u64}; the payload must be exactly
 * 8 + 16 * count bytes (seed get_shared_memory_regions) and no fds.
 * Fills up to @max regions into @r (caller storage) and sets *@count.
 * Non-zero padding bytes are reported in @problem (size @plen, "" when
 * none), not as a violation.
 */
int vhu_get_shared_memory_regions(struct vhu_session *s, struct vhost_shared_memory_region *r, unsigned max,
				  unsigned *count, char *problem, size_t plen);

/*
 * Messages served while waiting on the main socket, oldest first: *@msgs
 * points into the channel's queue and stays valid until the next call of
 * vhu_chan_clear_queued().  Also hands back (and clears) a deferred
 * failure in *@rc, with its message copied into the session.
 */
unsigned vhu_chan_queued(struct vhu_session *s, struct vhu_chan *c, const struct vhu_chan_msg **msgs,
			 int *rc);
void vhu_chan_clear_queued(struct vhu_chan *c);

#endif
