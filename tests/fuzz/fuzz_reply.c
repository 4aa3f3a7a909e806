// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target over the reply path and the pure decoders.
 *
 * Input: [selector byte][rest].  The rest is written, as the back-end's
 * answer, into the far end of a socketpair whose near end a real session
 * adopted; the write side is then shut so every read ends (data, then EOF:
 * no timeout is ever reached, so runs are deterministic and fast).  The
 * selector picks the client call and the session state:
 *
 *   bits 0-4  operation (the switch in fz_op(); make_seeds.py names them)
 *   bit  5    VHOST_USER_PROTOCOL_F_REPLY_ACK negotiated (ack path)
 *   bits 6-7  0: every other gate open, no fds
 *             1: same, one fd rides on the first reply byte (/dev/null; a
 *                memfd for GET_INFLIGHT_FD, a pipe end for device state)
 *             2: same, 33 fds (more than the client's receive room)
 *             3: bare session (nothing negotiated), --force semantics
 *
 * Operation 6 reads the bytes as back-end requests on the back-end
 * channel (vhu_chan_next) instead of as replies.
 *
 * The same rest bytes are then fed to the pure decoders: vhu_cfg_decode()
 * for every device type at several offsets, vhu_trace_decode() for every
 * payload shape, vhu_cap_read() on the bytes as a capture file of `proxy
 * --pcapng` and as one packet of a valid one, and the command-line parsers
 * on a NUL-terminated copy.
 * Besides ASan/UBSan findings the harness checks invariants (decoder
 * output bounds, no fd leaked by any path) and aborts when one fails.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): fuzz_reply with clang and
 * -fsanitize=fuzzer,address,undefined (VHU_FUZZ=ON), and fuzz_replay with
 * any compiler and VHU_FUZZ_REPLAY_MAIN, a main() that runs every file of
 * the given directories once (ctest fuzz_corpus_replay).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/bits.h"
#include "decode/capture.h"
#include "decode/config.h"
#include "decode/payload.h"
#include "proto/catalog.h"
#include "proto/chan.h"
#include "proto/devstate.h"
#include "proto/mem.h"
#include "proto/session.h"
#include "proto/wire.h"
#include "render/trace.h"
#include "util/hex.h"
#include "util/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_TIMEOUT_MS 50
#define FZ_MANY_FDS   33 /* > RECV_FD_ROOM (32) in session.c */

#define FZ_CHECK(cond, ...)                                                                                  \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "fuzz_reply: invariant failed at %s:%d: %s: ", __FILE__, __LINE__,   \
				#cond);                                                                      \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* Keeps the optimizer from dropping results nobody reads. */
static volatile size_t fz_sink;
/* fuzz_replay -v: one line per input with the client's verdict. */
static bool fz_verbose;

static int fz_devnull = -1;
static int fz_memfd = -1;	    /* 8 KiB: the inflight buffer a back-end hands out */
static int fz_pipe[2] = { -1, -1 }; /* write end: a back-end's device-state fd */
static struct vhu_res fz_res;	    /* one 4 KiB memfd region for SET_MEM_TABLE */
static struct vhu_res fz_run_res;   /* per run: what the typed calls keep */
static struct vhu_chan_msg fz_chan_msg;

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

/* Open descriptors of this process, from /proc/self/fd (its own dir fd
 * not counted); -1 when /proc is not there. */
