/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The back-end channel and the object-returning requests.
 *
 * Rules from docs/interop/vhost-user.rst (spec sections in quotes):
 *  - the channel is one end of a socketpair passed with SET_BACKEND_REQ_FD;
 *    its messages use the same 12-byte header, the back-end being the
 *    requester ("Back-end communication", "Back-end message types");
 *  - fds on it need BACKEND_SEND_FD, at most 8 per message, and travel
 *    with the first byte of a message ("Communication");
 *  - the front-end answers only when NEED_REPLY is set, except for
 *    SHARED_OBJECT_LOOKUP which always gets its u64, with flags
 *    REPLY|version and NEED_REPLY clear ("Back-end message types");
 *  - on a malformed message the stream is out of step: close it.
 */
#define _GNU_SOURCE
#include "proto/chan.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/hex.h"
#include "util/intr.h"
#include "util/text.h"

void vhu_chan_close(struct vhu_chan *c)
{
	/* Detach first: the session must never poll a closed (and maybe
	 * reused) fd number. */
	if (c->attached) {
		c->attached->side_fd = -1;
		c->attached->side_fn = NULL;
		c->attached->side_arg = NULL;
		c->attached = NULL;
	}
	if (c->open && c->fd >= 0)
		close(c->fd);
	c->open = false;
	c->fd = -1;
}

void vhu_chan_release(struct vhu_chan *c)
{
	vhu_chan_close(c);
	free(c->queue);
	c->queue = NULL;
	c->nqueue = c->qcap = 0;
}

#define QUEUE_MAX 64u

/* side_fn of the session: read and answer one message, keep it for the
 * caller's next drain. */
static void serve(struct vhu_session *s, void *arg, int64_t deadline)
{
	struct vhu_chan *c = arg;
	static struct vhu_chan_msg spill;
	struct vhu_chan_msg *m = &spill;
	enum vhu_chan_event ev;
	char saved[sizeof(s->err)];
	int rc;

	if (c->nqueue == c->qcap && c->qcap < QUEUE_MAX) {
		unsigned cap = c->qcap ? 2 * c->qcap : 4;
		struct vhu_chan_msg *q = realloc(c->queue, cap * sizeof(*q));

		if (q) {
			c->queue = q;
			c->qcap = cap;
		}
	}
	if (c->nqueue < c->qcap)
		m = &c->queue[c->nqueue];
	/* The main request in flight owns the session's error text. */
	memcpy(saved, s->err, sizeof(saved));
	c->limit = deadline;
	rc = vhu_chan_next(s, c, 0, m, &ev);
	c->limit = 0;
	if (rc && !c->deferred_rc) {
		c->deferred_rc = rc;
		snprintf(c->deferred_err, sizeof(c->deferred_err), "%s", s->err);
	}
	memcpy(s->err, saved, sizeof(saved));
	if (ev == VHU_CHAN_MSG) {
		if (m == &spill)
			c->dropped++;
		else
			c->nqueue++;
	}
	/* Closed by the back-end or by a violation: stop serving it. */
	if (rc || ev == VHU_CHAN_CLOSED)
		vhu_chan_close(c);
}

unsigned vhu_chan_queued(struct vhu_session *s, struct vhu_chan *c, const struct vhu_chan_msg **msgs, int *rc)
{
	*msgs = c->queue;
	*rc = c->deferred_rc;
	if (c->deferred_rc)
		snprintf(s->err, sizeof(s->err), "%s", c->deferred_err);
	c->deferred_rc = 0;
	return c->nqueue;
}

void vhu_chan_clear_queued(struct vhu_chan *c)
{
	c->nqueue = 0;
}

/* The back-end is gone from the channel: later reads say "closed". */
static void hang_up(struct vhu_chan *c)
{
	vhu_chan_close(c);
	c->eof = true;
	c->eof_unseen = true;
}

bool vhu_chan_take_eof(struct vhu_chan *c)
{
	bool e = c->eof_unseen;

	c->eof_unseen = false;
	return e;
}

