/* SPDX-License-Identifier: Apache-2.0 */
/* --trace printer: one line per message on stderr, decoded by shape. */
#include "render/trace.h"
#include "render/out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

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

static size_t names(char *buf, size_t size, uint64_t mask, enum vhu_bit_space sp, enum vhu_dev_type dev)
{
	size_t n = 0;
	const char *sep = "";

	n += (size_t)snprintf(buf + n, n < size ? size - n : 0, " [");
	for (unsigned b = 0; b < 64; b++) {
		const char *nm;
		if (!(mask & VHU_BIT(b)))
			continue;
		nm = vhu_bit_name(sp, dev, b);
		if (nm)
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", sep, nm);
		else
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%sbit_%u", sep, b);
		sep = ",";
	}
	n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "]");
	return n;
}

#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))

void vhu_trace_decode(enum vhu_shape shape, enum vhu_dev_type dev, const uint8_t *p, size_t len,
		      char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	switch (shape) {
	case VHU_SHAPE_U64:
	case VHU_SHAPE_ACK:
		if (len >= 8)
			OUT(" %s=%llu", shape == VHU_SHAPE_ACK ? "ack" : "u64", (unsigned long long)rd64(p));
		break;
	case VHU_SHAPE_FEATURES:
	case VHU_SHAPE_PROTOCOL:
	case VHU_SHAPE_STATUS:
		if (len >= 8) {
			enum vhu_bit_space sp = shape == VHU_SHAPE_FEATURES   ? VHU_BITS_FEATURES
						: shape == VHU_SHAPE_PROTOCOL ? VHU_BITS_PROTOCOL
									      : VHU_BITS_STATUS;
			OUT(" %s=0x%llx", shape == VHU_SHAPE_STATUS ? "status" : "features",
			    (unsigned long long)rd64(p));
			n += names(buf + n, n < size ? size - n : 0, rd64(p), sp, dev);
		}
		break;
	case VHU_SHAPE_VRING_STATE:
		if (len >= 8)
			OUT(" vring=%u num=%u", rd32(p), rd32(p + 4));
		break;
	case VHU_SHAPE_VRING_FD:
		if (len >= 8)
			OUT(" vring=%llu%s", (unsigned long long)(rd64(p) & 0xff),
			    (rd64(p) & VHOST_USER_VRING_NOFD_MASK) ? " nofd" : "");
		break;
	case VHU_SHAPE_VRING_ADDR:
		if (len >= 40)
			OUT(" vring=%u flags=0x%x desc=0x%llx used=0x%llx avail=0x%llx log=0x%llx", rd32(p), rd32(p + 4),
			    (unsigned long long)rd64(p + 8), (unsigned long long)rd64(p + 16),
			    (unsigned long long)rd64(p + 24), (unsigned long long)rd64(p + 32));
		break;
	case VHU_SHAPE_MEMORY:
		if (len >= 8) {
			uint32_t nr = rd32(p);
			OUT(" nregions=%u", nr);
			for (uint32_t i = 0; i < nr && 8 + 32 * (size_t)(i + 1) <= len; i++) {
				const uint8_t *r = p + 8 + 32 * i;
				OUT(" [gpa=0x%llx size=0x%llx uva=0x%llx off=0x%llx]", (unsigned long long)rd64(r),
				    (unsigned long long)rd64(r + 8), (unsigned long long)rd64(r + 16),
				    (unsigned long long)rd64(r + 24));
			}
		}
		break;
	case VHU_SHAPE_MEM_REG:
		if (len >= 40)
			OUT(" gpa=0x%llx size=0x%llx uva=0x%llx off=0x%llx", (unsigned long long)rd64(p + 8),
			    (unsigned long long)rd64(p + 16), (unsigned long long)rd64(p + 24),
			    (unsigned long long)rd64(p + 32));
		break;
	case VHU_SHAPE_LOG:
		if (len >= 16)
			OUT(" mmap_size=%llu mmap_offset=%llu", (unsigned long long)rd64(p),
			    (unsigned long long)rd64(p + 8));
		else if (len >= 8)
			OUT(" u64=0x%llx", (unsigned long long)rd64(p));
		break;
	case VHU_SHAPE_CONFIG:
		if (len >= 12) {
			OUT(" offset=%u size=%u flags=0x%x data=", rd32(p), rd32(p + 4), rd32(p + 8));
			for (size_t i = 12; i < len && i < 12 + 64; i++)
				OUT("%02x", p[i]);
			if (len > 12 + 64)
				OUT("...");
		}
		break;
	case VHU_SHAPE_INFLIGHT:
		if (len >= 24)
			OUT(" mmap_size=%llu mmap_offset=%llu num_queues=%u queue_size=%u",
			    (unsigned long long)rd64(p), (unsigned long long)rd64(p + 8),
			    (unsigned)(p[16] | p[17] << 8), (unsigned)(p[18] | p[19] << 8));
		break;
	case VHU_SHAPE_TRANSFER:
		if (len >= 8)
			OUT(" direction=%s phase=%u", rd32(p) == 0 ? "save" : rd32(p) == 1 ? "load" : "?",
			    rd32(p + 4));
		break;
	case VHU_SHAPE_DEVICE_STATE_REPLY:
		if (len >= 8)
			OUT(" error=%llu%s", (unsigned long long)(rd64(p) & 0xff),
			    (rd64(p) & 0x100) ? " nofd" : " fd");
		break;
	case VHU_SHAPE_SHARED:
		if (len >= 16) {
			OUT(" uuid=");
			for (int i = 0; i < 16; i++)
				OUT("%s%02x", (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "", p[i]);
		}
		break;
	case VHU_SHAPE_IOTLB:
		if (len >= 32)
			OUT(" iova=0x%llx size=0x%llx uaddr=0x%llx perm=%u type=%u", (unsigned long long)rd64(p),
			    (unsigned long long)rd64(p + 8), (unsigned long long)rd64(p + 16), p[24], p[25]);
		break;
	case VHU_SHAPE_VRING_AREA:
		if (len >= 24)
			OUT(" vring=%llu%s size=%llu offset=%llu", (unsigned long long)(rd64(p) & 0xff),
			    (rd64(p) & 0x100) ? " nofd" : "", (unsigned long long)rd64(p + 8),
			    (unsigned long long)rd64(p + 16));
		break;
	case VHU_SHAPE_MMAP:
		if (len >= 40)
			OUT(" shmid=%u fd_offset=0x%llx shm_offset=0x%llx len=0x%llx flags=0x%llx", p[0],
			    (unsigned long long)rd64(p + 8), (unsigned long long)rd64(p + 16),
			    (unsigned long long)rd64(p + 24), (unsigned long long)rd64(p + 32));
		break;
	default:
		if (len) {
			OUT(" data=");
			for (size_t i = 0; i < len && i < 32; i++)
				OUT("%02x", p[i]);
			if (len > 32)
				OUT("...");
		}
		break;
	}
}

void vhu_trace_print(void *arg, enum vhu_dir dir, const struct vhost_user_hdr *hdr,
		     const uint8_t *payload, size_t len, unsigned nfds, const char *note)
{
	struct vhu_trace_ctx *t = arg;
	const struct vhu_req_desc *d;
	bool backend = dir == VHU_DIR_BACKEND_RECV || dir == VHU_DIR_BACKEND_SEND;
	bool reply;
	enum vhu_shape shape;
	char nb[48], dec[1024];
	const char *arrow;

	if (note) {
		/* Notes may quote a path from the command line. */
		char *esc = vhu_text_plain(note) ? NULL : vhu_escape_controls(note);

		vhu_out_before_stderr();
		fprintf(stderr, "trace: -- %s\n", esc ? esc : note);
		free(esc);
		return;
	}
	d = backend ? vhu_backend_req_by_code(hdr->request) : vhu_req_by_code(hdr->request);
	reply = hdr->flags & VHOST_USER_REPLY_MASK;
	if (!reply)
		shape = d ? d->req_shape : VHU_SHAPE_OPAQUE;
	else if (d && len == 8 && d->reply == VHU_REPLY_ACK)
		shape = VHU_SHAPE_ACK;
	else
		shape = d ? d->reply_shape : VHU_SHAPE_OPAQUE;
	if (dir == VHU_DIR_SEND) {
		t->last_sent = hdr->request;
		t->last_ack = hdr->flags & VHOST_USER_NEED_REPLY_MASK;
	}
	vhu_trace_decode(shape, t->dev, payload, len, dec, sizeof(dec));
	switch (dir) {
	case VHU_DIR_SEND: arrow = "F>B"; break;
	case VHU_DIR_RECV: arrow = "B>F"; break;
	case VHU_DIR_BACKEND_RECV: arrow = "B>F chan"; break;
	default: arrow = "F>B chan"; break;
	}
	if (d)
		snprintf(nb, sizeof(nb), "%s", d->name);
	else
		snprintf(nb, sizeof(nb), "REQ_%u", hdr->request);
	vhu_out_before_stderr();
	fprintf(stderr, "trace: %s %s%s flags=0x%x size=%u fds=%u%s\n", arrow, nb, reply ? " (reply)" : "",
		hdr->flags, hdr->size, nfds, dec);
}
