/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transport and the single send-and-validate path.
 *
 * Rules from docs/interop/vhost-user.rst applied here:
 *  - "Message Specification": 12-byte header, version 1, REPLY bit on
 *    replies; fds travel as SCM_RIGHTS with the first byte of a message.
 *  - "Communication": which requests have a reply of their own, and the
 *    REPLY_ACK rule (NEED_REPLY only on requests without one).
 *  - On a wrong reply the front-end closes the connection: the stream is
 *    out of step and cannot be trusted any more.
 */
#define _GNU_SOURCE /* accept4, O_PATH */
#include "proto/session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/intr.h"
#include "util/text.h"

void vhu_session_init(struct vhu_session *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->side_fd = -1;
	s->timeout_ms = 5000;
}

void vhu_session_close(struct vhu_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void vhu_session_fini(struct vhu_session *s)
{
	vhu_session_close(s);
	for (unsigned i = 0; i < s->log.n; i++)
		free(s->log.rec[i].payload);
	free(s->log.rec);
	memset(&s->log, 0, sizeof(s->log));
}

void vhu_session_forget(struct vhu_session *s)
{
	s->have_features = s->features_set = false;
	s->have_protocol = s->protocol_set = false;
	s->owner_set = false;
	s->features = s->acked_features = 0;
	s->protocol = s->acked_protocol = 0;
	s->rcvtimeo_ms = 0;
}

bool vhu_replayable(uint32_t code)
{
	switch (code) {
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_RESET_DEVICE:
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_SET_LOG_FD:
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_ADDR:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
	case VHOST_USER_SET_BACKEND_REQ_FD:
	case VHOST_USER_SET_CONFIG:
	case VHOST_USER_NET_SET_MTU:
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_SET_INFLIGHT_FD:
	case VHOST_USER_SET_STATUS: return true;
	default: return false;
	}
}

/* Keep a request that went through in the replay log. */
static void log_request(struct vhu_session *s, uint32_t code, const void *payload, uint32_t len)
{
	struct vhu_replay_log *l = &s->log;
	uint8_t *copy = NULL;

	if (!s->record || !vhu_replayable(code) || l->overflow)
		return;
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 32;
		struct vhu_replay_rec *r;

		if (l->n >= VHU_REPLAY_MAX || !(r = realloc(l->rec, sizeof(*r) * cap))) {
			l->overflow = true;
			return;
		}
		l->rec = r;
		l->cap = cap;
	}
	if (len && !(copy = malloc(len))) {
		l->overflow = true;
		return;
	}
	if (len)
		memcpy(copy, payload, len);
	l->rec[l->n++] = (struct vhu_replay_rec){ code, len, copy };
}

const char *vhu_session_error(const struct vhu_session *s)
{
	return s->err;
}

int vhu_fail(struct vhu_session *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return rc;
}

void vhu_note(struct vhu_session *s, enum vhu_dir dir, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!s->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->trace(s->trace_arg, dir, NULL, NULL, 0, 0, buf);
}

void vhu_session_adopt(struct vhu_session *s, int fd)
{
	vhu_session_close(s);
	s->fd = fd;
	s->blocking = false;
	s->rcvtimeo_ms = 0;
}

