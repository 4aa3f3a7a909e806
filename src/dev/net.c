/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net frames: the transmit pool, the receive buffers and the
 * checks on what the device hands back (spec "Network Device", "Device
 * Operation").
 */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/net.h"
#include "util/hex.h"
#include "util/intr.h"
#include "util/parse.h"

#define NO_FRAME SIZE_MAX

struct vhu_net_buf {
	uint8_t *p;   /* header, then the frame */
	uint64_t gpa; /* of p */
	size_t frame; /* transmit: index of the frame it holds, NO_FRAME none */
	uint32_t len; /* transmit: frame bytes */
};

size_t vhu_net_hdr_len(uint64_t features)
{
	if (features & VHU_BIT(VHU_NET_F_HASH_REPORT))
		return 20;
	if (features & (VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(VHU_NET_F_MRG_RXBUF)))
		return 12;
	return 10;
}

int vhu_net_parse_frame(const char *hex, uint8_t *buf, size_t *len, char *why, size_t whylen)
{
	size_t cap = strlen(hex) / 2 + 1, n = 0;
	uint8_t *tmp = malloc(cap);
	int rc = -1;

	if (!tmp) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (vhu_parse_hex(hex, tmp, cap, &n))
		snprintf(why, whylen,
			 "not hex bytes (two hex digits a byte, optionally separated by ' ', ':', '-' or "
			 "',')");
	else if (n < VHU_NET_FRAME_MIN)
		snprintf(why, whylen,
			 "a frame of %zu byte%s is too short: an Ethernet frame has %u..%u bytes", n,
			 n == 1 ? "" : "s", VHU_NET_FRAME_MIN, VHU_NET_FRAME_MAX);
	else if (n > VHU_NET_FRAME_MAX)
		snprintf(why, whylen, "a frame of %zu bytes is too long: an Ethernet frame has %u..%u bytes",
			 n, VHU_NET_FRAME_MIN, VHU_NET_FRAME_MAX);
	else {
		memcpy(buf, tmp, n);
		*len = n;
		rc = 0;
	}
	free(tmp);
	return rc;
}

uint16_t vhu_net_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t vhu_net_udp_frame(uint8_t *buf, size_t len)
{
	static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 }, mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t ip_src[4] = { 192, 0, 2, 1 }, ip_dst[4] = { 192, 0, 2, 2 };
	const size_t ip_len = len - 14, udp_len = ip_len - 20;
	uint8_t *ip = buf + 14, *udp = ip + 20;
	uint32_t pseudo;
	uint16_t c;

	memset(buf, 0, len);
	memcpy(buf, mac_dst, 6);
	memcpy(buf + 6, mac_src, 6);
	put_be16(buf + 12, 0x0800); /* IPv4 */
	ip[0] = 0x45;		    /* version 4, 5 words */
	put_be16(ip + 2, (uint16_t)ip_len);
	put_be16(ip + 4, 1);	  /* identification */
	put_be16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;		  /* TTL */
	ip[9] = 17;		  /* UDP */
	memcpy(ip + 12, ip_src, 4);
	memcpy(ip + 16, ip_dst, 4);
	put_be16(ip + 10, vhu_net_csum(ip, 20, 0));
	put_be16(udp, 1024);
	put_be16(udp + 2, 9); /* discard */
	put_be16(udp + 4, (uint16_t)udp_len);
	memcpy(udp + 8, "vhuctl", udp_len - 8 < 6 ? udp_len - 8 : 6);
	/* RFC 768: the checksum covers a pseudo header (addresses, protocol,
	 * UDP length); a computed 0 goes out as 0xffff. */
	pseudo = (uint32_t)(ip_src[0] << 8 | ip_src[1]) + (uint32_t)(ip_src[2] << 8 | ip_src[3]) +
		 (uint32_t)(ip_dst[0] << 8 | ip_dst[1]) + (uint32_t)(ip_dst[2] << 8 | ip_dst[3]) + 17 +
		 (uint32_t)udp_len;
	c = vhu_net_csum(udp, udp_len, pseudo);
	put_be16(udp + 6, c ? c : 0xffff);
	return len;
}

size_t vhu_net_default_frame(uint8_t *buf)
{
	return vhu_net_udp_frame(buf, VHU_NET_DEFAULT_FRAME_LEN);
}

