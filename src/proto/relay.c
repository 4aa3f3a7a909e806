/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The relay (see relay.h).  Rules it follows, from docs/interop/vhost-user.rst:
 *  - "Message Specification": header, payload, fds on the first byte; a
 *    message is forwarded whole, in one sendmsg, never merged (receivers
 *    cap the fds of one message: libvhost-user at 8, QEMU at 16);
 *  - "Communication": which requests get a reply, NEED_REPLY and REPLY_ACK
 *    (vhu_reply_expected); flags are never rewritten, since front-ends
 *    check the reply flags exactly;
 *  - "Back-end communication": SET_BACKEND_REQ_FD hands over a socket; the
 *    back-end may block on its own request's ack while the front-end waits
 *    for a main-socket reply, so both sockets are served by one poll loop
 *    and neither waits for the other.
 */
#define _GNU_SOURCE
#include "proto/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/intr.h"
#include "util/rc.h"
#include "util/text.h"

/* Messages queued toward one peer before the relay stops reading the
 * peer that feeds the queue (the kernel's socket buffers hold far more
 * control messages than this; a full queue means a peer that does not
 * read). */
#define QUEUE_MAX 64u
/* Requests awaiting a reply, per session and direction. */
#define PEND_MAX 256u
/* As a session ends, what is still read from one socket at most. */
#define FINAL_BURST 1024u
/* Receive buffer of one socket: room for a whole message of the largest
 * size after a partial one, so one recvmsg takes header and payload. */
#define MSG_MAX (VHOST_USER_HDR_SIZE + VHU_MAX_PAYLOAD)
#define RBUF	(2 * MSG_MAX)
/* fd sets read but not yet handed to their message (at most one per read,
 * and a read happens only once every whole message was taken). */
#define FDSETS 4u
/* Messages kept for reuse, so relaying allocates nothing per message. */
#define SPARE_MAX 128u

struct qmsg {
	struct qmsg *next;
	struct vhu_tx tx;
	bool held; /* still being reported: unlinked, not freed, when sent */
	bool sent;
	struct vhu_msg m;
};

/* fds that came with a read, for the message starting at @at. */
struct fdset {
	size_t at; /* offset in the receive buffer */
	int fds[VHU_MSG_FD_ROOM];
	unsigned n;
	bool trunc;
};

/* One socket of a session, and the queue of messages to write to it. */
struct end {
	int fd;
	const char *who;
	/* Bytes read and not yet framed: [rpos, rlen) of rbuf, which starts
	 * at a message boundary (rpos); a partial message only at the end. */
	uint8_t *rbuf;
	size_t rpos, rlen;
	struct fdset fdset[FDSETS];
	unsigned nfdset;
	unsigned stray;	  /* fds that came after the first byte of the message at rpos */
	bool trunc;	  /* and fds the kernel dropped on the way */
	int64_t rx_start; /* ms: when the partial message's first byte came (0: none) */
	struct qmsg *qhead, *qtail;
	unsigned qlen;
	int64_t tx_since; /* ms: last progress of a non-empty queue */
};

struct pend {
	uint32_t code;
	enum vhu_expect ex;
	int64_t t_us;
};

struct pendq {
	struct pend p[PEND_MAX];
	unsigned n;
};

struct sess {
	struct sess *next;
	uint64_t id;
	struct end fe, be; /* main sockets: front-end, back-end */
	struct end cf, cb; /* back-end channel: the front-end's socket, the relay's end
			    * of the socketpair whose other end the back-end holds */
	uint64_t protocol; /* as set by the front-end's SET_PROTOCOL_FEATURES */
	struct pendq main, chan;
	bool waiting; /* for a back-end to connect (--listen-back) */
	bool ending;
	char why[256];
};

/* Back-end connections accepted (--listen-back) before a front-end came
 * for them. */
#define PENDING_MAX 8u

