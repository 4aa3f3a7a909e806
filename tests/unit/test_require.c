// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for src/decode/require.c: the syntax of a requirement, name
 * resolution with and without a device type, value names, and evaluation
 * against known and unknown values.  Config bytes are copied into
 * malloc'd buffers of the exact length so that AddressSanitizer reports a
 * read past what was "read".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/require.h"

static struct vhu_req r;
static char err[600];

static void parse_ok(const char *text)
{
	if (vhu_req_parse(text, &r, err, sizeof(err)))
		fail_msg("'%s': %s", text, err);
}

static void resolve_ok(enum vhu_dev_type dev)
{
	if (vhu_req_resolve(&r, dev, err, sizeof(err)))
		fail_msg("'%s': %s", r.text, err);
}

static void test_syntax(void **state)
{
	static const char *const bad[] = { "",		"feature",	  "=9",	       "feature=",
					   "feature>9", "status<=DRIVER", "queues>=x", "queues=-1",
					   "nope=1",	"queues=>2",	  NULL };
	(void)state;
	parse_ok("  queues >= 2 ");
	assert_int_equal(r.kind, VHU_REQ_QUEUES);
	assert_int_equal(r.op, VHU_REQ_GE);
	assert_int_equal(r.num, 2);
	assert_string_equal(r.text, "queues>=2");
	parse_ok("mem_slots<0x10");
	assert_int_equal(r.kind, VHU_REQ_MEM_SLOTS);
	assert_int_equal(r.op, VHU_REQ_LT);
	assert_int_equal(r.num, 16);
	parse_ok("feature==FLUSH");
	assert_int_equal(r.op, VHU_REQ_EQ);
	assert_string_equal(r.text, "feature=FLUSH");
	parse_ok("config.geometry.heads!=0");
	assert_int_equal(r.kind, VHU_REQ_CONFIG);
	assert_string_equal(r.name, "geometry.heads");
	for (size_t i = 0; bad[i]; i++)
		if (!vhu_req_parse(bad[i], &r, err, sizeof(err)))
			fail_msg("'%s' parsed", bad[i]);
}

static void test_resolve_features(void **state)
{
	(void)state;
	/* A device bit without --type: the one table naming it. */
	parse_ok("feature=VIRTIO_BLK_F_FLUSH");
	resolve_ok(VHU_DEV_NONE);
	assert_int_equal(r.bit, 9);
	assert_int_equal(r.dev, VHU_DEV_BLK);
	assert_string_equal(r.bit_name, "VIRTIO_BLK_F_FLUSH");
	/* Several tables: refused, naming each. */
	parse_ok("feature=MQ");
	assert_int_not_equal(vhu_req_resolve(&r, VHU_DEV_NONE, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "VIRTIO_NET_F_MQ"));
	assert_non_null(strstr(err, "VIRTIO_BLK_F_MQ"));
	resolve_ok(VHU_DEV_NET);
	assert_int_equal(r.bit, 22);
	/* Device-independent bits stay so with a type. */
	parse_ok("feature=VERSION_1");
	resolve_ok(VHU_DEV_BLK);
	assert_int_equal(r.bit, 32);
	assert_int_equal(r.dev, VHU_DEV_NONE);
	parse_ok("feature=bit_50");
	resolve_ok(VHU_DEV_NONE);
	assert_int_equal(r.bit, 50);
	assert_null(r.bit_name);
	parse_ok("protocol-feature=CONFIG");
	resolve_ok(VHU_DEV_NONE);
	assert_int_equal(r.bit, 9);
	parse_ok("status=DRIVER_OK");
	resolve_ok(VHU_DEV_NONE);
	assert_int_equal(r.bit, 2);
	parse_ok("feature=NOPE");
	assert_int_not_equal(vhu_req_resolve(&r, VHU_DEV_NONE, err, sizeof(err)), 0);
}