static void fz_init(void)
{
	static bool done;
	struct vhu_session tmp;

	if (done)
		return;
	done = true;
	signal(SIGPIPE, SIG_IGN);
	fz_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	FZ_CHECK(fz_devnull >= 0, "/dev/null: %s", strerror(errno));
	fz_memfd = memfd_create("fuzz-inflight", MFD_CLOEXEC);
	FZ_CHECK(fz_memfd >= 0 && ftruncate(fz_memfd, 8192) == 0, "memfd: %s", strerror(errno));
	/* Nothing is ever written into it: LOAD streams /dev/null (0 bytes). */
	FZ_CHECK(pipe2(fz_pipe, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	vhu_session_init(&tmp);
	vhu_res_init(&fz_res);
	FZ_CHECK(vhu_region_create(&tmp, &fz_res, 4096, 0, NULL) == 0, "region: %s", vhu_session_error(&tmp));
}

/* ---- the session half ---- */

/* Every message and note the core reports goes through the real trace
 * decoder (the printer minus stderr). */
static void fz_trace(void *arg, enum vhu_dir dir, const struct vhost_user_hdr *hdr, const uint8_t *payload,
		     size_t len, unsigned nfds, const char *note)
{
	const struct vhu_req_desc *d;
	enum vhu_shape shape;
	char buf[1024];

	(void)arg;
	(void)nfds;
	if (note) {
		fz_sink += strlen(note);
		return;
	}
	FZ_CHECK(hdr != NULL, "trace without header");
	FZ_CHECK(len <= VHU_MAX_PAYLOAD, "trace of %zu bytes", len);
	d = vhu_req_by_code(hdr->request);
	if (!(hdr->flags & VHOST_USER_REPLY_MASK))
		shape = d ? d->req_shape : VHU_SHAPE_OPAQUE;
	else if (d && len == 8 && d->reply == VHU_REPLY_ACK)
		shape = VHU_SHAPE_ACK;
	else
		shape = d ? d->reply_shape : VHU_SHAPE_OPAQUE;
	vhu_trace_decode(shape, dir == VHU_DIR_RECV ? VHU_DEV_BLK : VHU_DEV_NET, payload, len, buf,
			 sizeof(buf));
	FZ_CHECK(strlen(buf) < sizeof(buf), "trace line overflow");
	fz_sink += strlen(buf);
}

/* Write the back-end's answer (with @nfds fds on its first byte), then
 * shut the write side: the client sees the bytes, then EOF. */
static void fz_backend_write(int fd, const uint8_t *p, size_t n, unsigned nfds, int give)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FZ_MANY_FDS)];
		struct cmsghdr align;
	} ctl;
	int fds[FZ_MANY_FDS];
	size_t done = 0;

	while (done < n) {
		struct iovec iov = { .iov_base = (void *)(p + done), .iov_len = n - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t w;

		if (done == 0 && nfds) {
			struct cmsghdr *c;

			for (unsigned i = 0; i < nfds; i++)
				fds[i] = give;
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		w = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		/* The socket buffer (>= 200 KiB) holds any -max_len input. */
		FZ_CHECK(w > 0, "back-end write: %s", w < 0 ? strerror(errno) : "0 bytes");
		done += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
}

static void fz_state(struct vhu_session *s, uint8_t sel)
{
	const uint64_t all_pf = (VHU_BIT(VHOST_USER_PROTOCOL_F_COUNT) - 1) &
				~VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) &
				~VHU_BIT(VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS);
	const uint64_t feats = VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | VHU_BIT(VIRTIO_F_VERSION_1);
	bool ack = sel & 0x20;

	s->timeout_ms = FZ_TIMEOUT_MS;
	s->no_sync = true;
	s->trace = fz_trace;
	if ((sel >> 6) == 3) {
		/* Nothing negotiated: gates refuse unless forced. */
		s->force = true;
		if (ack) {
			s->protocol_set = true;
			s->acked_protocol = VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
		}
		return;
	}
	s->have_features = s->features_set = true;
	s->features = s->acked_features = feats;
	s->have_protocol = s->protocol_set = true;
	s->protocol = all_pf | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	s->acked_protocol = all_pf | (ack ? VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) : 0);
	s->owner_set = true;
}

/* Reply fds handed to the caller: must be real, then released. */
static void fz_release(struct vhu_msg *r, int rc)
{
	if (rc != VHU_OK) {
		FZ_CHECK(r->nfds == 0, "failed request left %u fds in the reply", r->nfds);
		return;
	}
	FZ_CHECK(r->nfds <= VHOST_USER_MAX_FDS, "%u reply fds", r->nfds);
	FZ_CHECK(r->hdr.size <= VHU_MAX_PAYLOAD, "reply size %u accepted", r->hdr.size);
	for (unsigned i = 0; i < r->nfds; i++)
		FZ_CHECK(fcntl(r->fds[i], F_GETFD) >= 0, "reply fd %d is not open", r->fds[i]);
	vhu_msg_close_fds(r);
}