/* ---- pools ---- */

static unsigned pool_size(const struct vhu_drv_queue *q)
{
	return q->vq.cfg.size < VHU_NET_POOL ? q->vq.cfg.size : VHU_NET_POOL;
}

static int alloc_pool(struct vhu_net *n, struct vhu_net_buf *b, unsigned count, uint32_t size)
{
	void *p;
	uint64_t gpa;
	int rc = vhu_drv_alloc(n->d, (uint64_t)count * size, 4096, &p, &gpa);

	if (rc)
		return rc;
	for (unsigned i = 0; i < count; i++) {
		b[i].p = (uint8_t *)p + (size_t)i * size;
		b[i].gpa = gpa + (uint64_t)i * size;
		b[i].frame = NO_FRAME;
	}
	return VHU_OK;
}

int vhu_net_check_rx_buf(struct vhu_session *s, uint64_t features, uint32_t rx_buf)
{
	size_t hl = vhu_net_hdr_len(features);

	/* Spec "Setting Up Receive Buffers": with MRG_RXBUF every buffer
	 * holds at least the header; without it, header + 1514 bytes (no
	 * guest TSO, UFO or USO is acked). */
	if (rx_buf < hl)
		return vhu_fail(s, VHU_E_USAGE,
				"--rx-buffer %u is smaller than the %zu-byte virtio-net header", rx_buf, hl);
	if (!(features & VHU_BIT(VHU_NET_F_MRG_RXBUF)) && rx_buf < hl + VHU_NET_FRAME_MAX)
		return vhu_fail(
			s, VHU_E_USAGE,
			"--rx-buffer %u: without VIRTIO_NET_F_MRG_RXBUF a receive buffer must hold the "
			"%zu-byte header and a 1514-byte frame (%zu bytes)",
			rx_buf, hl, hl + VHU_NET_FRAME_MAX);
	return VHU_OK;
}

int vhu_net_init(struct vhu_net *n, struct vhu_drv *d, struct vhu_drv_queue *rx, struct vhu_drv_queue *tx,
		 uint32_t rx_buf)
{
	int rc;

	memset(n, 0, sizeof(*n));
	n->d = d;
	n->rx = rx;
	n->tx = tx;
	n->hdr_len = vhu_net_hdr_len(d->features);
	n->mrg_rxbuf = d->features & VHU_BIT(VHU_NET_F_MRG_RXBUF);
	n->rx_buf = rx_buf;
	if ((rc = vhu_net_check_rx_buf(d->s, d->features, rx_buf)))
		return rc;
	n->ntx = pool_size(tx);
	n->nrx = pool_size(rx);
	n->txb = calloc(n->ntx, sizeof(*n->txb));
	n->rxb = calloc(n->nrx, sizeof(*n->rxb));
	n->free = calloc(n->ntx, sizeof(*n->free));
	n->used = calloc(VHU_NET_POOL, sizeof(*n->used));
	n->pkt = malloc(VHU_NET_PACKET_MAX);
	if (!n->txb || !n->rxb || !n->free || !n->used || !n->pkt) {
		vhu_net_fini(n);
		return vhu_fail(d->s, VHU_E_IO, "net: out of memory");
	}
	if ((rc = alloc_pool(n, n->txb, n->ntx, VHU_NET_TX_BUF)) ||
	    (rc = alloc_pool(n, n->rxb, n->nrx, rx_buf)))
		return rc;
	for (unsigned i = 0; i < n->ntx; i++)
		n->free[i] = &n->txb[i];
	n->nfree = n->ntx;
	return VHU_OK;
}

void vhu_net_fini(struct vhu_net *n)
{
	free(n->txb);
	free(n->rxb);
	free(n->free);
	free(n->used);
	free(n->pkt);
	n->txb = n->rxb = NULL;
	n->free = NULL;
	n->used = NULL;
	n->pkt = NULL;
}

/* ---- transmit ---- */

static int vq_fail(struct vhu_net *n, struct vhu_drv_queue *q, int rc)
{
	return vhu_fail(n->d->s, rc, "%s", vhu_vq_error(&q->vq));
}

