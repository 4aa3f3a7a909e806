/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay: bring a new connection to the state the old one had, from the
 * session's replay log (struct vhu_replay_log), after the back-end
 * restarted or on request.  What QEMU does when a vhost-user back-end
 * comes back (its reconnect re-runs the whole bring-up), with what
 * vhuctl recorded instead of a device model.
 *
 * The new connection starts from nothing (vhu_session_forget()):
 *   GET_FEATURES, and GET_PROTOCOL_FEATURES when protocol features were
 *   negotiated before, so that the back-end is learnt again; then every
 *   logged request in the order it first went through.  Features and
 *   protocol features acked before must still be offered (else
 *   VHU_E_UNSUPPORTED, nothing more sent).  fds are the session's own
 *   again: memory regions (found by their addresses), ring eventfds,
 *   the inflight buffer (GET_INFLIGHT_FD becomes SET_INFLIGHT_FD: the
 *   buffer is the one the first back-end gave, as QEMU hands it to every
 *   start), the dirty log; SET_BACKEND_REQ_FD opens a new back-end
 *   channel.
 *
 * Ring bases (spec "Ring states"; QEMU's vhost_virtqueue_start after a
 * reconnect): a split ring whose used ring lies in guest memory resumes
 * from the used index found there; a packed ring is reset (position 0,
 * wrap counters 1, descriptors cleared), as DPDK's front-end does, since
 * 16 bits cannot carry its used state.  A caller driving the ring itself
 * (the driver) gives the base through the hook instead.
 *
 * Nothing here prints.  On failure the log is left as it was, so another
 * connection may be tried.
 */
#ifndef VHU_PROTO_REPLAY_H
#define VHU_PROTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/chan.h"
#include "proto/mem.h"
#include "proto/session.h"

/* One request a replay sent. */
struct vhu_replay_item {
	uint32_t code;
	int32_t ring; /* -1: not a ring request */
};

/* What a replay sent, in order.  items is malloc'd: vhu_replay_report_free(). */
struct vhu_replay_report {
	struct vhu_replay_item *items;
	unsigned n, cap;
};

void vhu_replay_report_free(struct vhu_replay_report *rep);

struct vhu_replay_hooks {
	/* The base ring @ring resumes from: true with *@base set, or false
	 * for the default (see above).  Called before SET_VRING_BASE. */
	bool (*ring_base)(void *arg, uint32_t ring, uint32_t *base);
	void *arg;
};

/*
 * Replay the log of @s on its new connection.  @r holds the fds, @c is
 * the back-end channel to open again (NULL: SET_BACKEND_REQ_FD is not
 * replayed), @h may be NULL.  @rep (zeroed by the caller) receives what
 * was sent, also on failure.  VHU_OK, or the failing request's vhu_rc
 * with the message in the session; VHU_E_USAGE when the log overflowed.
 */
int vhu_replay(struct vhu_session *s, struct vhu_res *r, struct vhu_chan *c, const struct vhu_replay_hooks *h,
	       struct vhu_replay_report *rep);

#endif
