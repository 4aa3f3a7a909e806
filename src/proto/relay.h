/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The relay behind `vhuctl proxy`: a man in the middle between front-ends
 * (QEMU, cloud-hypervisor, DPDK virtio-user, vhuctl) and one back-end.
 *
 * Each front-end connection is a session with its own connection to the
 * back-end.  By default the relay creates the front-ends' socket and
 * connects to the back-end's; either side may be the other way round
 * (struct vhu_relay_cfg).  Every message is written on unchanged: same
 * header, same payload, same fds, one sendmsg with the fds on the first
 * byte, never merged with or split from another message.  Reading costs
 * one recvmsg per wake-up into a buffer of the socket (header and payload
 * together, or several messages queued together), framed here by the
 * headers; the fds of a read belong to the last message that starts in it,
 * since Linux ends a read after the bytes that carried fds
 * (vhu_msg_recv_bytes()).  So fds sent with a later byte of a message are
 * seen as strays only when that byte arrives in a read of its own; when
 * header and rest are read together, they pass for the message's own.
 * The one exception is SET_BACKEND_REQ_FD: its fd (the front-end's end of
 * the back-end channel) stays with the relay, and the back-end gets one
 * end of a socketpair of the relay's instead, so the back-end channel is
 * relayed (and seen) as well (spec "Back-end communication").
 *
 * One poll loop serves every socket of every session.  Sockets are
 * non-blocking and each direction has its own queue, so a peer that does
 * not read only fills its own queue; when that queue is full the relay
 * stops reading the peer that feeds it.  A session ends, and every fd it
 * holds is closed, when a peer hangs up, announces a payload above
 * VHU_MAX_PAYLOAD (not a vhost-user stream), leaves a message unfinished
 * for the timeout, or does not take queued messages for the timeout.
 * Other sessions keep running.
 *
 * The relay observes, it does not police: a message that breaks a rule
 * (header bits, sizes, fd counts, a reply nobody waits for) is relayed
 * and reported with the problem.  Replies are paired with their requests
 * FIFO by request code, using vhu_reply_expected() with the protocol
 * features negotiated in that session.
 *
 * Nothing here prints: every message and event goes to the callback.
 */
#ifndef VHU_PROTO_RELAY_H
#define VHU_PROTO_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proto/catalog.h"
#include "proto/msg.h"

struct vhu_relay_cfg {
	const char *front;  /* the front-ends' socket */
	bool front_connect; /* connect to it (a front-end in server mode: QEMU server=on,
			     * DPDK virtio-user server=1), one session at a time, again
			     * after each; else create it and accept front-ends */
	const char *back;   /* the back-end's socket */
	bool back_listen;   /* create it and let the back-end connect (DPDK vhost
			     * client=1), one connection per session; else connect */
	int timeout_ms;	    /* an unfinished message, or a queue that does not move */
	unsigned sessions;  /* stop after this many sessions ended (0: never) */
	const int *stop;    /* stop once *stop is non-zero (the callback's output failed), or NULL */
	/* Called with the callback's @arg as every poll round ends, before
	 * the relay waits again (and once more before returning): the
	 * callback may buffer what it writes and flush it here, one write
	 * per round, nothing held back while the relay waits. */
	void (*round_end)(void *arg);
};

enum vhu_relay_kind {
	VHU_REL_MSG,  /* a message was relayed (or, with @dropped, could not be) */
	VHU_REL_NOTE, /* an event: see @event */
};

struct vhu_relay_rec {
	enum vhu_relay_kind kind;
	struct timespec ts; /* CLOCK_REALTIME when the message was read */
	int64_t t_us;	    /* microseconds since the relay started */
	uint64_t session;   /* 1, 2, ...; 0 for events of the relay itself */
	bool chan;	    /* the back-end channel, else the main socket */
	bool to_backend;    /* F>B, else B>F */

	/* VHU_REL_MSG.  The message's fds are still open while the callback
	 * runs; they are described in @fd. */
	const struct vhu_msg *m;
	struct vhu_fd_desc fd[VHU_MSG_FD_ROOM];
	const struct vhu_req_desc *desc; /* front-end or back-end row; NULL: unknown code */
	bool reply;			 /* the REPLY flag */
	enum vhu_expect expect;		 /* request: what answers it; reply: what it is
					  * (VHU_EXPECT_NONE: nobody waited for it) */
	int64_t rtt_us;			 /* reply: since its request was read; -1 */
	bool interposed;		 /* SET_BACKEND_REQ_FD: the back-end got the relay's socket */
	bool dropped;			 /* nobody to relay it to (its channel is gone) */
	char problem[256];		 /* the rules it breaks; "" when none */

	/* VHU_REL_NOTE */
	const char *event; /* "listen", "wait", "open", "channel", "end", "stop", "note" */
	char note[320];
};

typedef void (*vhu_relay_fn)(void *arg, const struct vhu_relay_rec *r);

/*
 * Relay front-ends to the back-end until SIGINT or SIGTERM (util/intr;
 * VHU_OK, the signal left pending for the caller), until cfg->sessions
 * sessions ended (VHU_OK), or another signal (128 + signal).  Failures to
 * start: VHU_E_USAGE (path too long), VHU_E_CONNECT (cannot listen), with
 * a one-line message in @err.  Every fd is closed and the sockets it
 * created are removed when it returns.
 */
int vhu_relay_run(const struct vhu_relay_cfg *cfg, vhu_relay_fn fn, void *arg, char *err, size_t errlen);

#endif
