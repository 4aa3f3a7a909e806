/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device-state transfer: SET_DEVICE_STATE_FD, the stream, CHECK_DEVICE_STATE.
 *
 * Rules applied here (docs/interop/vhost-user.rst "Migrating back-end
 * state", "SET_DEVICE_STATE_FD", "CHECK_DEVICE_STATE"):
 *  - the front-end creates the pipe and passes one end: the write end to
 *    SAVE, the read end to LOAD; QEMU closes its copy of that end right
 *    after sending, which is also what lets the reader see EOF;
 *  - reply bits 0-7 non-zero: the back-end refused; bit 8 set: no fd, use
 *    the pipe; bit 8 clear: the back-end sent an fd to use instead; any
 *    other combination is IncorrectFds in the seed client;
 *  - the data is opaque and has no length prefix: SAVE reads to EOF, LOAD
 *    writes everything and closes;
 *  - only CHECK_DEVICE_STATE says whether the back-end got it all.
 */
#define _GNU_SOURCE /* pipe2, mkostemp, asprintf */
#include "proto/devstate.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REQ "SET_DEVICE_STATE_FD"

/* ---- the local file ---- */

/* Directory part of @path, malloc'd ("." for a bare name). */
static char *dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

int vhu_ds_file_open(struct vhu_session *s, enum vhu_ds_dir dir, const char *path, struct vhu_ds_file *f)
{
	struct stat st;
	char *copy, *dname, *base;
	int fd;

	f->dir = dir;
	f->path = path;
	f->tmp = NULL;
	f->fd = -1;
	if (!path || !*path)
		return vhu_fail(s, VHU_E_USAGE, "device-state: FILE is empty");

	if (dir == VHU_DS_LOAD) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return vhu_fail(s, VHU_E_USAGE, "%s: cannot open for reading: %s", path,
					strerror(errno));
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			return vhu_fail(s, VHU_E_USAGE, "%s: is a directory", path);
		}
		f->fd = fd;
		return VHU_OK;
	}

	/* SAVE: FILE is replaced by rename(2), so it must not be a directory
	 * and must name a file (not end in '/'). */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return vhu_fail(s, VHU_E_USAGE, "%s: is a directory", path);
	if (path[strlen(path) - 1] == '/')
		return vhu_fail(s, VHU_E_USAGE, "%s: names a directory, not a file", path);
	copy = strdup(path);
	dname = dir_of(path);
	if (!copy || !dname) {
		free(copy);
		free(dname);
		return vhu_fail(s, VHU_E_IO, "out of memory");
	}
	base = basename(copy);
	/* The temporary lives next to FILE so that the final rename stays
	 * on one file system (atomic replacement). */
	if (asprintf(&f->tmp, "%s/.%s.XXXXXX", dname, base) < 0) {
		f->tmp = NULL;
		free(copy);
		free(dname);
		return vhu_fail(s, VHU_E_IO, "out of memory");
	}
	free(copy);
	fd = mkostemp(f->tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		free(f->tmp);
		f->tmp = NULL;
		vhu_fail(s, VHU_E_USAGE, "%s: cannot create a temporary file in %s: %s", path, dname,
			 strerror(err));
		free(dname);
		return VHU_E_USAGE;
	}
	free(dname);
	f->fd = fd;
	return VHU_OK;
}

void vhu_ds_file_abort(struct vhu_ds_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp) {
		unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
	}
}