/* A request with a reply of its own through the generic path. */
static int fz_request(struct vhu_session *s, uint32_t code, const void *p, uint32_t len, const int *fds,
		      unsigned nfds)
{
	const struct vhu_req_desc *d = vhu_req_by_code(code);
	struct vhu_msg r;
	int rc;

	/* Untouched when no reply is awaited (e.g. SET_LOG_BASE without
	 * LOG_SHMFD). */
	memset(&r.hdr, 0, sizeof(r.hdr));
	r.nfds = 0;
	rc = vhu_request(s, code, p, len, fds, nfds, &r);
	if (rc == VHU_OK && d && d->reply == VHU_REPLY_ALWAYS) {
		FZ_CHECK(r.hdr.request == code, "reply code %u for %u", r.hdr.request, code);
		FZ_CHECK(r.hdr.size >= d->reply_min && r.hdr.size <= d->reply_max,
			 "%s: reply size %u outside %u..%u", d->name, r.hdr.size, d->reply_min, d->reply_max);
		FZ_CHECK(r.nfds >= d->rfds_min && r.nfds <= d->rfds_max, "%s: %u fds", d->name, r.nfds);
	}
	fz_release(&r, rc);
	return rc;
}

/* The back-end channel: the fuzz bytes are the back-end's requests.  Our
 * end is a dup of the session socket, so they arrive there; answers go
 * back to the (never read) far end. */
static int fz_channel(struct vhu_session *s)
{
	struct vhu_chan c = { .open = true, .fd = dup(s->fd) };
	enum vhu_chan_event ev = VHU_CHAN_IDLE;
	int rc = VHU_OK;

	FZ_CHECK(c.fd >= 0, "dup: %s", strerror(errno));
	for (int i = 0; i < 64; i++) {
		struct vhu_chan_msg *m = &fz_chan_msg;

		rc = vhu_chan_next(s, &c, 0, m, &ev);
		if (rc || ev != VHU_CHAN_MSG)
			break;
		FZ_CHECK(m->hdr.size <= VHU_MAX_PAYLOAD, "channel message of %u bytes", m->hdr.size);
		FZ_CHECK(m->nfds <= VHOST_USER_MAX_FDS, "channel message with %u fds", m->nfds);
		FZ_CHECK(memchr(m->problem, '\0', sizeof(m->problem)), "problem not terminated");
		if (m->answered)
			FZ_CHECK(m->answer == vhu_chan_answer_value(m), "answer differs");
	}
	if (rc != VHU_OK)
		FZ_CHECK(!c.open, "channel left open after rc %d", rc);
	vhu_chan_close(&c);
	return rc;
}