int vhu_chan_open(struct vhu_session *s, struct vhu_chan *c)
{
	int sv[2], rc;

	rc = vhu_gate(s, vhu_req_by_code(VHOST_USER_SET_BACKEND_REQ_FD));
	if (rc)
		return rc;
	/* SOCK_STREAM like QEMU; CLOEXEC so a child never holds it. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return vhu_fail(s, VHU_E_IO, "SET_BACKEND_REQ_FD: socketpair: %s", vhu_strerror(errno));
	/* vhu_request gates on BACKEND_REQ before sending anything and waits
	 * for the REPLY_ACK ack when negotiated. */
	vhu_chan_close(c);
	c->open = true;
	c->fd = sv[0];
	c->eof = false;
	c->eof_unseen = false;
	c->received = c->answered = 0;
	/* Served from now on, even while waiting for this request's own ack:
	 * a back-end may send (and wait on) a request first. */
	c->attached = s;
	s->side_fd = c->fd;
	s->side_fn = serve;
	s->side_arg = c;
	rc = vhu_request(s, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1, NULL);
	/* The back-end has its own copy now (or never will): ours must go,
	 * or EOF would never be seen on our end. */
	close(sv[1]);
	if (rc)
		vhu_chan_close(c);
	return rc;
}

const char *vhu_fd_kind_name(enum vhu_fd_kind k)
{
	switch (k) {
	case VHU_FD_REGULAR: return "regular";
	case VHU_FD_FIFO: return "fifo";
	case VHU_FD_SOCKET: return "socket";
	case VHU_FD_OTHER: return "other";
	case VHU_FD_REFUSED: return "refused";
	}
	return "?";
}

void vhu_fd_describe_close(int fd, struct vhu_fd_info *info)
{
	struct stat st;

	info->kind = VHU_FD_OTHER;
	info->size = -1;
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0) {
		info->kind = S_ISREG(st.st_mode)    ? VHU_FD_REGULAR
			     : S_ISFIFO(st.st_mode) ? VHU_FD_FIFO
			     : S_ISSOCK(st.st_mode) ? VHU_FD_SOCKET
						    : VHU_FD_OTHER;
		info->size = (int64_t)st.st_size;
	}
	close(fd);
}

/* The session timeout from now, but never past the caller's limit while
 * serving the channel during a main-socket wait. */
static int64_t chan_deadline(const struct vhu_session *s, const struct vhu_chan *c)
{
	int64_t d = vhu_now_ms() + s->timeout_ms;

	return c->limit && c->limit < d ? c->limit : d;
}

/* Wait on the channel; with @interruptible, a signal that arrives while
 * c->stop is set ends the wait as a timeout. */
static int chan_wait(struct vhu_chan *c, short ev, int64_t deadline, bool interruptible)
{
	return vhu_wait_fd(c->fd, ev, deadline, interruptible ? c->stop : NULL);
}