int vhu_ds_file_commit(struct vhu_session *s, struct vhu_ds_file *f)
{
	char *dname;
	int err, dfd;

	if (f->dir == VHU_DS_LOAD) {
		vhu_ds_file_abort(f);
		return VHU_OK;
	}
	if (f->fd < 0 || !f->tmp)
		return vhu_fail(s, VHU_E_IO, "%s: no temporary file to commit", f->path);
	/* Data on disk before the name points at it: a crash leaves either
	 * the old FILE or the complete new one. */
	if (fsync(f->fd) < 0) {
		err = errno;
		vhu_ds_file_abort(f);
		return vhu_fail(s, VHU_E_IO, "%s: fsync: %s", f->path, strerror(err));
	}
	err = close(f->fd) < 0 ? errno : 0;
	f->fd = -1;
	if (err) {
		vhu_ds_file_abort(f);
		return vhu_fail(s, VHU_E_IO, "%s: close: %s", f->path, strerror(err));
	}
	if (rename(f->tmp, f->path) < 0) {
		err = errno;
		vhu_ds_file_abort(f);
		return vhu_fail(s, VHU_E_IO, "%s: cannot replace it: %s", f->path, strerror(err));
	}
	free(f->tmp);
	f->tmp = NULL;
	/* Make the rename itself durable; FILE is already in place, so a
	 * failure here is not reported. */
	dname = dir_of(f->path);
	if (dname) {
		dfd = open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
		free(dname);
	}
	return VHU_OK;
}

/* ---- the stream ---- */

/* How the data fd is driven without ever blocking past the timeout. */
struct ds_io {
	int fd;
	bool sock;     /* use recv/send with MSG_DONTWAIT */
	bool nonblock; /* O_NONBLOCK is set on it (our own pipe end only) */
};

/* 0 when @fd is ready, VHU_E_TIMEOUT after @timeout_ms, VHU_E_IO on a
 * poll error.  Ready includes HUP/ERR: the next read/write tells. */
static int ds_wait(int fd, short events, int timeout_ms)
{
	return vhu_wait_fd(fd, events, vhu_now_ms() + timeout_ms, NULL);
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int save_stream(struct vhu_session *s, const struct ds_io *io, int out, const char *name, uint8_t *buf,
		       SHA2_CTX *sha, struct vhu_ds_result *r)
{
	for (;;) {
		ssize_t n;
		int rc = ds_wait(io->fd, POLLIN, s->timeout_ms);

		if (rc == VHU_E_TIMEOUT)
			return vhu_fail(s, rc, REQ ": no state data within %d ms (%llu bytes received)",
					s->timeout_ms, (unsigned long long)r->bytes);
		if (rc)
			return vhu_fail(s, rc, REQ ": poll: %s", strerror(errno));
		n = io->sock ? recv(io->fd, buf, VHU_DS_CHUNK, MSG_DONTWAIT)
			     : read(io->fd, buf, VHU_DS_CHUNK);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return vhu_fail(s, VHU_E_IO, REQ ": reading the state: %s", strerror(errno));
		}
		if (n == 0)
			return VHU_OK; /* EOF: the back-end closed its end, all sent */
		SHA256Update(sha, buf, (size_t)n);
		if (write_all(out, buf, (size_t)n) < 0)
			return vhu_fail(s, VHU_E_IO, "%s: write: %s", name, strerror(errno));
		r->bytes += (uint64_t)n;
	}
}

static int load_stream(struct vhu_session *s, const struct ds_io *io, int in, const char *name, uint8_t *buf,
		       SHA2_CTX *sha, struct vhu_ds_result *r)
{
	for (;;) {
		ssize_t n = read(in, buf, VHU_DS_CHUNK);
		size_t off = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vhu_fail(s, VHU_E_IO, "%s: read: %s", name, strerror(errno));
		}
		if (n == 0)
			return VHU_OK;
		SHA256Update(sha, buf, (size_t)n);
		while (off < (size_t)n) {
			size_t len = (size_t)n - off;
			ssize_t w;
			int rc = ds_wait(io->fd, POLLOUT, s->timeout_ms);

			if (rc == VHU_E_TIMEOUT)
				return vhu_fail(
					s, rc,
					REQ ": back-end took no state data within %d ms (%llu bytes sent)",
					s->timeout_ms, (unsigned long long)r->bytes);
			if (rc)
				return vhu_fail(s, rc, REQ ": poll: %s", strerror(errno));
			/* A blocking pipe we may not switch to O_NONBLOCK (the
			 * back-end's own fd) takes PIPE_BUF bytes without
			 * blocking once poll reported room. */
			if (!io->sock && !io->nonblock && len > PIPE_BUF)
				len = PIPE_BUF;
			w = io->sock ? send(io->fd, buf + off, len, MSG_DONTWAIT | MSG_NOSIGNAL)
				     : write(io->fd, buf + off, len);
			if (w < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				if (errno == EPIPE || errno == ECONNRESET)
					return vhu_fail(s, VHU_E_IO,
							REQ ": back-end closed its end of the state pipe "
							    "after %llu bytes (short transfer)",
							(unsigned long long)r->bytes);
				return vhu_fail(s, VHU_E_IO, REQ ": writing the state: %s", strerror(errno));
			}
			off += (size_t)w;
			r->bytes += (uint64_t)w;
		}
	}
}