/* A failed wait: when the device went quiet or a signal came, say how
 * far the run got instead of how many buffers were in flight. */
static int wait_failed(struct vhu_net *n, struct vhu_drv_queue *q, int rc, uint64_t count)
{
	const char *what = q == n->tx ? "sent" : "received";

	if (rc == VHU_E_TIMEOUT)
		return vhu_fail(n->d->s, rc, "queue %u: %s within %g s (%llu of %llu frames %s)", q->index,
				q == n->tx ? "the device took no frame" : "no frame arrived",
				n->d->s->timeout_ms / 1000.0, (unsigned long long)n->frames,
				(unsigned long long)count, what);
	if (vhu_intr_is_status(rc))
		return vhu_fail(n->d->s, rc, "queue %u: interrupted by %s (%llu of %llu frames %s)", q->index,
				vhu_intr_name(vhu_intr_signo()), (unsigned long long)n->frames,
				(unsigned long long)count, what);
	return rc;
}

/* Take what the device handed back: the buffers are free again. */
static void tx_done(struct vhu_net *n, unsigned got)
{
	for (unsigned i = 0; i < got; i++) {
		struct vhu_net_buf *b = n->used[i].token;

		n->free[n->nfree++] = b;
		n->frames++;
		n->bytes += b->len;
	}
}

/*
 * The back-end closed the connection with frames in flight: keep what it
 * handed back, reconnect (the hook starts the rings afresh and forgets
 * the chains), add the rest again: the buffers not free, as they were.
 */
static int tx_resume(struct vhu_net *n, struct vhu_drv_queue *q)
{
	char cause[sizeof(n->d->s->err)];
	bool is_free[VHU_NET_POOL] = { false };
	unsigned got;
	int rc;

	snprintf(cause, sizeof(cause), "%s", n->d->s->err);
	do {
		if ((rc = vhu_vq_poll(&q->vq, n->used, VHU_NET_POOL, &got)))
			return vq_fail(n, q, rc);
		tx_done(n, got);
	} while (got);
	if ((rc = n->reconnect(n->reconnect_arg, cause)))
		return rc;
	n->reconnects++;
	for (unsigned i = 0; i < n->nfree; i++)
		is_free[n->free[i] - n->txb] = true;
	for (unsigned i = 0; i < n->ntx; i++) {
		struct vhu_net_buf *b = &n->txb[i];
		struct vhu_vq_seg seg = { b->gpa, (uint32_t)n->hdr_len + b->len, false };

		if (is_free[i])
			continue;
		/* The ring was emptied: there is room for every one. */
		if ((rc = vhu_vq_add(&q->vq, &seg, 1, b)))
			return rc == VHU_VQ_FULL
				       ? vhu_fail(n->d->s, VHU_E_IO,
						  "queue %u: no room to send again what was in flight",
						  q->index)
				       : vq_fail(n, q, rc);
		n->resubmitted++;
	}
	return vhu_drv_notify(n->d, q);
}

int vhu_net_send(struct vhu_net *n, const struct vhu_net_frame *frames, size_t nframes, uint64_t count)
{
	struct vhu_drv_queue *q = n->tx;
	uint64_t added = 0;
	int rc;

	if (!nframes)
		return vhu_fail(n->d->s, VHU_E_USAGE, "net send: no frame to send");
	while (n->frames < count) {
		bool any = false, full = false;
		unsigned got = 0;

		while (added < count && n->nfree) {
			struct vhu_net_buf *b = n->free[n->nfree - 1];
			size_t k = (size_t)(added % nframes);
			struct vhu_vq_seg seg;

			/* The header stays zero (written once by the
			 * allocator); the frame is copied only when the
			 * buffer held another one. */
			if (b->frame != k) {
				memcpy(b->p + n->hdr_len, frames[k].data, frames[k].len);
				b->len = frames[k].len;
				b->frame = k;
			}
			seg = (struct vhu_vq_seg){ b->gpa, (uint32_t)n->hdr_len + b->len, false };
			rc = vhu_vq_add(&q->vq, &seg, 1, b);
			if (rc == VHU_VQ_FULL) {
				full = true;
				break;
			}
			if (rc)
				return vq_fail(n, q, rc);
			n->nfree--;
			added++;
			any = true;
		}
		if (any && (rc = vhu_drv_kick(n->d, q)))
			return rc;
		/* More to add and buffers to add them with: take what is
		 * done without waiting.  Otherwise wait for the device. */
		if (added < count && n->nfree && !full) {
			rc = vhu_vq_poll(&q->vq, n->used, VHU_NET_POOL, &got);
			if (rc)
				return vq_fail(n, q, rc);
		} else {
			rc = vhu_drv_wait(n->d, q, n->used, VHU_NET_POOL, &got);
			if (rc == VHU_E_IO && n->reconnect) {
				if ((rc = tx_resume(n, q)))
					return rc;
				continue;
			}
			if (rc)
				return wait_failed(n, q, rc, count);
		}
		tx_done(n, got);
	}
	return VHU_OK;
}