bool vhu_session_alive(const struct vhu_session *s)
{
	char b;
	ssize_t n;

	if (s->fd < 0)
		return false;
	do {
		n = recv(s->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

int vhu_connect(struct vhu_session *s, const char *path, int wait_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = vhu_now_ms() + (wait_ms > 0 ? wait_ms : 0);
	/* A busy (backlog full) back-end gets --wait or --timeout, the longer. */
	int64_t limit = vhu_now_ms() + (wait_ms > s->timeout_ms ? wait_ms : s->timeout_ms);
	bool busy = false;

	if (strlen(path) >= sizeof(sa.sun_path))
		return vhu_fail(s, VHU_E_USAGE, "socket path too long (%zu bytes, at most %zu)", strlen(path),
				sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	for (;;) {
		/* Non-blocking: on a Unix socket a full listen backlog makes a
		 * blocking connect() wait forever (EAGAIN here instead). */
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int err;

		if (fd < 0)
			return vhu_fail(s, VHU_E_IO, "socket: %s", vhu_strerror(errno));
		do {
			err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
		} while (err == EINTR);
		if (!err) {
			vhu_session_adopt(s, fd);
			/* Blocking from now on: replies are read with one
			 * recvmsg bounded by SO_RCVTIMEO (may_block); every
			 * other call passes MSG_DONTWAIT. */
			s->blocking = fcntl(fd, F_SETFL, 0) == 0;
			vhu_note(s, VHU_DIR_SEND, "connected to %s", path);
			return VHU_OK;
		}
		close(fd);
		if (vhu_intr_status())
			return vhu_fail(s, vhu_intr_status(), "cannot connect to %s: interrupted by %s", path,
					vhu_intr_name(vhu_intr_signo()));
		/* connect() on a directory or a regular file says "Connection
		 * refused" too: name what the path really is, and do not wait
		 * for it to become a socket. */
		if (err == ECONNREFUSED && !busy) {
			struct stat st;

			if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
				return vhu_fail(s, VHU_E_CONNECT, "cannot connect to %s: not a socket (%s)",
						path,
						S_ISDIR(st.st_mode)    ? "a directory"
						: S_ISREG(st.st_mode)  ? "a regular file"
						: S_ISFIFO(st.st_mode) ? "a FIFO"
						: S_ISCHR(st.st_mode)  ? "a character device"
								       : "some other kind of file");
		}
		/* Linux may answer ECONNREFUSED to a retry against a full
		 * backlog: once EAGAIN was seen, treat both alike. */
		if (err == EAGAIN || (err == ECONNREFUSED && busy)) {
			busy = true;
			if (vhu_now_ms() >= limit)
				return vhu_fail(s, VHU_E_TIMEOUT,
						"cannot connect to %s: the back-end accepts no connection "
						"(backlog full) within %d ms",
						path, wait_ms > s->timeout_ms ? wait_ms : s->timeout_ms);
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		/* A back-end still starting: the path may not exist yet, or
		 * exist before listen() (ECONNREFUSED). */
		if ((err == ENOENT || err == ECONNREFUSED) && vhu_now_ms() < deadline) {
			struct timespec ts = { 0, 20 * 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		return vhu_fail(s, VHU_E_CONNECT, "cannot connect to %s: %s%s", path, strerror(err),
				wait_ms > 0 ? " (after --wait)" : "");
	}
}

/* ---- the listen role ---- */

void vhu_listener_init(struct vhu_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->dirfd = -1;
	l->intr_slot = -1;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISREG(m)  ? "a regular file"
	       : S_ISLNK(m)  ? "a symbolic link"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "some other kind of file";
}

/*
 * Is the socket file at @sa in use?  0: stale (connect refused: nobody
 * listens on it), 1: live, or -errno when it cannot be told.
 */
static int socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err;

	if (fd < 0)
		return -errno;
	do {
		err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? errno : 0;
	} while (err == EINTR);
	close(fd);
	/* A full backlog (EAGAIN) is a live listener too. */
	if (!err || err == EAGAIN || err == EINPROGRESS)
		return 1;
	if (err == ECONNREFUSED)
		return 0;
	return -err;
}

int vhu_listen(struct vhu_session *s, struct vhu_listener *l, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *slash, *base;
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int fd, live;

	if (!*path)
		return vhu_fail(s, VHU_E_USAGE, "--listen: empty socket path");
	if (strlen(path) >= sizeof(sa.sun_path))
		return vhu_fail(s, VHU_E_USAGE, "socket path too long (%zu bytes, at most %zu)", strlen(path),
				sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return vhu_fail(s, VHU_E_USAGE, "cannot listen on %s: not a file name", path);

	if (lstat(path, &st) == 0) {
		/* Only a socket nobody listens on is ours to replace: what
		 * a crashed front-end or back-end leaves behind. */
		if (!S_ISSOCK(st.st_mode))
			return vhu_fail(
				s, VHU_E_USAGE,
				"cannot listen on %s: %s is there, not a stale socket; nothing removed", path,
				file_kind(st.st_mode));
		live = socket_in_use(&sa);
		if (live > 0)
			return vhu_fail(s, VHU_E_CONNECT,
					"cannot listen on %s: a live socket (another process accepts "
					"connections on it); nothing removed",
					path);
		if (live < 0)
			return vhu_fail(s, VHU_E_CONNECT,
					"cannot listen on %s: cannot tell whether the socket there is in use "
					"(%s); nothing removed",
					path, vhu_strerror(-live));
		if (unlink(path) && errno != ENOENT)
			return vhu_fail(s, VHU_E_CONNECT,
					"cannot listen on %s: cannot remove the stale socket: %s", path,
					vhu_strerror(errno));
		vhu_note(s, VHU_DIR_SEND, "removed the stale socket %s", path);
	} else if (errno != ENOENT) {
		return vhu_fail(s, VHU_E_CONNECT, "cannot listen on %s: %s", path, vhu_strerror(errno));
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vhu_fail(s, VHU_E_IO, "socket: %s", vhu_strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		/* EADDRINUSE: someone created the file since the check. */
		return vhu_fail(s, VHU_E_CONNECT, "cannot listen on %s: %s", path,
				err == EADDRINUSE ? "another process created it meanwhile; nothing removed"
						  : vhu_strerror(err));
	}
	if (lstat(path, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	l->bound = true;
	l->fd = fd;
	snprintf(l->path, sizeof(l->path), "%s", path);
	/* A second signal exits from the handler: it still removes the
	 * socket file (by name in this directory). */
	if (slash) {
		size_t n = slash == path ? 1 : (size_t)(slash - path);

		memcpy(dir, path, n);
		dir[n] = '\0';
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	l->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd >= 0)
		l->intr_slot = vhu_intr_register(l->dirfd, base);
	if (listen(fd, 4)) {
		int err = errno;

		vhu_listener_close(l);
		return vhu_fail(s, VHU_E_CONNECT, "cannot listen on %s: %s", path, vhu_strerror(err));
	}
	vhu_note(s, VHU_DIR_SEND, "listening on %s", path);
	return VHU_OK;
}

int vhu_accept(struct vhu_session *s, struct vhu_listener *l, int wait_ms)
{
	int64_t deadline = vhu_now_ms() + (wait_ms > 0 ? wait_ms : 0);

	if (l->fd < 0)
		return vhu_fail(s, VHU_E_USAGE, "not listening");
	vhu_session_close(s);
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC), rc;

		if (fd >= 0) {
			vhu_session_adopt(s, fd);
			/* accept4() without SOCK_NONBLOCK: a blocking socket,
			 * like vhu_connect() leaves it (see may_block). */
			s->blocking = true;
			vhu_note(s, VHU_DIR_SEND, "a back-end connected to %s", l->path);
			return VHU_OK;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE)
			return vhu_fail(s, VHU_E_IO, "accept on %s: %s", l->path, vhu_strerror(errno));
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return vhu_fail(s, VHU_E_CONNECT, "accept on %s: %s", l->path, vhu_strerror(errno));
		rc = vhu_wait_fd(l->fd, POLLIN, deadline, NULL);
		if (vhu_intr_is_status(rc))
			return vhu_fail(s, rc, "waiting for a back-end to connect to %s: interrupted by %s",
					l->path, vhu_intr_name(vhu_intr_signo()));
		if (rc == VHU_E_TIMEOUT)
			return vhu_fail(s, VHU_E_CONNECT, "no back-end connected to %s within %d ms", l->path,
					wait_ms);
		if (rc)
			return vhu_fail(s, VHU_E_IO, "waiting for a back-end on %s: %s", l->path,
					vhu_strerror(errno));
	}
}

void vhu_listener_close(struct vhu_listener *l)
{
	struct stat st;

	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* Remove the file only while it is the socket we bound: another
	 * process may have replaced it meanwhile. */
	if (l->bound && lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->path);
	l->bound = false;
	vhu_intr_unregister(l->intr_slot);
	l->intr_slot = -1;
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = -1;
}

static int io_fail(struct vhu_session *s, const char *req, int rc, int err, const char *what)
{
	int r;

	if (rc == VHU_E_TIMEOUT)
		r = vhu_fail(s, VHU_E_TIMEOUT, "%s: no %s within %d ms", req, what, s->timeout_ms);
	else if (vhu_intr_is_status(rc))
		r = vhu_fail(s, rc, "%s: interrupted by %s", req, vhu_intr_name(vhu_intr_signo()));
	else if (err == EMFILE || err == ENFILE)
		r = vhu_fail(s, VHU_E_IO, "%s: cannot take the fds the back-end sent: %s", req,
			     vhu_strerror(err));
	else if (err == EPIPE || err == ECONNRESET || err == 0)
		r = vhu_fail(s, VHU_E_IO, "%s: back-end closed the connection%s%s", req,
			     *what ? " during " : "", what);
	else
		r = vhu_fail(s, VHU_E_IO, "%s: %s", req, strerror(err));
	vhu_session_close(s);
	return r;
}

/* Send header, payload and fds in one sendmsg (proto/msg.h). */
static int send_whole(struct vhu_session *s, const char *req, const struct vhost_user_hdr *hdr,
		      const void *payload, const int *fds, unsigned nfds)
{
	struct vhu_tx tx = { 0 };
	int rc;

	if (s->fd < 0)
		return vhu_fail(s, VHU_E_IO, "%s: not connected (the connection was closed earlier)", req);
	if (nfds > VHOST_USER_MAX_FDS)
		return vhu_fail(s, VHU_E_USAGE, "%s: %u %s, at most %u", req, nfds,
				VHU_PLURAL(nfds, "fd", "fds"), VHOST_USER_MAX_FDS);
	rc = vhu_msg_send(s->fd, hdr, payload, fds, nfds, &tx, vhu_now_ms() + s->timeout_ms);
	if (rc)
		return io_fail(s, req, rc, errno, rc == VHU_E_IO ? "send" : "room to send");
	s->stats.sent++;
	s->stats.bytes_sent += tx.done;
	return VHU_OK;
}

int vhu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/*
 * May the first read of a reply block in recvmsg?  Only on the blocking
 * socket vhu_connect() made, with SO_RCVTIMEO equal to the whole wait
 * (set again when --timeout changed), and with no back-end channel to
 * serve meanwhile.
 */
static bool may_block(struct vhu_session *s)
{
	struct timeval tv = { s->timeout_ms / 1000, (s->timeout_ms % 1000) * 1000 };

	if (!s->blocking || s->timeout_ms <= 0 || (s->side_fd >= 0 && s->side_fn))
		return false;
	if (s->rcvtimeo_ms != s->timeout_ms) {
		if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			return false;
		s->rcvtimeo_ms = s->timeout_ms;
	}
	return true;
}

/* Wait for the first byte of a reply, serving the back-end channel in
 * the meantime. */
static int wait_reply(struct vhu_session *s, int64_t deadline)
{
	while (s->side_fd >= 0 && s->side_fn) {
		struct pollfd p[3] = { { .fd = s->fd, .events = POLLIN },
				       { .fd = s->side_fd, .events = POLLIN },
				       { .fd = vhu_intr_fd(), .events = POLLIN } };
		int64_t left = deadline - vhu_now_ms();
		int r;

		if (vhu_intr_status())
			return vhu_intr_status();
		/* A back-end flooding the channel must not stretch the wait. */
		if (left <= 0)
			return VHU_E_TIMEOUT;
		r = poll(p, 3, left > INT_MAX ? INT_MAX : (int)left);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return VHU_E_IO;
		if (r == 0)
			return VHU_E_TIMEOUT;
		if (p[0].revents)
			return VHU_OK;
		if (!p[1].revents)
			continue; /* the self-pipe: checked at the top */
		s->side_fn(s, s->side_arg, deadline);
	}
	return VHU_OK;
}

/* Receive the reply to request @code (named @req), validated against the
 * bounds the caller expects. */
static int recv_reply(struct vhu_session *s, const char *req, uint32_t code, uint16_t min, uint16_t max,
		      unsigned rfds_min, unsigned rfds_max, struct vhu_msg *r)
{
	int64_t deadline = vhu_now_ms() + s->timeout_ms;
	struct vhu_rx rx;
	unsigned nfds;
	bool block;
	int rc, err;
	char nb[16];

	vhu_rx_reset(&rx);
	r->nfds = 0;
	/* Header first, checked before a payload byte is read: a wrong size
	 * must not make us read the next message. */
	block = may_block(s);
	rc = block ? VHU_OK : wait_reply(s, deadline);
	if (!rc)
		rc = vhu_msg_recv(s->fd, r, &rx, VHU_MAX_PAYLOAD,
				  VHU_RX_STOP_HEADER | (block ? VHU_RX_BLOCK : 0), deadline, NULL);
	if (rc) {
		err = errno;
		vhu_msg_close_fds(r);
		if (rc == VHU_E_IO && err == 0 && rx.got)
			return io_fail(s, req, rc, 0, "the reply header");
		return io_fail(s, req, rc, err, rc == VHU_E_TIMEOUT ? "reply from the back-end" : "");
	}
	s->stats.received++;
	s->stats.bytes_received += sizeof(r->hdr);

	if ((r->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply has version %u, expected %u (flags 0x%x)", req,
			      r->hdr.flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION, r->hdr.flags);
	else if (!(r->hdr.flags & VHOST_USER_REPLY_MASK))
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply lacks the REPLY flag (flags 0x%x)", req,
			      r->hdr.flags);
	else if (r->hdr.flags & VHOST_USER_RESERVED_MASK)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply sets reserved flag bits (flags 0x%x)", req,
			      r->hdr.flags);
	else if (r->hdr.request != code)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply carries request code %u (%s), expected %u", req,
			      r->hdr.request, vhu_req_name(r->hdr.request, nb, sizeof(nb)), code);
	else if (r->hdr.size > max || r->hdr.size > VHU_MAX_PAYLOAD)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply size %u exceeds the %u-byte bound", req, r->hdr.size,
			      max);
	if (rc)
		goto bad;

	rc = vhu_msg_recv(s->fd, r, &rx, max, 0, deadline, NULL);
	if (rc) {
		err = errno;
		vhu_msg_close_fds(r);
		return io_fail(s, req, rc, err,
			       rc == VHU_E_TIMEOUT ? "reply body from the back-end" : "the reply body");
	}
	s->stats.bytes_received += r->hdr.size;
	/* Strays and fds the kernel dropped count as fds too many. */
	nfds = r->nfds + rx.stray + (rx.trunc ? 1 : 0);
	if (s->trace)
		s->trace(s->trace_arg, VHU_DIR_RECV, &r->hdr, r->payload, r->hdr.size, nfds, NULL);

	if (r->hdr.flags & VHOST_USER_NEED_REPLY_MASK)
		vhu_note(s, VHU_DIR_SEND, "%s: reply echoes NEED_REPLY (flags 0x%x); accepted", req,
			 r->hdr.flags);
	if (r->hdr.size < min)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply size %u below the %u bytes expected", req,
			      r->hdr.size, min);
	else if (nfds > rfds_max)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply carries %u %s, at most %u expected", req, nfds,
			      VHU_PLURAL(nfds, "fd", "fds"), rfds_max);
	else if (nfds < rfds_min)
		rc = vhu_fail(s, VHU_E_PROTO, "%s: reply carries %u %s, %u expected", req, nfds,
			      VHU_PLURAL(nfds, "fd", "fds"), rfds_min);
	if (rc)
		goto bad;
	return VHU_OK;
bad:
	vhu_msg_close_fds(r);
	vhu_session_close(s);
	return rc;
}

bool vhu_pf_acked(const struct vhu_session *s, unsigned bit)
{
	return s->protocol_set && (s->acked_protocol & VHU_BIT(bit));
}

bool vhu_pf_offered(const struct vhu_session *s, unsigned bit)
{
	return s->have_protocol && (s->protocol & VHU_BIT(bit));
}

int vhu_gate(struct vhu_session *s, const struct vhu_req_desc *d)
{
	int rc = VHU_OK;

	if ((d->gate & VHU_GATE_BIT30_OFFERED) &&
	    !(s->have_features && (s->features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))))
		rc = vhu_fail(s, VHU_E_UNSUPPORTED,
			      "%s: needs VHOST_USER_F_PROTOCOL_FEATURES (bit 30) offered by GET_FEATURES%s",
			      d->name, s->have_features ? "; the back-end does not offer it" : "");
	else if ((d->gate & VHU_GATE_BIT30_ACKED) &&
		 !(s->features_set && (s->acked_features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))))
		rc = vhu_fail(
			s, VHU_E_UNSUPPORTED,
			"%s: needs VHOST_USER_F_PROTOCOL_FEATURES (bit 30) acknowledged with SET_FEATURES",
			d->name);
	else if (d->pf >= 0 && !vhu_pf_acked(s, (unsigned)d->pf))
		rc = vhu_fail(s, VHU_E_UNSUPPORTED, "%s: %s %s", d->name,
			      vhu_pf_offered(s, (unsigned)d->pf) ? "not negotiated:"
								 : "back-end does not offer",
			      d->pf_name);
	if (rc && s->force) {
		vhu_note(s, VHU_DIR_SEND, "--force: sending anyway (%s)", s->err);
		s->err[0] = '\0';
		return VHU_OK;
	}
	return rc;
}

/* After a request that has no reply, a GET_FEATURES round trip proves the
 * back-end read it and is still there (QEMU's "sync" barrier for
 * SET_VRING_ENABLE without REPLY_ACK). */
static int sync_barrier(struct vhu_session *s, const char *after)
{
	struct vhost_user_hdr h = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0 };
	struct vhu_msg r;
	char req[64];
	int rc;

	snprintf(req, sizeof(req), "%s (GET_FEATURES barrier)", after);
	vhu_note(s, VHU_DIR_SEND, "barrier: GET_FEATURES confirms %s was read", after);
	if (s->trace)
		s->trace(s->trace_arg, VHU_DIR_SEND, &h, NULL, 0, 0, NULL);
	rc = send_whole(s, req, &h, NULL, NULL, 0);
	if (!rc)
		rc = recv_reply(s, req, h.request, 8, 8, 0, 0, &r);
	return rc;
}

