/* SPDX-License-Identifier: Apache-2.0 */
/* Payload decoding by shape (see payload.h); layouts from proto/wire.h. */
#include "decode/payload.h"

#include <string.h>

#include "proto/wire.h"

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static struct vhu_val *add(struct vhu_decoded *o, const char *key, enum vhu_val_kind kind, uint64_t v)
{
	static struct vhu_val spill;
	struct vhu_val *x = o->n < VHU_DECODE_MAX ? &o->v[o->n++] : &spill;

	*x = (struct vhu_val){ .key = key, .kind = kind, .v = v };
	return x;
}

static void u(struct vhu_decoded *o, const char *key, uint64_t v)
{
	add(o, key, VHU_VAL_UINT, v);
}

static void hex(struct vhu_decoded *o, const char *key, uint64_t v)
{
	add(o, key, VHU_VAL_HEX, v);
}

static void mask(struct vhu_decoded *o, const char *key, uint64_t v, enum vhu_bit_space sp)
{
	add(o, key, VHU_VAL_MASK, v)->space = sp;
}

static void flag(struct vhu_decoded *o, const char *key, bool v, const char *alt)
{
	add(o, key, VHU_VAL_FLAG, v)->str = alt;
}

static void word(struct vhu_decoded *o, const char *key, const char *str)
{
	add(o, key, VHU_VAL_WORD, 0)->str = str;
}

static void bytes(struct vhu_decoded *o, const char *key, const uint8_t *p, size_t len, size_t show)
{
	struct vhu_val *x = add(o, key, VHU_VAL_BYTES, 0);

	x->bytes = p;
	x->len = len;
	x->show = show;
}

static void region(struct vhu_decoded *o, const char *key, const uint8_t *r)
{
	add(o, key, VHU_VAL_OBJ, 0);
	hex(o, "gpa", rd64(r));
	hex(o, "size", rd64(r + 8));
	hex(o, "uva", rd64(r + 16));
	hex(o, "off", rd64(r + 24));
	add(o, NULL, VHU_VAL_END, 0);
}

