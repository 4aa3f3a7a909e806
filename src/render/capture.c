/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's pcapng capture (see capture.h, decode/capture.h). */
#include "render/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/capture.h"
#include "util/text.h"

struct vhu_cap_writer {
	FILE *f;
	int err;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int emit(struct vhu_cap_writer *w, const uint8_t *b, size_t len)
{
	if (w->err)
		return w->err;
	if (fwrite(b, 1, len, w->f) != len || fflush(w->f) == EOF)
		w->err = errno ? errno : EIO;
	return w->err;
}

struct vhu_cap_writer *vhu_cap_open(const char *path, char *err, size_t errlen)
{
	/* Section header: byte-order magic, version 1.0, length unknown;
	 * interface: LINKTYPE_USER0, no snap length, microseconds (the
	 * default resolution). */
	uint8_t shb[28] = { 0 }, idb[20] = { 0 };
	struct vhu_cap_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->f = fopen(path, "we");
	if (!w->f) {
		snprintf(err, errlen, "cannot create %s: %s", path, vhu_strerror(errno));
		free(w);
		return NULL;
	}
	put32(shb, 0x0A0D0D0A);
	put32(shb + 4, sizeof(shb));
	put32(shb + 8, 0x1A2B3C4D);
	put16(shb + 12, 1);
	put16(shb + 14, 0);
	put64(shb + 16, UINT64_MAX);
	put32(shb + 24, sizeof(shb));
	put32(idb, 1);
	put32(idb + 4, sizeof(idb));
	put16(idb + 8, VHU_CAP_LINKTYPE);
	put32(idb + 12, 0);
	put32(idb + 16, sizeof(idb));
	if (emit(w, shb, sizeof(shb)) || emit(w, idb, sizeof(idb))) {
		snprintf(err, errlen, "cannot write %s: %s", path, vhu_strerror(w->err));
		fclose(w->f);
		free(w);
		return NULL;
	}
	return w;
}

int vhu_cap_write(struct vhu_cap_writer *w, const struct vhu_relay_rec *r)
{
	static uint8_t pkt[28 + VHU_CAP_HDR + VHU_MSG_FD_ROOM * VHU_CAP_FD + 32 + 512 + VHOST_USER_HDR_SIZE +
			   VHU_MAX_PAYLOAD + 4 + 4];
	const char *text = r->kind == VHU_REL_NOTE ? r->note : r->problem;
	size_t elen = r->kind == VHU_REL_NOTE && r->event ? strlen(r->event) : 0, tlen = strlen(text);
	unsigned nfds = r->kind == VHU_REL_MSG ? r->m->nfds : 0;
	size_t off = 28, cap, total;
	uint64_t ts = (uint64_t)r->ts.tv_sec * 1000000 + (uint64_t)r->ts.tv_nsec / 1000;
	uint8_t *h = pkt + 28;

	if (w->err)
		return w->err;
	if (nfds > VHU_MSG_FD_ROOM)
		nfds = VHU_MSG_FD_ROOM;
	if (elen > 31)
		elen = 31;
	if (tlen > 511)
		tlen = 511;
	memset(h, 0, VHU_CAP_HDR);
	h[0] = VHU_CAP_VERSION;
	h[1] = r->kind == VHU_REL_NOTE;
	h[2] = !r->to_backend;
	h[3] = r->chan;
	put32(h + 4, (uint32_t)r->session);
	h[8] = r->expect == VHU_EXPECT_OWN ? 1 : r->expect == VHU_EXPECT_ACK ? 2 : 0;
	h[9] = (uint8_t)((r->interposed ? 0x1 : 0) | (r->dropped ? 0x2 : 0) | (r->reply ? 0x4 : 0));
	h[10] = (uint8_t)nfds;
	put16(h + 12, (uint16_t)elen);
	put16(h + 14, (uint16_t)tlen);
	put64(h + 16, (uint64_t)r->rtt_us);
	put64(h + 24, (uint64_t)r->t_us);
	off += VHU_CAP_HDR;
	for (unsigned i = 0; i < nfds; i++, off += VHU_CAP_FD) {
		memset(pkt + off, 0, VHU_CAP_FD);
		pkt[off] = (uint8_t)r->fd[i].type;
		put64(pkt + off + 8, (uint64_t)r->fd[i].size);
	}
	if (elen)
		memcpy(pkt + off, r->event, elen);
	off += elen;
	if (tlen)
		memcpy(pkt + off, text, tlen);
	off += tlen;
	if (r->kind == VHU_REL_MSG) {
		memcpy(pkt + off, &r->m->hdr, VHOST_USER_HDR_SIZE);
		memcpy(pkt + off + VHOST_USER_HDR_SIZE, r->m->payload, r->m->hdr.size);
		off += VHOST_USER_HDR_SIZE + r->m->hdr.size;
	}
	cap = off - 28;
	while (off % 4)
		pkt[off++] = 0;
	total = off + 4;
	/* Enhanced Packet Block: interface 0, timestamp, lengths. */
	put32(pkt, 6);
	put32(pkt + 4, (uint32_t)total);
	put32(pkt + 8, 0);
	put32(pkt + 12, (uint32_t)(ts >> 32));
	put32(pkt + 16, (uint32_t)ts);
	put32(pkt + 20, (uint32_t)cap);
	put32(pkt + 24, (uint32_t)cap);
	put32(pkt + off, (uint32_t)total);
	return emit(w, pkt, total);
}

int vhu_cap_close(struct vhu_cap_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = w->err;
	if (fclose(w->f) == EOF && !err)
		err = errno ? errno : EIO;
	free(w);
	return err;
}
