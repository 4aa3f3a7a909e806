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

struct vhu_session {
	int fd;                 /* owned; -1 when closed */
	bool blocking;          /* fd is a blocking socket (vhu_connect) */
	int rcvtimeo_ms;        /* SO_RCVTIMEO set on fd, 0 = none */
	int timeout_ms;         /* every wait for the back-end */
	bool force;             /* send requests whose gate is closed */
	bool no_sync;           /* skip the GET_FEATURES barrier */

	bool have_features;
	uint64_t features;      /* offered by GET_FEATURES */
	bool features_set;
	uint64_t acked_features;
	bool have_protocol;
	uint64_t protocol;      /* offered by GET_PROTOCOL_FEATURES */
	bool protocol_set;
	uint64_t acked_protocol;
	bool owner_set;

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
	char err[512];
};

/* Open fds of this process (from /proc/self/fd), -1 without /proc. */
int vhu_count_fds(void);
/* A note for --trace (no message), tagged with @dir. */
void vhu_note(struct vhu_session *s, enum vhu_dir dir, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void vhu_session_init(struct vhu_session *s);
/* Close the socket; safe to call twice. */
void vhu_session_close(struct vhu_session *s);
const char *vhu_session_error(const struct vhu_session *s);
/* Set the error text ("REQ: problem") and return @rc. */
int vhu_fail(struct vhu_session *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Connect to the Unix socket @path.  With @wait_ms > 0, a missing socket or
 * a refused connection is retried until @wait_ms has passed.
 */
int vhu_connect(struct vhu_session *s, const char *path, int wait_ms);
/* Adopt an already connected socket (tests). Takes ownership of @fd. */
void vhu_session_adopt(struct vhu_session *s, int fd);

/*
 * Send request @code with @len payload bytes and @nfds fds (borrowed, not
 * closed), then receive and validate its reply when it has one.
 *   @flags_extra: extra header flag bits (raw use only; normally 0)
 *   @reply: receives the reply (may be NULL when the request has none);
 *           reply->nfds fds are then owned by the caller.
 * Returns VHU_OK or a vhu_rc with the message set.
 */
int vhu_request(struct vhu_session *s, uint32_t code, const void *payload, uint32_t len,
		const int *fds, unsigned nfds, struct vhu_msg *reply);

/* Like vhu_request() but no feature gating, no NEED_REPLY logic and no
 * size validation beyond the transport cap: for `raw`.  @want_reply
 * decides whether a reply is awaited. */
int vhu_request_raw(struct vhu_session *s, uint32_t code, uint32_t flags, const void *payload,
		    uint32_t len, const int *fds, unsigned nfds, bool want_reply, struct vhu_msg *reply);

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
/* @fd < 0 sends the no-fd flag. */
int vhu_set_vring_fd(struct vhu_session *s, uint32_t code, uint32_t index, int fd);
/* GET_CONFIG: @size bytes at @offset into @buf (exactly @size bytes on
 * success).  Validation as the seed: 1..256 bytes, offset + size <= 256,
 * echoed offset/size must match, size 0 is a back-end failure. */
int vhu_get_config(struct vhu_session *s, uint32_t offset, uint32_t size, uint32_t flags,
		   uint8_t *buf);
int vhu_set_config(struct vhu_session *s, uint32_t offset, uint32_t flags, const uint8_t *buf,
		   uint32_t size);
/* Checks only (no I/O), shared by get/set-config and tests. */
int vhu_config_check(struct vhu_session *s, const char *req, uint32_t offset, uint32_t size,
		     uint32_t flags);

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
#define VHU_PF_DEFAULT_MASK                                                                        \
	(VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) |            \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_RARP) | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |          \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_NET_MTU) | VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |     \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CROSS_ENDIAN) | VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) |     \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD) |                                          \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_HOST_NOTIFIER) |                                            \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |                                           \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) |                                             \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS) | \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_SHARED_OBJECT) | VHU_BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE))

#endif
