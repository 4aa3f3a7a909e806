/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The message transport (proto/msg.h) on socketpairs, the reply rule
 * (vhu_reply_expected) and the payload decoder (decode/payload.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode/payload.h"
#include "proto/catalog.h"
#include "proto/msg.h"
#include "render/trace.h"

static struct vhu_msg m;

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
}

/* Send @len bytes with @nfds fds on the first one, in one sendmsg. */
static void raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(fd, &mh, 0), (ssize_t)len);
}

static void test_write_read_with_fds(void **state)
{
	struct vhost_user_hdr h = { VHOST_USER_SET_VRING_KICK, VHOST_USER_VERSION, 8 };
	uint64_t v = 3;
	int sv[2], efd = eventfd(0, EFD_CLOEXEC);
	struct vhu_tx tx = { 0 };
	struct vhu_rx rx;
	struct vhu_fd_desc d;

	(void)state;
	pair(sv);
	assert_int_equal(vhu_msg_write(sv[0], &h, &v, &efd, 1, &tx), VHU_TX_DONE);
	assert_int_equal(tx.done, 20);
	/* A second message right behind: the first read must not take it. */
	tx.done = 0;
	h.request = VHOST_USER_GET_FEATURES;
	h.size = 0;
	assert_int_equal(vhu_msg_write(sv[0], &h, NULL, NULL, 0, &tx), VHU_TX_DONE);

	vhu_rx_reset(&rx);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0), VHU_RX_DONE);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_KICK);
	assert_int_equal(m.hdr.size, 8);
	assert_memory_equal(m.payload, &v, 8);
	assert_int_equal(m.nfds, 1);
	vhu_fd_describe(m.fds[0], &d);
	assert_string_equal(vhu_fd_type_name(&d), "eventfd");
	vhu_msg_close_fds(&m);

	vhu_rx_reset(&rx);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0), VHU_RX_DONE);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(m.nfds, 0);
	vhu_rx_reset(&rx);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0), VHU_RX_AGAIN);
	close(sv[0]);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0), VHU_RX_EOF);
	close(sv[1]);
	close(efd);
}

/* A message arriving in pieces: AGAIN in between, stray fds on a later
 * piece closed and counted, the header reported once with STOP_HEADER. */