int vhu_request_raw(struct vhu_session *s, uint32_t code, uint32_t flags, const void *payload, uint32_t len,
		    const int *fds, unsigned nfds, bool want_reply, struct vhu_msg *reply)
{
	struct vhost_user_hdr h = { code, flags, len };
	struct vhu_msg tmp;
	char nb[16];
	const char *req = vhu_req_name(code, nb, sizeof(nb));
	int rc;

	if (len > VHU_MAX_PAYLOAD)
		return vhu_fail(s, VHU_E_USAGE, "%s: payload of %u bytes exceeds %u", req, len,
				VHU_MAX_PAYLOAD);
	if (s->trace)
		s->trace(s->trace_arg, VHU_DIR_SEND, &h, payload, len, nfds, NULL);
	rc = send_whole(s, req, &h, payload, fds, nfds);
	if (rc || !want_reply)
		return rc;
	rc = recv_reply(s, req, code, 0, VHU_MAX_PAYLOAD, 0, VHOST_USER_MAX_FDS, reply ? reply : &tmp);
	if (!rc && !reply)
		vhu_msg_close_fds(&tmp);
	return rc;
}

/* The protocol features in force on the session, as the back-end sees
 * them (0 until SET_PROTOCOL_FEATURES). */
static uint64_t session_protocol(const struct vhu_session *s)
{
	return s->protocol_set ? s->acked_protocol : 0;
}

