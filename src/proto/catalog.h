/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The catalog: one row per vhost-user request, front-end and back-end
 * channel.  Every consumer (send-and-validate path, feature gating,
 * --trace, `list`, `raw`) reads these rows; nothing else hard-codes sizes,
 * fd counts or gating features.
 */
#ifndef VHU_PROTO_CATALOG_H
#define VHU_PROTO_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Payload shapes, used by --trace and `raw` to decode a body. */
enum vhu_shape {
	VHU_SHAPE_NONE,
	VHU_SHAPE_U64,
	VHU_SHAPE_FEATURES, /* u64 virtio feature mask */
	VHU_SHAPE_PROTOCOL, /* u64 protocol feature mask */
	VHU_SHAPE_STATUS,   /* u64, low byte = device status */
	VHU_SHAPE_ACK,	    /* u64, 0 = success */
	VHU_SHAPE_VRING_STATE,
	VHU_SHAPE_VRING_ADDR,
	VHU_SHAPE_VRING_FD, /* u64: index | no-fd bit 8 */
	VHU_SHAPE_MEMORY,
	VHU_SHAPE_MEM_REG,
	VHU_SHAPE_LOG,
	VHU_SHAPE_CONFIG,
	VHU_SHAPE_INFLIGHT,
	VHU_SHAPE_IOTLB,
	VHU_SHAPE_SHARED,
	VHU_SHAPE_TRANSFER,
	VHU_SHAPE_DEVICE_STATE_REPLY,
	VHU_SHAPE_VRING_AREA,
	VHU_SHAPE_MMAP,
	VHU_SHAPE_SHMEM_CONFIG,
	VHU_SHAPE_SHMEM_REGIONS,
	VHU_SHAPE_OPAQUE,
};

/* When does a request get an answer (spec "Communication"). */
enum vhu_reply_kind {
	VHU_REPLY_NONE,	  /* never; not even with NEED_REPLY */
	VHU_REPLY_ACK,	  /* u64 ack only when REPLY_ACK is negotiated and NEED_REPLY set */
	VHU_REPLY_ALWAYS, /* its own reply */
	VHU_REPLY_LOG,	  /* SET_LOG_BASE: a reply iff LOG_SHMFD is negotiated */
};

/* Gates besides the protocol feature (seed client semantics). */
#define VHU_GATE_BIT30_OFFERED	 (1u << 0) /* GET_FEATURES offered bit 30 */
#define VHU_GATE_BIT30_ACKED	 (1u << 1) /* SET_FEATURES acked bit 30 */
#define VHU_GATE_NO_NEED_REPLY	 (1u << 2) /* never set NEED_REPLY (SET_PROTOCOL_FEATURES) */
#define VHU_GATE_BACKEND_CHANNEL (1u << 3) /* a back-end -> front-end request */
#define VHU_GATE_EXTENSION	 (1u << 4) /* not in the common spec */

struct vhu_req_desc {
	uint32_t code;
	const char *name; /* spec name without the VHOST_USER_ prefix */
	enum vhu_shape req_shape;
	uint16_t req_min, req_max; /* request payload bounds */
	uint8_t fds_min, fds_max;  /* fds attached to the request */
	enum vhu_reply_kind reply;
	enum vhu_shape reply_shape;
	uint16_t reply_min, reply_max; /* reply payload bounds (own reply) */
	uint8_t rfds_min, rfds_max;    /* fds attached to the reply */
	int pf;			       /* gating protocol feature bit, -1 = none */
	const char *pf_name;	       /* "VHOST_USER_PROTOCOL_F_CONFIG" or NULL */
	unsigned gate;		       /* VHU_GATE_* */
	const char *help;
};

/* Front-end requests (main socket). */
const struct vhu_req_desc *vhu_req_by_code(uint32_t code);
/* Back-end requests (back-end channel). */
const struct vhu_req_desc *vhu_backend_req_by_code(uint32_t code);
/* Front-end request by name: "GET_FEATURES", "VHOST_USER_GET_FEATURES" or
 * "get-features" (case-insensitive); NULL when unknown. */
const struct vhu_req_desc *vhu_req_by_name(const char *name);
/* Iterate: index i < vhu_req_count() / vhu_backend_req_count(). */
size_t vhu_req_count(void);
const struct vhu_req_desc *vhu_req_at(size_t i);
size_t vhu_backend_req_count(void);
const struct vhu_req_desc *vhu_backend_req_at(size_t i);

/* Name of a front-end request code; "REQ_<n>" for unknown codes, written
 * into @buf (at least 16 bytes) in that case. */
const char *vhu_req_name(uint32_t code, char *buf, size_t len);

/* What answers a message (spec "Communication", "Back-end communication"). */
enum vhu_expect {
	VHU_EXPECT_NONE, /* nothing */
	VHU_EXPECT_OWN,	 /* its own reply: reply_shape, reply_min..reply_max, rfds */
	VHU_EXPECT_ACK,	 /* a u64 status (REPLY_ACK) */
};

/*
 * Does the message with header flags @flags, described by row @d (NULL:
 * a code outside the catalog), get a reply?  @protocol is the protocol
 * feature mask negotiated on the session (0 before SET_PROTOCOL_FEATURES;
 * for SET_PROTOCOL_FEATURES itself, the mask it carries: back-ends apply
 * it before they answer).  @chan: a back-end request on the back-end
 * channel.  A pure function: the session, the back-end channel and the
 * proxy all pair replies with it.
 *  - a message carrying the REPLY flag gets nothing;
 *  - VHU_REPLY_ALWAYS rows get their own reply;
 *  - SET_LOG_BASE gets its own reply when LOG_SHMFD is negotiated;
 *  - otherwise NEED_REPLY asks for an ack: on the main socket only when
 *    REPLY_ACK is negotiated, on the back-end channel whenever it is set
 *    (the back-end sets it only with REPLY_ACK, and waits for the ack).
 */
enum vhu_expect vhu_reply_expected(const struct vhu_req_desc *d, bool chan, uint64_t protocol,
				   uint32_t flags);

/* Name of a shape, for `list`. */
const char *vhu_shape_name(enum vhu_shape shape);

#endif