static int fz_op(struct vhu_session *s, unsigned op)
{
	uint8_t cfg[VHOST_USER_MAX_CONFIG_SIZE];
	uint8_t big[1072] = { 0 };
	struct vhu_msg r;
	uint64_t v = 0;
	uint32_t num = 0;
	uint8_t st = 0;
	int rc = VHU_OK, efd;

	switch (op) {
	case 0:
		rc = vhu_get_features(s, &v);
		if (!rc)
			FZ_CHECK(s->have_features && s->features == v, "features not recorded");
		break;
	case 1: rc = vhu_get_protocol_features(s, &v); break;
	case 2:
		rc = vhu_get_queue_num(s, &v);
		if (!rc)
			FZ_CHECK(v >= 1 && v <= VHOST_USER_MAX_VRINGS, "queue num %llu accepted",
				 (unsigned long long)v);
		break;
	case 3:
		rc = vhu_get_max_mem_slots(s, &v);
		if (!rc)
			FZ_CHECK(v != 0, "0 memory slots accepted");
		break;
	case 4: rc = vhu_get_status(s, &st); break;
	case 5: rc = vhu_get_vring_base(s, 0, &num); break;
	case 6: rc = fz_channel(s); break;
	case 7:
	case 8:
	case 9:
	case 10:
	case 11: {
		static const uint32_t win[][2] = {
			{ 0, 60 }, { 0, 256 }, { 16, 8 }, { 255, 1 }, { 200, 100 }
		};
		uint32_t off = win[op - 7][0], sz = win[op - 7][1];

		memset(cfg, 0xee, sizeof(cfg));
		rc = vhu_get_config(s, off, sz, 0, cfg);
		if (op == 11)
			FZ_CHECK(rc == VHU_E_USAGE, "GET_CONFIG beyond the space not refused");
		if (!rc && sz < sizeof(cfg))
			FZ_CHECK(cfg[sz] == 0xee, "GET_CONFIG wrote past its %u bytes", sz);
		break;
	}
	case 12: rc = vhu_set_owner(s); break;
	case 13:
		memset(&r.hdr, 0, sizeof(r.hdr));
		r.nfds = 0;
		rc = vhu_request_raw(s, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, NULL, 0, NULL, 0, true,
				     &r);
		fz_release(&r, rc);
		break;
	case 14:
		/* Unknown code, reply dropped inside (reply == NULL). */
		rc = vhu_request_raw(s, 9999, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK, "x", 1, NULL,
				     0, true, NULL);
		break;
	case 15:
		efd = eventfd(0, EFD_CLOEXEC);
		FZ_CHECK(efd >= 0, "eventfd: %s", strerror(errno));
		rc = vhu_set_vring_fd(s, VHOST_USER_SET_VRING_KICK, 0, efd);
		close(efd);
		break;
	case 16: rc = vhu_set_vring_fd(s, VHOST_USER_SET_VRING_CALL, 1, -1); break;
	case 17:
		rc = vhu_get_inflight_fd(s, &fz_run_res, 2, 256);
		if (!rc && fz_run_res.inflight.mmap_size)
			FZ_CHECK(fcntl(fz_run_res.inflight_fd, F_GETFD) >= 0, "inflight fd kept is not open");
		break;
	case 18: {
		static const uint8_t uuid[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
		struct vhu_fd_info fi;
		bool found;

		rc = vhu_get_shared_object(s, uuid, &found, &fi);
		if (!rc)
			fz_sink += found + (size_t)fi.kind;
		break;
	}
	case 19: {
		struct vhu_ds_result res;

		/* LOAD of an empty stream (/dev/null): SET_DEVICE_STATE_FD's
		 * reply decides the fd, then CHECK_DEVICE_STATE.  (SAVE would
		 * wait for the pipe's EOF until the timeout.) */
		rc = vhu_ds_transfer(s, VHU_DS_LOAD, fz_devnull, NULL, NULL, &res);
		if (!rc)
			FZ_CHECK(res.bytes == 0, "LOAD of /dev/null sent %llu bytes",
				 (unsigned long long)res.bytes);
		break;
	}
	case 20:
		rc = vhu_ds_check(s, &v);
		if (!rc)
			FZ_CHECK(v == 0, "CHECK_DEVICE_STATE %llu accepted", (unsigned long long)v);
		break;
	case 21: rc = fz_request(s, VHOST_USER_GET_SHMEM_CONFIG, NULL, 0, NULL, 0); break;
	case 22: {
		struct vhost_shared_memory_region regs[4];
		char problem[64];
		unsigned count = 99;

		rc = vhu_get_shared_memory_regions(s, regs, 4, &count, problem, sizeof(problem));
		if (!rc)
			FZ_CHECK(count <= 4 && memchr(problem, '\0', sizeof(problem)), "%u regions", count);
		break;
	}
	case 23:
		/* LOG_SHMFD negotiated: memfd attached, the reply awaited. */
		rc = vhu_set_log_base(s, &fz_run_res, 4096, vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_LOG_SHMFD));
		break;
	case 24: {
		struct vhost_iotlb_msg_wire io = { .iova = 0x1000, .size = 0x1000, .perm = 3, .type = 2 };

		rc = fz_request(s, VHOST_USER_IOTLB_MSG, &io, sizeof(io), NULL, 0);
		break;
	}
	case 25: rc = fz_request(s, VHOST_USER_POSTCOPY_ADVISE, NULL, 0, NULL, 0); break;
	case 26: rc = fz_request(s, VHOST_USER_CREATE_CRYPTO_SESSION, big, sizeof(big), NULL, 0); break;
	case 27:
		/* A sequence of replies on one connection, from scratch. */
		s->have_features = s->features_set = s->have_protocol = s->protocol_set = false;
		s->owner_set = false;
		s->features = s->acked_features = s->protocol = s->acked_protocol = 0;
		rc = vhu_negotiate(s, VHU_NEG_OWNER);
		if (!rc && !s->force)
			FZ_CHECK(s->owner_set, "negotiation succeeded without SET_OWNER");
		if (!rc && !s->force && s->protocol_set)
			FZ_CHECK(!(s->acked_protocol & ~(s->protocol & VHU_PF_DEFAULT_MASK)),
				 "acked protocol features not offered");
		if (!rc)
			rc = vhu_get_queue_num(s, &v);
		break;
	case 28: rc = vhu_set_mem_table(s, &fz_res, 0, 1); break;
	case 29: rc = vhu_set_features(s, VHU_BIT(VIRTIO_F_VERSION_1)); break;
	case 30:
		memset(cfg, 0x5a, 4);
		rc = vhu_set_config(s, 8, 0, cfg, 4);
		break;
	default:
		/* No REPLY_ACK path: the GET_FEATURES barrier confirms it. */
		s->no_sync = false;
		rc = vhu_set_status(s, 0x0f);
		break;
	}
	return rc;
}