int vhu_request(struct vhu_session *s, uint32_t code, const void *payload, uint32_t len, const int *fds,
		unsigned nfds, struct vhu_msg *reply)
{
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	struct vhost_user_hdr h = { code, VHOST_USER_VERSION, len };
	struct vhu_msg tmp;
	enum vhu_expect expect;
	int rc;

	if (!d)
		return vhu_fail(s, VHU_E_USAGE, "request %u is not in the catalog", code);
	if (len < d->req_min || len > d->req_max)
		return vhu_fail(s, VHU_E_USAGE, "%s: payload of %u bytes outside %u..%u", d->name, len,
				d->req_min, d->req_max);
	if (nfds < d->fds_min || nfds > d->fds_max)
		return vhu_fail(s, VHU_E_USAGE, "%s: %u %s, expected %u..%u", d->name, nfds,
				VHU_PLURAL(nfds, "fd", "fds"), d->fds_min, d->fds_max);
	rc = vhu_gate(s, d);
	if (rc)
		return rc;

	/* With REPLY_ACK, every request that has no reply of its own asks
	 * for an ack (spec "REPLY_ACK"), except SET_PROTOCOL_FEATURES: the
	 * seed client never waits there, REPLY_ACK being negotiated by it. */
	if (vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_REPLY_ACK) && !(d->gate & VHU_GATE_NO_NEED_REPLY) &&
	    d->reply != VHU_REPLY_NONE &&
	    vhu_reply_expected(d, false, session_protocol(s), h.flags) == VHU_EXPECT_NONE)
		h.flags |= VHOST_USER_NEED_REPLY_MASK;
	expect = vhu_reply_expected(d, false, session_protocol(s), h.flags);
	if (!reply)
		reply = &tmp;
	/* A request without a reply leaves an empty, not a stale, message. */
	memset(&reply->hdr, 0, sizeof(reply->hdr));
	reply->nfds = 0;

	if (s->trace)
		s->trace(s->trace_arg, VHU_DIR_SEND, &h, payload, len, nfds, NULL);
	rc = send_whole(s, d->name, &h, payload, fds, nfds);
	if (rc)
		return rc;

	if (expect == VHU_EXPECT_ACK) {
		uint64_t v;

		rc = recv_reply(s, d->name, code, 8, 8, 0, 0, reply);
		if (rc)
			return rc;
		memcpy(&v, reply->payload, 8);
		if (v != 0)
			return vhu_fail(s, VHU_E_REFUSED,
					"%s: back-end refused the request (REPLY_ACK status %llu)", d->name,
					(unsigned long long)v);
		log_request(s, code, payload, len);
		return VHU_OK;
	}
	if (expect == VHU_EXPECT_OWN) {
		rc = recv_reply(s, d->name, code, d->reply_min, d->reply_max, d->rfds_min, d->rfds_max,
				reply);
		if (rc == VHU_OK && reply == &tmp)
			vhu_msg_close_fds(&tmp);
		if (!rc)
			log_request(s, code, payload, len);
		return rc;
	}
	if (!s->no_sync && code != VHOST_USER_SET_PROTOCOL_FEATURES)
		rc = sync_barrier(s, d->name);
	if (!rc)
		log_request(s, code, payload, len);
	return rc;
}

