/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhu-mock-backend: a test-only vhost-user back-end with fault injection.
 *
 * It answers the front-end requests that vhuctl sends, keeps just enough
 * per-connection state to make replies deterministic, and can be told to
 * misbehave in specific ways (--fault) so the bats suite can check how
 * vhuctl reacts to broken back-ends.  See tests/mock/README.md.
 *
 * Build: gcc -std=gnu11 -Wall -Wextra -Werror -Isrc \
 *            tests/mock/vhu-mock-backend.c -o vhu-mock-backend -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mock-dev.h"
#include "proto/wire.h"

#define REPLY_FLAGS (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)
#define MAX_CODE    VHOST_USER_GET_VRING_BASE_SKIP_DRAIN
/* Received fds kept per message; more are closed on arrival. */
#define MAX_RX_FDS 32u
/* Fds we may attach to one reply (too-many-fds needs 12). */
#define MAX_TX_FDS   16u
#define TOO_MANY_FDS 12u
/* Largest reply body we build: config-size/oversize on a 4 KiB window. */
#define REPLY_BUF (2 * VHU_MAX_PAYLOAD)
/* QEMU's VhostUserCryptoSession on LP64 (the spec leaves it opaque). */
#define CRYPTO_SESSION_SIZE 1072u
/* How long CHECK_DEVICE_STATE / disconnect wait for a transfer thread. */
#define XFER_WAIT_MS 5000
#define XFER_CHUNK   65536u

/* ------------------------------------------------------------------ */
/* Request names                                                       */