/*
 * Apply the reply rules to @m.  On success *@data is the fd to stream
 * through (our pipe end, or the back-end's fd, ours then closed) and
 * @io describes it; the reply's fds are consumed either way.
 */
static int take_reply(struct vhu_session *s, enum vhu_ds_dir dir, struct vhu_msg *m, int *data,
		      struct ds_io *io, struct vhu_ds_result *r)
{
	uint64_t v;
	unsigned nfds = m->nfds;
	struct stat st;
	int bfd, acc, fl;

	memset(&st, 0, sizeof(st));
	memcpy(&v, m->payload, sizeof(v));
	r->reply = v;
	r->undefined_bits = (v & ~(uint64_t)VHU_DS_REPLY_KNOWN_MASK) != 0;
	if (v & VHU_DS_REPLY_ERROR_MASK) {
		/* As the seed: the error wins; an fd beside it is closed
		 * unused (the spec forbids the pair). */
		vhu_msg_close_fds(m);
		return vhu_fail(s, VHU_E_REFUSED,
				REQ ": back-end refused the transfer (error %llu, reply 0x%llx)%s",
				(unsigned long long)(v & VHU_DS_REPLY_ERROR_MASK), (unsigned long long)v,
				nfds ? "; it also attached an fd, which the spec forbids (closed)" : "");
	}
	if ((v & VHU_DS_REPLY_NOFD) && nfds == 0) {
		io->fd = *data;
		io->sock = false;
		io->nonblock = true;
		return VHU_OK;
	}
	if (!(v & VHU_DS_REPLY_NOFD) && nfds == 1) {
		bfd = m->fds[0];
		m->nfds = 0;
		/* Only stream-like fds make sense; a regular file or a
		 * device would be read/written in ways neither side agreed. */
		if (fstat(bfd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
			close(bfd);
			return vhu_fail(s, VHU_E_PROTO,
					REQ ": the back-end's fd is not a pipe or socket (mode 0%o)",
					(unsigned)st.st_mode & S_IFMT);
		}
		fl = fcntl(bfd, F_GETFL);
		acc = fl < 0 ? O_RDWR : fl & O_ACCMODE;
		if (S_ISFIFO(st.st_mode) && acc != O_RDWR &&
		    acc != (dir == VHU_DS_SAVE ? O_RDONLY : O_WRONLY)) {
			close(bfd);
			return vhu_fail(
				s, VHU_E_PROTO,
				REQ ": the back-end's fd is the %s end of a pipe; %s needs the %s end",
				acc == O_RDONLY ? "read" : "write", dir == VHU_DS_SAVE ? "SAVE" : "LOAD",
				dir == VHU_DS_SAVE ? "read" : "write");
		}
		close(*data);
		*data = bfd;
		io->fd = bfd;
		io->sock = S_ISSOCK(st.st_mode);
		/* Its flags are shared with whatever copy the back-end kept:
		 * leave them alone and never block instead (see load_stream). */
		io->nonblock = fl >= 0 && (fl & O_NONBLOCK);
		r->backend_fd = true;
		vhu_note(s, VHU_DIR_SEND, REQ ": using the back-end's fd (%s) instead of our pipe",
			io->sock ? "socket" : "pipe");
		return VHU_OK;
	}
	vhu_msg_close_fds(m);
	if (v & VHU_DS_REPLY_NOFD)
		return vhu_fail(s, VHU_E_PROTO,
				REQ ": reply 0x%llx says no fd follows (bit 8) but carries %u",
				(unsigned long long)v, nfds);
	return vhu_fail(s, VHU_E_PROTO,
			REQ ": reply 0x%llx says the back-end's fd follows (bit 8 clear) but carries %u",
			(unsigned long long)v, nfds);
}

int vhu_ds_check(struct vhu_session *s, uint64_t *status)
{
	int rc = vhu_get_u64(s, VHOST_USER_CHECK_DEVICE_STATE, status);

	if (rc)
		return rc;
	if (*status)
		return vhu_fail(s, VHU_E_REFUSED,
				"CHECK_DEVICE_STATE: back-end reports the transfer failed (%llu)",
				(unsigned long long)*status);
	return VHU_OK;
}

int vhu_ds_transfer(struct vhu_session *s, enum vhu_ds_dir dir, int local_fd, const char *name,
		    struct vhu_ds_result *r)
{
	struct vhost_user_transfer_state ts = { (uint32_t)dir, VHOST_USER_DEVICE_STATE_PHASE_STOPPED };
	struct vhu_msg *m = NULL;
	struct ds_io io = { -1, false, false };
	uint8_t *buf = NULL;
	SHA2_CTX sha;
	int p[2], give, data = -1, rc, fl;
	uint64_t status;