static int get_u64_reply(struct vhu_session *s, uint32_t code, uint64_t *v)
{
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	struct vhu_msg r;
	int rc;

	/* Only for header-only requests whose own reply is one u64. */
	if (!d || d->reply != VHU_REPLY_ALWAYS || d->reply_min != 8 || d->reply_max != 8 || d->rfds_max ||
	    d->req_max)
		return vhu_fail(s, VHU_E_USAGE, "request %u has no u64 reply of its own", code);
	rc = vhu_request(s, code, NULL, 0, NULL, 0, &r);

	if (!rc)
		memcpy(v, r.payload, 8);
	return rc;
}

int vhu_get_u64(struct vhu_session *s, uint32_t code, uint64_t *v)
{
	return get_u64_reply(s, code, v);
}

int vhu_set_u64(struct vhu_session *s, uint32_t code, uint64_t v)
{
	return vhu_request(s, code, &v, sizeof(v), NULL, 0, NULL);
}

int vhu_get_features(struct vhu_session *s, uint64_t *features)
{
	int rc = get_u64_reply(s, VHOST_USER_GET_FEATURES, features);

	if (!rc) {
		s->features = *features;
		s->have_features = true;
	}
	return rc;
}

int vhu_set_features(struct vhu_session *s, uint64_t features)
{
	int rc = vhu_set_u64(s, VHOST_USER_SET_FEATURES, features);

	/* As the seed: what counts as acked is what was also offered. */
	if (!rc) {
		s->acked_features = s->have_features ? features & s->features : features;
		s->features_set = true;
	}
	return rc;
}