static void test_pieces_and_strays(void **state)
{
	uint8_t buf[12 + 16];
	struct vhost_user_hdr h = { VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, 16 };
	int sv[2], fds[2] = { memfd_create("a", MFD_CLOEXEC), memfd_create("b", MFD_CLOEXEC) };
	struct vhu_rx rx;
	struct vhu_fd_desc d;

	(void)state;
	assert_int_equal(ftruncate(fds[0], 8192), 0);
	pair(sv);
	memcpy(buf, &h, 12);
	memset(buf + 12, 0xab, 16);
	vhu_rx_reset(&rx);
	raw_send(sv[0], buf, 5, fds, 1);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, VHU_RX_STOP_HEADER), VHU_RX_AGAIN);
	assert_int_equal(rx.got, 5);
	raw_send(sv[0], buf + 5, 10, fds + 1, 1);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, VHU_RX_STOP_HEADER), VHU_RX_HEADER);
	assert_int_equal(rx.got, 12);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, VHU_RX_STOP_HEADER), VHU_RX_AGAIN);
	raw_send(sv[0], buf + 15, sizeof(buf) - 15, NULL, 0);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, VHU_RX_STOP_HEADER), VHU_RX_DONE);
	assert_int_equal(rx.stray, 1);
	assert_int_equal(m.nfds, 1);
	vhu_fd_describe(m.fds[0], &d);
	assert_int_equal(d.type, VHU_FDT_MEMFD);
	assert_int_equal(d.size, 8192);
	vhu_msg_close_fds(&m);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_oversize_eof_and_excess_fds(void **state)
{
	struct vhost_user_hdr h = { VHOST_USER_GET_CONFIG, VHOST_USER_VERSION, 300 };
	int sv[2], fds[40];
	struct vhu_rx rx;

	(void)state;
	pair(sv);
	raw_send(sv[0], &h, 12, NULL, 0);
	vhu_rx_reset(&rx);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, 268, 0), VHU_RX_ERROR);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(rx.got, 12);
	close(sv[0]);
	close(sv[1]);

	/* EOF inside a message: errno 0. */
	pair(sv);
	raw_send(sv[0], &h, 7, NULL, 0);
	close(sv[0]);
	vhu_rx_reset(&rx);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0), VHU_RX_ERROR);
	assert_int_equal(errno, 0);
	close(sv[1]);

	/* More fds than the receive room: the room is kept, the rest is
	 * reported as truncated, nothing leaks. */
	pair(sv);
	for (int i = 0; i < 40; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	h.size = 0;
	raw_send(sv[0], &h, 12, fds, 40);
	vhu_rx_reset(&rx);
	assert_int_equal(vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0), VHU_RX_DONE);
	assert_int_equal(m.nfds, VHU_MSG_FD_ROOM);
	assert_true(rx.trunc);
	vhu_msg_close_fds(&m);
	for (int i = 0; i < 40; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

/* A full socket buffer: the rest of the message follows without fds. */
static void test_write_full_buffer(void **state)
{
	static uint8_t big[VHU_MAX_PAYLOAD];
	struct vhost_user_hdr h = { VHOST_USER_SET_CONFIG, VHOST_USER_VERSION, sizeof(big) };
	int sv[2], efd = eventfd(0, EFD_CLOEXEC), sz = 4096;
	struct vhu_tx tx = { 0 };
	struct vhu_rx rx;
	unsigned sent = 0, got = 0;
	enum vhu_tx_status st;

	(void)state;
	pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(big, 0x5a, sizeof(big));
	/* Fill until a message is cut short. */
	while ((st = vhu_msg_write(sv[0], &h, big, &efd, 1, &tx)) == VHU_TX_DONE) {
		tx.done = 0;
		sent++;
	}
	assert_int_equal(st, VHU_TX_AGAIN);
	for (;;) {
		vhu_rx_reset(&rx);
		if (vhu_msg_read(sv[1], &m, &rx, VHU_MAX_PAYLOAD, 0) != VHU_RX_DONE)
			break;
		assert_int_equal(m.nfds, 1);
		assert_int_equal(rx.stray, 0);
		vhu_msg_close_fds(&m);
		got++;
		if (got == sent + 1)
			break;
		if (got == sent)
			assert_int_equal(vhu_msg_write(sv[0], &h, big, &efd, 1, &tx), VHU_TX_DONE);
	}
	assert_int_equal(got, sent + 1);
	close(efd);
	close(sv[0]);
	close(sv[1]);
}

static void test_reply_expected(void **state)
{
	const uint64_t ack = VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	const uint64_t logfd = VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	const uint32_t v = VHOST_USER_VERSION, need = VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK;
	const struct vhu_req_desc *gf = vhu_req_by_code(VHOST_USER_GET_FEATURES);
	const struct vhu_req_desc *mt = vhu_req_by_code(VHOST_USER_SET_MEM_TABLE);
	const struct vhu_req_desc *lb = vhu_req_by_code(VHOST_USER_SET_LOG_BASE);
	const struct vhu_req_desc *io = vhu_backend_req_by_code(VHOST_USER_BACKEND_IOTLB_MSG);
	const struct vhu_req_desc *lk = vhu_backend_req_by_code(VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP);

	(void)state;
	assert_int_equal(vhu_reply_expected(gf, false, 0, v), VHU_EXPECT_OWN);
	assert_int_equal(vhu_reply_expected(gf, false, 0, v | VHOST_USER_REPLY_MASK), VHU_EXPECT_NONE);
	assert_int_equal(vhu_reply_expected(mt, false, 0, v), VHU_EXPECT_NONE);
	/* NEED_REPLY without REPLY_ACK negotiated: nothing comes. */
	assert_int_equal(vhu_reply_expected(mt, false, 0, need), VHU_EXPECT_NONE);
	assert_int_equal(vhu_reply_expected(mt, false, ack, need), VHU_EXPECT_ACK);
	assert_int_equal(vhu_reply_expected(mt, false, ack, v), VHU_EXPECT_NONE);
	assert_int_equal(vhu_reply_expected(lb, false, logfd, v), VHU_EXPECT_OWN);
	assert_int_equal(vhu_reply_expected(lb, false, ack, need), VHU_EXPECT_ACK);
	assert_int_equal(vhu_reply_expected(lb, false, 0, need), VHU_EXPECT_NONE);
	assert_int_equal(vhu_reply_expected(NULL, false, ack, need), VHU_EXPECT_ACK);
	assert_int_equal(vhu_reply_expected(NULL, false, 0, v), VHU_EXPECT_NONE);
	/* The back-end channel: NEED_REPLY alone asks for the answer. */
	assert_int_equal(vhu_reply_expected(io, true, 0, need), VHU_EXPECT_ACK);
	assert_int_equal(vhu_reply_expected(io, true, 0, v), VHU_EXPECT_NONE);
	assert_int_equal(vhu_reply_expected(lk, true, 0, v), VHU_EXPECT_OWN);
	assert_int_equal(vhu_reply_expected(NULL, true, 0, need), VHU_EXPECT_ACK);
}

static void test_decode_payload(void **state)
{
	struct vhost_user_memory mem = { .nregions = 2 };
	struct vhu_decoded d;
	uint64_t f = VHU_BIT(32) | VHU_BIT(30);
	char buf[512];

	(void)state;
	mem.regions[0] = (struct vhost_user_memory_region){ 0x0, 0x1000, 0x7f00, 0 };
	mem.regions[1] = (struct vhost_user_memory_region){ 0x100000, 0x2000, 0x8f00, 0x1000 };
	vhu_decode_payload(VHU_SHAPE_MEMORY, (const uint8_t *)&mem, 8 + 64, &d);
	assert_string_equal(d.v[0].key, "nregions");
	assert_int_equal(d.v[1].kind, VHU_VAL_LIST);
	assert_int_equal(d.v[2].kind, VHU_VAL_OBJ);
	vhu_decoded_text(&d, VHU_DEV_NONE, buf, sizeof(buf));
	assert_string_equal(buf, " nregions=2 [gpa=0x0 size=0x1000 uva=0x7f00 off=0x0] "
				 "[gpa=0x100000 size=0x2000 uva=0x8f00 off=0x1000]");
	vhu_decode_payload(VHU_SHAPE_FEATURES, (const uint8_t *)&f, 8, &d);
	vhu_decoded_text(&d, VHU_DEV_NONE, buf, sizeof(buf));
	assert_string_equal(buf, " features=0x140000000 [VHOST_USER_F_PROTOCOL_FEATURES,VIRTIO_F_VERSION_1]");
	/* Too short for its shape: nothing. */
	vhu_decode_payload(VHU_SHAPE_VRING_ADDR, (const uint8_t *)&f, 8, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(vhu_body_shape(vhu_req_by_code(VHOST_USER_SET_MEM_TABLE), true, VHU_EXPECT_ACK),
			 VHU_SHAPE_ACK);
	assert_int_equal(vhu_body_shape(NULL, false, VHU_EXPECT_NONE), VHU_SHAPE_OPAQUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_with_fds),
		cmocka_unit_test(test_pieces_and_strays),
		cmocka_unit_test(test_oversize_eof_and_excess_fds),
		cmocka_unit_test(test_write_full_buffer),
		cmocka_unit_test(test_reply_expected),
		cmocka_unit_test(test_decode_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