static const char *const req_names[MAX_CODE + 1] = {
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
	[VHOST_USER_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VHOST_USER_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VHOST_USER_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VHOST_USER_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VHOST_USER_POSTCOPY_END] = "POSTCOPY_END",
	[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VHOST_USER_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
	[VHOST_USER_VRING_KICK] = "VRING_KICK",
	[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
	[VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
	[VHOST_USER_SET_STATUS] = "SET_STATUS",
	[VHOST_USER_GET_STATUS] = "GET_STATUS",
	[VHOST_USER_GET_SHARED_OBJECT] = "GET_SHARED_OBJECT",
	[VHOST_USER_SET_DEVICE_STATE_FD] = "SET_DEVICE_STATE_FD",
	[VHOST_USER_CHECK_DEVICE_STATE] = "CHECK_DEVICE_STATE",
	[VHOST_USER_GET_SHMEM_CONFIG] = "GET_SHMEM_CONFIG",
	[VHOST_USER_GET_VRING_BASE_SKIP_DRAIN] = "GET_VRING_BASE_SKIP_DRAIN",
};

/* Name of a front-end request code the mock serves, or NULL.  1004 is
 * crosvm's GET_SHARED_MEMORY_REGIONS, outside the spec's numbering. */
static const char *code_name(uint32_t code)
{
	if (code == VHOST_USER_GET_SHARED_MEMORY_REGIONS)
		return "GET_SHARED_MEMORY_REGIONS";
	return code >= 1 && code <= MAX_CODE ? req_names[code] : NULL;
}

static bool code_known(uint32_t code)
{
	return code_name(code) != NULL;
}

/* Back-end channel requests (spec "Back-end message types"), by the
 * names --backend-msg accepts (with or without BACKEND_). */
#define MAX_BACKEND_CODE VHOST_USER_BACKEND_SHMEM_UNMAP
static const char *const backend_names[MAX_BACKEND_CODE + 1] = {
	[VHOST_USER_BACKEND_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_BACKEND_CONFIG_CHANGE_MSG] = "CONFIG_CHANGE_MSG",
	[VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG] = "VRING_HOST_NOTIFIER_MSG",
	[VHOST_USER_BACKEND_VRING_CALL] = "VRING_CALL",
	[VHOST_USER_BACKEND_VRING_ERR] = "VRING_ERR",
	[VHOST_USER_BACKEND_SHARED_OBJECT_ADD] = "SHARED_OBJECT_ADD",
	[VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE] = "SHARED_OBJECT_REMOVE",
	[VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP] = "SHARED_OBJECT_LOOKUP",
	[VHOST_USER_BACKEND_SHMEM_MAP] = "SHMEM_MAP",
	[VHOST_USER_BACKEND_SHMEM_UNMAP] = "SHMEM_UNMAP",
};

/* ------------------------------------------------------------------ */
/* Faults                                                              */

enum fault_kind {
	F_WRONG_CODE,
	F_NO_REPLY_FLAG,
	F_BAD_VERSION,
	F_RESERVED_BITS,
	F_OVERSIZE,
	F_HUGE_SIZE,
	F_SHORT_SILENCE,
	F_SHORT_CLOSE,
	F_CLOSE_MID_HEADER,
	F_STRAY_FD,
	F_TOO_MANY_FDS,
	F_GARBAGE,
	F_SLOW,
	F_SILENT,
	F_NAK,
	F_CLOSE,
	F_CLOSE_AFTER_ACCEPT,
	F_EMPTY_CONFIG,
	F_CONFIG_OFFSET,
	F_CONFIG_SIZE,
	F_DS_ERROR,
	F_DS_OWN_FD,
	F_DS_BAD_FDS,
	F_DS_TRUNCATE,
	F_CHECK_FAIL,
	F_SHM_BAD_COUNT,
	F_IGNORE,
	F_DELAY,
	F_DS_KILL,
	F_DS_ENDLESS,
	F_DS_DRIP,
	F_DS_STEAL,
	F_DS_REFILL,
	F_INFLIGHT_HUGE,
	F_COUNT
};

static const char *const fault_names[F_COUNT] = {
	[F_WRONG_CODE] = "wrong-code",
	[F_NO_REPLY_FLAG] = "no-reply-flag",
	[F_BAD_VERSION] = "bad-version",
	[F_RESERVED_BITS] = "reserved-bits",
	[F_OVERSIZE] = "oversize",
	[F_HUGE_SIZE] = "huge-size",
	[F_SHORT_SILENCE] = "short-silence",
	[F_SHORT_CLOSE] = "short-close",
	[F_CLOSE_MID_HEADER] = "close-mid-header",
	[F_STRAY_FD] = "stray-fd",
	[F_TOO_MANY_FDS] = "too-many-fds",
	[F_GARBAGE] = "garbage",
	[F_SLOW] = "slow",
	[F_SILENT] = "silent",
	[F_NAK] = "nak",
	[F_CLOSE] = "close",
	[F_CLOSE_AFTER_ACCEPT] = "close-after-accept",
	[F_EMPTY_CONFIG] = "empty-config",
	[F_CONFIG_OFFSET] = "config-offset",
	[F_CONFIG_SIZE] = "config-size",
	[F_DS_ERROR] = "ds-error",
	[F_DS_OWN_FD] = "ds-own-fd",
	[F_DS_BAD_FDS] = "ds-bad-fds",
	[F_DS_TRUNCATE] = "ds-truncate",
	[F_CHECK_FAIL] = "check-fail",
	[F_SHM_BAD_COUNT] = "shm-bad-count",
	[F_IGNORE] = "ignore",
	[F_DELAY] = "delay",
	[F_DS_KILL] = "ds-kill",
	[F_DS_ENDLESS] = "ds-endless",
	[F_DS_DRIP] = "ds-drip",
	[F_DS_STEAL] = "ds-steal",
	[F_DS_REFILL] = "ds-refill",
	[F_INFLIGHT_HUGE] = "inflight-huge",
};

/* Kinds that replace the normal delivery of a reply; the first matching
 * one (command-line order) wins.  All other kinds combine freely. */
static bool kind_is_delivery(enum fault_kind k)
{
	switch (k) {
	case F_HUGE_SIZE:
	case F_SHORT_SILENCE:
	case F_SHORT_CLOSE:
	case F_CLOSE_MID_HEADER:
	case F_GARBAGE:
	case F_SLOW:
	case F_SILENT: return true;
	default: return false;
	}
}

/* One --backend-msg: a request the mock sends on the back-end channel
 * as soon as SET_BACKEND_REQ_FD arrives. */
#define MAX_BMSGS 32
struct bmsg {
	uint32_t code;
	char name[40]; /* as logged: IOTLB_MSG, ..., REQ_<n> */
	bool need_reply;
	unsigned nfds; /* memfds attached */
	bool late_fd;  /* attach them to the payload, not the first byte */
	bool block;    /* hold everything else until its answer came (as a
			* back-end that waits for the ack, spec "Back-end communication") */
	bool have_flags, have_size;
	uint32_t flags, size;
	bool eof;	  /* not a message: shut down our sending side */
	bool close;	  /* not a message: close the channel altogether */
	bool stall;	  /* send the header and half the payload, never the rest */
	bool after;	  /* send once the trigger's reply is out, not before */
	uint32_t trigger; /* front-end request that releases it */
};

#define FAULT_ANY    (-1)
#define FAULT_ACCEPT (-2)
#define MAX_FAULTS   64

struct fault {
	int req; /* request code, FAULT_ANY or FAULT_ACCEPT */
	enum fault_kind kind;
	bool has_arg;
	uint64_t arg;
};

/* ------------------------------------------------------------------ */
/* Global configuration                                                */

static struct {
	const char *socket_path;
	const char *connect_path; /* --connect: the back-end is the client */
	const char *pidfile;
	const char *logfile;
	bool once;
	uint64_t features;
	uint64_t protocol_features;
	uint64_t queues;
	uint64_t mem_slots;
	uint64_t state_size;
	struct fault faults[MAX_FAULTS];
	unsigned nfaults;
	uint64_t shm_regions;  /* GET_SHARED_MEMORY_REGIONS count */
	bool shared_object_fd; /* GET_SHARED_OBJECT returns a memfd */
	struct bmsg bmsgs[MAX_BMSGS];
	unsigned nbmsgs;
	bool iommu;	 /* --iommu: offer ACCESS_PLATFORM, send IOTLB misses */
	bool iommu_ack;	 /* --iommu=ack: misses carry NEED_REPLY */
	bool iommu_late; /* --iommu=late: no miss at SET_VRING_KICK; the device
			  * side asks when a kicked ring is not mapped */
} opt;

/* Config space persists across connections (process lifetime). */
static uint8_t g_config[VHU_MAX_PAYLOAD];
static size_t g_config_len = VHOST_USER_MAX_CONFIG_SIZE;

static int g_log_fd = -1;
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

/* For the signal handler: path to unlink, only once we created it. */
static char g_sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static volatile sig_atomic_t g_sock_bound;

static const struct fault *find_fault(int req, enum fault_kind kind)
{
	for (unsigned i = 0; i < opt.nfaults; i++) {
		const struct fault *f = &opt.faults[i];

		if (f->kind != kind)
			continue;
		if (f->req == req || (f->req == FAULT_ANY && req >= 0))
			return f;
	}
	return NULL;
}

static bool has_fault(int req, enum fault_kind kind)
{
	return find_fault(req, kind) != NULL;
}

static const struct fault *find_delivery_fault(int req)
{
	for (unsigned i = 0; i < opt.nfaults; i++) {
		const struct fault *f = &opt.faults[i];

		if (!kind_is_delivery(f->kind))
			continue;
		if (f->req == req || (f->req == FAULT_ANY && req >= 0))
			return f;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char buf[4096]; /* a whole net frame in hex */
	va_list ap;
	int n;

	if (g_log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write() per line on an O_APPEND fd: readers never see a
	 * half line, and nothing sits in a stdio buffer. */
	pthread_mutex_lock(&g_log_mu);
	if (write(g_log_fd, buf, (size_t)n) < 0) {
		/* Nothing sensible to do; the test will notice. */
	}
	pthread_mutex_unlock(&g_log_mu);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint8_t state_byte(uint64_t i)
{
	return (uint8_t)((i * 31 + 7) & 0xff);
}

/* The stream repeats every 256 bytes: bytes pos.. of it are
 * state_pattern() + pos % 256, for up to XFER_CHUNK bytes (so a 1 GiB
 * transfer costs memcpy/memcmp, not a loop per byte). */
static uint8_t g_pattern[XFER_CHUNK + 256];
static pthread_once_t g_pattern_once = PTHREAD_ONCE_INIT;

static void pattern_init(void)
{
	for (uint64_t i = 0; i < sizeof(g_pattern); i++)
		g_pattern[i] = state_byte(i);
}

static const uint8_t *state_pattern(uint64_t pos)
{
	pthread_once(&g_pattern_once, pattern_init);
	return g_pattern + pos % 256;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int open_devnull(void)
{
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* ------------------------------------------------------------------ */
/* Device-state transfer thread                                        */

/* How a transfer misbehaves (faults on SET_DEVICE_STATE_FD). */
struct xfer_abuse {
	uint64_t kill_at; /* ds-kill: SIGKILL the mock after this many bytes; 0 = never */
	uint64_t drip_ms; /* ds-drip: one byte per drip_ms, forever; 0 = off */
	uint64_t race_n;  /* ds-steal: bytes written / ds-refill: pages read, then stall */
	bool race;	  /* ds-steal or ds-refill */
	int aux_fd;	  /* our copy of the fd the front-end got: stolen from
			   * (SAVE) or refilled (LOAD) behind its back; -1 = none */
	pid_t peer;	  /* the front-end (SO_PEERCRED), 0 = unknown */
};

struct xfer {
	pthread_t th;
	int fd;	     /* data fd: pipe end we write (SAVE) or read (LOAD) */
	int stop_rd; /* becomes readable (HUP) when we want it to stop */
	int stop_wr;
	uint32_t dir;
	uint64_t limit; /* SAVE: bytes to write */
	struct xfer_abuse ab;
	pthread_t aux; /* the thief / refiller on ab.aux_fd */
	bool aux_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	bool ok;
	uint64_t bytes;
};

/* ds-kill: the back-end dies mid-stream, every fd with it. */
static void xfer_die(uint64_t bytes)
{
	log_line("KILLED bytes=%" PRIu64, bytes);
	kill(getpid(), SIGKILL);
}

/* Sleep @ms unless asked to stop: false when asked. */
static bool xfer_nap(struct xfer *x, uint64_t ms)
{
	struct pollfd p = { .fd = x->stop_rd, .events = POLLIN };

	while (poll(&p, 1, (int)ms) < 0)
		if (errno != EINTR)
			return false;
	return !p.revents;
}

/* ds-steal/ds-refill: true once the front-end sleeps in a blocking read
 * (SAVE) or write (LOAD) system call (/proc/PID/syscall starts with its
 * number): the race was lost, and a stall now keeps it there for good.
 * Without access to /proc the race just runs its course. */
static bool peer_blocked(const struct xfer *x)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	if (!x->ab.peer)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)x->ab.peer);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !strncmp(buf, x->dir == VHOST_USER_DEVICE_STATE_SAVE ? "0 " : "1 ", 2);
}

/* Hold every fd open and do nothing until asked to stop. */
static bool xfer_stall(struct xfer *x)
{
	log_line("STALLED bytes=%" PRIu64 "%s", x->bytes,
		 x->ab.race && peer_blocked(x) ? " peer-blocked" : "");
	while (xfer_nap(x, 1000))
		;
	return false;
}

static void on_usr1(int sig)
{
	(void)sig; /* only to interrupt a blocking read/write (EINTR) */
}

/* ds-steal (SAVE): read back what we write, racing the front-end's reads
 * on the same pipe end.  ds-refill (LOAD): fill the pipe with junk as
 * soon as there is room, racing the front-end's writes.  Plain blocking
 * calls on the shared open file: a front-end that reads or writes without
 * O_NONBLOCK after its poll() then blocks. */
static void *xfer_aux(void *arg)
{
	struct xfer *x = arg;
	uint8_t junk[4096];

	memset(junk, 0xee, sizeof(junk));
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = x->ab.aux_fd,
			  .events = x->dir == VHOST_USER_DEVICE_STATE_SAVE ? POLLIN : POLLOUT },
			{ .fd = x->stop_rd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (x->dir == VHOST_USER_DEVICE_STATE_SAVE)
			n = read(x->ab.aux_fd, junk, 1);
		else
			n = write(x->ab.aux_fd, junk, sizeof(junk));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	return NULL;
}

/* Wait for the data fd (or the stop pipe).  Returns 1 when the data fd
 * is ready, 0 when asked to stop, -1 on error.  Data wins over stop so
 * a LOAD drains what the front-end wrote before it disconnected. */
static int xfer_wait_io(struct xfer *x, short ev)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = x->fd, .events = ev },
			{ .fd = x->stop_rd, .events = POLLIN },
		};
		int r = poll(p, 2, -1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[0].revents)
			return 1;
		if (p[1].revents)
			return 0;
	}
}

static bool xfer_save(struct xfer *x)
{
	uint64_t pos = 0;

	while (pos < x->limit) {
		size_t n = x->limit - pos > XFER_CHUNK ? XFER_CHUNK : (size_t)(x->limit - pos);
		ssize_t w;

		if (x->ab.race && (pos >= x->ab.race_n || peer_blocked(x)))
			return xfer_stall(x);
		if (x->ab.kill_at && pos >= x->ab.kill_at)
			xfer_die(pos);
		if (x->ab.drip_ms || x->ab.race)
			n = 1;
		if (x->ab.kill_at && n > x->ab.kill_at - pos)
			n = (size_t)(x->ab.kill_at - pos);
		if (xfer_wait_io(x, POLLOUT) <= 0)
			return false;
		w = write(x->fd, state_pattern(pos), n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return false; /* EPIPE: the reader went away */
		}
		pos += (uint64_t)w;
		x->bytes = pos;
		if ((x->ab.drip_ms || x->ab.race) && !xfer_nap(x, x->ab.drip_ms ? x->ab.drip_ms : 1))
			return false;
	}
	return true;
}

static bool xfer_load(struct xfer *x)
{
	uint8_t buf[XFER_CHUNK];
	uint64_t pos = 0;
	bool match = true;

	for (;;) {
		size_t want = sizeof(buf);
		ssize_t r;

		if (x->ab.race && (pos >= x->ab.race_n * 4096 || peer_blocked(x)))
			return xfer_stall(x);
		if (x->ab.kill_at && pos >= x->ab.kill_at)
			xfer_die(pos);
		if (x->ab.drip_ms)
			want = 1;
		else if (x->ab.race)
			want = 4096;
		if (x->ab.kill_at && want > x->ab.kill_at - pos)
			want = (size_t)(x->ab.kill_at - pos);
		if (xfer_wait_io(x, POLLIN) <= 0)
			return false;
		r = read(x->fd, buf, want);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return false;
		}
		if (r == 0)
			break;
		if (match && memcmp(buf, state_pattern(pos), (size_t)r))
			match = false;
		pos += (uint64_t)r;
		x->bytes = pos;
		if ((x->ab.drip_ms || x->ab.race) && !xfer_nap(x, x->ab.drip_ms ? x->ab.drip_ms : 1))
			return false;
	}
	/* match=1: the bytes are exactly what a mock SAVE of that size
	 * produces, so round trips can be checked end to end. */
	log_line("LOADED bytes=%" PRIu64 " match=%d", pos, match && pos > 0);
	return pos > 0;
}