int vhu_get_protocol_features(struct vhu_session *s, uint64_t *pf)
{
	int rc = get_u64_reply(s, VHOST_USER_GET_PROTOCOL_FEATURES, pf);

	/* Kept whole: unknown bits are shown, never dropped; only the
	 * negotiation masks them. */
	if (!rc) {
		s->protocol = *pf;
		s->have_protocol = true;
	}
	return rc;
}

/* "A and B": the protocol features that depend on one another. */
static void dep_names(uint64_t mask, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ VHOST_USER_PROTOCOL_F_REPLY_ACK, "REPLY_ACK" },
		{ VHOST_USER_PROTOCOL_F_BACKEND_REQ, "BACKEND_REQ" },
		{ VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS, "INBAND_NOTIFICATIONS" },
		{ VHOST_USER_PROTOCOL_F_SHMEM, "SHMEM" },
		{ VHOST_USER_PROTOCOL_F_SHARED_MEMORY_REGIONS, "SHARED_MEMORY_REGIONS" },
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((mask & VHU_BIT(names[i].bit)) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " and " : "", names[i].name);
}

/*
 * SET_PROTOCOL_FEATURES would ack @feature without the @missing features
 * it depends on.  When the back-end offered @feature but not all of
 * @missing, its offer is inconsistent (a back-end fault, as the spec ties
 * them together); otherwise the mask asked for is a usage error.
 */
static int dependency_fail(struct vhu_session *s, uint64_t feature, uint64_t missing, const char *rule)
{
	char have[64], lack[64];

	if (s->have_protocol && (s->protocol & feature) && (~s->protocol & missing)) {
		dep_names(s->protocol & feature, have, sizeof(have));
		dep_names(~s->protocol & missing, lack, sizeof(lack));
		return vhu_fail(s, VHU_E_PROTO,
				"SET_PROTOCOL_FEATURES: inconsistent offer: the back-end offers %s but not "
				"%s, which it depends on; nothing sent",
				have, lack);
	}
	return vhu_fail(s, VHU_E_USAGE, "SET_PROTOCOL_FEATURES: %s", rule);
}

int vhu_set_protocol_features(struct vhu_session *s, uint64_t pf)
{
	const uint64_t needs_chan =
		VHU_BIT(VHOST_USER_PROTOCOL_F_SHMEM) | VHU_BIT(VHOST_USER_PROTOCOL_F_SHARED_MEMORY_REGIONS);
	const uint64_t breq = VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ);
	const uint64_t inband_needs = breq | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	int rc;

	/* Shared memory mappings are requested over the back-end channel,
	 * so they are meaningless without BACKEND_REQ (seed client rule). */
	if ((pf & needs_chan) && !(pf & breq))
		return dependency_fail(s, pf & needs_chan, breq,
				       "shared memory regions need BACKEND_REQ too");
	/* Spec "Protocol features": in-band notifications need both. */
	if ((pf & VHU_BIT(VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS)) && (~pf & inband_needs))
		return dependency_fail(s, VHU_BIT(VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS),
				       ~pf & inband_needs,
				       "INBAND_NOTIFICATIONS needs BACKEND_REQ and REPLY_ACK too");
	rc = vhu_set_u64(s, VHOST_USER_SET_PROTOCOL_FEATURES, pf);
	/* A feature the back-end did not offer is not negotiated, even if
	 * sent: waiting for acks it never promised would only time out. */
	if (!rc) {
		s->acked_protocol = s->have_protocol ? pf & s->protocol : pf;
		s->protocol_set = true;
	}
	return rc;
}

int vhu_set_owner(struct vhu_session *s)
{
	int rc = vhu_request(s, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL);

	if (!rc)
		s->owner_set = true;
	return rc;
}

int vhu_reset_owner(struct vhu_session *s)
{
	return vhu_request(s, VHOST_USER_RESET_OWNER, NULL, 0, NULL, 0, NULL);
}

int vhu_reset_device(struct vhu_session *s)
{
	return vhu_request(s, VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0, NULL);
}

int vhu_get_queue_num(struct vhu_session *s, uint64_t *n)
{
	int rc = get_u64_reply(s, VHOST_USER_GET_QUEUE_NUM, n);

	if (rc)
		return rc;
	if (*n == 0 || *n > VHOST_USER_MAX_VRINGS)
		return vhu_fail(s, VHU_E_PROTO, "GET_QUEUE_NUM: back-end reports %llu %s (valid: 1..%u)",
				(unsigned long long)*n, VHU_PLURAL(*n, "queue", "queues"),
				VHOST_USER_MAX_VRINGS);
	return VHU_OK;
}

int vhu_get_max_mem_slots(struct vhu_session *s, uint64_t *n)
{
	int rc = get_u64_reply(s, VHOST_USER_GET_MAX_MEM_SLOTS, n);

	if (!rc && *n == 0)
		return vhu_fail(s, VHU_E_PROTO, "GET_MAX_MEM_SLOTS: back-end reports 0 memory slots");
	return rc;
}

