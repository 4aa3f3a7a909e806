/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A session is one connection to a back-end plus what was negotiated on
 * it.  vhu_request() is the one send-and-validate path every command uses:
 * it gates the request on the negotiated features, sends it whole (header,
 * payload and fds in one sendmsg), waits for the reply the catalog
 * predicts, validates it and turns a non-zero REPLY_ACK into a refusal.
 *
 * Nothing here prints.  Failures return a vhu_rc and leave a one-line
 * message, prefixed with the request name, in vhu_session_error().
 */
#ifndef VHU_PROTO_SESSION_H
#define VHU_PROTO_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/catalog.h"
#include "proto/msg.h" /* struct vhu_msg, the transport */
#include "proto/wire.h"
#include "util/rc.h" /* enum vhu_rc: VHU_OK, VHU_E_* */

enum vhu_dir { VHU_DIR_SEND, VHU_DIR_RECV, VHU_DIR_BACKEND_RECV, VHU_DIR_BACKEND_SEND };

/* Sees every message that crosses the socket, and notes from the core
 * (msg == NULL, note != NULL).  Must not keep pointers. */
typedef void (*vhu_trace_fn)(void *arg, enum vhu_dir dir, const struct vhost_user_hdr *hdr,
			     const uint8_t *payload, size_t len, unsigned nfds, const char *note);

struct vhu_stats {
	uint64_t sent, received;
	uint64_t bytes_sent, bytes_received;
};

/*
 * The replay log: every request that changed the back-end's state on
 * this session, in order (features, owner, memory, rings, channel,
 * status, config, ...), so that a new connection can be brought to the
 * same state (proto/replay.h).  Payloads are copies; fds are not kept
 * (they are found again in the session's resources at replay).  malloc'd,
 * released by vhu_session_fini(); kept across vhu_session_close().
 */
struct vhu_replay_rec {
	uint32_t code;
	uint32_t len;
	uint8_t *payload; /* @len bytes, owned */
};

struct vhu_replay_log {
	struct vhu_replay_rec *rec;
	unsigned n, cap;
	bool overflow; /* a request could not be kept: no replay possible */
};

/* Requests kept at most (a setup of 256 rings needs about 1600). */
#define VHU_REPLAY_MAX 16384u

/* What a session sent for one ring, as a record for `batch`'s state step:
 * a bit of @set for each request that went through. */
#define VHU_RING_NUM	 (1u << 0)
#define VHU_RING_BASE	 (1u << 1)
#define VHU_RING_ADDR	 (1u << 2)
#define VHU_RING_KICK	 (1u << 3)
#define VHU_RING_CALL	 (1u << 4)
#define VHU_RING_ERR	 (1u << 5)
#define VHU_RING_ENABLE	 (1u << 6)
#define VHU_RING_STOPPED (1u << 7) /* GET_VRING_BASE answered */
struct vhu_ring_state {
	uint8_t set;
	bool enabled;		       /* the last SET_VRING_ENABLE */
	bool kick_fd, call_fd, err_fd; /* an fd was sent (else the no-fd flag) */
	uint32_t num, base;	       /* SET_VRING_NUM, SET_VRING_BASE */
	uint32_t stop_base;	       /* GET_VRING_BASE's answer */
	uint64_t desc, avail, used;    /* SET_VRING_ADDR */
};

struct vhu_session {
	int fd;		 /* owned; -1 when closed */
	bool blocking;	 /* fd is a blocking socket (vhu_connect) */
	int rcvtimeo_ms; /* SO_RCVTIMEO set on fd, 0 = none */
	int timeout_ms;	 /* every wait for the back-end */
	bool force;	 /* send requests whose gate is closed */
	bool no_sync;	 /* skip the GET_FEATURES barrier */

	bool have_features;
	uint64_t features; /* offered by GET_FEATURES */
	bool features_set;
	uint64_t acked_features;
	bool have_protocol;
	uint64_t protocol; /* offered by GET_PROTOCOL_FEATURES */
	bool protocol_set;
	uint64_t acked_protocol;
	bool owner_set;
	bool status_set;
	uint8_t status; /* the last SET_STATUS */
	struct vhu_ring_state rings[VHU_MAX_FD_VRINGS];

	/* Serviced while the session waits for a reply on the main socket:
	 * the back-end channel, since a back-end may wait for the answer to
	 * its own request before it replies (spec "Back-end communication").
	 * side_fd is not owned; side_fn reads and answers one message,
	 * finishing by @deadline (the wait's own). */
	int side_fd;
	void (*side_fn)(struct vhu_session *s, void *arg, int64_t deadline);
	void *side_arg;