static void test_resolve_config(void **state)
{
	(void)state;
	parse_ok("config.capacity>=2097152");
	resolve_ok(VHU_DEV_NONE);
	assert_int_equal(r.dev, VHU_DEV_BLK);
	assert_int_equal(r.u, 2097152);
	assert_int_equal(vhu_req_config_end(&r), 8);
	parse_ok("config.num_queues=1");
	assert_int_not_equal(vhu_req_resolve(&r, VHU_DEV_NONE, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "blk, scsi"));
	resolve_ok(VHU_DEV_SCSI);
	/* Value names, and values that do not fit the field. */
	parse_ok("config.duplex=Full");
	resolve_ok(VHU_DEV_NONE);
	assert_int_equal(r.u, 1);
	parse_ok("config.duplex=256");
	assert_int_not_equal(vhu_req_resolve(&r, VHU_DEV_NONE, err, sizeof(err)), 0);
	parse_ok("config.abs.min>=-32768");
	resolve_ok(VHU_DEV_INPUT);
	assert_int_equal(r.i, -32768);
	parse_ok("config.tag>x");
	assert_int_not_equal(vhu_req_resolve(&r, VHU_DEV_FS, err, sizeof(err)), 0);
	parse_ok("config.mac=52:54:00:12:34:56");
	resolve_ok(VHU_DEV_NET);
	assert_memory_equal(r.bytes, "\x52\x54\x00\x12\x34\x56", 6);
}

static void test_eval(void **state)
{
	struct vhu_req_facts f = { 0 };
	struct vhu_req_result res;
	/* blk: capacity 4096 sectors, blk_size 512 (BLK_SIZE offered) */
	static const uint8_t cfg[24] = { 0x00, 0x10, [20] = 0x00, 0x02 };
	uint8_t *buf = malloc(sizeof(cfg));

	(void)state;
	assert_non_null(buf);
	memcpy(buf, cfg, sizeof(cfg));
	f.have_features = true;
	f.features = (1ull << 6) | (1ull << 9) | (1ull << 32);
	f.queues_why = "GET_QUEUE_NUM: back-end does not offer VHOST_USER_PROTOCOL_F_MQ";
	f.config = buf;
	f.config_len = sizeof(cfg);

	parse_ok("feature!=VIRTIO_BLK_F_FLUSH");
	resolve_ok(VHU_DEV_NONE);
	vhu_req_eval(&r, &f, &res);
	assert_false(res.met);
	assert_int_equal(res.type, VHU_REQ_ACT_BOOL);
	assert_true(res.b);

	parse_ok("queues>=1");
	resolve_ok(VHU_DEV_NONE);
	vhu_req_eval(&r, &f, &res);
	assert_false(res.met);
	assert_int_equal(res.type, VHU_REQ_ACT_NONE);
	assert_non_null(strstr(res.text, "unknown: GET_QUEUE_NUM"));

	parse_ok("config.capacity<=4096");
	resolve_ok(VHU_DEV_NONE);
	vhu_req_eval(&r, &f, &res);
	assert_true(res.met);
	assert_int_equal(res.u, 4096);

	parse_ok("config.blk_size>512");
	resolve_ok(VHU_DEV_NONE);
	vhu_req_eval(&r, &f, &res);
	assert_false(res.met);
	assert_string_equal(res.text, "512");

	/* Past the bytes read, and not valid without its feature. */
	parse_ok("config.num_queues>=1");
	resolve_ok(VHU_DEV_BLK);
	vhu_req_eval(&r, &f, &res);
	assert_int_equal(res.type, VHU_REQ_ACT_NONE);
	assert_non_null(strstr(res.why, "not in the 24 bytes read"));
	f.features &= ~(1ull << 6);
	parse_ok("config.blk_size=512");
	resolve_ok(VHU_DEV_NONE);
	vhu_req_eval(&r, &f, &res);
	assert_false(res.met);
	assert_non_null(strstr(res.why, "VIRTIO_BLK_F_BLK_SIZE"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_resolve_features),
		cmocka_unit_test(test_resolve_config),
		cmocka_unit_test(test_eval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