static void fz_session(uint8_t sel, const uint8_t *p, size_t n)
{
	static const unsigned nfds_by_mode[4] = { 0, 1, FZ_MANY_FDS, 0 };
	struct vhu_session s;
	unsigned nfds = n ? nfds_by_mode[sel >> 6] : 0;
	int sv[2], rc;

	FZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		 strerror(errno));
	vhu_session_init(&s);
	vhu_session_adopt(&s, sv[0]);
	fz_state(&s, sel);
	vhu_res_init(&fz_run_res);
	fz_backend_write(sv[1], p, n, nfds,
			 (sel & 0x1f) == 17   ? fz_memfd
			 : (sel & 0x1f) == 19 ? fz_pipe[1]
					      : fz_devnull);

	rc = fz_op(&s, sel & 0x1f);

	FZ_CHECK(rc == VHU_OK || rc == VHU_E_REFUSED || rc == VHU_E_PROTO || rc == VHU_E_UNSUPPORTED ||
			 rc == VHU_E_USAGE || rc == VHU_E_IO || rc == VHU_E_TIMEOUT,
		 "unknown rc %d", rc);
	/* Every failure explains itself. */
	if (rc != VHU_OK)
		FZ_CHECK(vhu_session_error(&s)[0] != '\0', "rc %d without a message", rc);
	FZ_CHECK(memchr(s.err, '\0', sizeof(s.err)) != NULL, "error text not terminated");
	/* A transport failure leaves the stream out of step: the session
	 * must have dropped the connection. */
	if ((rc == VHU_E_IO || rc == VHU_E_TIMEOUT) && (sel & 0x1f) != 6 /* channel: checked there */)
		FZ_CHECK(s.fd < 0, "rc %d left the connection open", rc);
	fz_sink += s.stats.received;
	if (fz_verbose)
		fprintf(stderr, "  sel 0x%02x op %u: rc %d%s%s\n", sel, sel & 0x1fu, rc, rc ? ": " : "",
			rc ? vhu_session_error(&s) : "");

	vhu_res_free(&fz_run_res);
	vhu_session_close(&s);
	close(sv[1]);
}

/* ---- the pure half ---- */

static struct vhu_cfg_value fz_vals[64];

static void fz_check_cfg(enum vhu_dev_type dev, const uint8_t *p, size_t n, uint32_t off, size_t max,
			 size_t got)
{
	const struct vhu_cfg_layout *l = vhu_cfg_layout(dev);

	FZ_CHECK(got <= max, "dev %d: %zu values, max %zu", dev, got, max);
	FZ_CHECK(l || got == 0, "dev %d: values without a layout", dev);
	for (size_t i = 0; i < got; i++) {
		const struct vhu_cfg_value *v = &fz_vals[i];
		const struct vhu_cfg_field *f = v->field;

		FZ_CHECK(f != NULL, "dev %d: value %zu without a field", dev, i);
		FZ_CHECK(memchr(v->str, '\0', sizeof(v->str)) != NULL, "%s: text not terminated", f->name);
		if (!v->present)
			continue;
		/* Present fixed fields lie wholly inside the window. */
		if (dev != VHU_DEV_INPUT || f->offset < 8)
			FZ_CHECK(f->offset >= off && (uint64_t)f->offset + f->size <= (uint64_t)off + n,
				 "dev %d: %s [%u,+%u) present outside the window [%u,+%zu)", dev, f->name,
				 f->offset, f->size, off, n);
		if (f->kind == VHU_CFG_UINT && f->size < 8 && (dev != VHU_DEV_INPUT || f->offset < 8))
			FZ_CHECK(!(v->u >> (8 * f->size)), "%s: %llu wider than %u bytes", f->name,
				 (unsigned long long)v->u, f->size);
		if (f->kind == VHU_CFG_MAC)
			FZ_CHECK(strlen(v->str) == 17, "%s: MAC text '%s'", f->name, v->str);
	}
	(void)p;
}