static void *xfer_thread(void *arg)
{
	struct xfer *x = arg;
	bool ok;

	ok = x->dir == VHOST_USER_DEVICE_STATE_SAVE ? xfer_save(x) : xfer_load(x);
	/* Close right away: the front-end's reader needs EOF (SAVE). */
	close_fd(&x->fd);
	pthread_mutex_lock(&x->mu);
	x->ok = ok;
	x->done = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

static struct xfer *xfer_start(uint32_t dir, int fd, uint64_t limit, const struct xfer_abuse *ab)
{
	struct xfer *x = calloc(1, sizeof(*x));
	pthread_condattr_t ca;
	int sp[2];
	int fl;

	if (!x)
		goto fail_fd;
	if (pipe2(sp, O_CLOEXEC) < 0)
		goto fail_x;
	x->fd = fd;
	x->stop_rd = sp[0];
	x->stop_wr = sp[1];
	x->dir = dir;
	x->limit = limit;
	x->ab = *ab;
	pthread_mutex_init(&x->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Non-blocking so the thread can always notice a stop request. */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (pthread_create(&x->th, NULL, xfer_thread, x) != 0) {
		close(sp[0]);
		close(sp[1]);
		pthread_cond_destroy(&x->cv);
		pthread_mutex_destroy(&x->mu);
		goto fail_x;
	}
	if (x->ab.aux_fd >= 0)
		x->aux_started = pthread_create(&x->aux, NULL, xfer_aux, x) == 0;
	return x;
fail_x:
	free(x);
fail_fd:
	close(fd);
	if (ab->aux_fd >= 0)
		close(ab->aux_fd);
	return NULL;
}

/* Wait up to ms for the transfer to finish; returns its success. */
static bool xfer_wait(struct xfer *x, long ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&x->mu);
	while (!x->done) {
		if (pthread_cond_timedwait(&x->cv, &x->mu, &ts) == ETIMEDOUT)
			break;
	}
	ok = x->done && x->ok;
	pthread_mutex_unlock(&x->mu);
	return ok;
}

static void xfer_finish(struct xfer **xp, long grace_ms)
{
	struct xfer *x = *xp;

	if (!x)
		return;
	/* A stream that stalls, drips or never ends is not waited for. */
	if (grace_ms > 0 && !x->ab.race && !x->ab.drip_ms && x->limit != UINT64_MAX)
		xfer_wait(x, grace_ms);
	close_fd(&x->stop_wr);
	pthread_join(x->th, NULL);
	/* The thief/refiller may sit in a blocking call: knock until it
	 * sees the stop pipe. */
	while (x->aux_started && pthread_tryjoin_np(x->aux, NULL) == EBUSY) {
		pthread_kill(x->aux, SIGUSR1);
		sleep_ms(1);
	}
	close_fd(&x->ab.aux_fd);
	close_fd(&x->stop_rd);
	close_fd(&x->fd);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->mu);
	free(x);
	*xp = NULL;
}

/* ------------------------------------------------------------------ */
/* Connection                                                          */

enum ds_state { DS_NONE, DS_REFUSED, DS_STARTED };

struct conn {
	int fd;
	bool mute; /* after huge-size/short-silence: read on, never write */
	uint64_t features;
	uint64_t protocol_features;
	uint64_t status;
	uint32_t vring_base[VHOST_USER_MAX_VRINGS];
	enum ds_state ds;
	struct xfer *xfer;
	/* Back-end channel: the fd SET_BACKEND_REQ_FD gave us, and the
	 * --backend-msg requests still waiting for the front-end's answer
	 * (FIFO: the front-end answers in order). */
	int chan_fd;
	/* --iommu: what SET_MEM_TABLE and SET_VRING_ADDR said, and the acks
	 * of NEED_REPLY misses still to come on the channel. */
	struct vhost_user_memory mem;
	uint64_t ring_desc[VHOST_USER_MAX_VRINGS];
	unsigned iotlb_acks_due;
	struct mdev *dev; /* --blk: the device side */
	struct {
		unsigned idx;	  /* into opt.bmsgs */
		int64_t deadline; /* CLOCK_MONOTONIC ms */
	} pending[2 * MAX_BMSGS];
	unsigned npending;
};

struct msg {
	struct vhost_user_hdr hdr;
	uint8_t payload[VHU_MAX_PAYLOAD];
	int fds[MAX_RX_FDS];
	unsigned nfds;
};

struct reply {
	bool present;
	struct vhost_user_hdr hdr;
	uint8_t body[REPLY_BUF];
	uint32_t len;
	int fds[MAX_TX_FDS];
	unsigned nfds;
};

/* A transfer to start once the SET_DEVICE_STATE_FD reply is out. */
struct pending_xfer {
	bool set;
	uint32_t dir;
	int fd;
	uint64_t limit;
	struct xfer_abuse ab;
};

static void reply_init(struct reply *r, uint32_t code)
{
	r->present = true;
	r->hdr.request = code;
	r->hdr.flags = REPLY_FLAGS;
	r->len = 0;
	r->nfds = 0;
}

static void reply_u64(struct reply *r, uint32_t code, uint64_t v)
{
	reply_init(r, code);
	put_u64(r->body, v);
	r->len = 8;
}

static void reply_add_fd(struct reply *r, int fd)
{
	if (fd < 0)
		return;
	if (r->nfds >= MAX_TX_FDS) {
		close(fd);
		return;
	}
	r->fds[r->nfds++] = fd;
}

static void reply_close_fds(struct reply *r)
{
	for (unsigned i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
}

/* Receive up to len bytes, collecting SCM_RIGHTS fds into m. */
static ssize_t recv_some(int fd, void *buf, size_t len, struct msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_RX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int rfd;

			memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (m->nfds < MAX_RX_FDS)
				m->fds[m->nfds++] = rfd;
			else
				close(rfd);
		}
	}
	return n;
}

/* 1: got len bytes; 0: clean EOF before the first byte; -1: error/short. */
static int recv_exact(int fd, void *buf, size_t len, struct msg *m)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv_some(fd, (uint8_t *)buf + got, len - got, m);

		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

static void msg_close_fds(struct msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		close_fd(&m->fds[i]);
	m->nfds = 0;
}

/* Take ownership of the first received fd (or -1). */
static int msg_take_fd(struct msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++) {
		if (m->fds[i] >= 0) {
			int fd = m->fds[i];

			m->fds[i] = -1;
			return fd;
		}
	}
	return -1;
}

static int send_bytes(int fd, const uint8_t *p, size_t n, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_TX_FDS)];
		struct cmsghdr align;
	} cbuf;
	size_t off = 0;

	memset(&cbuf, 0, sizeof(cbuf));
	while (off < n) {
		struct iovec iov = { .iov_base = (void *)(p + off), .iov_len = n - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t w;

		/* Fds ride on the first byte of the message (spec "Communication"). */
		if (off == 0 && nfds > 0) {
			struct cmsghdr *c;

			mh.msg_control = cbuf.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Back-end channel (--backend-msg)                                    */

/* How long an answer to a NEED_REPLY (or LOOKUP) request may take. */
/* Generous: on a loaded machine the front-end may be descheduled a while;
 * tests look for the ACK line, never for this timeout. */
#define BACKEND_ACK_MS 30000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A 4096-byte memfd: what SHMEM_MAP, host notifiers and shared objects
 * hand over in real back-ends is shared memory too. */
static int make_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, 4096) < 0)
		close_fd(&fd);
	return fd;
}

/* The RFC 4122 example UUID, in wire (big-endian) order. */
static const uint8_t mock_uuid[16] = {
	0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x11, 0xd2, 0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x27,
};

/* A plausible payload for back-end request b into p; returns its size. */
static uint32_t bmsg_payload(const struct bmsg *b, uint8_t *p)
{
	switch (b->code) {
	case VHOST_USER_BACKEND_IOTLB_MSG: {
		/* An IOTLB miss (type 1) for a read (perm 1) at 1 MiB. */
		struct vhost_iotlb_msg_wire io = { .iova = 0x100000, .size = 0x1000, .perm = 1, .type = 1 };

		memcpy(p, &io, sizeof(io));
		return sizeof(io);
	}
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG: return 0;
	case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG: {
		/* Ring 0, one page; without an fd the no-fd bit (unregister). */
		struct vhost_user_vring_area a = {
			.u64 = b->nfds ? 0 : VHOST_USER_VRING_NOFD_MASK,
			.size = 4096,
			.offset = 0,
		};

		memcpy(p, &a, sizeof(a));
		return sizeof(a);
	}
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR: {
		struct vhost_vring_state vs = { 0, 0 };

		memcpy(p, &vs, sizeof(vs));
		return sizeof(vs);
	}
	case VHOST_USER_BACKEND_SHARED_OBJECT_ADD:
	case VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE:
	case VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP:
		memcpy(p, mock_uuid, sizeof(mock_uuid));
		return sizeof(mock_uuid);
	case VHOST_USER_BACKEND_SHMEM_MAP:
	case VHOST_USER_BACKEND_SHMEM_UNMAP: {
		/* One read-write page at the start of region 0. */
		struct vhost_user_mmap mm = {
			.len = 0x1000,
			.flags = b->code == VHOST_USER_BACKEND_SHMEM_MAP ? 1 : 0,
		};

		memcpy(p, &mm, sizeof(mm));
		return sizeof(mm);
	}
	default:
		/* Unknown code: 8 recognisable bytes. */
		for (unsigned i = 0; i < 8; i++)
			p[i] = (uint8_t)(i + 1);
		return 8;
	}
}

static void pending_pop(struct conn *c)
{
	if (!c->npending)
		return;
	memmove(&c->pending[0], &c->pending[1], (c->npending - 1) * sizeof(c->pending[0]));
	c->npending--;
}

static void fail_pending(struct conn *c, const char *why)
{
	while (c->npending) {
		log_line("BACKEND_NOACK %s %s", opt.bmsgs[c->pending[0].idx].name, why);
		pending_pop(c);
	}
}

static void read_backend_ack(struct conn *c);

/* :stall: wait (at most 30 s) until the front-end has read everything we
 * sent on the channel (SIOCOUTQ: bytes not yet read by the peer), then
 * log it: from then on it is inside the unfinished message. */
static void wait_consumed(struct conn *c, const struct bmsg *b)
{
	for (int i = 0; i < 30000 && c->chan_fd >= 0; i++) {
		int queued = -1;

		if (ioctl(c->chan_fd, SIOCOUTQ, &queued) < 0 || queued == 0) {
			log_line("BACKEND_CONSUMED %s", b->name);
			return;
		}
		sleep_ms(1);
	}
}

