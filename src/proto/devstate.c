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
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ, sync_file_range */
#include "proto/devstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cryptodl.h"
#include "util/hex.h"
#include "util/intr.h"

#define REQ "SET_DEVICE_STATE_FD"

/* Our pipe is grown to this (the default maximum of an unprivileged
 * F_SETPIPE_SZ): fewer wake-ups per MiB in both processes. */
#define DS_PIPE_SIZE (1 << 20)
/* SAVE: writeback of the new file is started every so many bytes, so that
 * the final fsync finds little left to write. */
#define DS_WRITEBACK (8u << 20)

/* ---- the local file ---- */

int vhu_ds_file_open(struct vhu_session *s, enum vhu_ds_dir dir, const char *path,
		     const struct vhu_ds_limits *lim, struct vhu_ds_file *f)
{
	struct stat st;
	int fd, rc;

	f->dir = dir;
	f->path = path;
	f->fd = -1;
	vhu_outfile_init(&f->out);
	if (!path || !*path)
		return vhu_fail(s, VHU_E_USAGE, "device-state: FILE is empty");

	if (dir == VHU_DS_LOAD) {
		/* Non-blocking: open() of a FIFO without a writer would wait
		 * for one, before we even connected. */
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return vhu_fail(s, VHU_E_USAGE, "%s: cannot open for reading: %s", path,
					strerror(errno));
		if (fstat(fd, &st) < 0) {
			rc = vhu_fail(s, VHU_E_USAGE, "%s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		if (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode)) {
			close(fd);
			return vhu_fail(s, VHU_E_USAGE, "%s: is a %s", path,
					S_ISDIR(st.st_mode) ? "directory" : "socket");
		}
		if (S_ISREG(st.st_mode) && lim && lim->max_size && (uint64_t)st.st_size > lim->max_size) {
			close(fd);
			return vhu_fail(s, VHU_E_USAGE, "%s: %llu bytes, more than --max-size %llu", path,
					(unsigned long long)st.st_size, (unsigned long long)lim->max_size);
		}
		f->fd = fd;
		return VHU_OK;
	}

	switch (vhu_outfile_create(&f->out, path, 0)) {
	case VHU_OUTFILE_OK: f->fd = f->out.fd; return VHU_OK;
	case VHU_OUTFILE_BAD_TARGET: return vhu_fail(s, VHU_E_USAGE, "%s", f->out.err);
	default: return vhu_fail(s, VHU_E_IO, "%s", f->out.err);
	}
}

void vhu_ds_file_abort(struct vhu_ds_file *f)
{
	if (f->dir == VHU_DS_LOAD && f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	vhu_outfile_abort(&f->out);
}

int vhu_ds_file_commit(struct vhu_session *s, struct vhu_ds_file *f)
{
	int rc;

	if (f->dir == VHU_DS_LOAD) {
		vhu_ds_file_abort(f);
		return VHU_OK;
	}
	rc = vhu_outfile_commit(&f->out);
	f->fd = -1;
	switch (rc) {
	case VHU_OUTFILE_OK: return VHU_OK;
	case VHU_OUTFILE_INTERRUPTED:
		return vhu_fail(s, vhu_intr_status() ? vhu_intr_status() : VHU_E_IO, "%s", f->out.err);
	case VHU_OUTFILE_BAD_TARGET: return vhu_fail(s, VHU_E_USAGE, "%s", f->out.err);
	default: return vhu_fail(s, VHU_E_IO, "%s", f->out.err);
	}
}

/* ---- SHA-256 beside the I/O ---- */

/*
 * The buffers the stream moves through.  The main thread fills buf[head]
 * (SAVE: from the pipe, LOAD: from FILE), pushes it, and takes the next;
 * a helper thread hashes pushed buffers in order, so the digest overlaps
 * the I/O.  A pushed buffer is only read until it is hashed (LOAD still
 * writes it to the pipe meanwhile), then reused.  Without the thread
 * (pthread_create failed) push hashes at once.
 */
struct ds_hash {
	const struct vhu_crypto *c; /* libcrypto, loaded by hash_init */
	EVP_MD_CTX *md;
	uint8_t *buf[VHU_DS_NBUF];
	size_t len[VHU_DS_NBUF];
	unsigned head, tail, queued;
	bool threaded, quit, failed, sync;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t work, room;
};

static void *hash_main(void *arg)
{
	struct ds_hash *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		unsigned i;

		while (!h->queued && !h->quit)
			pthread_cond_wait(&h->work, &h->mu);
		if (!h->queued)
			break;
		i = h->tail;
		pthread_mutex_unlock(&h->mu);
		if (h->c->digest_update(h->md, h->buf[i], h->len[i]) != 1)
			h->failed = true;
		pthread_mutex_lock(&h->mu);
		h->tail = (i + 1) % VHU_DS_NBUF;
		h->queued--;
		pthread_cond_signal(&h->room);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* -1 with the reason in @err. */
static int hash_init(struct ds_hash *h, char *err, size_t len)
{
	sigset_t old;

	memset(h, 0, sizeof(*h));
	if (!(h->c = vhu_crypto(err, len)))
		return -1;
	snprintf(err, len, "out of memory");
	/* Only a digest is needed: no openssl.cnf (providers, engines) to
	 * read, which also keeps the memory use down. */
	h->c->init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	h->md = h->c->md_ctx_new();
	if (!h->md || h->c->digest_init_ex(h->md, h->c->sha256(), NULL) != 1)
		return -1;
	for (unsigned i = 0; i < VHU_DS_NBUF; i++)
		if (!(h->buf[i] = malloc(VHU_DS_BUF)))
			return -1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->room, NULL);
	h->sync = true;
	/* The helper never sees SIGINT & co: they belong to the main
	 * thread's waits (util/intr). */
	vhu_intr_block(&old);
	h->threaded = pthread_create(&h->th, NULL, hash_main, h) == 0;
	vhu_intr_restore(&old);
	return 0;
}

/* The buffer to fill next; waits for the helper when all are queued. */
static uint8_t *hash_buf(struct ds_hash *h)
{
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		while (h->queued == VHU_DS_NBUF)
			pthread_cond_wait(&h->room, &h->mu);
		pthread_mutex_unlock(&h->mu);
	}
	return h->buf[h->head];
}

/* The first @len bytes of the buffer hash_buf() gave belong to the stream. */
static void hash_push(struct ds_hash *h, size_t len)
{
	if (!h->threaded) {
		if (h->c->digest_update(h->md, h->buf[h->head], len) != 1)
			h->failed = true;
		return;
	}
	pthread_mutex_lock(&h->mu);
	h->len[h->head] = len;
	h->head = (h->head + 1) % VHU_DS_NBUF;
	h->queued++;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
}

/* Wait for the helper to drain the queue and stop it. */
static void hash_stop(struct ds_hash *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	h->quit = true;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	h->threaded = false;
}

static int hash_final(struct ds_hash *h, uint8_t out[32])
{
	unsigned n = 0;

	hash_stop(h);
	return !h->failed && h->c->digest_final_ex(h->md, out, &n) == 1 && n == 32 ? 0 : -1;
}

static void hash_free(struct ds_hash *h)
{
	hash_stop(h);
	if (h->sync) {
		pthread_cond_destroy(&h->room);
		pthread_cond_destroy(&h->work);
		pthread_mutex_destroy(&h->mu);
	}
	for (unsigned i = 0; i < VHU_DS_NBUF; i++)
		free(h->buf[i]);
	if (h->md)
		h->c->md_ctx_free(h->md);
	memset(h, 0, sizeof(*h));
}

/* ---- the stream ---- */

/* How the data fd is driven: never a blocking call (it is O_NONBLOCK). */
struct ds_io {
	int fd;
	bool sock; /* recv/send (MSG_NOSIGNAL) instead of read/write */
};

/* One transfer in progress. */
struct ds_stream {
	struct vhu_session *s;
	enum vhu_ds_dir dir;
	struct ds_io io;
	int local;	 /* FILE side (borrowed) */
	bool local_poll; /* LOAD: FILE is a FIFO/socket/char device: wait with poll */
	const char *name;
	uint64_t max_size;  /* 0 = none */
	int transfer_ms;    /* 0 = none */
	int64_t end;	    /* whole-transfer deadline, -1 = none */
	int64_t win_end;    /* the current --timeout window ends here ... */
	uint64_t win_start; /* ... and must move VHU_DS_CHUNK bytes past this */
	struct ds_hash h;
	struct vhu_ds_result *r;
};

static void stream_begin(struct ds_stream *st)
{
	int64_t now = vhu_now_ms();

	st->end = st->transfer_ms > 0 ? now + st->transfer_ms : -1;
	st->win_end = now + st->s->timeout_ms;
	st->win_start = 0;
}

/* Bytes moved: a full VHU_DS_CHUNK since the window began opens the next. */
static void stream_progress(struct ds_stream *st)
{
	if (st->r->bytes - st->win_start >= VHU_DS_CHUNK) {
		st->win_start = st->r->bytes;
		st->win_end = vhu_now_ms() + st->s->timeout_ms;
	}
}

static int stream_timeout(struct ds_stream *st, bool whole, bool local)
{
	struct vhu_session *s = st->s;
	unsigned long long total = (unsigned long long)st->r->bytes;
	unsigned long long got = (unsigned long long)(st->r->bytes - st->win_start);
	const char *done = st->dir == VHU_DS_SAVE ? "received" : "sent";

	if (whole)
		return vhu_fail(s, VHU_E_TIMEOUT,
				REQ
				": transfer not finished within --transfer-timeout of %d ms (%llu bytes %s)",
				st->transfer_ms, total, done);
	if (local)
		return got ? vhu_fail(s, VHU_E_TIMEOUT,
				      "%s: too slow: %llu bytes within %d ms, less than %u KiB (%llu bytes "
				      "sent)",
				      st->name, got, s->timeout_ms, VHU_DS_CHUNK / 1024, total)
			   : vhu_fail(s, VHU_E_TIMEOUT, "%s: no data within %d ms (%llu bytes sent)",
				      st->name, s->timeout_ms, total);
	if (st->dir == VHU_DS_SAVE)
		return got ? vhu_fail(s, VHU_E_TIMEOUT,
				      REQ ": state data too slow: %llu bytes within %d ms, less than %u KiB "
					  "(%llu bytes received)",
				      got, s->timeout_ms, VHU_DS_CHUNK / 1024, total)
			   : vhu_fail(s, VHU_E_TIMEOUT,
				      REQ ": no state data within %d ms (%llu bytes received)", s->timeout_ms,
				      total);
	return got ? vhu_fail(s, VHU_E_TIMEOUT,
			      REQ ": back-end takes the state too slowly: %llu bytes within %d ms, less than "
				  "%u KiB (%llu bytes sent)",
			      got, s->timeout_ms, VHU_DS_CHUNK / 1024, total)
		   : vhu_fail(s, VHU_E_TIMEOUT,
			      REQ ": back-end took no state data within %d ms (%llu bytes sent)",
			      s->timeout_ms, total);
}

static int stream_interrupted(struct ds_stream *st)
{
	return vhu_fail(st->s, vhu_intr_status(), REQ ": interrupted by %s after %llu bytes",
			vhu_intr_name(vhu_intr_signo()), (unsigned long long)st->r->bytes);
}

/* Wait for @fd within the window and the whole-transfer bound.  A fd
 * that is always ready cannot stretch them: a passed deadline is a
 * timeout even then. */
static int stream_wait(struct ds_stream *st, int fd, short events, bool local)
{
	int64_t d = st->win_end;
	bool whole = false;
	int rc;

	if (st->end >= 0 && st->end <= d) {
		d = st->end;
		whole = true;
	}
	if (vhu_intr_status())
		return stream_interrupted(st);
	rc = vhu_now_ms() >= d ? VHU_E_TIMEOUT : vhu_wait_fd(fd, events, d, NULL);
	if (!rc)
		return VHU_OK;
	if (rc == VHU_E_TIMEOUT)
		return stream_timeout(st, whole, local);
	if (vhu_intr_is_status(rc))
		return stream_interrupted(st);
	return vhu_fail(st->s, rc, REQ ": poll: %s", strerror(errno));
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

static int save_stream(struct ds_stream *st)
{
	struct vhu_session *s = st->s;
	off_t pos = lseek(st->local, 0, SEEK_CUR), synced = pos;
	struct stat lst;
	bool eof = false, writeback = pos >= 0 && fstat(st->local, &lst) == 0 && S_ISREG(lst.st_mode);

	while (!eof) {
		uint8_t *buf = hash_buf(&st->h);
		size_t len = 0;

		/* Take what the pipe holds; wait only while we have nothing. */
		while (len < VHU_DS_BUF) {
			size_t want = VHU_DS_BUF - len;
			ssize_t n;
			int rc;

			if (vhu_intr_status())
				return stream_interrupted(st);
			/* One byte past the limit is enough to know. */
			if (st->max_size && st->max_size - st->r->bytes < want)
				want = (size_t)(st->max_size - st->r->bytes) + 1;
			n = st->io.sock ? recv(st->io.fd, buf + len, want, MSG_DONTWAIT)
					: read(st->io.fd, buf + len, want);
			if (n > 0) {
				len += (size_t)n;
				st->r->bytes += (uint64_t)n;
				if (st->max_size && st->r->bytes > st->max_size)
					return vhu_fail(
						s, VHU_E_PROTO,
						REQ ": the back-end's state exceeds --max-size %llu bytes; "
						    "stopped reading",
						(unsigned long long)st->max_size);
				stream_progress(st);
				continue;
			}
			if (n == 0) {
				eof = true; /* the back-end closed its end: all sent */
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return vhu_fail(s, VHU_E_IO, REQ ": reading the state: %s", strerror(errno));
			if (len)
				break; /* store what we have while the back-end works */
			rc = stream_wait(st, st->io.fd, POLLIN, false);
			if (rc)
				return rc;
		}
		if (!len)
			continue;
		if (write_all(st->local, buf, len) < 0)
			return vhu_fail(s, VHU_E_IO, "%s: write: %s", st->name, strerror(errno));
		hash_push(&st->h, len);
		if (writeback) {
			pos += (off_t)len;
			/* Start writing back what is complete, so the final fsync
			 * has little left (and the page cache stays small). */
			if (pos - synced >= (off_t)DS_WRITEBACK) {
				(void)sync_file_range(st->local, synced, pos - synced, SYNC_FILE_RANGE_WRITE);
				synced = pos;
			}
		}
	}
	return VHU_OK;
}

static int load_stream(struct ds_stream *st)
{
	struct vhu_session *s = st->s;
	uint64_t taken = 0;

	for (;;) {
		uint8_t *buf = hash_buf(&st->h);
		ssize_t n;
		size_t off = 0;

		for (;;) {
			int rc;

			if (vhu_intr_status())
				return stream_interrupted(st);
			/* A FIFO is read only once poll() says so: before its
			 * first writer came, read() would report EOF. */
			if (st->local_poll && (rc = stream_wait(st, st->local, POLLIN, true)))
				return rc;
			n = read(st->local, buf, VHU_DS_BUF);
			if (n >= 0)
				break;
			if (errno == EINTR)
				continue;
			if ((errno != EAGAIN && errno != EWOULDBLOCK) || !st->local_poll)
				return vhu_fail(s, VHU_E_IO, "%s: read: %s", st->name, strerror(errno));
		}
		if (n == 0)
			return VHU_OK;
		taken += (uint64_t)n;
		if (st->max_size && taken > st->max_size)
			return vhu_fail(s, VHU_E_USAGE,
					"%s: more than --max-size %llu bytes; stopped sending", st->name,
					(unsigned long long)st->max_size);
		/* Hashed by the helper while we write it out. */
		hash_push(&st->h, (size_t)n);
		while (off < (size_t)n) {
			ssize_t w;
			int rc;

			if (vhu_intr_status())
				return stream_interrupted(st);
			w = st->io.sock
				    ? send(st->io.fd, buf + off, (size_t)n - off, MSG_DONTWAIT | MSG_NOSIGNAL)
				    : write(st->io.fd, buf + off, (size_t)n - off);
			if (w > 0) {
				off += (size_t)w;
				st->r->bytes += (uint64_t)w;
				stream_progress(st);
				continue;
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				if (errno == EPIPE || errno == ECONNRESET)
					return vhu_fail(s, VHU_E_IO,
							REQ ": back-end closed its end of the state pipe "
							    "after %llu bytes (short transfer)",
							(unsigned long long)st->r->bytes);
				return vhu_fail(s, VHU_E_IO, REQ ": writing the state: %s", strerror(errno));
			}
			rc = stream_wait(st, st->io.fd, POLLOUT, false);
			if (rc)
				return rc;
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
		/* Non-blocking, although the flag is shared with any copy the
		 * back-end kept: a back-end that drains or refills its own
		 * pipe between our poll() and our read()/write() would
		 * otherwise block us past every timeout. */
		if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(bfd, F_SETFL, fl | O_NONBLOCK) < 0)) {
			int err = errno;

			close(bfd);
			return vhu_fail(s, VHU_E_IO, REQ ": cannot make the back-end's fd non-blocking: %s",
					strerror(err));
		}
		close(*data);
		*data = bfd;
		io->fd = bfd;
		io->sock = S_ISSOCK(st.st_mode);
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
		    const struct vhu_ds_limits *lim, struct vhu_ds_result *r)
{
	struct vhost_user_transfer_state ts = { (uint32_t)dir, VHOST_USER_DEVICE_STATE_PHASE_STOPPED };
	struct vhu_msg *m = NULL;
	struct ds_stream st;
	struct stat lst;
	char herr[256];
	int p[2], give, data = -1, rc, fl;
	uint64_t status;

	memset(r, 0, sizeof(*r));
	memset(&st, 0, sizeof(st));
	st.s = s;
	st.dir = dir;
	st.io.fd = -1;
	st.local = local_fd;
	st.name = name ? name : "the state file";
	st.r = r;
	if (lim) {
		st.max_size = lim->max_size;
		st.transfer_ms = lim->transfer_ms;
	}
	if (dir != VHU_DS_SAVE && dir != VHU_DS_LOAD)
		return vhu_fail(s, VHU_E_USAGE, REQ ": direction %d is neither SAVE (0) nor LOAD (1)",
				(int)dir);
	/* A FIFO, socket or terminal as the LOAD source is read
	 * non-blocking, waiting with poll like the pipe. */
	if (dir == VHU_DS_LOAD && fstat(local_fd, &lst) == 0 &&
	    (S_ISFIFO(lst.st_mode) || S_ISSOCK(lst.st_mode) || S_ISCHR(lst.st_mode))) {
		fl = fcntl(local_fd, F_GETFL);
		st.local_poll =
			fl >= 0 && ((fl & O_NONBLOCK) || fcntl(local_fd, F_SETFL, fl | O_NONBLOCK) == 0);
	}
	m = malloc(sizeof(*m));
	if (!m) {
		rc = vhu_fail(s, VHU_E_IO, "out of memory");
		goto out;
	}
	if (hash_init(&st.h, herr, sizeof(herr)) < 0) {
		rc = vhu_fail(s, VHU_E_IO, REQ ": %s", herr);
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
	(void)fcntl(data, F_SETPIPE_SZ, DS_PIPE_SIZE);

	rc = vhu_request(s, VHOST_USER_SET_DEVICE_STATE_FD, &ts, sizeof(ts), &give, 1, m);
	/* The back-end has its copy now; ours would keep the pipe from ever
	 * reaching EOF (SAVE) or let a dead reader go unnoticed (LOAD). */
	close(give);
	if (rc)
		goto out;
	rc = take_reply(s, dir, m, &data, &st.io, r);
	if (rc)
		goto out;

	stream_begin(&st);
	rc = dir == VHU_DS_SAVE ? save_stream(&st) : load_stream(&st);
	/* LOAD: closing our end is the end-of-state mark the back-end reads;
	 * SAVE: a back-end still writing (over --max-size, say) gets EPIPE. */
	close(data);
	data = -1;
	if (rc)
		goto out;
	if (hash_final(&st.h, r->sha256) < 0) {
		rc = vhu_fail(s, VHU_E_IO, REQ ": SHA-256 of the state failed (libcrypto)");
		goto out;
	}
	vhu_format_hex(r->sha256, sizeof(r->sha256), r->sha256_hex);
	vhu_note(s, VHU_DIR_SEND, REQ ": %llu bytes %s", (unsigned long long)r->bytes,
		 dir == VHU_DS_SAVE ? "received" : "sent");
	rc = vhu_ds_check(s, &status);
out:
	if (data >= 0)
		close(data);
	hash_free(&st.h);
	free(m);
	return rc;
}