	memset(r, 0, sizeof(*r));
	if (!name)
		name = "the state file";
	if (dir != VHU_DS_SAVE && dir != VHU_DS_LOAD)
		return vhu_fail(s, VHU_E_USAGE, REQ ": direction %d is neither SAVE (0) nor LOAD (1)",
				(int)dir);
	m = malloc(sizeof(*m));
	buf = malloc(VHU_DS_CHUNK);
	if (!m || !buf) {
		rc = vhu_fail(s, VHU_E_IO, "out of memory");
		goto out;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		rc = vhu_fail(s, VHU_E_IO, REQ ": pipe: %s", strerror(errno));
		goto out;
	}
	give = dir == VHU_DS_SAVE ? p[1] : p[0];
	data = dir == VHU_DS_SAVE ? p[0] : p[1];
	/* Our end only: the back-end's end keeps the blocking mode it
	 * would get from QEMU (a separate open file description). */
	fl = fcntl(data, F_GETFL);
	if (fl >= 0)
		fcntl(data, F_SETFL, fl | O_NONBLOCK);

	rc = vhu_request(s, VHOST_USER_SET_DEVICE_STATE_FD, &ts, sizeof(ts), &give, 1, m);
	/* The back-end has its copy now; ours would keep the pipe from ever
	 * reaching EOF (SAVE) or let a dead reader go unnoticed (LOAD). */
	close(give);
	if (rc)
		goto out;
	rc = take_reply(s, dir, m, &data, &io, r);
	if (rc)
		goto out;

	SHA256Init(&sha);
	if (dir == VHU_DS_SAVE)
		rc = save_stream(s, &io, local_fd, name, buf, &sha, r);
	else
		rc = load_stream(s, &io, local_fd, name, buf, &sha, r);
	/* LOAD: closing our end is the end-of-state mark the back-end reads. */
	close(data);
	data = -1;
	if (rc)
		goto out;
	SHA256Final(r->sha256, &sha);
	for (size_t i = 0; i < sizeof(r->sha256); i++)
		snprintf(r->sha256_hex + 2 * i, 3, "%02x", r->sha256[i]);
	vhu_note(s, VHU_DIR_SEND, REQ ": %llu bytes %s", (unsigned long long)r->bytes,
		dir == VHU_DS_SAVE ? "received" : "sent");
	rc = vhu_ds_check(s, &status);
out:
	if (data >= 0)
		close(data);
	free(buf);
	free(m);
	return rc;
}