	vhu_trace_fn trace;
	void *trace_arg;
	struct vhu_stats stats;

	/* Keep the replay log (off by default: one-shot commands need none). */
	bool record;
	struct vhu_replay_log log;

	char err[512];
};

/* Open fds of this process (from /proc/self/fd), -1 without /proc. */
int vhu_count_fds(void);
/* A note for --trace (no message), tagged with @dir. */
void vhu_note(struct vhu_session *s, enum vhu_dir dir, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void vhu_session_init(struct vhu_session *s);
/* Close the socket; safe to call twice.  The replay log stays. */
void vhu_session_close(struct vhu_session *s);
/* Close the socket and free the replay log (end of the run). */
void vhu_session_fini(struct vhu_session *s);
/* Forget what was negotiated (a new connection starts from nothing);
 * options, statistics and the replay log stay. */
void vhu_session_forget(struct vhu_session *s);
/* True when request @code goes into the replay log. */
bool vhu_replayable(uint32_t code);
const char *vhu_session_error(const struct vhu_session *s);
/* Set the error text ("REQ: problem") and return @rc. */
int vhu_fail(struct vhu_session *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Connect to the Unix socket @path.  With @wait_ms > 0, a missing socket or
 * a refused connection is retried until @wait_ms has passed.
 */
int vhu_connect(struct vhu_session *s, const char *path, int wait_ms);
/* False once the back-end hung up (or the socket failed): a look at the
 * socket, nothing read, nothing sent.  Without a request outstanding,
 * nothing else may arrive on it. */
bool vhu_session_alive(const struct vhu_session *s);
/* Adopt an already connected socket (tests). Takes ownership of @fd. */
void vhu_session_adopt(struct vhu_session *s, int fd);

/*
 * The listen role (-L): vhuctl creates the socket and one back-end
 * connects to it, as DPDK vhost with client=1 or an OVS
 * dpdkvhostuserclient port do (the spec's front-end may be either end of
 * the Unix socket; only who sends requests is fixed).
 *
 * A zeroed struct is not a valid listener: vhu_listener_init() first.
 * Owns the listening socket and an O_PATH fd of the socket's directory,
 * registered with util/intr so that a second signal still removes the
 * file; vhu_listener_close() releases both and removes the socket file
 * when it is still the one vhu_listen() created.
 */
struct vhu_listener {
	int fd;	   /* listening socket, -1 = none */
	int dirfd; /* O_PATH directory of @path, -1 = none */
	int intr_slot;
	bool bound;		     /* the socket file at @path is ours */
	unsigned long long dev, ino; /* of that file, so another is never removed */
	char path[108];
};

void vhu_listener_init(struct vhu_listener *l);

/*
 * Create the socket @path and listen on it.  An existing file is only
 * replaced when it is a stale socket (nobody accepts on it: connect()
 * is refused); anything else stays, untouched:
 *   VHU_E_USAGE   @path is not a socket (a regular file, a directory, a
 *                 link, ...), or too long;
 *   VHU_E_CONNECT a live socket (another process accepts on it), or the
 *                 socket cannot be created (no permission on the
 *                 directory, no such directory).
 * Nothing is accepted yet: vhu_accept().
 */
int vhu_listen(struct vhu_session *s, struct vhu_listener *l, const char *path);

/*
 * Wait up to @wait_ms (> 0) for a back-end to connect and make the
 * connection the session's (an open connection is closed first).
 * VHU_E_CONNECT when none came in time, 128 + signal when interrupted.
 * The listening socket stays open for the next vhu_accept().
 */
int vhu_accept(struct vhu_session *s, struct vhu_listener *l, int wait_ms);

/* Close the listening socket and remove the socket file if it is still
 * the one we created; safe to call twice. */
void vhu_listener_close(struct vhu_listener *l);

/*
 * Send request @code with @len payload bytes and @nfds fds (borrowed, not
 * closed), then receive and validate its reply when it has one.
 *   @reply: receives the reply (may be NULL when the request has none);
 *           reply->nfds fds are then owned by the caller.
 * Returns VHU_OK or a vhu_rc with the message set.
 */
int vhu_request(struct vhu_session *s, uint32_t code, const void *payload, uint32_t len, const int *fds,
		unsigned nfds, struct vhu_msg *reply);

/* Like vhu_request() but no feature gating, no NEED_REPLY logic and no
 * size validation beyond the transport cap: for `raw`.  @flags is the
 * whole header flags word, sent as given (version included).  @want_reply
 * decides whether a reply is awaited. */
int vhu_request_raw(struct vhu_session *s, uint32_t code, uint32_t flags, const void *payload, uint32_t len,
		    const int *fds, unsigned nfds, bool want_reply, struct vhu_msg *reply);

/* The gate of @d against the session state: VHU_OK or VHU_E_UNSUPPORTED
 * with a message naming the missing feature.  --force turns it off. */
int vhu_gate(struct vhu_session *s, const struct vhu_req_desc *d);

/* True when protocol feature @bit was negotiated (SET_PROTOCOL_FEATURES). */
bool vhu_pf_acked(const struct vhu_session *s, unsigned bit);
bool vhu_pf_offered(const struct vhu_session *s, unsigned bit);

/* Typed requests (seed client surface).  Each validates its input before
 * anything is sent and updates the session state. */
int vhu_get_features(struct vhu_session *s, uint64_t *features);
int vhu_set_features(struct vhu_session *s, uint64_t features);
int vhu_get_protocol_features(struct vhu_session *s, uint64_t *pf);
int vhu_set_protocol_features(struct vhu_session *s, uint64_t pf);
int vhu_set_owner(struct vhu_session *s);
int vhu_reset_owner(struct vhu_session *s);
int vhu_reset_device(struct vhu_session *s);
int vhu_get_u64(struct vhu_session *s, uint32_t code, uint64_t *v);
int vhu_set_u64(struct vhu_session *s, uint32_t code, uint64_t v);
int vhu_get_queue_num(struct vhu_session *s, uint64_t *n);
int vhu_get_max_mem_slots(struct vhu_session *s, uint64_t *n);
int vhu_get_status(struct vhu_session *s, uint8_t *status);
int vhu_set_status(struct vhu_session *s, uint8_t status);
int vhu_set_vring_state(struct vhu_session *s, uint32_t code, uint32_t index, uint32_t num);
int vhu_get_vring_base(struct vhu_session *s, uint32_t index, uint32_t *num);
int vhu_set_vring_enable(struct vhu_session *s, uint32_t index, bool enable);
int vhu_set_vring_addr(struct vhu_session *s, const struct vhost_vring_addr *addr);
/*
 * IOTLB_MSG (spec "IOMMU support"): one update (type 2) or invalidation
 * (type 3) of the back-end's IOTLB.  Sent with NEED_REPLY when REPLY_ACK
 * is negotiated, as QEMU does: DPDK answers an IOTLB_MSG only then,
 * although the catalog counts it among the requests that always have a
 * reply.  The reply must be a u64 without fds; non-zero: VHU_E_REFUSED.
 */
int vhu_iotlb_msg(struct vhu_session *s, const struct vhost_iotlb_msg_wire *m);
/* @fd < 0 sends the no-fd flag. */
int vhu_set_vring_fd(struct vhu_session *s, uint32_t code, uint32_t index, int fd);
/* GET_CONFIG: @size bytes at @offset into @buf (exactly @size bytes on
 * success).  Validation as the seed: 1..256 bytes, offset + size <= 256,
 * echoed offset/size must match, size 0 is a back-end failure. */
int vhu_get_config(struct vhu_session *s, uint32_t offset, uint32_t size, uint32_t flags, uint8_t *buf);
int vhu_set_config(struct vhu_session *s, uint32_t offset, uint32_t flags, const uint8_t *buf, uint32_t size);
/* Checks only (no I/O), shared by get/set-config and tests. */
int vhu_config_check(struct vhu_session *s, const char *req, uint32_t offset, uint32_t size, uint32_t flags);

/*
 * Minimal negotiation used by commands:
 *  VHU_NEG_FEATURES: GET_FEATURES.
 *  VHU_NEG_PROTOCOL: + GET/SET_PROTOCOL_FEATURES (offered & what vhuctl
 *                    implements) when bit 30 is offered.
 *  VHU_NEG_OWNER:    + SET_OWNER.
 * Steps already done on this session are skipped.
 */
enum vhu_neg { VHU_NEG_NONE, VHU_NEG_FEATURES, VHU_NEG_PROTOCOL, VHU_NEG_OWNER };
int vhu_negotiate(struct vhu_session *s, enum vhu_neg level);

/* Protocol features vhuctl acks by default: the ones it implements and
 * that do not change message layouts (no XEN_MMAP, GPA_ADDRESSES,
 * INBAND_NOTIFICATIONS, SHMEM). */
#define VHU_PF_DEFAULT_MASK                                                                                  \
	(VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) |                      \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_RARP) | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |                    \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_NET_MTU) | VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |               \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CROSS_ENDIAN) | VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) |               \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD) | VHU_BIT(VHOST_USER_PROTOCOL_F_HOST_NOTIFIER) |     \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) | VHU_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) |       \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS) |        \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_SHARED_OBJECT) | VHU_BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE))

#endif