int vhu_get_status(struct vhu_session *s, uint8_t *status)
{
	uint64_t v;
	int rc = get_u64_reply(s, VHOST_USER_GET_STATUS, &v);

	if (rc)
		return rc;
	if (v > 0xff)
		vhu_note(s, VHU_DIR_SEND, "GET_STATUS: bits above the status byte set (0x%llx)",
			 (unsigned long long)v);
	*status = (uint8_t)v;
	return VHU_OK;
}

int vhu_set_status(struct vhu_session *s, uint8_t status)
{
	int rc = vhu_set_u64(s, VHOST_USER_SET_STATUS, status);

	if (!rc) {
		s->status_set = true;
		s->status = status;
	}
	return rc;
}

/* The record of ring @index, or NULL beyond what is recorded. */
static struct vhu_ring_state *ring_rec(struct vhu_session *s, uint32_t index)
{
	return index < VHU_MAX_FD_VRINGS ? &s->rings[index] : NULL;
}

int vhu_set_vring_state(struct vhu_session *s, uint32_t code, uint32_t index, uint32_t num)
{
	struct vhost_vring_state st = { index, num };
	struct vhu_ring_state *r = ring_rec(s, index);
	int rc = vhu_request(s, code, &st, sizeof(st), NULL, 0, NULL);

	if (rc || !r)
		return rc;
	if (code == VHOST_USER_SET_VRING_NUM) {
		r->set |= VHU_RING_NUM;
		r->num = num;
	} else if (code == VHOST_USER_SET_VRING_BASE) {
		r->set |= VHU_RING_BASE;
		r->base = num;
	} else if (code == VHOST_USER_SET_VRING_ENABLE) {
		r->set |= VHU_RING_ENABLE;
		r->enabled = num != 0;
	}
	return VHU_OK;
}

int vhu_get_vring_base(struct vhu_session *s, uint32_t index, uint32_t *num)
{
	struct vhost_vring_state st = { index, 0 };
	struct vhu_msg r;
	int rc = vhu_request(s, VHOST_USER_GET_VRING_BASE, &st, sizeof(st), NULL, 0, &r);

	if (rc)
		return rc;
	memcpy(&st, r.payload, sizeof(st));
	if (st.index != index)
		return vhu_fail(s, VHU_E_PROTO, "GET_VRING_BASE: reply is for ring %u, asked for ring %u",
				st.index, index);
	*num = st.num;
	if (ring_rec(s, index)) {
		ring_rec(s, index)->set |= VHU_RING_STOPPED;
		ring_rec(s, index)->stop_base = st.num;
	}
	return VHU_OK;
}

int vhu_set_vring_enable(struct vhu_session *s, uint32_t index, bool enable)
{
	return vhu_set_vring_state(s, VHOST_USER_SET_VRING_ENABLE, index, enable ? 1 : 0);
}

int vhu_set_vring_addr(struct vhu_session *s, const struct vhost_vring_addr *addr)
{
	if (addr->flags & ~VHOST_VRING_F_LOG)
		return vhu_fail(s, VHU_E_USAGE,
				"SET_VRING_ADDR: unknown flags 0x%x (only LOG, 0x1, is defined)",
				addr->flags & ~VHOST_VRING_F_LOG);
	struct vhu_ring_state *r = ring_rec(s, addr->index);
	int rc = vhu_request(s, VHOST_USER_SET_VRING_ADDR, addr, sizeof(*addr), NULL, 0, NULL);

	if (!rc && r) {
		r->set |= VHU_RING_ADDR;
		r->desc = addr->desc_user_addr;
		r->avail = addr->avail_user_addr;
		r->used = addr->used_user_addr;
	}
	return rc;
}

