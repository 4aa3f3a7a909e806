/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the proxy's pcapng captures (layout in capture.h). */
#include "decode/capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BT_SHB		 0x0A0D0D0Au
#define BT_IDB		 0x00000001u
#define BT_EPB		 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
/* A packet holds at most the pseudo-header, its fds, two short texts and
 * a message; anything larger is not ours. */
#define MAX_BLOCK (1u << 20)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int64_t le64(const uint8_t *p)
{
	return (int64_t)((uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32);
}

static int fail(char *err, size_t len, const char *fmt, const char *what, unsigned long n)
{
	snprintf(err, len, fmt, what, n);
	return -1;
}

/* One packet's pseudo-header and message into @rec (@m: its storage). */
static int packet(const uint8_t *p, size_t len, uint64_t ts_us, struct vhu_relay_rec *rec, struct vhu_msg *m,
		  char *event, char *err, size_t errlen, unsigned long no)
{
	size_t off, elen, tlen;
	unsigned nfds;

	if (len < VHU_CAP_HDR || p[0] != VHU_CAP_VERSION || p[1] > 1)
		return fail(err, errlen, "%s %lu: not a vhuctl proxy record", "packet", no);
	memset(rec, 0, sizeof(*rec));
	rec->kind = p[1] ? VHU_REL_NOTE : VHU_REL_MSG;
	rec->to_backend = p[2] == 0;
	rec->chan = p[3] != 0;
	rec->session = le32(p + 4);
	rec->expect = p[8] == 1 ? VHU_EXPECT_OWN : p[8] == 2 ? VHU_EXPECT_ACK : VHU_EXPECT_NONE;
	rec->interposed = p[9] & 0x1;
	rec->dropped = p[9] & 0x2;
	nfds = p[10];
	elen = le16(p + 12);
	tlen = le16(p + 14);
	rec->rtt_us = le64(p + 16);
	rec->t_us = le64(p + 24);
	rec->ts.tv_sec = (time_t)(ts_us / 1000000);
	rec->ts.tv_nsec = (long)(ts_us % 1000000) * 1000;
	off = VHU_CAP_HDR;
	if (nfds > VHU_MSG_FD_ROOM || off + nfds * VHU_CAP_FD + elen + tlen > len || elen >= 32 ||
	    tlen >= sizeof(rec->note))
		return fail(err, errlen, "%s %lu: pseudo-header does not add up", "packet", no);
	for (unsigned i = 0; i < nfds; i++, off += VHU_CAP_FD) {
		rec->fd[i].type = p[off] <= VHU_FDT_BAD ? (enum vhu_fd_type)p[off] : VHU_FDT_OTHER;
		rec->fd[i].size = le64(p + off + 8);
		rec->fd[i].anon[0] = '\0';
	}
	memcpy(event, p + off, elen);
	event[elen] = '\0';
	off += elen;
	if (rec->kind == VHU_REL_NOTE) {
		memcpy(rec->note, p + off, tlen);
		rec->note[tlen] = '\0';
		rec->event = event;
		return 0;
	}
	memcpy(rec->problem, p + off, tlen < sizeof(rec->problem) ? tlen : sizeof(rec->problem) - 1);
	rec->problem[tlen < sizeof(rec->problem) ? tlen : sizeof(rec->problem) - 1] = '\0';
	off += tlen;
	if (len - off < VHOST_USER_HDR_SIZE)
		return fail(err, errlen, "%s %lu: the message header is cut short", "packet", no);
	memcpy(&m->hdr, p + off, VHOST_USER_HDR_SIZE);
	off += VHOST_USER_HDR_SIZE;
	if (m->hdr.size > VHU_MAX_PAYLOAD || len - off < m->hdr.size)
		return fail(err, errlen, "%s %lu: the payload is cut short", "packet", no);
	memcpy(m->payload, p + off, m->hdr.size);
	m->nfds = nfds;
	for (unsigned i = 0; i < nfds; i++)
		m->fds[i] = -1;
	rec->m = m;
	rec->reply = m->hdr.flags & VHOST_USER_REPLY_MASK;
	rec->desc = rec->chan ? vhu_backend_req_by_code(m->hdr.request) : vhu_req_by_code(m->hdr.request);
	return 0;
}

int vhu_cap_read(FILE *f, vhu_cap_fn fn, void *arg, char *err, size_t errlen)
{
	static struct vhu_relay_rec rec;
	static struct vhu_msg m;
	uint8_t head[8], *buf = NULL;
	bool linktype_ok = false;
	unsigned long no = 0;
	char event[32];
	int rc = 0;

	for (bool first = true;; first = false) {
		uint32_t type, len;
		size_t got = fread(head, 1, 8, f);

		if (got == 0 && !first && !ferror(f))
			break;
		if (got != 8) {
			rc = -1;
			if (ferror(f))
				snprintf(err, errlen, "read error: %s", strerror(errno));
			else
				snprintf(err, errlen,
					 first ? "empty file: not a pcapng capture" : "a block is cut short");
			break;
		}
		type = le32(head);
		len = le32(head + 4);
		if (first && (type != BT_SHB)) {
			rc = -1;
			snprintf(err, errlen, "not a pcapng capture (no section header)");
			break;
		}
		if (len < 12 || len % 4 || len > MAX_BLOCK) {
			rc = fail(err, errlen, "%s of %lu bytes: not a valid pcapng block", "a block", len);
			break;
		}
		free(buf);
		buf = malloc(len - 8);
		if (!buf) {
			rc = -1;
			snprintf(err, errlen, "out of memory");
			break;
		}
		if (fread(buf, 1, len - 8, f) != len - 8) {
			rc = -1;
			snprintf(err, errlen, ferror(f) ? "read error" : "a block is cut short");
			break;
		}
		if (le32(buf + len - 12) != len) {
			rc = -1;
			snprintf(err, errlen, "a block's trailing length does not match");
			break;
		}
		if (type == BT_SHB) {
			if (len < 28 || le32(buf) != BYTE_ORDER_MAGIC) {
				rc = -1;
				snprintf(err, errlen, "not a little-endian pcapng capture");
				break;
			}
		} else if (type == BT_IDB) {
			if (len < 20 || le16(buf) != VHU_CAP_LINKTYPE) {
				rc = -1;
				snprintf(err, errlen, "link type %u: not a vhuctl proxy capture (147)",
					 le16(buf));
				break;
			}
			linktype_ok = true;
		} else if (type == BT_EPB) {
			uint32_t caplen;
			uint64_t ts;

			no++;
			if (!linktype_ok || len < 32) {
				rc = fail(err, errlen, "%s %lu: no vhuctl interface before it", "packet", no);
				break;
			}
			caplen = le32(buf + 12);
			if (caplen > len - 32) {
				rc = fail(err, errlen, "%s %lu: longer than its block", "packet", no);
				break;
			}
			ts = (uint64_t)le32(buf + 4) << 32 | le32(buf + 8);
			if (packet(buf + 20, caplen, ts, &rec, &m, event, err, errlen, no)) {
				rc = -1;
				break;
			}
			fn(arg, &rec);
		}
		/* Other blocks (name resolution, statistics) are skipped. */
	}
	free(buf);
	return rc;
}
