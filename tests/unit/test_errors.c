/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for how src/proto/session.c classifies failures: which side
 * is to blame (our own fd limit against a back-end's excess fds, an
 * inconsistent feature offer against a bad mask) and how the messages
 * read.  A socketpair peer plays the back-end, as in test_session.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/session.h"

#define TIMEOUT_MS  300
#define REPLY_FLAGS (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)
#define FD_LIMIT    64

struct fx {
	struct vhu_session s;
	int peer;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	vhu_session_init(&f->s);
	vhu_session_adopt(&f->s, sv[0]);
	f->s.timeout_ms = TIMEOUT_MS;
	f->s.no_sync = true;
	f->peer = sv[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vhu_session_close(&f->s);
	close(f->peer);
	free(f);
	return 0;
}

static void assert_err_contains(const struct vhu_session *s, const char *needle)
{
	if (!strstr(vhu_session_error(s), needle))
		fail_msg("error \"%s\" lacks \"%s\"", vhu_session_error(s), needle);
}

/* The peer sends a GET_FEATURES reply with @n fds attached to its header. */
static void peer_reply_with_fds(int peer, unsigned n)
{
	struct {
		struct vhost_user_hdr h;
		uint64_t v;
	} __attribute__((packed)) msg = { { VHOST_USER_GET_FEATURES, REPLY_FLAGS, 8 }, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { &msg, sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *c;
	int fds[64];

	assert_true(n <= 64);
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	for (unsigned i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	assert_int_equal(sendmsg(peer, &mh, MSG_NOSIGNAL), (ssize_t)sizeof(msg));
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* Lower RLIMIT_NOFILE to FD_LIMIT and take every free fd below it. */
struct exhaust {
	struct rlimit saved;
	int fds[FD_LIMIT];
	unsigned n;
};

static void exhaust_fds(struct exhaust *e)
{
	struct rlimit rl;
	int fd;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &e->saved), 0);
	if (e->saved.rlim_max < FD_LIMIT)
		skip();
	rl = e->saved;
	rl.rlim_cur = FD_LIMIT;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	e->n = 0;
	while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		assert_true(e->n < FD_LIMIT);
		e->fds[e->n++] = fd;
	}
	assert_int_equal(errno, EMFILE);
}

static void release_fds(struct exhaust *e)
{
	for (unsigned i = 0; i < e->n; i++)
		close(e->fds[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &e->saved), 0);
}

static void test_reply_fd_over_own_limit(void **state)
{
	struct fx *f = *state;
	struct exhaust e;
	uint64_t v;
	int rc;

	peer_reply_with_fds(f->peer, 1);
	exhaust_fds(&e);
	rc = vhu_get_features(&f->s, &v);
	release_fds(&e);
	/* The kernel could not install the fd (MSG_CTRUNC): our limit, a
	 * local I/O error, not a reply that "carries 1 fd". */
	assert_int_equal(rc, VHU_E_IO);
	assert_err_contains(&f->s, "GET_FEATURES: ");
	assert_err_contains(&f->s, "vhuctl ran out of file descriptors (RLIMIT_NOFILE 64)");
	assert_null(strstr(vhu_session_error(&f->s), "carries"));
	assert_int_equal(f->s.fd, -1);
}

static void test_reply_too_many_fds_is_backends(void **state)
{
	struct fx *f = *state;
	uint64_t v;

	/* More fds than the receive buffer has room for also truncates the
	 * control message, with fds to spare: the back-end's fault. */
	peer_reply_with_fds(f->peer, 40);
	assert_int_equal(vhu_get_features(&f->s, &v), VHU_E_PROTO);
	assert_err_contains(&f->s, "reply carries");
	assert_int_equal(f->s.fd, -1);
}

static void test_socket_over_own_limit(void **state)
{
	struct vhu_session s;
	struct exhaust e;
	int rc;

	(void)state;
	vhu_session_init(&s);
	exhaust_fds(&e);
	rc = vhu_connect(&s, "/nonexistent/vhuctl-test.sock", 0);
	release_fds(&e);
	assert_int_equal(rc, VHU_E_IO);
	assert_err_contains(&s, "socket: vhuctl ran out of file descriptors (RLIMIT_NOFILE 64)");
}

static void test_no_room_to_send(void **state)
{
	struct fx *f = *state;
	static uint8_t payload[VHU_MAX_PAYLOAD];
	int small = 4096, rc = VHU_OK;

	/* The peer never reads: the socket buffer fills up. */
	setsockopt(f->s.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (int i = 0; i < 10000 && rc == VHU_OK; i++)
		rc = vhu_request_raw(&f->s, VHOST_USER_SET_CONFIG, VHOST_USER_VERSION, payload,
				     sizeof(payload), NULL, 0, false, NULL);
	assert_int_equal(rc, VHU_E_TIMEOUT);
	assert_err_contains(&f->s, "SET_CONFIG: no room to send within 300 ms");
	/* Nothing came *from* the back-end: it is what we could not send. */
	assert_null(strstr(vhu_session_error(&f->s), "from the back-end"));
}

static void test_inconsistent_offer_is_backends(void **state)
{
	struct fx *f = *state;
	const uint64_t breq = VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ);
	const uint64_t rack = VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	const uint64_t inband = VHU_BIT(VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS);
	const uint64_t shmem = VHU_BIT(VHOST_USER_PROTOCOL_F_SHMEM);
	char c;

	f->s.have_features = true;
	f->s.features = VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	f->s.have_protocol = true;

	/* Offered INBAND_NOTIFICATIONS without BACKEND_REQ. */
	f->s.protocol = inband | rack;
	assert_int_equal(vhu_set_protocol_features(&f->s, inband | rack), VHU_E_PROTO);
	assert_err_contains(&f->s, "offers INBAND_NOTIFICATIONS but not BACKEND_REQ");
	/* ... and without REPLY_ACK either. */
	f->s.protocol = inband;
	assert_int_equal(vhu_set_protocol_features(&f->s, inband), VHU_E_PROTO);
	assert_err_contains(&f->s, "not REPLY_ACK and BACKEND_REQ");
	/* SHMEM without BACKEND_REQ. */
	f->s.protocol = shmem;
	assert_int_equal(vhu_set_protocol_features(&f->s, shmem), VHU_E_PROTO);
	assert_err_contains(&f->s, "offers SHMEM but not BACKEND_REQ");

	/* Everything offered: leaving the companion out is our mistake. */
	f->s.protocol = inband | rack | breq | shmem;
	assert_int_equal(vhu_set_protocol_features(&f->s, inband | rack), VHU_E_USAGE);
	assert_int_equal(vhu_set_protocol_features(&f->s, shmem), VHU_E_USAGE);
	assert_false(f->s.protocol_set);
	/* Nothing was sent in any case. */
	assert_int_equal(recv(f->peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reply_fd_over_own_limit),
		T(test_reply_too_many_fds_is_backends),
		cmocka_unit_test(test_socket_over_own_limit),
		T(test_no_room_to_send),
		T(test_inconsistent_offer_is_backends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