/* Send, in order, every --backend-msg released by front-end request
 * @trigger (SET_BACKEND_REQ_FD unless on=REQ was given): those without
 * :after before its reply (@after false), the others after it. */
static void send_backend_msgs(struct conn *c, uint32_t trigger, bool after)
{
	static uint8_t buf[VHOST_USER_HDR_SIZE + 2 * VHU_MAX_PAYLOAD];

	for (unsigned i = 0; i < opt.nbmsgs && c->chan_fd >= 0; i++) {
		const struct bmsg *b = &opt.bmsgs[i];
		struct vhost_user_hdr h;
		int fds[MAX_TX_FDS];
		uint32_t len, body;
		int rc;

		if (b->trigger != trigger || b->after != after)
			continue;
		if (b->eof) {
			/* EOF for the front-end; its answers still reach us. */
			shutdown(c->chan_fd, SHUT_WR);
			log_line("BACKEND_EOF");
			continue;
		}
		if (b->close) {
			/* Gone: answers due now can never be read. */
			log_line("BACKEND_CLOSE");
			fail_pending(c, "closed");
			close_fd(&c->chan_fd);
			return;
		}
		memset(buf, 0, sizeof(buf));
		len = bmsg_payload(b, buf + VHOST_USER_HDR_SIZE);
		if (b->have_size)
			len = b->size;
		/* A size beyond any cap: announce it, send only the header
		 * (the front-end must refuse before reading the body). */
		body = len > VHU_MAX_PAYLOAD ? 0 : len;
		h.request = b->code;
		h.flags = b->have_flags
				  ? b->flags
				  : VHOST_USER_VERSION | (b->need_reply ? VHOST_USER_NEED_REPLY_MASK : 0);
		h.size = len;
		memcpy(buf, &h, sizeof(h));
		for (unsigned k = 0; k < b->nfds; k++)
			fds[k] = make_memfd("vhu-mock-chan");
		if (b->late_fd && body) {
			/* fds with the payload, not the first byte (spec "Communication"
			 * violation): header first, then body + fds. */
			rc = send_bytes(c->chan_fd, buf, VHOST_USER_HDR_SIZE, NULL, 0);
			if (rc == 0)
				rc = send_bytes(c->chan_fd, buf + VHOST_USER_HDR_SIZE, body, fds, b->nfds);
		} else {
			rc = send_bytes(c->chan_fd, buf, VHOST_USER_HDR_SIZE + (b->stall ? body / 2 : body),
					fds, b->nfds);
		}
		for (unsigned k = 0; k < b->nfds; k++)
			close_fd(&fds[k]);
		if (rc < 0) {
			log_line("BACKEND_SENDFAIL %s", b->name);
			fail_pending(c, "closed");
			close_fd(&c->chan_fd);
			return;
		}
		log_line("BACKEND_SENT %s flags=0x%x size=%u fds=%u%s", b->name, h.flags, h.size, b->nfds,
			 b->stall ? " stalled" : "");
		if (b->stall) {
			/* Never finished: no answer can be due. */
			wait_consumed(c, b);
			continue;
		}
		/* Spec: an answer is due for NEED_REPLY, and always for LOOKUP. */
		if (((h.flags & VHOST_USER_NEED_REPLY_MASK) ||
		     b->code == VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP) &&
		    c->npending < sizeof(c->pending) / sizeof(c->pending[0])) {
			c->pending[c->npending].idx = i;
			c->pending[c->npending].deadline = mono_ms() + BACKEND_ACK_MS;
			c->npending++;
			/* A blocking back-end answers nothing on the main socket
			 * until the front-end has acked on the channel. */
			while (b->block && c->npending && c->chan_fd >= 0)
				read_backend_ack(c);
		}
	}
}

/* 1: len bytes read; 0: EOF before the first; -1: error, short or timeout.
 * fds that come along are counted and closed. */