static void fz_decoders(uint8_t sel, const uint8_t *p, size_t n)
{
	uint32_t offs[4] = { 0, 0, 0, 0 };
	uint64_t feats = n >= 8 ? rd64(p) : ~UINT64_C(0);
	size_t ndev = vhu_dev_count();
	char line[1024];

	if (n >= 1)
		offs[1] = p[0] % 300;
	if (n >= 2)
		offs[2] = p[1];
	if (n >= 4)
		offs[3] = rd32(p);

	/* Config space: every device type (plus none and an unknown one). */
	for (size_t i = 0; i < ndev + 2; i++) {
		enum vhu_dev_type dev = i < ndev    ? vhu_dev_at(i)->id
					: i == ndev ? VHU_DEV_NONE
						    : (enum vhu_dev_type)99;

		for (size_t k = 0; k < 4; k++) {
			bool trunc = false;
			size_t max = k == 3 ? sel % 5 : 64;
			size_t got = vhu_cfg_decode(dev, p, n, offs[k], feats, sel & 1, fz_vals, max, &trunc);

			fz_check_cfg(dev, p, n, offs[k], max, got);
		}
		/* No output array, no truncation flag: counts only. */
		FZ_CHECK(vhu_cfg_decode(dev, p, n, 0, feats, true, NULL, 64, NULL) == 0,
			 "values without out");
	}

	/* Inflight buffer: a few queue sizes and queues. */
	for (unsigned q = 0; q < 3; q++) {
		static const uint16_t qss[3] = { 1, 4, 256 };
		struct vhu_inflight_queue iq;

		vhu_inflight_decode(p, n, n >= 2 ? (uint16_t)(p[0] | p[1] << 8) : qss[q], q, &iq);
		vhu_inflight_decode(p, n, qss[q], sel % 5, &iq);
		FZ_CHECK(!iq.present || vhu_inflight_stride(qss[q]) * (sel % 5) + 16 <= n,
			 "queue header past the end");
		fz_sink += iq.inflight;
	}

	/* Trace lines: every shape, a full buffer and a short one. */
	for (int shape = VHU_SHAPE_NONE; shape <= VHU_SHAPE_OPAQUE + 1; shape++) {
		size_t small = 1 + sel % 48;
		enum vhu_dev_type dev = vhu_dev_at(sel % ndev)->id;

		vhu_trace_decode((enum vhu_shape)shape, dev, p, n, line, sizeof(line));
		FZ_CHECK(strlen(line) < sizeof(line), "trace line overflow");
		/* A canary of 16 bytes past the short buffer's end. */
		memset(line, 0x7f, small + 16);
		vhu_trace_decode((enum vhu_shape)shape, dev, p, n, line, small);
		FZ_CHECK(memchr(line, '\0', small) != NULL, "shape %d: line of size %zu not terminated",
			 shape, small);
		for (size_t j = small; j < small + 16; j++)
			FZ_CHECK(line[j] == 0x7f, "shape %d: wrote byte %zu of a %zu-byte buffer", shape, j,
				 small);
	}
}