/* ---- receive ---- */

static int post(struct vhu_net *n, struct vhu_net_buf *b)
{
	struct vhu_vq_seg seg = { b->gpa, n->rx_buf, true };
	int rc = vhu_vq_add(&n->rx->vq, &seg, 1, b);

	/* The ring holds at least the pool: never full. */
	if (rc == VHU_VQ_FULL)
		return vhu_fail(n->d->s, VHU_E_PROTO, "queue %u: no room to repost a receive buffer",
				n->rx->index);
	return rc ? vq_fail(n, n->rx, rc) : VHU_OK;
}

static int violation(struct vhu_net *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int violation(struct vhu_net *n, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vhu_fail(n->d->s, VHU_E_PROTO, "queue %u, receive buffer %llu: %s", n->rx->index,
			(unsigned long long)n->buffers, msg);
}

int vhu_net_recv(struct vhu_net *n, uint64_t count, vhu_net_rx_fn fn, void *arg)
{
	struct vhu_drv_queue *q = n->rx;
	uint32_t left = 0, nbufs = 0, plen = 0;
	const uint8_t *direct = NULL;
	int rc;

	for (unsigned i = 0; i < n->nrx; i++)
		if ((rc = post(n, &n->rxb[i])))
			return rc;
	if ((rc = vhu_drv_kick(n->d, q)))
		return rc;
	while (n->frames < count) {
		unsigned got = 0;

		rc = vhu_drv_wait(n->d, q, n->used, VHU_NET_POOL, &got);
		if (rc)
			return wait_failed(n, q, rc, count);
		for (unsigned i = 0; i < got && n->frames < count; i++) {
			struct vhu_net_buf *b = n->used[i].token;
			uint32_t len = n->used[i].len;
			const uint8_t *data = b->p;

			if (!left) {
				/* The first buffer of a packet: the header. */
				uint16_t nb = 1;

				if (len < n->hdr_len)
					return violation(n,
							 "used length %u is shorter than the %zu-byte "
							 "virtio-net header",
							 len, n->hdr_len);
				if (n->mrg_rxbuf) {
					memcpy(&nb, b->p + 10, 2);
					nb = le16toh(nb);
					if (!nb)
						return violation(n,
								 "num_buffers is 0 (VIRTIO_NET_F_MRG_RXBUF: "
								 "at least 1)");
					if (nb > n->nrx)
						return violation(
							n, "num_buffers %u exceeds the %u buffers posted", nb,
							n->nrx);
				}
				left = nbufs = nb;
				plen = 0;
				data += n->hdr_len;
				len -= (uint32_t)n->hdr_len;
			}
			n->buffers++;
			if (len > VHU_NET_PACKET_MAX - plen)
				return violation(n, "a packet of more than %u bytes", VHU_NET_PACKET_MAX);
			/* A packet in one buffer goes out from there; a merged
			 * one is put together first. */
			if (nbufs == 1)
				direct = data;
			else
				memcpy(n->pkt + plen, data, len);
			plen += len;
			if (--left == 0) {
				if ((rc = fn(arg, nbufs == 1 ? direct : n->pkt, plen)))
					return rc;
				n->frames++;
				n->bytes += plen;
				if (nbufs > 1)
					n->merged++;
			}
			if (n->frames < count && (rc = post(n, b)))
				return rc;
		}
		if (n->frames < count && (rc = vhu_drv_kick(n->d, q)))
			return rc;
	}
	return VHU_OK;
}