static int recv_timed(int fd, void *buf, size_t len, int64_t deadline, unsigned *nfds)
{
	static struct msg tmp;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();
		ssize_t n;
		int r;

		r = poll(&p, 1, left < 0 ? 0 : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -1;
		tmp.nfds = 0;
		n = recv_some(fd, (uint8_t *)buf + got, len - got, &tmp);
		*nfds += tmp.nfds;
		msg_close_fds(&tmp);
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

/* Read the front-end's answer to the oldest request still waiting and log
 * it: BACKEND_ACK NAME value=N when well-formed (request echoed, flags
 * exactly REPLY|1, 8 bytes, no fd), BACKEND_BADACK otherwise. */
static void read_backend_ack(struct conn *c)
{
	const struct bmsg *b = &opt.bmsgs[c->pending[0].idx];
	struct vhost_user_hdr h;
	uint8_t body[VHU_MAX_PAYLOAD];
	int64_t deadline = mono_ms() + BACKEND_ACK_MS;
	unsigned nfds = 0;
	uint64_t v = 0;
	int r = recv_timed(c->chan_fd, &h, sizeof(h), deadline, &nfds);

	if (r <= 0) {
		fail_pending(c, r == 0 ? "closed" : "error");
		close_fd(&c->chan_fd);
		return;
	}
	if (h.size > VHU_MAX_PAYLOAD ||
	    (h.size && recv_timed(c->chan_fd, body, h.size, deadline, &nfds) <= 0)) {
		log_line("BACKEND_BADACK %s request=%u flags=0x%x size=%u (unreadable)", b->name, h.request,
			 h.flags, h.size);
		pending_pop(c);
		fail_pending(c, "closed");
		close_fd(&c->chan_fd);
		return;
	}
	if (h.size >= 8)
		memcpy(&v, body, 8);
	if (h.request == b->code && h.flags == REPLY_FLAGS && h.size == 8 && nfds == 0)
		log_line("BACKEND_ACK %s value=%" PRIu64, b->name, v);
	else
		log_line("BACKEND_BADACK %s request=%u flags=0x%x size=%u fds=%u value=%" PRIu64, b->name,
			 h.request, h.flags, h.size, nfds, v);
	pending_pop(c);
}

/* ------------------------------------------------------------------ */
/* IOMMU (--iommu)                                                     */

/* With ACCESS_PLATFORM acked, DPDK translates a ring when SET_VRING_KICK
 * arrives and, missing the iova, sends a BACKEND_IOTLB_MSG miss (type 1,
 * read-write) before its reply: so does the mock, for the descriptor
 * table of the ring. */
static void iotlb_send_miss_at(struct conn *c, uint32_t ring, uint64_t iova)
{
	struct {
		struct vhost_user_hdr h;
		struct vhost_iotlb_msg_wire m;
	} __attribute__((packed)) out;

	if (c->chan_fd < 0)
		return;
	memset(&out, 0, sizeof(out));
	out.h.request = VHOST_USER_BACKEND_IOTLB_MSG;
	out.h.flags = VHOST_USER_VERSION | (opt.iommu_ack ? VHOST_USER_NEED_REPLY_MASK : 0);
	out.h.size = sizeof(out.m);
	out.m.iova = iova;
	out.m.perm = 3;
	out.m.type = 1;
	if (send_bytes(c->chan_fd, (const uint8_t *)&out, sizeof(out), NULL, 0) < 0) {
		log_line("IOTLB_MISS_SENDFAIL ring=%u", ring);
		return;
	}
	if (opt.iommu_ack)
		c->iotlb_acks_due++;
	if (ring < VHOST_USER_MAX_VRINGS)
		log_line("IOTLB_MISS_SENT ring=%u iova=0x%" PRIx64 " perm=3 flags=0x%x", ring, out.m.iova,
			 out.h.flags);
	else
		log_line("IOTLB_MISS_SENT ring=late iova=0x%" PRIx64 " perm=3 flags=0x%x", out.m.iova,
			 out.h.flags);
}

static void iotlb_send_miss(struct conn *c, uint32_t ring)
{
	if (ring < VHOST_USER_MAX_VRINGS && !opt.iommu_late)
		iotlb_send_miss_at(c, ring, c->ring_desc[ring]);
}

/* The acks of NEED_REPLY misses, without waiting: the front-end sends each
 * right after the update's reply, so it is there by its next request. */
static void iotlb_read_acks(struct conn *c)
{
	while (c->iotlb_acks_due && c->chan_fd >= 0) {
		struct {
			struct vhost_user_hdr h;
			uint64_t v;
		} __attribute__((packed)) in;
		ssize_t n = recv(c->chan_fd, &in, sizeof(in), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		c->iotlb_acks_due--;
		if (n == (ssize_t)sizeof(in) && in.h.request == VHOST_USER_BACKEND_IOTLB_MSG &&
		    in.h.flags == REPLY_FLAGS && in.h.size == 8)
			log_line("IOTLB_ACK value=%" PRIu64, in.v);
		else
			log_line("IOTLB_BADACK bytes=%zd", n);
	}
}

/* IOTLB_MSG from the front-end: logged with what the update maps, checked
 * against the memory table (identity: uaddr at the same offset into the
 * region as iova is into its guest-physical range). */
static void iotlb_update(struct conn *c, const struct msg *m)
{
	struct vhost_iotlb_msg_wire w;
	const char *id = "none";
	char early = 0;

	if (m->hdr.size < sizeof(w))
		return;
	memcpy(&w, m->payload, sizeof(w));
	for (unsigned i = 0; i < c->mem.nregions && i < VHOST_MEMORY_BASELINE_NREGIONS; i++) {
		const struct vhost_user_memory_region *g = &c->mem.regions[i];

		if (w.uaddr < g->userspace_addr || w.uaddr - g->userspace_addr >= g->memory_size)
			continue;
		id = w.uaddr - g->userspace_addr == w.iova - g->guest_phys_addr ? "yes" : "no";
		break;
	}
	/* The ack of a NEED_REPLY miss must come after this update. */
	if (c->iotlb_acks_due && c->chan_fd >= 0 && recv(c->chan_fd, &early, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
		log_line("IOTLB_ACK_EARLY");
	if (w.type == 2)
		log_line("IOTLB_UPDATE iova=0x%" PRIx64 " size=0x%" PRIx64 " perm=%u identity=%s", w.iova,
			 w.size, w.perm, id);
	else
		log_line("IOTLB_TYPE%u iova=0x%" PRIx64 " size=0x%" PRIx64, w.type, w.iova, w.size);
}

/* ------------------------------------------------------------------ */
/* Request handlers                                                    */

static void handle_get_config(const struct msg *m, struct reply *r)
{
	struct vhost_user_config req;
	uint32_t code = m->hdr.request;
	uint64_t off, size, n;

	memcpy(&req, m->payload, VHOST_USER_CONFIG_HDR_SIZE);
	reply_init(r, code);
	if (has_fault(code, F_EMPTY_CONFIG))
		return; /* size-0 payload: the spec's error signal */
	off = req.offset;
	size = req.size;
	if (has_fault(code, F_CONFIG_SIZE))
		size += 2;
	/* A window we cannot carry in one message gets the error reply. */
	if (size > VHU_MAX_PAYLOAD - VHOST_USER_CONFIG_HDR_SIZE)
		return;
	req.size = (uint32_t)size;
	if (has_fault(code, F_CONFIG_OFFSET))
		req.offset++;
	memcpy(r->body, &req, VHOST_USER_CONFIG_HDR_SIZE);
	memset(r->body + VHOST_USER_CONFIG_HDR_SIZE, 0, size);
	if (off < g_config_len) {
		n = g_config_len - off;
		if (n > size)
			n = size;
		memcpy(r->body + VHOST_USER_CONFIG_HDR_SIZE, g_config + off, n);
	}
	r->len = VHOST_USER_CONFIG_HDR_SIZE + (uint32_t)size;
}

static void handle_set_config(const struct msg *m)
{
	struct vhost_user_config req;
	uint64_t off, size, avail;

	if (m->hdr.size < VHOST_USER_CONFIG_HDR_SIZE)
		return;
	memcpy(&req, m->payload, VHOST_USER_CONFIG_HDR_SIZE);
	off = req.offset;
	size = req.size;
	avail = m->hdr.size - VHOST_USER_CONFIG_HDR_SIZE;
	if (size > avail)
		size = avail;
	if (off >= g_config_len)
		return;
	if (size > g_config_len - off)
		size = g_config_len - off;
	memcpy(g_config + off, m->payload + VHOST_USER_CONFIG_HDR_SIZE, size);
}

static void handle_get_inflight(const struct msg *m, struct reply *r)
{
	struct vhost_user_inflight in;
	uint64_t stride;
	int fd = -1;

	memcpy(&in, m->payload, sizeof(in));
	stride = ((16 + 16 * (uint64_t)in.queue_size) + 63) & ~UINT64_C(63);
	in.mmap_size = in.num_queues && in.queue_size ? in.num_queues * stride : 0;
	in.mmap_offset = 0;
	in.padding = 0;
	{
		/* inflight-huge[:SIZE]: claim a SIZE-byte (default 1 TiB)
		 * buffer, backed by a sparse memfd of that size. */
		const struct fault *f = find_fault((int)m->hdr.request, F_INFLIGHT_HUGE);

		if (f)
			in.mmap_size = f->has_arg && f->arg ? f->arg : UINT64_C(1) << 40;
	}
	if (in.mmap_size) {
		fd = memfd_create("vhu-mock-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd >= 0 && ftruncate(fd, (off_t)in.mmap_size) < 0)
			close_fd(&fd);
		if (fd < 0) {
			in.mmap_size = 0; /* could not allocate: report "none" */
		} else {
			/* Sealed like libvhost-user's buffer. */
			fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
		}
	}
	reply_init(r, m->hdr.request);
	memcpy(r->body, &in, sizeof(in));
	r->len = sizeof(in);
	reply_add_fd(r, fd);
}

static void handle_set_device_state(struct conn *c, struct msg *m, struct reply *r, struct pending_xfer *px)
{
	struct vhost_user_transfer_state ts;
	uint32_t code = m->hdr.request;
	uint64_t value = 0x100; /* "no fd returned, use yours" */
	int data_fd, own[2];

	memcpy(&ts, m->payload, sizeof(ts));
	/* A new transfer supersedes any previous one on this connection. */
	xfer_finish(&c->xfer, XFER_WAIT_MS);
	c->ds = DS_REFUSED;
	if (has_fault(code, F_DS_ERROR) || m->nfds != 1 || m->hdr.size < sizeof(ts) ||
	    ts.direction > VHOST_USER_DEVICE_STATE_LOAD ||
	    ts.phase != VHOST_USER_DEVICE_STATE_PHASE_STOPPED) {
		reply_u64(r, code, 0x101);
		return;
	}
	data_fd = msg_take_fd(m);
	if (has_fault(code, F_DS_OWN_FD) && pipe2(own, O_CLOEXEC) == 0) {
		/* Hand the front-end the other end of our own pipe and
		 * drop the one it gave us. */
		int given = ts.direction == VHOST_USER_DEVICE_STATE_SAVE ? own[0] : own[1];
		const struct fault *f = find_fault(
			code, ts.direction == VHOST_USER_DEVICE_STATE_SAVE ? F_DS_STEAL : F_DS_REFILL);

		close(data_fd);
		data_fd = ts.direction == VHOST_USER_DEVICE_STATE_SAVE ? own[1] : own[0];
		reply_u64(r, code, has_fault(code, F_DS_BAD_FDS) ? 0x100 : 0);
		/* ds-steal / ds-refill: keep a copy of the end we give away
		 * (the same open file, flags shared) to race the front-end. */
		if (f) {
			struct ucred cred;
			socklen_t clen = sizeof(cred);

			px->ab.race = true;
			px->ab.race_n = f->has_arg ? f->arg : 200;
			px->ab.aux_fd = fcntl(given, F_DUPFD_CLOEXEC, 0);
			if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
				px->ab.peer = cred.pid;
		}
		reply_add_fd(r, given);
	} else {
		reply_u64(r, code, value);
		if (has_fault(code, F_DS_BAD_FDS))
			reply_add_fd(r, open_devnull());
	}
	px->set = true;
	px->dir = ts.direction;
	px->fd = data_fd;
	px->limit = opt.state_size;
	if (ts.direction == VHOST_USER_DEVICE_STATE_SAVE) {
		const struct fault *f = find_fault(code, F_DS_TRUNCATE);

		if (f)
			px->limit = f->has_arg ? f->arg : opt.state_size / 2;
		if (px->limit > opt.state_size)
			px->limit = opt.state_size;
		if (has_fault(code, F_DS_ENDLESS) || has_fault(code, F_DS_DRIP))
			px->limit = UINT64_MAX;
	}
	{
		const struct fault *k = find_fault(code, F_DS_KILL), *d = find_fault(code, F_DS_DRIP);

		if (k)
			px->ab.kill_at = k->has_arg && k->arg ? k->arg
					 : ts.direction == VHOST_USER_DEVICE_STATE_SAVE && opt.state_size > 1
						 ? opt.state_size / 2
						 : 65536;
		if (d)
			px->ab.drip_ms = d->has_arg && d->arg ? d->arg : 500;
	}
	c->ds = DS_STARTED;
}

static uint64_t check_device_state(struct conn *c)
{
	if (has_fault(VHOST_USER_CHECK_DEVICE_STATE, F_CHECK_FAIL))
		return 1;
	switch (c->ds) {
	case DS_NONE: return 0;
	case DS_REFUSED: return 1;
	case DS_STARTED:
		/* The transfer thread may still be draining the pipe. */
		return c->xfer && xfer_wait(c->xfer, XFER_WAIT_MS) ? 0 : 1;
	}
	return 1;
}

static uint64_t ack_value(uint32_t code)
{
	const struct fault *f = find_fault((int)code, F_NAK);

	if (!f)
		return 0;
	return f->has_arg ? f->arg : 1;
}

/* Build the reply (if any) for one request and update connection state. */
static void handle(struct conn *c, struct msg *m, struct reply *r, struct pending_xfer *px)
{
	uint32_t code = m->hdr.request;
	struct vhost_vring_state vs;
	uint64_t u64;

	memcpy(&u64, m->payload, sizeof(u64));
	memcpy(&vs, m->payload, sizeof(vs));
	mdev_request(c->dev, code, m->payload, m->hdr.size, m->fds, m->nfds);

	/* A request acknowledged and then ignored: no state changes, no
	 * own reply beyond the ack (a device that ignores SET_CONFIG). */
	switch (has_fault((int)code, F_IGNORE) ? (uint32_t)VHOST_USER_NONE : code) {
	case VHOST_USER_GET_FEATURES: reply_u64(r, code, opt.features); return;
	case VHOST_USER_GET_PROTOCOL_FEATURES: reply_u64(r, code, opt.protocol_features); return;
	case VHOST_USER_GET_QUEUE_NUM: reply_u64(r, code, opt.queues); return;
	case VHOST_USER_GET_MAX_MEM_SLOTS: reply_u64(r, code, opt.mem_slots); return;
	case VHOST_USER_GET_STATUS: reply_u64(r, code, c->status); return;
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE_SKIP_DRAIN: {
		uint32_t num;

		/* --blk: where the device really is. */
		if (mdev_vring_base(c->dev, vs.index, &num))
			vs.num = num;
		else
			vs.num = vs.index < VHOST_USER_MAX_VRINGS ? c->vring_base[vs.index] : 0;
		reply_init(r, code);
		memcpy(r->body, &vs, sizeof(vs));
		r->len = sizeof(vs);
		return;
	}
	case VHOST_USER_GET_CONFIG: handle_get_config(m, r); return;
	case VHOST_USER_GET_INFLIGHT_FD:
		handle_get_inflight(m, r);
		/* The device tracks its requests in the buffer it hands out. */
		if (r->nfds) {
			struct vhost_user_inflight in;

			memcpy(&in, r->body, sizeof(in));
			mdev_inflight(c->dev, r->fds[0], in.mmap_size, in.mmap_offset, in.num_queues,
				      in.queue_size, true);
		}
		return;
	case VHOST_USER_SET_DEVICE_STATE_FD: handle_set_device_state(c, m, r, px); return;
	case VHOST_USER_CHECK_DEVICE_STATE: reply_u64(r, code, check_device_state(c)); return;
	case VHOST_USER_SET_LOG_BASE:
		/* Spec: SET_LOG_BASE has a reply only with LOG_SHMFD. */
		if (!(c->protocol_features & VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD)))
			break;
		reply_u64(r, code, ack_value(code));
		return;
	case VHOST_USER_IOTLB_MSG:
		iotlb_update(c, m);
		reply_u64(r, code, ack_value(code));
		return;
	case VHOST_USER_GET_SHARED_OBJECT:
		/* libvhost-user style: the UUID echoed; the fd is the object
		 * (none = not found). */
		reply_init(r, code);
		memcpy(r->body, m->payload, sizeof(struct vhost_user_shared));
		r->len = sizeof(struct vhost_user_shared);
		if (opt.shared_object_fd)
			reply_add_fd(r, make_memfd("vhu-mock-object"));
		return;
	case VHOST_USER_GET_SHARED_MEMORY_REGIONS: {
		/* crosvm: u64 count, then count {id u8, pad 7, length u64}. */
		uint64_t n = opt.shm_regions;

		reply_init(r, code);
		put_u64(r->body, has_fault((int)code, F_SHM_BAD_COUNT) ? n + 1 : n);
		for (uint64_t i = 0; i < n; i++) {
			struct vhost_shared_memory_region g = { .id = (uint8_t)i, .length = (i + 1) << 20 };

			memcpy(r->body + 8 + 16 * i, &g, sizeof(g));
		}
		r->len = (uint32_t)(8 + 16 * n);
		return;
	}
	case VHOST_USER_GET_SHMEM_CONFIG:
		/* Always-reply message: answer "no regions" rather than
		 * leave the front-end waiting. */
		reply_init(r, code);
		memset(r->body, 0, 2056);
		r->len = 2056;
		return;
	case VHOST_USER_POSTCOPY_ADVISE:
		/* Spec: the reply carries the back-end's userfaultfd.  An
		 * eventfd stands in for it: the mock has no guest memory to
		 * fault on, and userfaultfd may be forbidden here. */
		reply_init(r, code);
		reply_add_fd(r, eventfd(0, EFD_CLOEXEC));
		return;
	case VHOST_USER_POSTCOPY_END:
		/* Spec: a u64 reply, 0 for success. */
		reply_u64(r, code, ack_value(code));
		return;
	case VHOST_USER_CREATE_CRYPTO_SESSION:
		/* The session struct comes back with session_id (its last
		 * u64 in QEMU's layout) set; 1 stands for a created session. */
		reply_init(r, code);
		memset(r->body, 0, CRYPTO_SESSION_SIZE);
		memcpy(r->body, m->payload,
		       m->hdr.size < CRYPTO_SESSION_SIZE ? m->hdr.size : CRYPTO_SESSION_SIZE);
		put_u64(r->body + CRYPTO_SESSION_SIZE - 8, 1);
		r->len = CRYPTO_SESSION_SIZE;
		return;
	/* Requests that only change state, then fall through to the ack;
	 * with the ignore fault the state stays as it was. */
	case VHOST_USER_SET_FEATURES: c->features = u64; break;
	case VHOST_USER_SET_PROTOCOL_FEATURES: c->protocol_features = u64; break;
	case VHOST_USER_SET_STATUS: c->status = u64 & 0xff; break;
	case VHOST_USER_RESET_DEVICE: c->status = 0; break;
	case VHOST_USER_SET_VRING_BASE:
		if (vs.index < VHOST_USER_MAX_VRINGS)
			c->vring_base[vs.index] = vs.num;
		break;
	case VHOST_USER_SET_CONFIG: handle_set_config(m); break;
	case VHOST_USER_SET_MEM_TABLE:
		memset(&c->mem, 0, sizeof(c->mem));
		memcpy(&c->mem, m->payload, m->hdr.size < sizeof(c->mem) ? m->hdr.size : sizeof(c->mem));
		break;
	case VHOST_USER_SET_VRING_ADDR: {
		struct vhost_vring_addr a;

		memcpy(&a, m->payload, sizeof(a));
		if (a.index < VHOST_USER_MAX_VRINGS)
			c->ring_desc[a.index] = a.desc_user_addr;
		break;
	}
	case VHOST_USER_SET_VRING_KICK:
		if (c->features & VHU_BIT(33))
			iotlb_send_miss(c, (uint32_t)(u64 & VHOST_USER_VRING_IDX_MASK));
		break;
	case VHOST_USER_SET_BACKEND_REQ_FD: {
		int cfd = msg_take_fd(m);

		/* A new channel replaces the old; its answers are lost. */
		if (cfd >= 0) {
			fail_pending(c, "replaced");
			close_fd(&c->chan_fd);
			c->chan_fd = cfd;
		}
		break;
	}
	default: break;
	}
	/* Ack only when asked and negotiated (rust-vmm's behaviour). */
	if ((m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
	    (c->protocol_features & VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK)))
		reply_u64(r, code, ack_value(code));
}

/* Header/fd faults that mutate an otherwise normal reply. */
static void apply_reply_faults(uint32_t code, struct reply *r)
{
	if (has_fault(code, F_WRONG_CODE))
		r->hdr.request = code + 1;
	if (has_fault(code, F_NO_REPLY_FLAG))
		r->hdr.flags = VHOST_USER_VERSION;
	if (has_fault(code, F_BAD_VERSION))
		r->hdr.flags = VHOST_USER_REPLY_MASK | 0x2;
	if (has_fault(code, F_RESERVED_BITS))
		r->hdr.flags = REPLY_FLAGS | 0x100;
	if (has_fault(code, F_OVERSIZE)) {
		/* 8 extra zero bytes: a u64 reply becomes 16 bytes. */
		memset(r->body + r->len, 0, 8);
		r->len += 8;
	}
	if (has_fault(code, F_STRAY_FD))
		reply_add_fd(r, open_devnull());
	if (has_fault(code, F_TOO_MANY_FDS))
		while (r->nfds < TOO_MANY_FDS)
			reply_add_fd(r, open_devnull());
}

/* Send the reply, possibly in a broken way.  Returns false when the
 * connection must be closed. */
static bool deliver(struct conn *c, uint32_t code, struct reply *r)
{
	const struct fault *f = find_delivery_fault((int)code);
	uint8_t out[VHOST_USER_HDR_SIZE + REPLY_BUF];
	size_t n, half;
	bool keep = true;

	/* delay[:MS]: hold the whole reply back (default 200 ms), e.g. so the
	 * front-end sees back-end channel traffic first. */
	const struct fault *d = find_fault((int)code, F_DELAY);

	if (d)
		sleep_ms(d->has_arg ? d->arg : 200);
	r->hdr.size = r->len;
	memcpy(out, &r->hdr, VHOST_USER_HDR_SIZE);
	memcpy(out + VHOST_USER_HDR_SIZE, r->body, r->len);
	n = VHOST_USER_HDR_SIZE + r->len;

	switch (f ? f->kind : F_COUNT) {
	case F_SILENT: break;
	case F_HUGE_SIZE:
		r->hdr.size = 0x7fffffff;
		memcpy(out, &r->hdr, VHOST_USER_HDR_SIZE);
		send_bytes(c->fd, out, VHOST_USER_HDR_SIZE, NULL, 0);
		c->mute = true;
		break;
	case F_SHORT_SILENCE:
	case F_SHORT_CLOSE:
		/* Announce the real size (8 if none), send half of it. */
		if (r->len == 0) {
			r->hdr.size = 8;
			memcpy(out, &r->hdr, VHOST_USER_HDR_SIZE);
			memset(out + VHOST_USER_HDR_SIZE, 0, 8);
		}
		half = r->hdr.size / 2;
		send_bytes(c->fd, out, VHOST_USER_HDR_SIZE + half, r->fds, r->nfds);
		if (f->kind == F_SHORT_CLOSE)
			keep = false;
		else
			c->mute = true;
		break;
	case F_CLOSE_MID_HEADER:
		send_bytes(c->fd, out, 6, NULL, 0);
		keep = false;
		break;
	case F_GARBAGE: {
		uint32_t s = 0x9e3779b9u ^ code;

		/* xorshift: fixed, so runs are reproducible. */
		for (unsigned i = 0; i < 64; i++) {
			s ^= s << 13;
			s ^= s >> 17;
			s ^= s << 5;
			out[i] = (uint8_t)(s >> 24);
		}
		send_bytes(c->fd, out, 64, NULL, 0);
		break;
	}
	case F_SLOW: {
		uint64_t ms = f->has_arg ? f->arg : 20;

		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				sleep_ms(ms);
			if (send_bytes(c->fd, out + i, 1, i == 0 ? r->fds : NULL, i == 0 ? r->nfds : 0) < 0) {
				keep = false;
				break;
			}
		}
		break;
	}
	default:
		if (send_bytes(c->fd, out, n, r->fds, r->nfds) < 0)
			keep = false;
		break;
	}
	/* Our copies of the attached fds are never needed again. */
	reply_close_fds(r);
	return keep;
}

/* Returns false when the connection is over. */
static bool serve_one(struct conn *c, struct msg *m, struct reply *r)
{
	struct pending_xfer px = { .set = false, .fd = -1, .ab = { .aux_fd = -1 } };
	uint32_t code;
	const char *name;
	char unk[24];
	int rc;
	bool keep = true;

	memset(m->payload, 0, sizeof(m->payload));
	m->nfds = 0;
	iotlb_read_acks(c);
	rc = recv_exact(c->fd, &m->hdr, VHOST_USER_HDR_SIZE, m);
	if (rc <= 0)
		goto drop;
	code = m->hdr.request;
	if (code_known(code)) {
		name = code_name(code);
	} else {
		snprintf(unk, sizeof(unk), "REQ_%u", code);
		name = unk;
	}
	if (m->hdr.size > VHU_MAX_PAYLOAD) {
		log_line("%s flags=0x%x size=%u fds=%u", name, m->hdr.flags, m->hdr.size, m->nfds);
		goto drop;
	}
	if (m->hdr.size > 0 && recv_exact(c->fd, m->payload, m->hdr.size, m) <= 0)
		goto drop;
	log_line("%s flags=0x%x size=%u fds=%u", name, m->hdr.flags, m->hdr.size, m->nfds);
	/* Unknown codes are fatal for real back-ends too. */
	if (!code_known(code) || has_fault((int)code, F_CLOSE))
		goto drop;

	r->present = false;
	r->nfds = 0;
	handle(c, m, r, &px);
	msg_close_fds(m);
	/* Channel requests go out before the SET_BACKEND_REQ_FD ack (or the
	 * barrier reply), so they are already queued when the front-end
	 * learns the channel is up: what it reads next is deterministic. */
	if (c->chan_fd >= 0)
		send_backend_msgs(c, code, false);
	if (r->present) {
		if (c->mute) {
			reply_close_fds(r);
		} else {
			apply_reply_faults(code, r);
			keep = deliver(c, code, r);
		}
	}
	if (c->chan_fd >= 0 && keep)
		send_backend_msgs(c, code, true);
	/* SAVE data flows only after the reply told the front-end which
	 * pipe to read. */
	if (px.set) {
		c->xfer = xfer_start(px.dir, px.fd, px.limit, &px.ab);
		if (!c->xfer)
			c->ds = DS_REFUSED;
	}
	return keep;
drop:
	msg_close_fds(m);
	return false;
}

static void serve_conn(int fd)
{
	static struct msg m;
	static struct reply r;
	struct conn c;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.ds = DS_NONE;
	c.chan_fd = -1;
	c.dev = mdev_new();
	/* Main socket and, while answers are due, the back-end channel: the
	 * front-end may answer them at any time (spec "Back-end communication"), and never
	 * blocking on one side keeps both moving. */
	for (;;) {
		/* Main socket, the back-end channel while answers are due, and
		 * the rings' kick eventfds (--blk). */
		struct pollfd p[2 + 8];
		bool waiting = c.npending && c.chan_fd >= 0;
		unsigned nk;
		int timeout = -1, rc;

		p[0] = (struct pollfd){ .fd = c.fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = waiting ? c.chan_fd : -1, .events = POLLIN };
		nk = mdev_pollfds(c.dev, p + 2, 8);
		if (waiting) {
			int64_t left = c.pending[0].deadline - mono_ms();

			timeout = left < 0 ? 0 : (int)left;
		}
		rc = poll(p, 2 + nk, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (rc == 0) {
			log_line("BACKEND_NOACK %s timeout", opt.bmsgs[c.pending[0].idx].name);
			pending_pop(&c);
			continue;
		}
		for (unsigned i = 0; i < nk; i++)
			if (p[2 + i].revents)
				mdev_kicked(c.dev, p[2 + i].fd);
		{
			uint64_t iova;

			/* --iommu=late: the data path asks, as DPDK's does. */
			if (mdev_take_miss(c.dev, &iova))
				iotlb_send_miss_at(&c, VHOST_USER_MAX_VRINGS, iova);
		}
		if (waiting && p[1].revents) {
			read_backend_ack(&c);
			continue;
		}
		if (p[0].revents && !serve_one(&c, &m, &r))
			break;
	}
	/* Answers sent just before the front-end hung up are still queued. */
	while (c.npending && c.chan_fd >= 0)
		read_backend_ack(&c);
	fail_pending(&c, "closed");
	close_fd(&c.chan_fd);
	close(fd);
	/* Let a transfer finish (front-end gone => EOF/EPIPE quickly). */
	xfer_finish(&c.xfer, XFER_WAIT_MS);
	mdev_free(c.dev);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */

static void on_term(int sig)
{
	(void)sig;
	if (g_sock_bound)
		unlink(g_sock_path);
	_exit(0);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vhu-mock-backend --socket PATH | --connect PATH [options]\n"
		"  --connect PATH            be the client: connect to PATH (retried every\n"
		"                            20 ms), again after each disconnect\n"
		"  --pidfile FILE            write pid once listening\n"
		"  --log FILE                append one line per request\n"
		"  --once                    serve one connection, then exit\n"
		"  --features HEX            GET_FEATURES value\n"
		"  --protocol-features HEX   GET_PROTOCOL_FEATURES value\n"
		"  --queues N                GET_QUEUE_NUM value\n"
		"  --mem-slots N             GET_MAX_MEM_SLOTS value\n"
		"  --config HEX              device config space bytes\n"
		"  --state-size N            bytes produced on SAVE\n"
		"  --fault REQ:KIND[:ARG]    inject a fault (repeatable)\n"
		"  --shm-regions N           GET_SHARED_MEMORY_REGIONS (1004) region count\n"
		"  --shared-object-fd        GET_SHARED_OBJECT returns a 4096-byte memfd\n"
		"  --backend-msg SPEC        send on the back-end channel once it is set up:\n"
		"                            NAME|CODE|EOF|CLOSE[:need-reply][:fd][:fds=N][:late-fd]\n"
		"                            [:block][:stall][:after][:flags=HEX][:size=N][:on=REQ]\n"
		"                            (repeatable, in order)\n"
		"  --iommu[=ack|late]        offer VIRTIO_F_ACCESS_PLATFORM; once acked, send an\n"
		"                            IOTLB miss for each ring's descriptor table at\n"
		"                            SET_VRING_KICK (ack: with NEED_REPLY; late: none\n"
		"                            then, but when a kicked ring is not mapped, and\n"
		"                            the ring waits for the update), log IOTLB_MSG\n"
		"                            updates, translate ring and buffer addresses by them\n"
		"%s"
		"fault kinds:",
		mdev_usage());
	for (int k = 0; k < F_COUNT; k++)
		fprintf(f, " %s", fault_names[k]);
	fprintf(f, "\n");
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool parse_config(const char *s)
{
	size_t len;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	len = strlen(s);
	if (len % 2 || len / 2 > sizeof(g_config))
		return false;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		g_config[i] = (uint8_t)(hi << 4 | lo);
	}
	g_config_len = len / 2;
	return true;
}

static bool parse_fault(const char *spec)
{
	char buf[128], *req, *kind, *arg;
	struct fault f = { 0 };
	int k;

	if (opt.nfaults >= MAX_FAULTS || strlen(spec) >= sizeof(buf))
		return false;
	strcpy(buf, spec);
	req = buf;
	kind = strchr(req, ':');
	if (!kind)
		return false;
	*kind++ = '\0';
	arg = strchr(kind, ':');
	if (arg)
		*arg++ = '\0';

	for (k = 0; k < F_COUNT; k++)
		if (strcmp(kind, fault_names[k]) == 0)
			break;
	if (k == F_COUNT)
		return false;
	f.kind = (enum fault_kind)k;

	if (strcmp(req, "*") == 0) {
		f.req = FAULT_ANY;
	} else if (strcmp(req, "accept") == 0) {
		/* "accept:close" reads naturally too. */
		if (f.kind != F_CLOSE_AFTER_ACCEPT && f.kind != F_CLOSE)
			return false;
		f.req = FAULT_ACCEPT;
		f.kind = F_CLOSE_AFTER_ACCEPT;
	} else {
		uint64_t code;

		f.req = 0;
		for (uint32_t i = 1; i <= MAX_CODE; i++)
			if (req_names[i] && strcmp(req, req_names[i]) == 0)
				f.req = (int)i;
		if (strcmp(req, "GET_SHARED_MEMORY_REGIONS") == 0)
			f.req = VHOST_USER_GET_SHARED_MEMORY_REGIONS;
		/* Also REQ_<n> / <n>, matching the log's names. */
		if (!f.req &&
		    (parse_u64(req, 10, &code) ||
		     (strncmp(req, "REQ_", 4) == 0 && parse_u64(req + 4, 10, &code))) &&
		    code > 0 && code <= INT32_MAX)
			f.req = (int)code;
		if (!f.req)
			return false;
	}
	if (f.kind == F_CLOSE_AFTER_ACCEPT && f.req != FAULT_ACCEPT)
		return false;
	if (arg) {
		if (!parse_u64(arg, 0, &f.arg))
			return false;
		f.has_arg = true;
	}
	opt.faults[opt.nfaults++] = f;
	return true;
}

/* --backend-msg NAME|CODE|EOF|CLOSE[:need-reply][:fd][:fds=N][:late-fd][:flags=HEX][:size=N][:on=REQ] */
static bool parse_bmsg(const char *spec)
{
	char buf[128], *tok, *save = NULL;
	const char *nm;
	struct bmsg b = { 0 };
	uint64_t v;

	if (opt.nbmsgs >= MAX_BMSGS || strlen(spec) >= sizeof(buf))
		return false;
	strcpy(buf, spec);
	tok = strtok_r(buf, ":", &save);
	if (!tok)
		return false;
	b.trigger = VHOST_USER_SET_BACKEND_REQ_FD;
	nm = strncmp(tok, "BACKEND_", 8) == 0 ? tok + 8 : tok;
	for (uint32_t i = 1; i <= MAX_BACKEND_CODE; i++)
		if (strcmp(nm, backend_names[i]) == 0)
			b.code = i;
	if (strcmp(tok, "EOF") == 0)
		b.eof = true;
	else if (strcmp(tok, "CLOSE") == 0)
		b.close = true;
	else if (!b.code) {
		if (!parse_u64(tok, 0, &v) || v == 0 || v > UINT32_MAX)
			return false;
		b.code = (uint32_t)v;
	}
	if (b.eof || b.close)
		snprintf(b.name, sizeof(b.name), "%s", b.eof ? "EOF" : "CLOSE");
	else if (b.code <= MAX_BACKEND_CODE)
		snprintf(b.name, sizeof(b.name), "%s", backend_names[b.code]);
	else
		snprintf(b.name, sizeof(b.name), "REQ_%u", b.code);
	while ((tok = strtok_r(NULL, ":", &save))) {
		if (strcmp(tok, "need-reply") == 0) {
			b.need_reply = true;
		} else if (strcmp(tok, "fd") == 0) {
			b.nfds = 1;
		} else if (strncmp(tok, "fds=", 4) == 0 && parse_u64(tok + 4, 0, &v) && v <= MAX_TX_FDS) {
			b.nfds = (unsigned)v;
		} else if (strcmp(tok, "late-fd") == 0) {
			b.late_fd = true;
			if (!b.nfds)
				b.nfds = 1;
		} else if (strcmp(tok, "block") == 0) {
			b.block = true;
		} else if (strcmp(tok, "stall") == 0) {
			b.stall = true;
		} else if (strcmp(tok, "after") == 0) {
			b.after = true;
		} else if (strncmp(tok, "flags=", 6) == 0 && parse_u64(tok + 6, 16, &v) && v <= UINT32_MAX) {
			b.have_flags = true;
			b.flags = (uint32_t)v;
		} else if (strncmp(tok, "size=", 5) == 0 && parse_u64(tok + 5, 0, &v) &&
			   v <= 2 * VHU_MAX_PAYLOAD) {
			b.have_size = true;
			b.size = (uint32_t)v;
		} else if (strncmp(tok, "on=", 3) == 0) {
			b.trigger = 0;
			for (uint32_t i = 1; i <= MAX_CODE; i++)
				if (req_names[i] && strcmp(tok + 3, req_names[i]) == 0)
					b.trigger = i;
			if (!b.trigger && parse_u64(tok + 3, 0, &v) && v && v <= UINT32_MAX)
				b.trigger = (uint32_t)v;
			if (!b.trigger)
				return false;
		} else {
			return false;
		}
	}
	opt.bmsgs[opt.nbmsgs++] = b;
	return true;
}

static int write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	/* Write then rename so a polling test never reads a partial pid. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * --connect: be the client, as DPDK vhost with client=1 is: connect to
 * @path, retrying every 20 ms while nobody listens there (DPDK: every
 * second), and log CONNECTED once a front-end accepted.
 */
static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vhu-mock-backend: socket path too long\n");
		return -1;
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("vhu-mock-backend: socket");
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			log_line("CONNECTED");
			return fd;
		}
		if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN && errno != EINTR) {
			perror("vhu-mock-backend: connect");
			close(fd);
			return -1;
		}
		close(fd);
		sleep_ms(20);
	}
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vhu-mock-backend: socket path too long\n");
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(g_sock_path, path);
	/* Only ever remove a stale *socket*, never some other file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("vhu-mock-backend: socket");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("vhu-mock-backend: bind");
		close(fd);
		return -1;
	}
	g_sock_bound = 1;
	if (listen(fd, 16) < 0) {
		perror("vhu-mock-backend: listen");
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	enum {
		O_SOCKET = 1,
		O_PIDFILE,
		O_LOG,
		O_ONCE,
		O_FEATURES,
		O_PFEATURES,
		O_QUEUES,
		O_SLOTS,
		O_CONFIG,
		O_STATE,
		O_FAULT,
		O_SHM_REGIONS,
		O_SO_FD,
		O_BACKEND_MSG,
		O_HELP,
		O_DEV,
		O_CONNECT,
		O_IOMMU,
	};
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "pidfile", required_argument, NULL, O_PIDFILE },
		{ "log", required_argument, NULL, O_LOG },
		{ "once", no_argument, NULL, O_ONCE },
		{ "features", required_argument, NULL, O_FEATURES },
		{ "protocol-features", required_argument, NULL, O_PFEATURES },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "mem-slots", required_argument, NULL, O_SLOTS },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "state-size", required_argument, NULL, O_STATE },
		{ "fault", required_argument, NULL, O_FAULT },
		{ "shm-regions", required_argument, NULL, O_SHM_REGIONS },
		{ "shared-object-fd", no_argument, NULL, O_SO_FD },
		{ "backend-msg", required_argument, NULL, O_BACKEND_MSG },
		{ "iommu", optional_argument, NULL, O_IOMMU },
		{ "help", no_argument, NULL, O_HELP },
		{ "blk", required_argument, NULL, O_DEV },
		{ "serial", required_argument, NULL, O_DEV },
		{ "blk-ro", no_argument, NULL, O_DEV },
		{ "seg-max", required_argument, NULL, O_DEV },
		{ "ring-fault", required_argument, NULL, O_DEV },
		{ "fs", no_argument, NULL, O_DEV },
		{ "fs-fault", required_argument, NULL, O_DEV },
		{ "net", no_argument, NULL, O_DEV },
		{ "net-frames", required_argument, NULL, O_DEV },
		{ "corrupt-read", required_argument, NULL, O_DEV },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa;
	bool features_given = false, config_given = false;
	int lfd, o, li = 0;

	opt.features = VHU_BIT(28) | VHU_BIT(29) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		       VHU_BIT(VIRTIO_F_VERSION_1);
	opt.protocol_features =
		VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) |
		VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
		VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | VHU_BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |
		VHU_BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
		VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS) |
		VHU_BIT(VHOST_USER_PROTOCOL_F_SHARED_OBJECT) | VHU_BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	opt.queues = 2;
	opt.mem_slots = 32;
	opt.state_size = 4096;

	while ((o = getopt_long(argc, argv, "", lopts, &li)) != -1) {
		bool ok = true;

		switch (o) {
		case O_SOCKET: opt.socket_path = optarg; break;
		case O_CONNECT: opt.connect_path = optarg; break;
		case O_PIDFILE: opt.pidfile = optarg; break;
		case O_LOG: opt.logfile = optarg; break;
		case O_ONCE: opt.once = true; break;
		case O_FEATURES:
			ok = parse_u64(optarg, 16, &opt.features);
			features_given = true;
			break;
		case O_PFEATURES: ok = parse_u64(optarg, 16, &opt.protocol_features); break;
		case O_QUEUES: ok = parse_u64(optarg, 0, &opt.queues); break;
		case O_SLOTS: ok = parse_u64(optarg, 0, &opt.mem_slots); break;
		case O_CONFIG:
			ok = parse_config(optarg);
			config_given = true;
			break;
		case O_DEV: ok = mdev_option(lopts[li].name, optarg ? optarg : ""); break;
		case O_STATE: ok = parse_u64(optarg, 0, &opt.state_size); break;
		case O_FAULT: ok = parse_fault(optarg); break;
		case O_SHM_REGIONS:
			ok = parse_u64(optarg, 0, &opt.shm_regions) && opt.shm_regions <= 255;
			break;
		case O_SO_FD: opt.shared_object_fd = true; break;
		case O_BACKEND_MSG: ok = parse_bmsg(optarg); break;
		case O_IOMMU:
			if (optarg && strcmp(optarg, "ack") && strcmp(optarg, "late")) {
				fprintf(stderr,
					"vhu-mock-backend: bad value for --iommu: '%s' (ack or late)\n",
					optarg);
				return 2;
			}
			opt.iommu = true;
			opt.iommu_ack = optarg && !strcmp(optarg, "ack");
			opt.iommu_late = optarg && !strcmp(optarg, "late");
			break;
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (!ok) {
			fprintf(stderr, "vhu-mock-backend: bad value for --%s: '%s'\n",
				o == O_DEV ? lopts[li].name : lopts[o - 1].name, optarg ? optarg : "");
			return 2;
		}
	}
	if (optind != argc || !opt.socket_path == !opt.connect_path) {
		usage(stderr);
		return 2;
	}
	if (!mdev_setup(log_line))
		return 1;
	/* A blk or fs device: its features and config space unless given. */
	if (mdev_enabled() && !features_given)
		opt.features = mdev_features();
	if (opt.iommu)
		opt.features |= VHU_BIT(33); /* VIRTIO_F_ACCESS_PLATFORM */
	if (mdev_enabled() && !config_given)
		g_config_len = mdev_config(g_config, sizeof(g_config), (uint16_t)opt.queues);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1; /* no SA_RESTART: it interrupts blocking calls */
	sigaction(SIGUSR1, &sa, NULL);

	if (opt.logfile) {
		g_log_fd = open(opt.logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (g_log_fd < 0) {
			perror("vhu-mock-backend: log");
			return 1;
		}
	}
	if (opt.connect_path) {
		if (opt.pidfile && write_pidfile(opt.pidfile) < 0) {
			perror("vhu-mock-backend: pidfile");
			return 1;
		}
		/* Like DPDK's client mode: connect again at once after the
		 * front-end hung up. */
		for (;;) {
			int cfd = connect_socket(opt.connect_path);

			if (cfd < 0)
				return 1;
			serve_conn(cfd);
			log_line("DISCONNECTED");
			if (opt.once)
				return 0;
		}
	}
	lfd = listen_socket(opt.socket_path);
	if (lfd < 0)
		return 1;
	if (opt.pidfile && write_pidfile(opt.pidfile) < 0) {
		perror("vhu-mock-backend: pidfile");
		unlink(opt.socket_path);
		return 1;
	}

	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
				sleep_ms(50); /* transient; try again */
				continue;
			}
			perror("vhu-mock-backend: accept");
			break;
		}
		if (has_fault(FAULT_ACCEPT, F_CLOSE_AFTER_ACCEPT))
			close(cfd);
		else
			serve_conn(cfd);
		if (opt.once)
			break;
	}
	/* Block signals so the handler cannot race our own cleanup. */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	close(lfd);
	unlink(opt.socket_path);
	return 0;
}
