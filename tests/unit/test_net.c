// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the pure parts of src/dev/net.c: the virtio-net header
 * size per feature set, --frame parsing, the default frame and its
 * checksums (recomputed here from RFC 791 / RFC 768), and the receive
 * buffer rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dev/net.h"

#define B(n) (UINT64_C(1) << (n))

static void test_hdr_len(void **state)
{
	(void)state;
	/* legacy, no MRG_RXBUF: struct virtio_net_hdr */
	assert_int_equal(vhu_net_hdr_len(0), 10);
	assert_int_equal(vhu_net_hdr_len(B(5) | B(28) | B(29)), 10);
	/* VERSION_1 or MRG_RXBUF: num_buffers is there */
	assert_int_equal(vhu_net_hdr_len(B(32)), 12);
	assert_int_equal(vhu_net_hdr_len(B(15)), 12);
	assert_int_equal(vhu_net_hdr_len(B(32) | B(15) | B(34)), 12);
	/* HASH_REPORT: virtio_net_hdr_v1_hash */
	assert_int_equal(vhu_net_hdr_len(B(32) | B(57)), 20);
	/* DPDK 22.11's offer, acked as net does (VERSION_1, MRG_RXBUF, bit 30, ring bits) */
	assert_int_equal(vhu_net_hdr_len(UINT64_C(0xd7c66e7cb) & (B(32) | B(30) | B(15) | B(28) | B(29))),
			 12);
}

static void expect_frame(const char *hex, const uint8_t *want, size_t want_len)
{
	uint8_t buf[VHU_NET_FRAME_MAX];
	char why[160] = "";
	size_t len = 0;

	assert_int_equal(vhu_net_parse_frame(hex, buf, &len, why, sizeof(why)), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(buf, want, want_len);
}

static void expect_bad(const char *hex, const char *reason)
{
	uint8_t buf[VHU_NET_FRAME_MAX];
	char why[160] = "";
	size_t len = 12345;

	assert_int_equal(vhu_net_parse_frame(hex, buf, &len, why, sizeof(why)), -1);
	assert_int_equal(len, 12345); /* untouched */
	if (!strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

static void test_parse_frame(void **state)
{
	static const uint8_t f14[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
	char big[2 * VHU_NET_FRAME_MAX + 3];
	uint8_t max[VHU_NET_FRAME_MAX];

	(void)state;
	expect_frame("ffffffffffff0200000000010806", f14, 14);
	expect_frame("FFFFFFFFFFFF0200000000010806", f14, 14);
	expect_frame("0xffffffffffff0200000000010806", f14, 14);
	expect_frame("ff:ff:ff:ff:ff:ff:02:00:00:00:00:01:08:06", f14, 14);
	expect_frame("ff ff ff ff ff ff 02 00 00 00 00 01 08 06", f14, 14);
	expect_frame("ff-ff-ff-ff-ff-ff-02-00-00-00-00-01-08-06", f14, 14);
	/* the largest frame */
	memset(max, 0xab, sizeof(max));
	for (size_t i = 0; i < VHU_NET_FRAME_MAX; i++)
		memcpy(big + 2 * i, "ab", 2);
	big[2 * VHU_NET_FRAME_MAX] = 0;
	expect_frame(big, max, VHU_NET_FRAME_MAX);
	/* one byte more */
	memcpy(big + 2 * VHU_NET_FRAME_MAX, "ab", 3);
	expect_bad(big, "a frame of 1515 bytes is too long");
	/* not hex, odd digits, a lone nibble between separators */
	expect_bad("ffffffffffff02000000000108zz", "not hex bytes");
	expect_bad("ffffffffffff020000000001080", "not hex bytes");
	expect_bad("ff:f:ff:ff:ff:ff:02:00:00:00:00:01:08:06", "not hex bytes");
	expect_bad("0x", "a frame of 0 bytes is too short");
	expect_bad("", "a frame of 0 bytes is too short");
	expect_bad("02", "a frame of 1 byte is too short");
	expect_bad("ffffffffffff02000000000108",
		   "a frame of 13 bytes is too short: an Ethernet frame has 14..1514");
}

/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2. */
static void test_csum(void **state)
{
	static const uint8_t d[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[3] = { 0x01, 0x02, 0x03 };

	(void)state;
	assert_int_equal(vhu_net_csum(d, 8, 0), (uint16_t)~0xddf2);
	/* an odd length pads with a zero byte: 0x0102 + 0x0300 */
	assert_int_equal(vhu_net_csum(odd, 3, 0), (uint16_t)~0x0402);
	/* a starting sum carries in */
	assert_int_equal(vhu_net_csum(d, 8, 0x220d), 0); /* 0xddf2 + 0x220d = 0xffff */
}

/* One's complement sum of 16-bit big-endian words, folded. */
static uint32_t fold(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static void test_default_frame(void **state)
{
	uint8_t f[VHU_NET_DEFAULT_FRAME_LEN + 8];
	const uint8_t *ip = f + 14, *udp = f + 34;
	uint32_t pseudo;
	size_t len;

	(void)state;
	memset(f, 0xee, sizeof(f));
	len = vhu_net_default_frame(f);
	assert_int_equal(len, 60);
	assert_int_equal(f[60], 0xee); /* nothing beyond */
	assert_memory_equal(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	/* IPv4: version 4, IHL 5, total length 46, UDP, 192.0.2.1 > 192.0.2.2 */
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[2] << 8 | ip[3], 46);
	assert_int_equal(ip[9], 17);
	assert_memory_equal(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	assert_int_equal(fold(ip, 20, 0), 0xffff); /* header checksum valid */
	/* UDP 1024 > 9, length 26, checksum over the pseudo header valid */
	assert_int_equal(udp[0] << 8 | udp[1], 1024);
	assert_int_equal(udp[2] << 8 | udp[3], 9);
	assert_int_equal(udp[4] << 8 | udp[5], 26);
	assert_int_not_equal(udp[6] << 8 | udp[7], 0);
	pseudo = fold(ip + 12, 8, 17 + 26);
	assert_int_equal(fold(udp, 26, pseudo), 0xffff);
	assert_memory_equal(udp + 8, "vhuctl", 6);
}

static void test_rx_buf(void **state)
{
	struct vhu_session s;

	(void)state;
	vhu_session_init(&s);
	assert_int_equal(vhu_net_check_rx_buf(&s, B(32) | B(15), 12), VHU_OK);
	assert_int_equal(vhu_net_check_rx_buf(&s, B(32) | B(15), 11), VHU_E_USAGE);
	assert_non_null(strstr(s.err, "smaller than the 12-byte virtio-net header"));
	assert_int_equal(vhu_net_check_rx_buf(&s, B(32), 1526), VHU_OK);
	assert_int_equal(vhu_net_check_rx_buf(&s, B(32), 1525), VHU_E_USAGE);
	assert_non_null(strstr(s.err, "(1526 bytes)"));
	assert_int_equal(vhu_net_check_rx_buf(&s, 0, 1524), VHU_OK); /* legacy: 10 + 1514 */
	assert_int_equal(vhu_net_check_rx_buf(&s, 0, 1523), VHU_E_USAGE);
	vhu_session_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_len), cmocka_unit_test(test_parse_frame),
		cmocka_unit_test(test_csum),	cmocka_unit_test(test_default_frame),
		cmocka_unit_test(test_rx_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