void vhu_decode_payload(enum vhu_shape shape, const uint8_t *p, size_t len, struct vhu_decoded *o)
{
	o->n = 0;
	switch (shape) {
	case VHU_SHAPE_U64:
		if (len >= 8)
			u(o, "u64", rd64(p));
		break;
	case VHU_SHAPE_ACK:
		if (len >= 8)
			u(o, "ack", rd64(p));
		break;
	case VHU_SHAPE_FEATURES:
		if (len >= 8)
			mask(o, "features", rd64(p), VHU_BITS_FEATURES);
		break;
	case VHU_SHAPE_PROTOCOL:
		if (len >= 8)
			mask(o, "protocol_features", rd64(p), VHU_BITS_PROTOCOL);
		break;
	case VHU_SHAPE_STATUS:
		if (len >= 8)
			mask(o, "status", rd64(p), VHU_BITS_STATUS);
		break;
	case VHU_SHAPE_VRING_STATE:
		if (len >= sizeof(struct vhost_vring_state)) {
			u(o, "vring", rd32(p));
			u(o, "num", rd32(p + 4));
		}
		break;
	case VHU_SHAPE_VRING_FD:
		/* Bits 0-7 the ring, bit 8 "no fd" (spec "SET_VRING_KICK"). */
		if (len >= 8) {
			u(o, "vring", rd64(p) & VHOST_USER_VRING_IDX_MASK);
			flag(o, "nofd", rd64(p) & VHOST_USER_VRING_NOFD_MASK, NULL);
		}
		break;
	case VHU_SHAPE_VRING_ADDR:
		if (len >= sizeof(struct vhost_vring_addr)) {
			u(o, "vring", rd32(p));
			hex(o, "flags", rd32(p + 4));
			hex(o, "desc", rd64(p + 8));
			hex(o, "used", rd64(p + 16));
			hex(o, "avail", rd64(p + 24));
			hex(o, "log", rd64(p + 32));
		}
		break;
	case VHU_SHAPE_MEMORY:
		if (len >= 8) {
			uint32_t nr = rd32(p);

			u(o, "nregions", nr);
			add(o, "regions", VHU_VAL_LIST, 0);
			for (uint32_t i = 0;
			     i < nr && i < VHOST_MEMORY_BASELINE_NREGIONS &&
			     8 + sizeof(struct vhost_user_memory_region) * (size_t)(i + 1) <= len;
			     i++)
				region(o, NULL, p + 8 + sizeof(struct vhost_user_memory_region) * i);
			add(o, NULL, VHU_VAL_END, 0);
		}
		break;
	case VHU_SHAPE_MEM_REG:
		/* A u64 of padding, then one region. */
		if (len >= sizeof(struct vhost_user_mem_reg_msg)) {
			hex(o, "gpa", rd64(p + 8));
			hex(o, "size", rd64(p + 16));
			hex(o, "uva", rd64(p + 24));
			hex(o, "off", rd64(p + 32));
		}
		break;
	case VHU_SHAPE_LOG:
		if (len >= sizeof(struct vhost_user_log)) {
			u(o, "mmap_size", rd64(p));
			u(o, "mmap_offset", rd64(p + 8));
		} else if (len >= 8) {
			hex(o, "u64", rd64(p));
		}
		break;
	case VHU_SHAPE_CONFIG:
		if (len >= VHOST_USER_CONFIG_HDR_SIZE) {
			u(o, "offset", rd32(p));
			u(o, "size", rd32(p + 4));
			hex(o, "flags", rd32(p + 8));
			bytes(o, "data", p + VHOST_USER_CONFIG_HDR_SIZE, len - VHOST_USER_CONFIG_HDR_SIZE,
			      64);
		}
		break;
	case VHU_SHAPE_INFLIGHT:
		/* num_queues and queue_size are u16 in host order. */
		if (len >= sizeof(struct vhost_user_inflight)) {
			uint16_t nq, qs;

			memcpy(&nq, p + 16, 2);
			memcpy(&qs, p + 18, 2);
			u(o, "mmap_size", rd64(p));
			u(o, "mmap_offset", rd64(p + 8));
			u(o, "num_queues", nq);
			u(o, "queue_size", qs);
		}
		break;
	case VHU_SHAPE_TRANSFER:
		if (len >= sizeof(struct vhost_user_transfer_state)) {
			uint32_t d = rd32(p);

			word(o, "direction",
			     d == VHOST_USER_DEVICE_STATE_SAVE	 ? "save"
			     : d == VHOST_USER_DEVICE_STATE_LOAD ? "load"
								 : "?");
			u(o, "phase", rd32(p + 4));
		}
		break;
	case VHU_SHAPE_DEVICE_STATE_REPLY:
		/* Bits 0-7 an error, bit 8 "no fd" (spec "SET_DEVICE_STATE_FD"). */
		if (len >= 8) {
			u(o, "error", rd64(p) & 0xff);
			flag(o, "nofd", rd64(p) & 0x100, "fd");
		}
		break;
	case VHU_SHAPE_SHARED:
		if (len >= sizeof(struct vhost_user_shared))
			add(o, "uuid", VHU_VAL_UUID, 0)->bytes = p;
		break;
	case VHU_SHAPE_IOTLB:
		if (len >= sizeof(struct vhost_iotlb_msg_wire)) {
			hex(o, "iova", rd64(p));
			hex(o, "size", rd64(p + 8));
			hex(o, "uaddr", rd64(p + 16));
			u(o, "perm", p[24]);
			u(o, "type", p[25]);
		}
		break;
	case VHU_SHAPE_VRING_AREA:
		if (len >= sizeof(struct vhost_user_vring_area)) {
			u(o, "vring", rd64(p) & VHOST_USER_VRING_IDX_MASK);
			flag(o, "nofd", rd64(p) & VHOST_USER_VRING_NOFD_MASK, NULL);
			u(o, "size", rd64(p + 8));
			u(o, "offset", rd64(p + 16));
		}
		break;
	case VHU_SHAPE_MMAP:
		if (len >= sizeof(struct vhost_user_mmap)) {
			u(o, "shmid", p[0]);
			hex(o, "fd_offset", rd64(p + 8));
			hex(o, "shm_offset", rd64(p + 16));
			hex(o, "len", rd64(p + 24));
			hex(o, "flags", rd64(p + 32));
		}
		break;
	default:
		if (len)
			bytes(o, "data", p, len, 32);
		break;
	}
}

enum vhu_shape vhu_body_shape(const struct vhu_req_desc *d, bool reply, enum vhu_expect expect)
{
	if (!d)
		return VHU_SHAPE_OPAQUE;
	if (!reply)
		return d->req_shape;
	return expect == VHU_EXPECT_ACK ? VHU_SHAPE_ACK : d->reply_shape;
}