/* A record read back from a capture: decoded as the proxy would print it. */
static void fz_cap_record(void *arg, const struct vhu_relay_rec *r)
{
	struct vhu_decoded d;
	char line[1024];

	(void)arg;
	if (r->kind != VHU_REL_MSG) {
		FZ_CHECK(strlen(r->note) < sizeof(r->note), "note not terminated");
		return;
	}
	FZ_CHECK(r->m->hdr.size <= VHU_MAX_PAYLOAD && r->m->nfds <= VHU_MSG_FD_ROOM, "record out of bounds");
	vhu_decode_payload(vhu_body_shape(r->desc, r->reply, r->expect), r->m->payload, r->m->hdr.size, &d);
	vhu_decoded_text(&d, VHU_DEV_BLK, line, sizeof(line));
	fz_sink += strlen(line);
}

/* The bytes as a capture file of `proxy --pcapng`, and as one packet
 * behind a valid section and interface header. */
static void fz_capture(const uint8_t *p, size_t n)
{
	static uint8_t buf[28 + 20 + 28 + 8192 + 8];
	static const uint8_t head[48] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28,   0,    0,	  0,	0x4d, 0x3c, 0x2b, 0x1a, 1,  0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28,   0,    0,	  0,	1,  0, 0, 0,
		20,   0,    0,	  0,	147,  0,    0,	  0,	0,    0,    0,	  0,	20, 0, 0, 0,
	};
	char err[256];
	size_t len, pad, total;
	FILE *f;

	if (n) {
		f = fmemopen((void *)p, n, "r");
		if (f) {
			vhu_cap_read(f, fz_cap_record, NULL, err, sizeof(err));
			fclose(f);
		}
	}
	len = n < 8192 ? n : 8192;
	pad = (4 - len % 4) % 4;
	total = 28 + len + pad + 4;
	memcpy(buf, head, sizeof(head));
	memset(buf + 48, 0, 28);
	buf[48] = 6;
	memcpy(buf + 52, &(uint32_t){ (uint32_t)total }, 4);
	memcpy(buf + 68, &(uint32_t){ (uint32_t)len }, 4);
	memcpy(buf + 72, &(uint32_t){ (uint32_t)len }, 4);
	memcpy(buf + 76, p, len);
	memset(buf + 76 + len, 0, pad);
	memcpy(buf + 76 + len + pad, &(uint32_t){ (uint32_t)total }, 4);
	f = fmemopen(buf, 48 + total, "r");
	if (f) {
		vhu_cap_read(f, fz_cap_record, NULL, err, sizeof(err));
		fclose(f);
	}
}