struct relay {
	const struct vhu_relay_cfg *cfg;
	struct qmsg *spare; /* sent messages, for reuse */
	unsigned nspare;
	vhu_relay_fn fn;
	void *arg;
	int lfd;  /* the front-ends' socket we listen on, or -1 */
	int blfd; /* the back-end's socket we listen on, or -1 */
	int pending[PENDING_MAX];
	unsigned npending;
	int64_t retry_at; /* ms: next connect to the front-end (--connect-front) */
	bool told_wait;	  /* the "wait" note for the front-end was given */
	int64_t t0_us;
	struct sess *list;
	uint64_t next_id, ended;
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void stamp(struct relay *r, struct vhu_relay_rec *rec)
{
	clock_gettime(CLOCK_REALTIME, &rec->ts);
	rec->t_us = mono_us() - r->t0_us;
}

static void note(struct relay *r, struct sess *s, bool chan, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void note(struct relay *r, struct sess *s, bool chan, const char *event, const char *fmt, ...)
{
	static struct vhu_relay_rec rec;
	va_list ap;

	memset(&rec, 0, sizeof(rec));
	rec.kind = VHU_REL_NOTE;
	stamp(r, &rec);
	rec.session = s ? s->id : 0;
	rec.chan = chan;
	rec.event = event;
	rec.rtt_us = -1;
	va_start(ap, fmt);
	vsnprintf(rec.note, sizeof(rec.note), fmt, ap);
	va_end(ap);
	r->fn(r->arg, &rec);
}

static void add_problem(struct vhu_relay_rec *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_problem(struct vhu_relay_rec *rec, const char *fmt, ...)
{
	size_t n = strlen(rec->problem);
	va_list ap;

	if (n && n + 2 < sizeof(rec->problem)) {
		memcpy(rec->problem + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= sizeof(rec->problem))
		return;
	va_start(ap, fmt);
	vsnprintf(rec->problem + n, sizeof(rec->problem) - n, fmt, ap);
	va_end(ap);
}

static void end_init(struct end *e, const char *who)
{
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->who = who;
}

/* The relay, for the spare messages (one relay runs at a time). */
static struct relay *g_relay;

static void free_qmsg(struct qmsg *q)
{
	if (!q)
		return;
	vhu_msg_close_fds(&q->m);
	if (g_relay && g_relay->nspare < SPARE_MAX) {
		q->next = g_relay->spare;
		g_relay->spare = q;
		g_relay->nspare++;
		return;
	}
	free(q);
}

static struct qmsg *new_qmsg(struct relay *r)
{
	struct qmsg *q = r->spare;

	if (q) {
		r->spare = q->next;
		r->nspare--;
	} else if (!(q = malloc(sizeof(*q)))) {
		return NULL;
	}
	q->m.nfds = 0;
	return q;
}

static void drop_fdsets(struct end *e)
{
	for (unsigned i = 0; i < e->nfdset; i++)
		vhu_close_fds(e->fdset[i].fds, e->fdset[i].n);
	e->nfdset = 0;
}

/* Close the socket and drop everything read from or queued for it. */
static void end_close(struct end *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	free(e->rbuf);
	e->rbuf = NULL;
	e->rpos = e->rlen = 0;
	drop_fdsets(e);
	e->stray = 0;
	e->trunc = false;
	e->rx_start = 0;
	while (e->qhead) {
		struct qmsg *q = e->qhead;

		e->qhead = q->next;
		if (q->held)
			q->sent = true; /* its reporter frees it */
		else
			free_qmsg(q);
	}
	e->qtail = NULL;
	e->qlen = 0;
	e->tx_since = 0;
}

/* Where a message read from @e goes. */
static struct end *peer(struct sess *s, struct end *e)
{
	return e == &s->fe ? &s->be : e == &s->be ? &s->fe : e == &s->cf ? &s->cb : &s->cf;
}

static void end_session(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void end_session(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	if (s->ending)
		return;
	s->ending = true;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/*
 * Write what the queue of @e holds, as far as the socket takes it.  False
 * (the session ends) when the peer is gone or the write fails.
 */
static bool flush(struct sess *s, struct end *e)
{
	bool moved = false;

	while (e->qhead && e->fd >= 0) {
		struct qmsg *q = e->qhead;
		size_t before = q->tx.done;
		enum vhu_tx_status st =
			vhu_msg_write(e->fd, &q->m.hdr, q->m.payload, q->m.fds, q->m.nfds, &q->tx);

		moved |= q->tx.done != before;
		if (st == VHU_TX_AGAIN)
			break;
		if (st == VHU_TX_ERROR) {
			if (errno == EPIPE || errno == ECONNRESET)
				end_session(s, "%s closed the connection%s", e->who,
					    e == &s->cf || e == &s->cb ? " (back-end channel)" : "");
			else
				end_session(s, "cannot write to the %s: %s", e->who, vhu_strerror(errno));
			return false;
		}
		e->qhead = q->next;
		if (!e->qhead)
			e->qtail = NULL;
		e->qlen--;
		if (q->held)
			q->sent = true;
		else
			free_qmsg(q);
	}
	e->tx_since = e->qhead ? (moved || !e->tx_since ? vhu_now_ms() : e->tx_since) : 0;
	return true;
}

static void push_pend(struct pendq *pq, uint32_t code, enum vhu_expect ex, int64_t t_us)
{
	/* A front-end that never reads its replies: forget the oldest. */
	if (pq->n == PEND_MAX) {
		memmove(pq->p, pq->p + 1, sizeof(pq->p[0]) * (PEND_MAX - 1));
		pq->n--;
	}
	pq->p[pq->n++] = (struct pend){ code, ex, t_us };
}

/* The oldest request with @code awaiting its reply (FIFO by code). */
static bool pop_pend(struct pendq *pq, uint32_t code, struct pend *out)
{
	for (unsigned i = 0; i < pq->n; i++) {
		if (pq->p[i].code != code)
			continue;
		*out = pq->p[i];
		memmove(pq->p + i, pq->p + i + 1, sizeof(pq->p[0]) * (pq->n - i - 1));
		pq->n--;
		return true;
	}
	return false;
}

static void check_count(struct vhu_relay_rec *rec, const char *what, unsigned v, unsigned lo, unsigned hi,
			const char *unit)
{
	if (v >= lo && v <= hi)
		return;
	if (lo == hi)
		add_problem(rec, "%s of %u %s, expected %u", what, v, unit, lo);
	else
		add_problem(rec, "%s of %u %s, expected %u..%u", what, v, unit, lo, hi);
}

/* Flag what @rec's message breaks, pair replies with their requests and
 * follow the protocol features of the session. */
static void inspect(struct sess *s, struct vhu_relay_rec *rec, const struct vhu_rx *rx)
{
	const struct vhu_msg *m = rec->m;
	const struct vhu_req_desc *d = rec->desc;
	uint32_t flags = m->hdr.flags;
	/* Requests go F>B on the main socket and B>F on the channel. */
	bool request_way = rec->to_backend != rec->chan;
	struct pendq *pq = rec->chan ? &s->chan : &s->main;

	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		add_problem(rec, "version %u (flags 0x%x), expected %u", flags & VHOST_USER_VERSION_MASK,
			    flags, VHOST_USER_VERSION);
	if (flags & VHOST_USER_RESERVED_MASK)
		add_problem(rec, "reserved flag bits 0x%x set", flags & VHOST_USER_RESERVED_MASK);
	if (!d)
		add_problem(rec, "unknown %srequest code %u", rec->chan ? "back-end " : "", m->hdr.request);
	if (rx->stray)
		add_problem(rec, "%u %s after the first byte (closed, not relayed)", rx->stray,
			    VHU_PLURAL(rx->stray, "fd", "fds"));
	if (rx->trunc)
		add_problem(rec, "more than %u fds: the kernel dropped the rest", VHU_MSG_FD_ROOM);
	if (m->nfds > VHOST_USER_MAX_FDS)
		add_problem(rec, "%u fds, more than the %u a message may carry", m->nfds, VHOST_USER_MAX_FDS);

	if (request_way && !rec->reply) {
		if (d) {
			check_count(rec, "payload", m->hdr.size, d->req_min, d->req_max, "bytes");
			check_count(rec, "fd count", m->nfds, d->fds_min, d->fds_max, "");
			if (d->pf >= 0 && !(s->protocol & VHU_BIT(d->pf)))
				add_problem(rec, "sent although %s was not negotiated", d->pf_name);
		}
		/* Back-ends apply SET_PROTOCOL_FEATURES before they answer it. */
		if (!rec->chan && m->hdr.request == VHOST_USER_SET_PROTOCOL_FEATURES && m->hdr.size >= 8)
			memcpy(&s->protocol, m->payload, 8);
		rec->expect = vhu_reply_expected(d, rec->chan, s->protocol, flags);
		if (rec->expect != VHU_EXPECT_NONE)
			push_pend(pq, m->hdr.request, rec->expect, rec->t_us);
		return;
	}
	if (!request_way && rec->reply) {
		struct pend p;

		if (!pop_pend(pq, m->hdr.request, &p)) {
			add_problem(rec, "a reply no request awaits");
			return;
		}
		rec->expect = p.ex;
		rec->rtt_us = rec->t_us - p.t_us;
		if (flags & VHOST_USER_NEED_REPLY_MASK)
			add_problem(rec, "NEED_REPLY set on a reply");
		if (p.ex == VHU_EXPECT_ACK) {
			check_count(rec, "ack payload", m->hdr.size, 8, 8, "bytes");
			check_count(rec, "fd count", m->nfds, 0, 0, "");
		} else if (d) {
			check_count(rec, "reply payload", m->hdr.size, d->reply_min, d->reply_max, "bytes");
			check_count(rec, "fd count", m->nfds, d->rfds_min, d->rfds_max, "");
		}
		return;
	}
	if (rec->reply)
		add_problem(rec, "the REPLY flag on a %s request", rec->chan ? "back-end" : "front-end");
	else
		add_problem(rec, "a %s request on the %s", rec->chan ? "front-end" : "back-end",
			    rec->chan ? "back-end channel" : "main socket");
}

static bool set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

static void close_chan(struct relay *r, struct sess *s, const char *why)
{
	if (s->cf.fd < 0 && s->cb.fd < 0)
		return;
	end_close(&s->cf);
	end_close(&s->cb);
	s->chan.n = 0;
	note(r, s, true, "channel", "back-end channel closed: %s", why);
}

/*
 * SET_BACKEND_REQ_FD: keep the front-end's socket, give the back-end one
 * end of a socketpair of ours.  The other end stays blocking, as a
 * front-end's would (back-ends may read it with blocking calls).
 */
static bool interpose(struct relay *r, struct sess *s, struct vhu_relay_rec *rec, struct vhu_msg *m)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		add_problem(rec, "not interposed (socketpair: %s): the back-end channel is not seen",
			    vhu_strerror(errno));
		return false;
	}
	close_chan(r, s, "replaced by a new SET_BACKEND_REQ_FD");
	if (!set_nonblock(m->fds[0]) || !set_nonblock(sv[0])) {
		add_problem(rec, "not interposed (O_NONBLOCK: %s): the back-end channel is not seen",
			    vhu_strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	s->cf.fd = m->fds[0];
	s->cb.fd = sv[0];
	m->fds[0] = sv[1]; /* closed with the message once sent */
	rec->interposed = true;
	return true;
}

/* A whole message @q was read from @src: report it and send it on. */
static void handle(struct relay *r, struct sess *s, struct end *src, struct qmsg *q, const struct vhu_rx *rx)
{
	static struct vhu_relay_rec rec;
	struct vhu_msg *m = &q->m;
	struct end *dst = peer(s, src);
	bool chan = src == &s->cf || src == &s->cb;

	memset(&rec, 0, sizeof(rec));
	rec.kind = VHU_REL_MSG;
	stamp(r, &rec);
	rec.session = s->id;
	rec.chan = chan;
	rec.to_backend = src == &s->fe || src == &s->cf;
	rec.m = m;
	rec.rtt_us = -1;
	rec.reply = m->hdr.flags & VHOST_USER_REPLY_MASK;
	rec.desc = chan ? vhu_backend_req_by_code(m->hdr.request) : vhu_req_by_code(m->hdr.request);
	for (unsigned i = 0; i < m->nfds && i < VHU_MSG_FD_ROOM; i++)
		vhu_fd_describe(m->fds[i], &rec.fd[i]);
	inspect(s, &rec, rx);
	if (!chan && src == &s->fe && m->hdr.request == VHOST_USER_SET_BACKEND_REQ_FD && !rec.reply &&
	    m->nfds >= 1)
		interpose(r, s, &rec, m);

	q->tx = (struct vhu_tx){ 0 };
	q->next = NULL;
	q->sent = false;
	q->held = true;
	if (dst->fd < 0) {
		rec.dropped = true;
		q->sent = true;
	} else {
		if (dst->qtail)
			dst->qtail->next = q;
		else
			dst->qhead = q;
		dst->qtail = q;
		dst->qlen++;
		/* Only behind other messages does it wait; alone it goes now. */
		if (dst->qhead == q)
			flush(s, dst);
	}
	r->fn(r->arg, &rec);
	if (rec.interposed)
		note(r, s, true, "channel", "back-end channel interposed");
	q->held = false;
	if (q->sent)
		free_qmsg(q);
}

/* Length of the message at @off of @e's buffer: 0 while its header is
 * incomplete, SIZE_MAX when it announces more than VHU_MAX_PAYLOAD. */
static size_t msg_len(const struct end *e, size_t off)
{
	struct vhost_user_hdr h;

	if (e->rlen - off < VHOST_USER_HDR_SIZE)
		return 0;
	memcpy(&h, e->rbuf + off, sizeof(h));
	return h.size > VHU_MAX_PAYLOAD ? SIZE_MAX : VHOST_USER_HDR_SIZE + h.size;
}

/* A whole message (or a header no message may have) is buffered. */
static bool buffered(const struct end *e)
{
	size_t n = e->rbuf ? msg_len(e, e->rpos) : 0;

	return n && (n == SIZE_MAX || e->rlen - e->rpos >= n);
}

/*
 * The fds of a read of [@from, rlen): they came with the last message
 * whose first byte is in it (Linux ends a read after the bytes that
 * carried fds); none there means they came after a first byte: strays of
 * the message at rpos.
 */
static void place_fds(struct end *e, size_t from, int *fds, unsigned n, bool trunc)
{
	size_t at = SIZE_MAX;

	if (!n && !trunc)
		return;
	for (size_t off = e->rpos, len; off < e->rlen; off += len) {
		if (off >= from)
			at = off;
		len = msg_len(e, off);
		if (!len || len == SIZE_MAX)
			break;
	}
	if (at == SIZE_MAX || e->nfdset == FDSETS) {
		vhu_close_fds(fds, n);
		e->stray += n;
		e->trunc |= trunc;
		return;
	}
	e->fdset[e->nfdset] = (struct fdset){ .at = at, .n = n, .trunc = trunc };
	memcpy(e->fdset[e->nfdset].fds, fds, n * sizeof(int));
	e->nfdset++;
}

/* Take the whole message at rpos out of the buffer into @q, with its fds;
 * @rx gets what was wrong with them. */
static void take(struct end *e, struct qmsg *q, size_t len, struct vhu_rx *rx)
{
	memcpy(&q->m.hdr, e->rbuf + e->rpos, VHOST_USER_HDR_SIZE);
	memcpy(q->m.payload, e->rbuf + e->rpos + VHOST_USER_HDR_SIZE, len - VHOST_USER_HDR_SIZE);
	q->m.nfds = 0;
	vhu_rx_reset(rx);
	rx->got = len;
	rx->stray = e->stray;
	rx->trunc = e->trunc;
	e->stray = 0;
	e->trunc = false;
	for (unsigned i = 0; i < e->nfdset;) {
		struct fdset *f = &e->fdset[i];

		if (f->at != e->rpos) {
			i++;
			continue;
		}
		memcpy(q->m.fds, f->fds, f->n * sizeof(int));
		q->m.nfds = f->n;
		rx->trunc |= f->trunc;
		*f = e->fdset[--e->nfdset];
	}
	e->rpos += len;
	if (e->rpos == e->rlen)
		e->rpos = e->rlen = 0;
	/* Progress: a partial message left is timed from now on. */
	e->rx_start = 0;
}

/* Make room for a whole message after what is buffered. */
static void compact(struct end *e)
{
	size_t d = e->rpos;

	if (!d || RBUF - e->rlen >= MSG_MAX)
		return;
	memmove(e->rbuf, e->rbuf + d, e->rlen - d);
	e->rlen -= d;
	e->rpos = 0;
	for (unsigned i = 0; i < e->nfdset; i++)
		e->fdset[i].at -= d;
}

/*
 * Relay the whole messages buffered for @e, then read what is there (one
 * recvmsg: header and payload together, often several messages) and relay
 * those.  Not again until poll says there is more: a request and its
 * reply then cost one recvmsg each.  @final: as the session ends,
 * whatever is there, without reporting more reasons to end it.
 */
static void drain(struct relay *r, struct sess *s, struct end *e, bool final)
{
	bool chan = e == &s->cf || e == &s->cb;
	bool did_read = false;

	for (unsigned k = 0; k < FINAL_BURST && (final || !s->ending) && e->fd >= 0; k++) {
		int fds[VHU_MSG_FD_ROOM];
		unsigned nfds;
		bool trunc;
		size_t len, from;
		ssize_t n;

		if (peer(s, e)->qlen >= QUEUE_MAX || (final && peer(s, e)->fd < 0))
			return; /* resumes when the peer reads */
		if (!e->rbuf && !(e->rbuf = malloc(RBUF))) {
			end_session(s, "out of memory");
			return;
		}
		len = msg_len(e, e->rpos);
		if (len == SIZE_MAX) {
			struct vhost_user_hdr h;

			if (final)
				return;
			memcpy(&h, e->rbuf + e->rpos, sizeof(h));
			end_session(s,
				    "%s sent a header announcing %u payload bytes (at most %u): not a "
				    "vhost-user stream%s",
				    e->who, h.size, VHU_MAX_PAYLOAD, chan ? " on the back-end channel" : "");
			return;
		}
		if (len && e->rlen - e->rpos >= len) {
			struct qmsg *q = new_qmsg(r);
			struct vhu_rx rx;

			if (!q) {
				end_session(s, "out of memory");
				return;
			}
			take(e, q, len, &rx);
			handle(r, s, e, q, &rx);
			continue;
		}
		if (did_read && !final)
			break;
		compact(e);
		from = e->rlen;
		n = vhu_msg_recv_bytes(e->fd, e->rbuf + e->rlen, RBUF - e->rlen, fds, &nfds, &trunc);
		did_read = true;
		if (n > 0) {
			e->rlen += (size_t)n;
			place_fds(e, from, fds, nfds, trunc);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		vhu_close_fds(fds, nfds);
		if (final)
			return;
		if (n == 0 && e->rlen == e->rpos) {
			if (chan)
				close_chan(r, s,
					   e == &s->cb ? "the back-end closed it"
						       : "the front-end closed it");
			else
				end_session(s, "%s closed the connection", e->who);
		} else if (n == 0) {
			len = msg_len(e, e->rpos);
			end_session(s, "%s closed the connection inside a message (%zu of %zu bytes)%s",
				    e->who, e->rlen - e->rpos, len ? len : (size_t)VHOST_USER_HDR_SIZE,
				    chan ? " on the back-end channel" : "");
		} else if (errno == ECONNRESET) {
			end_session(s, "%s reset the connection", e->who);
		} else {
			end_session(s, "cannot read from the %s: %s", e->who, vhu_strerror(errno));
		}
		return;
	}
	/* An unfinished message is due within the timeout. */
	if (e->rlen > e->rpos && !e->rx_start)
		e->rx_start = vhu_now_ms();
}

static int connect_backend(const char *path, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	*fd = -1;
	if (s < 0)
		return errno;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(s);
		return ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	while (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		if (err == EINTR)
			continue;
		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

static void opened(struct relay *r, struct sess *s)
{
	s->waiting = false;
	note(r, s, false, "open", "front-end %s %s; back-end %s %s",
	     r->cfg->front_connect ? "connected at" : "accepted on", r->cfg->front,
	     r->cfg->back_listen ? "accepted on" : "connected at", r->cfg->back);
}

/* A session for the front-end connection @fd; its back-end connection is
 * made, taken from those waiting, or waited for. */
static void new_session(struct relay *r, int fd)
{
	struct sess *s = calloc(1, sizeof(*s)), **pp;
	int err;

	if (!s) {
		close(fd);
		note(r, NULL, false, "note", "front-end refused: out of memory");
		return;
	}
	s->id = ++r->next_id;
	end_init(&s->fe, "front-end");
	end_init(&s->be, "back-end");
	end_init(&s->cf, "front-end");
	end_init(&s->cb, "back-end");
	s->fe.fd = fd;
	/* Oldest first: back-end connections go to sessions in order. */
	for (pp = &r->list; *pp; pp = &(*pp)->next)
		;
	*pp = s;
	if (r->cfg->back_listen) {
		if (!r->npending) {
			s->waiting = true;
			note(r, s, false, "wait",
			     "front-end %s %s; waiting for the back-end to connect on %s",
			     r->cfg->front_connect ? "connected at" : "accepted on", r->cfg->front,
			     r->cfg->back);
			return;
		}
		s->be.fd = r->pending[0];
		memmove(r->pending, r->pending + 1, sizeof(r->pending[0]) * --r->npending);
		opened(r, s);
		return;
	}
	err = connect_backend(r->cfg->back, &s->be.fd);
	if (err) {
		end_session(s, "cannot connect to the back-end at %s: %s", r->cfg->back, vhu_strerror(err));
		return;
	}
	opened(r, s);
}

static void accept_front(struct relay *r)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or a connection that went away */
		new_session(r, fd);
	}
}

static void accept_back(struct relay *r)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(r->blfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sess *s = r->list;

		if (fd < 0)
			return;
		while (s && !(s->waiting && !s->ending))
			s = s->next;
		if (s) {
			s->be.fd = fd;
			opened(r, s);
		} else if (r->npending < PENDING_MAX) {
			r->pending[r->npending++] = fd;
		} else {
			close(fd);
			note(r, NULL, false, "note",
			     "a back-end connection refused: %u already wait for a front-end", PENDING_MAX);
		}
	}
}

/* --connect-front: one session at a time, connected to the front-end's
 * socket, again after each one ended. */
static void connect_front(struct relay *r)
{
	int fd, err;

	if (r->list || vhu_now_ms() < r->retry_at)
		return;
	err = connect_backend(r->cfg->front, &fd);
	if (err) {
		r->retry_at = vhu_now_ms() + 100;
		if (!r->told_wait)
			note(r, NULL, false, "wait", "waiting for the front-end at %s: %s", r->cfg->front,
			     vhu_strerror(err));
		r->told_wait = true;
		return;
	}
	r->told_wait = false;
	new_session(r, fd);
}

static void free_session(struct relay *r, struct sess *s)
{
	struct end *ends[4] = { &s->cf, &s->cb, &s->fe, &s->be };

	/* What a peer sent before it left still reaches the other side if it
	 * can at once: a front-end answers on the back-end channel and then
	 * closes everything, and the answer is still unread on the channel
	 * when the main socket's end of stream is seen. */
	for (int i = 0; i < 4; i++)
		if (ends[i]->fd >= 0 && peer(s, ends[i])->fd >= 0)
			drain(r, s, ends[i], true);
	for (int i = 0; i < 4; i++)
		if (ends[i]->fd >= 0)
			flush(s, ends[i]);
	end_close(&s->fe);
	end_close(&s->be);
	end_close(&s->cf);
	end_close(&s->cb);
	note(r, s, false, "end", "session ended: %s", s->why);
	r->ended++;
	free(s);
}

static void reap(struct relay *r)
{
	struct sess **pp = &r->list;

	while (*pp) {
		struct sess *s = *pp;

		if (s->ending) {
			*pp = s->next;
			free_session(r, s);
		} else {
			pp = &s->next;
		}
	}
}

/* Stalls: a message left unfinished, or a queue that does not move. */
static void check_stalls(struct relay *r, int64_t now)
{
	int t = r->cfg->timeout_ms;

	for (struct sess *s = r->list; s; s = s->next) {
		struct end *ends[4] = { &s->fe, &s->be, &s->cf, &s->cb };

		for (int i = 0; i < 4 && !s->ending; i++) {
			struct end *e = ends[i];
			bool chan = i >= 2;

			if (e->fd < 0)
				continue;
			if (e->rx_start && now - e->rx_start >= t && peer(s, e)->qlen < QUEUE_MAX)
				end_session(s, "%s stalls inside a message%s: %zu of %zu bytes within %d ms",
					    e->who, chan ? " on the back-end channel" : "", e->rlen - e->rpos,
					    msg_len(e, e->rpos) ? msg_len(e, e->rpos)
								: (size_t)VHOST_USER_HDR_SIZE,
					    t);
			else if (e->qhead && e->tx_since && now - e->tx_since >= t)
				end_session(s, "%s does not read%s: %u %s queued for %d ms", e->who,
					    chan ? " the back-end channel" : "", e->qlen,
					    VHU_PLURAL(e->qlen, "message", "messages"), t);
		}
	}
}

/* The next stall deadline (ms, vhu_now_ms based), or -1. */
static int64_t next_deadline(struct relay *r)
{
	int64_t d = -1;

	for (struct sess *s = r->list; s; s = s->next) {
		struct end *ends[4] = { &s->fe, &s->be, &s->cf, &s->cb };

		for (int i = 0; i < 4; i++) {
			int64_t x = -1;

			if (ends[i]->fd < 0)
				continue;
			if (ends[i]->rx_start)
				x = ends[i]->rx_start + r->cfg->timeout_ms;
			if (ends[i]->qhead && ends[i]->tx_since &&
			    (x < 0 || ends[i]->tx_since + r->cfg->timeout_ms < x))
				x = ends[i]->tx_since + r->cfg->timeout_ms;
			if (x >= 0 && (d < 0 || x < d))
				d = x;
		}
	}
	return d;
}

static int listen_on(const char *path, struct stat *st, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long (%zu bytes, at most %zu)", strlen(path),
			 sizeof(sa.sun_path) - 1);
		return -VHU_E_USAGE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", vhu_strerror(errno));
		return -VHU_E_IO;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno, probe = -1;
		struct stat ps;

		/* A socket nobody listens on any more (a proxy that was
		 * killed) is taken over; a live one, or another file, is not. */
		if (e == EADDRINUSE && stat(path, &ps) == 0 && S_ISSOCK(ps.st_mode) &&
		    connect_backend(path, &probe) == ECONNREFUSED && unlink(path) == 0)
			e = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
		if (probe >= 0)
			close(probe);
		if (e) {
			snprintf(err, errlen, "cannot listen on %s: %s", path,
				 e == EADDRINUSE ? "the path exists (a running proxy, or not a socket)"
						 : vhu_strerror(e));
			close(fd);
			return -VHU_E_CONNECT;
		}
	}
	if (listen(fd, 64) || stat(path, st)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, vhu_strerror(errno));
		close(fd);
		unlink(path);
		return -VHU_E_CONNECT;
	}
	return fd;
}

/* Remove a socket we created, if it is still ours. */
static void unlink_ours(const char *path, const struct stat *ours)
{
	struct stat now;

	if (stat(path, &now) == 0 && now.st_ino == ours->st_ino && now.st_dev == ours->st_dev)
		unlink(path);
}

int vhu_relay_run(const struct vhu_relay_cfg *cfg, vhu_relay_fn fn, void *arg, char *err, size_t errlen)
{
	struct relay r = { .cfg = cfg, .fn = fn, .arg = arg, .t0_us = mono_us(), .lfd = -1, .blfd = -1 };
	struct pollfd *pfd = NULL;
	struct end **pend = NULL;
	struct sess **psess = NULL;
	size_t cap = 0;
	struct stat lst, blst;
	int rc = VHU_OK;

	for (int i = 0; i < 2; i++) {
		const char *path = i ? cfg->back : cfg->front;
		struct sockaddr_un sa;

		if (strlen(path) >= sizeof(sa.sun_path)) {
			snprintf(err, errlen, "socket path too long (%zu bytes, at most %zu): %s",
				 strlen(path), sizeof(sa.sun_path) - 1, path);
			return VHU_E_USAGE;
		}
	}
	if (!cfg->front_connect) {
		r.lfd = listen_on(cfg->front, &lst, err, errlen);
		if (r.lfd < 0)
			return -r.lfd;
	}
	if (cfg->back_listen) {
		r.blfd = listen_on(cfg->back, &blst, err, errlen);
		if (r.blfd < 0) {
			rc = -r.blfd;
			if (r.lfd >= 0) {
				close(r.lfd);
				unlink_ours(cfg->front, &lst);
			}
			return rc;
		}
	}
	g_relay = &r;
	note(&r, NULL, false, "listen", "front-ends: %s %s; back-end: %s %s",
	     cfg->front_connect ? "connecting to" : "listening on", cfg->front,
	     cfg->back_listen ? "listening on" : "connecting to", cfg->back);

	for (;;) {
		size_t n = 3, need = 3;
		int64_t deadline;
		int timeout = -1, k;
		bool now_ready = false;

		if (vhu_intr_status())
			break;
		if (cfg->sessions && r.ended >= cfg->sessions)
			break;
		if (cfg->stop && *cfg->stop)
			break;
		if (cfg->front_connect)
			connect_front(&r);
		for (struct sess *s = r.list; s; s = s->next)
			need += 4;
		if (need > cap) {
			size_t c = need * 2;
			void *a = realloc(pfd, c * sizeof(*pfd)), *b, *d;

			if (a)
				pfd = a;
			b = realloc(pend, c * sizeof(*pend));
			if (b)
				pend = b;
			d = realloc(psess, c * sizeof(*psess));
			if (d)
				psess = d;
			if (!a || !b || !d) {
				snprintf(err, errlen, "out of memory");
				rc = VHU_E_IO;
				break;
			}
			cap = c;
		}
		pfd[0] = (struct pollfd){ .fd = r.lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = vhu_intr_fd(), .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = r.blfd, .events = POLLIN };
		for (struct sess *s = r.list; s; s = s->next) {
			struct end *ends[4] = { &s->fe, &s->be, &s->cf, &s->cb };

			for (int i = 0; i < 4; i++) {
				struct end *e = ends[i];
				short ev = 0;

				if (e->fd < 0)
					continue;
				if (peer(s, e)->qlen < QUEUE_MAX && peer(s, e)->fd >= 0) {
					ev |= POLLIN;
					/* Whole messages read already: no waiting. */
					if (buffered(e) && !s->ending && !s->waiting)
						now_ready = true;
				}
				if (e->qhead)
					ev |= POLLOUT;
				/* Nothing wanted: not even a hang-up may wake
				 * the loop (it is seen once reading resumes);
				 * except for a front-end that waits for its
				 * back-end: its hang-up ends the wait. */
				pfd[n] = (struct pollfd){ .fd = ev || s->waiting ? e->fd : -1, .events = ev };
				pend[n] = e;
				psess[n] = s;
				n++;
			}
		}
		deadline = next_deadline(&r);
		if (cfg->front_connect && !r.list && (deadline < 0 || r.retry_at < deadline))
			deadline = r.retry_at;
		if (deadline >= 0) {
			int64_t left = deadline - vhu_now_ms();

			timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		if (now_ready)
			timeout = 0;
		/* What the last round reported goes out before the wait. */
		if (cfg->round_end)
			cfg->round_end(arg);
		k = poll(pfd, n, timeout);
		if (k < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", vhu_strerror(errno));
			rc = VHU_E_IO;
			break;
		}
		if (vhu_intr_status())
			break;
		for (size_t i = 3; (k > 0 || now_ready) && i < n; i++) {
			struct sess *s = psess[i];
			struct end *e = pend[i];

			if (s->ending || e->fd != pfd[i].fd)
				continue;
			if (!pfd[i].revents) {
				if (now_ready && !s->waiting && buffered(e))
					drain(&r, s, e, false);
				continue;
			}
			if (s->waiting) {
				if (pfd[i].revents & (POLLERR | POLLHUP))
					end_session(s, "front-end closed the connection before a back-end "
						       "connected");
				continue;
			}
			if (pfd[i].revents & (POLLOUT | POLLERR | POLLHUP))
				flush(s, e);
			if (!s->ending && (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
				drain(&r, s, e, false);
		}
		if (k > 0 && (pfd[0].revents & POLLIN))
			accept_front(&r);
		if (k > 0 && (pfd[2].revents & POLLIN))
			accept_back(&r);
		check_stalls(&r, vhu_now_ms());
		reap(&r);
	}

	if (vhu_intr_status()) {
		int sig = vhu_intr_signo();

		for (struct sess *s = r.list; s; s = s->next)
			end_session(s, "the proxy was stopped by %s", vhu_intr_name(sig));
		reap(&r);
		if (sig != SIGINT && sig != SIGTERM)
			rc = vhu_intr_status();
	} else {
		for (struct sess *s = r.list; s; s = s->next)
			end_session(s, cfg->stop && *cfg->stop ? "the proxy stopped: its output failed"
							       : "the proxy stopped");
		reap(&r);
	}
	vhu_close_fds(r.pending, r.npending);
	if (r.lfd >= 0) {
		close(r.lfd);
		unlink_ours(cfg->front, &lst);
	}
	if (r.blfd >= 0) {
		close(r.blfd);
		unlink_ours(cfg->back, &blst);
	}
	note(&r, NULL, false, "stop", "%" PRIu64 " %s relayed", r.next_id,
	     VHU_PLURAL(r.next_id, "session", "sessions"));
	if (cfg->round_end)
		cfg->round_end(arg);
	free(pfd);
	free(pend);
	free(psess);
	g_relay = NULL;
	while (r.spare) {
		struct qmsg *q = r.spare;

		r.spare = q->next;
		free(q);
	}
	return rc;
}