int vhu_iotlb_msg(struct vhu_session *s, const struct vhost_iotlb_msg_wire *m)
{
	uint32_t flags = VHOST_USER_VERSION;
	struct vhu_msg r;
	uint64_t v;
	int rc;

	/* QEMU's vhost_backend_update_device_iotlb: NEED_REPLY, and the
	 * back-end acks; DPDK replies to nothing else. */
	if (vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		flags |= VHOST_USER_NEED_REPLY_MASK;
	rc = vhu_request_raw(s, VHOST_USER_IOTLB_MSG, flags, m, sizeof(*m), NULL, 0, true, &r);
	if (rc)
		return rc;
	if (r.hdr.size != 8 || r.nfds) {
		vhu_msg_close_fds(&r);
		return vhu_fail(s, VHU_E_PROTO,
				"IOTLB_MSG: reply of %u bytes with %u fds, expected a u64 and none",
				r.hdr.size, r.nfds);
	}
	memcpy(&v, r.payload, 8);
	if (v)
		return vhu_fail(s, VHU_E_REFUSED,
				"IOTLB_MSG: back-end refused the %s of iova 0x%llx size 0x%llx (status %llu)",
				m->type == VHU_IOTLB_UPDATE ? "update" : "invalidation",
				(unsigned long long)m->iova, (unsigned long long)m->size,
				(unsigned long long)v);
	return VHU_OK;
}

int vhu_set_vring_fd(struct vhu_session *s, uint32_t code, uint32_t index, int fd)
{
	uint64_t v = index;
	const struct vhu_req_desc *d = vhu_req_by_code(code);

	if (index >= VHU_MAX_FD_VRINGS)
		return vhu_fail(s, VHU_E_USAGE,
				"%s: ring %u cannot be addressed (the index field has 8 bits)",
				d ? d->name : "?", index);
	struct vhu_ring_state *r = ring_rec(s, index);
	int rc;

	if (fd < 0)
		v |= VHOST_USER_VRING_NOFD_MASK;
	rc = vhu_request(s, code, &v, sizeof(v), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1, NULL);
	if (rc || !r)
		return rc;
	if (code == VHOST_USER_SET_VRING_KICK) {
		r->set |= VHU_RING_KICK;
		r->kick_fd = fd >= 0;
	} else if (code == VHOST_USER_SET_VRING_CALL) {
		r->set |= VHU_RING_CALL;
		r->call_fd = fd >= 0;
	} else if (code == VHOST_USER_SET_VRING_ERR) {
		r->set |= VHU_RING_ERR;
		r->err_fd = fd >= 0;
	}
	return VHU_OK;
}

int vhu_config_check(struct vhu_session *s, const char *req, uint32_t offset, uint32_t size, uint32_t flags)
{
	if (flags & ~VHOST_USER_CONFIG_FLAGS_KNOWN)
		return vhu_fail(s, VHU_E_USAGE, "%s: unknown config flags 0x%x", req, flags);
	if (offset >= VHOST_USER_MAX_CONFIG_SIZE)
		return vhu_fail(s, VHU_E_USAGE, "%s: offset %u is beyond the %u-byte config space", req,
				offset, VHOST_USER_MAX_CONFIG_SIZE);
	if (size == 0)
		return vhu_fail(s, VHU_E_USAGE, "%s: size must be at least 1 byte", req);
	if (size > VHOST_USER_MAX_CONFIG_SIZE || offset > VHOST_USER_MAX_CONFIG_SIZE ||
	    offset + size > VHOST_USER_MAX_CONFIG_SIZE)
		return vhu_fail(s, VHU_E_USAGE, "%s: offset %u + size %u is beyond the %u-byte config space",
				req, offset, size, VHOST_USER_MAX_CONFIG_SIZE);
	return VHU_OK;
}

int vhu_get_config(struct vhu_session *s, uint32_t offset, uint32_t size, uint32_t flags, uint8_t *buf)
{
	struct vhost_user_config c = { offset, size, flags, { 0 } };
	struct vhu_msg r;
	uint32_t roff, rsize;
	int rc = vhu_config_check(s, "GET_CONFIG", offset, size, flags);

	if (rc)
		return rc;
	rc = vhu_request(s, VHOST_USER_GET_CONFIG, &c, VHOST_USER_CONFIG_HDR_SIZE + size, NULL, 0, &r);
	if (rc)
		return rc;
	/* Spec "GET_CONFIG": a zero-length payload signals failure. */
	if (r.hdr.size == 0)
		return vhu_fail(s, VHU_E_REFUSED, "GET_CONFIG: back-end failed (empty reply, no config)");
	if (r.hdr.size < VHOST_USER_CONFIG_HDR_SIZE)
		return vhu_fail(s, VHU_E_PROTO,
				"GET_CONFIG: reply of %u %s is shorter than its 12-byte header", r.hdr.size,
				VHU_PLURAL(r.hdr.size, "byte", "bytes"));
	memcpy(&roff, r.payload, 4);
	memcpy(&rsize, r.payload + 4, 4);
	if (rsize == 0)
		return vhu_fail(s, VHU_E_REFUSED, "GET_CONFIG: back-end failed (reply size field 0)");
	if (roff != offset)
		return vhu_fail(s, VHU_E_PROTO, "GET_CONFIG: reply offset %u, asked for %u", roff, offset);
	if (rsize != size)
		return vhu_fail(s, VHU_E_PROTO, "GET_CONFIG: reply size field %u, asked for %u", rsize, size);
	if (r.hdr.size != VHOST_USER_CONFIG_HDR_SIZE + size)
		return vhu_fail(s, VHU_E_PROTO, "GET_CONFIG: reply carries %u config %s, size field says %u",
				r.hdr.size - VHOST_USER_CONFIG_HDR_SIZE,
				VHU_PLURAL(r.hdr.size - VHOST_USER_CONFIG_HDR_SIZE, "byte", "bytes"), size);
	memcpy(buf, r.payload + VHOST_USER_CONFIG_HDR_SIZE, size);
	return VHU_OK;
}

int vhu_set_config(struct vhu_session *s, uint32_t offset, uint32_t flags, const uint8_t *buf, uint32_t size)
{
	struct vhost_user_config c = { offset, size, flags, { 0 } };
	int rc = vhu_config_check(s, "SET_CONFIG", offset, size, flags);

	if (rc)
		return rc;
	memcpy(c.region, buf, size);
	return vhu_request(s, VHOST_USER_SET_CONFIG, &c, VHOST_USER_CONFIG_HDR_SIZE + size, NULL, 0, NULL);
}

int vhu_negotiate(struct vhu_session *s, enum vhu_neg level)
{
	uint64_t v;
	int rc;

	if (level >= VHU_NEG_FEATURES && !s->have_features) {
		rc = vhu_get_features(s, &v);
		if (rc)
			return rc;
	}
	if (level >= VHU_NEG_PROTOCOL && !s->protocol_set &&
	    (s->features & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES))) {
		if (!s->have_protocol) {
			rc = vhu_get_protocol_features(s, &v);
			if (rc)
				return rc;
		}
		rc = vhu_set_protocol_features(s, s->protocol & VHU_PF_DEFAULT_MASK);
		if (rc)
			return rc;
	}
	if (level >= VHU_NEG_OWNER && !s->owner_set)
		return vhu_set_owner(s);
	return VHU_OK;
}