static void add_problem(struct vhu_chan_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(struct vhu_chan_msg *m, const char *fmt, ...)
{
	size_t n = strlen(m->problem);
	va_list ap;

	if (n && n + 2 < sizeof(m->problem)) {
		memcpy(m->problem + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= sizeof(m->problem))
		return;
	va_start(ap, fmt);
	vsnprintf(m->problem + n, sizeof(m->problem) - n, fmt, ap);
	va_end(ap);
}

static const char *msg_name(uint32_t code, char *buf, size_t len)
{
	const struct vhu_req_desc *d = vhu_backend_req_by_code(code);

	if (d)
		return d->name;
	snprintf(buf, len, "REQ_%u", code);
	return buf;
}

/* A violation: drop what arrived, close the channel (its stream is out of
 * step, 6.14), return VHU_E_PROTO with the message already set. */
static int violation(struct vhu_chan *c, struct vhu_msg *in)
{
	vhu_msg_close_fds(in);
	vhu_chan_close(c);
	return VHU_E_PROTO;
}

static int io_error(struct vhu_session *s, struct vhu_chan *c, const char *name, int err, const char *what)
{
	vhu_chan_close(c);
	if (err == 0)
		return vhu_fail(s, VHU_E_IO, "%s: back-end closed the channel %s", name, what);
	if (err == EMFILE || err == ENFILE)
		return vhu_fail(s, VHU_E_IO, "%s: cannot take the fds the back-end sent: %s", name,
				vhu_strerror(err));
	return vhu_fail(s, VHU_E_IO, "%s: back-end channel: %s", name, strerror(err));
}

/* Semantic checks that do not break the stream: noted, still answered. */
static void check_semantics(struct vhu_session *s, struct vhu_chan_msg *m)
{
	const struct vhu_req_desc *d = m->desc;

	if (!d) {
		add_problem(m, "unknown back-end request code %u", m->hdr.request);
		return;
	}
	if (d->pf >= 0 && !vhu_pf_acked(s, (unsigned)d->pf))
		add_problem(m, "sent although %s was not negotiated", d->pf_name);
	if (m->nfds > d->fds_max)
		add_problem(m, "%u %s attached, the request carries at most %u", m->nfds,
			    VHU_PLURAL(m->nfds, "fd", "fds"), d->fds_max);
	else if (m->nfds < d->fds_min)
		add_problem(m, "%u %s attached, the request needs %u", m->nfds,
			    VHU_PLURAL(m->nfds, "fd", "fds"), d->fds_min);
	/* VhostUserMMap: flags only bit 0, a length, and no
	 * range that wraps around. */
	if (d->req_shape == VHU_SHAPE_MMAP && m->hdr.size >= sizeof(struct vhost_user_mmap)) {
		struct vhost_user_mmap mm;

		memcpy(&mm, m->payload, sizeof(mm));
		if (mm.flags & ~UINT64_C(1))
			add_problem(m, "mmap flags 0x%llx beyond bit 0", (unsigned long long)mm.flags);
		if (mm.len == 0)
			add_problem(m, "mmap length 0");
		if (mm.fd_offset + mm.len < mm.fd_offset || mm.shm_offset + mm.len < mm.shm_offset)
			add_problem(m, "mmap offset + length overflows");
	}
}

int vhu_chan_recv(struct vhu_session *s, struct vhu_chan *c, int wait_ms, struct vhu_chan_msg *m,
		  enum vhu_chan_event *ev)
{
	static struct vhu_msg in; /* 4 KiB payload: not on the stack */
	struct vhu_rx rx;
	unsigned nfds, stray;
	int64_t deadline;
	const struct vhu_req_desc *d;
	const char *name;
	char nb[24];
	uint32_t min, max;
	int rc;

	*ev = VHU_CHAN_IDLE;
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->desc = NULL;
	m->nfds = 0;
	m->need_reply = m->answered = false;
	m->answer = 0;
	m->problem[0] = '\0';
	if (!c->open) {
		if (c->eof) {
			*ev = VHU_CHAN_CLOSED;
			return VHU_OK;
		}
		return vhu_fail(s, VHU_E_USAGE, "back-end channel: not set up (set-backend-req-fd first)");
	}

	rc = chan_wait(c, POLLIN, wait_ms < 0 ? -1 : vhu_now_ms() + wait_ms, true);
	if (rc == VHU_E_TIMEOUT)
		return VHU_OK;
	if (vhu_intr_is_status(rc)) /* nothing read: the channel stays usable */
		return vhu_fail(s, rc, "back-end channel: interrupted by %s while waiting for a message",
				vhu_intr_name(vhu_intr_signo()));
	if (rc)
		return io_error(s, c, "back-end channel", errno, "");

	/* Once a message has started, the rest is due within --timeout.  The
	 * header is checked before a payload byte is read. */
	deadline = chan_deadline(s, c);
	vhu_rx_reset(&rx);
	rc = vhu_msg_recv(c->fd, &in, &rx, VHU_MAX_PAYLOAD, VHU_RX_STOP_HEADER, deadline, NULL);
	if (rc) {
		int err = errno;

		vhu_msg_close_fds(&in);
		if (rc == VHU_E_IO && (err == 0 || err == ECONNRESET) && rx.got == 0) {
			/* EOF between messages: the back-end is done with it
			 * (a reset: it closed with our last answer unread). */
			vhu_note(s, VHU_DIR_BACKEND_RECV, "back-end closed the channel");
			hang_up(c);
			*ev = VHU_CHAN_CLOSED;
			return VHU_OK;
		}
		if (rc == VHU_E_TIMEOUT) {
			vhu_chan_close(c);
			return vhu_fail(s, VHU_E_TIMEOUT,
					"back-end channel: message header incomplete after %d ms",
					s->timeout_ms);
		}
		if (vhu_intr_is_status(rc)) {
			/* Part of a message is gone: the stream is out of step. */
			vhu_chan_close(c);
			return vhu_fail(s, rc,
					"back-end channel: interrupted by %s inside a message header (%zu of "
					"%zu bytes)",
					vhu_intr_name(vhu_intr_signo()), rx.got, sizeof(m->hdr));
		}
		return io_error(s, c, "back-end channel", err, "inside a message header");
	}

	m->hdr = in.hdr;
	d = vhu_backend_req_by_code(m->hdr.request);
	name = msg_name(m->hdr.request, nb, sizeof(nb));
	m->desc = d;
	/* Header (spec "Message Specification"): version 1, a request (no
	 * REPLY), reserved bits 0. */
	if ((m->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		vhu_fail(s, VHU_E_PROTO, "%s: back-end request has version %u, expected %u (flags 0x%x)",
			 name, m->hdr.flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION, m->hdr.flags);
		return violation(c, &in);
	}
	if (m->hdr.flags & VHOST_USER_REPLY_MASK) {
		vhu_fail(s, VHU_E_PROTO, "%s: back-end request carries the REPLY flag (flags 0x%x)", name,
			 m->hdr.flags);
		return violation(c, &in);
	}
	if (m->hdr.flags & VHOST_USER_RESERVED_MASK) {
		vhu_fail(s, VHU_E_PROTO, "%s: back-end request sets reserved flag bits (flags 0x%x)", name,
			 m->hdr.flags);
		return violation(c, &in);
	}
	/* Size per catalog row before a payload byte is read; unknown codes
	 * only get the transport cap (VHU_MAX_PAYLOAD). */
	min = d ? d->req_min : 0;
	max = d ? d->req_max : VHU_MAX_PAYLOAD;
	if (m->hdr.size > max || m->hdr.size < min) {
		if (d && min == max)
			vhu_fail(s, VHU_E_PROTO, "%s: payload of %u %s, the request has exactly %u", name,
				 m->hdr.size, VHU_PLURAL(m->hdr.size, "byte", "bytes"), min);
		else if (d)
			vhu_fail(s, VHU_E_PROTO, "%s: payload of %u %s outside %u..%u", name, m->hdr.size,
				 VHU_PLURAL(m->hdr.size, "byte", "bytes"), min, max);
		else
			vhu_fail(s, VHU_E_PROTO, "%s: payload of %u bytes exceeds the %u-byte bound", name,
				 m->hdr.size, VHU_MAX_PAYLOAD);
		return violation(c, &in);
	}
	rc = vhu_msg_recv(c->fd, &in, &rx, max, 0, deadline, NULL);
	if (rc) {
		int err = errno;
		size_t got = rx.got - VHOST_USER_HDR_SIZE;

		vhu_msg_close_fds(&in);
		if (rc == VHU_E_TIMEOUT) {
			vhu_chan_close(c);
			return vhu_fail(s, VHU_E_TIMEOUT,
					"%s: payload incomplete after %d ms (%zu of %u bytes)", name,
					s->timeout_ms, got, m->hdr.size);
		}
		if (vhu_intr_is_status(rc)) {
			vhu_chan_close(c);
			return vhu_fail(s, rc, "%s: interrupted by %s inside the payload (%zu of %u bytes)",
					name, vhu_intr_name(vhu_intr_signo()), got, m->hdr.size);
		}
		return io_error(s, c, name, err, "inside the payload");
	}
	memcpy(m->payload, in.payload, m->hdr.size);
	c->received++;
	m->need_reply = m->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	stray = rx.stray;
	nfds = in.nfds;
	if (s->trace)
		s->trace(s->trace_arg, VHU_DIR_BACKEND_RECV, &m->hdr, m->payload, m->hdr.size, nfds + stray,
			 NULL);

	/* fds (spec "Communication"): with the first byte only, at most 8. */
	if (rx.stray) {
		vhu_fail(s, VHU_E_PROTO, "%s: %u %s arrived after the first byte of the message", name,
			 rx.stray, VHU_PLURAL(rx.stray, "fd", "fds"));
		return violation(c, &in);
	}
	if (rx.trunc || nfds > VHOST_USER_MAX_FDS) {
		vhu_fail(s, VHU_E_PROTO, "%s: %s%u fds attached, at most %u on the back-end channel", name,
			 rx.trunc ? "more than " : "", nfds, VHOST_USER_MAX_FDS);
		return violation(c, &in);
	}
	m->nfds = nfds;
	if (nfds && !vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD)) {
		/* The back-end may not send fds at all: do not even look. */
		for (unsigned i = 0; i < nfds; i++) {
			close(in.fds[i]);
			m->fd[i].kind = VHU_FD_REFUSED;
			m->fd[i].size = -1;
		}
		add_problem(m,
			    "%u %s closed unexamined: VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD not negotiated",
			    nfds, VHU_PLURAL(nfds, "fd", "fds"));
		vhu_note(s, VHU_DIR_BACKEND_RECV, "%s: %u %s closed unexamined (no BACKEND_SEND_FD)", name,
			 nfds, VHU_PLURAL(nfds, "fd", "fds"));
	} else {
		/* vhuctl maps nothing: describe each fd, then let it go. */
		for (unsigned i = 0; i < nfds; i++)
			vhu_fd_describe_close(in.fds[i], &m->fd[i]);
	}
	in.nfds = 0;
	check_semantics(s, m);
	*ev = VHU_CHAN_MSG;
	return VHU_OK;
}

uint64_t vhu_chan_answer_value(const struct vhu_chan_msg *m)
{
	switch (m->desc ? m->hdr.request : 0) {
	case VHOST_USER_BACKEND_IOTLB_MSG:
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
	case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR:
	case VHOST_USER_BACKEND_SHARED_OBJECT_ADD:
	case VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE: return 0;
	default:
		/* LOOKUP: no objects held here; SHMEM_MAP/UNMAP: no shared
		 * memory regions; unknown codes: QEMU also fails them (3). */
		return 1;
	}
}

int vhu_chan_answer(struct vhu_session *s, struct vhu_chan *c, struct vhu_chan_msg *m)
{
	struct vhost_user_hdr h = { m->hdr.request, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8 };
	uint64_t v = vhu_chan_answer_value(m);
	struct vhu_tx tx = { 0 };
	char nb[24];
	const char *name = msg_name(m->hdr.request, nb, sizeof(nb));
	int rc;

	if (vhu_reply_expected(m->desc, true, 0, m->hdr.flags) == VHU_EXPECT_NONE)
		return VHU_OK;
	if (!c->open)
		return vhu_fail(s, VHU_E_IO, "%s: back-end channel closed before the answer", name);
	if (s->trace)
		s->trace(s->trace_arg, VHU_DIR_BACKEND_SEND, &h, (const uint8_t *)&v, 8, 0, NULL);
	/* One sendmsg for header and payload, as on the main socket. */
	rc = vhu_msg_send(c->fd, &h, &v, NULL, 0, &tx, chan_deadline(s, c));
	if (rc == VHU_E_TIMEOUT) {
		vhu_chan_close(c);
		return vhu_fail(s, VHU_E_TIMEOUT,
				"%s: no room to answer on the back-end channel within %d ms", name,
				s->timeout_ms);
	}
	if (vhu_intr_is_status(rc)) {
		if (tx.done)
			vhu_chan_close(c); /* half an answer went out */
		return vhu_fail(s, rc, "%s: interrupted by %s before the answer was sent", name,
				vhu_intr_name(vhu_intr_signo()));
	}
	if (rc == VHU_E_IO && (errno == EPIPE || errno == ECONNRESET)) {
		/* It asked and left: its loss, not an error here. */
		add_problem(m, "back-end closed the channel before the answer");
		vhu_note(s, VHU_DIR_BACKEND_RECV, "%s: back-end closed the channel before the answer", name);
		hang_up(c);
		return VHU_OK;
	}
	if (rc)
		return io_error(s, c, name, errno, "");
	m->answered = true;
	m->answer = v;
	c->answered++;
	return VHU_OK;
}

bool vhu_chan_iotlb_miss(const struct vhu_chan_msg *m, struct vhost_iotlb_msg_wire *out)
{
	struct vhost_iotlb_msg_wire w;

	if (m->hdr.request != VHOST_USER_BACKEND_IOTLB_MSG || m->hdr.size < sizeof(w))
		return false;
	memcpy(&w, m->payload, sizeof(w));
	if (w.type != VHU_IOTLB_MISS)
		return false;
	if (out)
		*out = w;
	return true;
}

int vhu_chan_next(struct vhu_session *s, struct vhu_chan *c, int wait_ms, struct vhu_chan_msg *m,
		  enum vhu_chan_event *ev)
{
	int rc = vhu_chan_recv(s, c, wait_ms, m, ev);

	if (rc || *ev != VHU_CHAN_MSG)
		return rc;
	if (c->hold_iotlb_miss && vhu_chan_iotlb_miss(m, NULL))
		return VHU_OK;
	return vhu_chan_answer(s, c, m);
}

int vhu_get_shared_object(struct vhu_session *s, const uint8_t uuid[16], bool *found, struct vhu_fd_info *fd)
{
	struct vhu_msg r;
	int rc = vhu_request(s, VHOST_USER_GET_SHARED_OBJECT, uuid, 16, NULL, 0, &r);

	*found = false;
	fd->kind = VHU_FD_OTHER;
	fd->size = -1;
	if (rc)
		return rc;
	/* The catalog row already bounds the size (<= 16) and fds (<= 1). */
	if (r.hdr.size != 0 && r.hdr.size != sizeof(struct vhost_user_shared)) {
		vhu_msg_close_fds(&r);
		return vhu_fail(s, VHU_E_PROTO, "GET_SHARED_OBJECT: reply of %u %s (0, or the 16-byte UUID)",
				r.hdr.size, VHU_PLURAL(r.hdr.size, "byte", "bytes"));
	}
	if (r.hdr.size && memcmp(r.payload, uuid, 16)) {
		char got[37], want[37];

		vhu_msg_close_fds(&r);
		vhu_format_uuid(r.payload, got);
		vhu_format_uuid(uuid, want);
		return vhu_fail(s, VHU_E_PROTO, "GET_SHARED_OBJECT: reply is for UUID %s, asked for %s", got,
				want);
	}
	/* The fd is the answer: none means not found (spec
	 * "GET_SHARED_OBJECT"). */
	if (r.nfds) {
		*found = true;
		vhu_fd_describe_close(r.fds[0], fd);
		r.nfds = 0;
	}
	return VHU_OK;
}

int vhu_get_shared_memory_regions(struct vhu_session *s, struct vhost_shared_memory_region *regions,
				  unsigned max, unsigned *count, char *problem, size_t plen)
{
	const uint32_t esz = sizeof(struct vhost_shared_memory_region);
	struct vhu_msg r;
	uint64_t n;
	int rc;

	*count = 0;
	if (plen)
		problem[0] = '\0';
	rc = vhu_request(s, VHOST_USER_GET_SHARED_MEMORY_REGIONS, NULL, 0, NULL, 0, &r);
	if (rc)
		return rc;
	/* Catalog bounds: 8 <= size <= 8 + 16 * 255, no fds. */
	memcpy(&n, r.payload, 8);
	if ((r.hdr.size - 8) % esz || (r.hdr.size - 8) / esz != n)
		return vhu_fail(s, VHU_E_PROTO,
				"GET_SHARED_MEMORY_REGIONS: reply announces %llu %s in %u bytes (8 + 16 x "
				"count expected)",
				(unsigned long long)n, VHU_PLURAL(n, "region", "regions"), r.hdr.size);
	for (uint64_t i = 0; i < n && i < max; i++) {
		struct vhost_shared_memory_region *g = &regions[i];

		memcpy(g, r.payload + 8 + i * esz, esz);
		for (unsigned k = 0; k < sizeof(g->padding); k++)
			if (g->padding[k] && plen && !problem[0])
				snprintf(problem, plen, "region %llu has non-zero padding bytes",
					 (unsigned long long)i);
	}
	*count = (unsigned)(n < max ? n : max);
	return VHU_OK;
}