static void fz_parsers(uint8_t sel, const uint8_t *p, size_t n)
{
	static const enum vhu_bit_space spaces[] = { VHU_BITS_FEATURES, VHU_BITS_PROTOCOL, VHU_BITS_STATUS };
	enum vhu_dev_type dev = vhu_dev_at(sel % vhu_dev_count())->id;
	char *t = malloc(n + 1);
	uint8_t hex[VHOST_USER_MAX_CONFIG_SIZE + 8];
	char bad[64];
	uint64_t v;
	size_t len;
	unsigned bit;
	int ms;
	uint8_t select, uuid[16], mac[6];

	FZ_CHECK(t != NULL, "malloc");
	memcpy(t, p, n);
	t[n] = '\0';

	for (size_t i = 0; i < sizeof(spaces) / sizeof(spaces[0]); i++) {
		bad[0] = '\0';
		if (vhu_parse_mask(t, spaces[i], dev, ~UINT64_C(0), &v, bad, sizeof(bad)) != 0)
			FZ_CHECK(memchr(bad, '\0', sizeof(bad)) != NULL, "bad word not terminated");
		if (vhu_bit_parse(spaces[i], dev, t, &bit) == 0)
			FZ_CHECK(bit < (spaces[i] == VHU_BITS_STATUS ? 8u : 64u), "bit %u parsed", bit);
	}
	memset(hex, 0xcc, sizeof(hex));
	len = 9999;
	if (vhu_parse_hex(t, hex, VHOST_USER_MAX_CONFIG_SIZE, &len) == 0)
		FZ_CHECK(len <= VHOST_USER_MAX_CONFIG_SIZE, "hex: %zu bytes", len);
	for (size_t j = VHOST_USER_MAX_CONFIG_SIZE; j < sizeof(hex); j++)
		FZ_CHECK(hex[j] == 0xcc, "hex wrote past its bound");
	memset(hex, 0xcc, sizeof(hex));
	if (vhu_parse_hex(t, hex, 4, &len) == 0)
		FZ_CHECK(len <= 4, "hex: %zu bytes into 4", len);
	FZ_CHECK(hex[4] == 0xcc, "hex wrote past a 4-byte bound");
	if (vhu_parse_size(t, &v) == 0)
		fz_sink += (size_t)v;
	if (vhu_parse_u64(t, 0xffff, &v) == 0)
		FZ_CHECK(v <= 0xffff, "u64 above max");
	if (vhu_parse_seconds(t, &ms) == 0)
		FZ_CHECK(ms >= 0 && ms <= 86400000, "seconds %d", ms);
	if (vhu_input_select_parse(t, &select) == 0)
		fz_sink += select;
	if (vhu_parse_uuid(t, uuid) == 0) {
		char back[37];

		vhu_format_uuid(uuid, back);
		FZ_CHECK(strlen(back) == 36, "uuid text '%s'", back);
	}
	if (vhu_parse_mac(t, mac) == 0) {
		char back[18];

		vhu_format_mac(mac, back);
		FZ_CHECK(!strcasecmp(back, t), "mac text '%s' from '%s'", back, t);
	}
	fz_sink += (size_t)(uintptr_t)vhu_req_by_name(t) + (size_t)(uintptr_t)vhu_dev_by_name(t);

	/* Field values: every field of every layout. */
	for (size_t i = 0; i < vhu_dev_count(); i++) {
		const struct vhu_cfg_layout *l = vhu_cfg_layout(vhu_dev_at(i)->id);

		fz_sink += (size_t)(uintptr_t)vhu_cfg_field_by_name(vhu_dev_at(i)->id, t);
		for (size_t f = 0; l && f < l->nfields; f++) {
			const struct vhu_cfg_field *fd = &l->fields[f];

			/* A canary of 8 bytes past the field. */
			memset(hex, 0xcc, fd->size + 8u);
			if (vhu_cfg_encode(fd, t, hex) == 0)
				fz_sink += hex[0];
			for (size_t j = fd->size; j < fd->size + 8u; j++)
				FZ_CHECK(hex[j] == 0xcc, "encode %s wrote byte %zu", fd->name, j);
		}
	}
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;
	int before, after;

	fz_init();
	if (size < 1)
		return 0;
	/* Counted around each run: libFuzzer opens files between runs. */
	before = vhu_count_fds();
	sel = data[0];
	fz_session(sel, data + 1, size - 1);
	fz_decoders(sel, data + 1, size - 1);
	fz_capture(data + 1, size - 1);
	fz_parsers(sel, data + 1, size - 1);

	after = vhu_count_fds();
	FZ_CHECK(after <= before, "%d fds open after the run, %d before: a path leaks", after, before);
	return 0;
}

#ifdef VHU_FUZZ_REPLAY_MAIN
/*
 * fuzz_replay [-v] DIR|FILE...: run every input once (directories in
 * name order), for ctest.  Exit 0 when all ran; a finding aborts.  -v
 * prints each input's name and the client call's result.
 */
static size_t replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	if (len < 0 || len > (1L << 20)) {
		fprintf(stderr, "fuzz_replay: %s: unreadable or larger than 1 MiB\n", path);
		exit(1);
	}
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fuzz_replay: %s: read failed\n", path);
		exit(1);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 1;
}

static int only_files(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	size_t total = 0;

	int first = 1;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		fz_verbose = true;
		first = 2;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: fuzz_replay [-v] DIR|FILE...\n");
		return 64;
	}
	fz_init();
	for (int i = first; i < argc; i++) {
		struct stat st;
		struct dirent **list;
		int n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz_replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			total += replay_file(argv[i]);
			continue;
		}
		n = scandir(argv[i], &list, only_files, alphasort);
		if (n < 0) {
			fprintf(stderr, "fuzz_replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], list[k]->d_name);
			if (fz_verbose)
				fprintf(stderr, "%s\n", list[k]->d_name);
			total += replay_file(path);
			free(list[k]);
		}
		free(list);
	}
	if (!total) {
		fprintf(stderr, "fuzz_replay: no inputs\n");
		return 1;
	}
	printf("fuzz_replay: %zu inputs replayed, no finding\n", total);
	return 0;
}
#endif
