/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The catalog checks itself: every request of the spec's numbering is in
 * it exactly once, each row's bounds are possible, its gate names a
 * protocol feature that exists, and the lookups find each row again.  A
 * row edited by hand into an impossible shape fails here before any back-end
 * sees it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decode/bits.h"
#include "proto/catalog.h"
#include "proto/wire.h"

/* Front-end codes of the common spec: 1..45, plus crosvm's 1004. */
#define FRONTEND_FIRST VHOST_USER_GET_FEATURES
#define FRONTEND_LAST  VHOST_USER_GET_VRING_BASE_SKIP_DRAIN
#define BACKEND_FIRST  VHOST_USER_BACKEND_IOTLB_MSG
#define BACKEND_LAST   VHOST_USER_BACKEND_SHMEM_UNMAP

typedef const struct vhu_req_desc *(*row_at_fn)(size_t);

static unsigned count_code(row_at_fn at, size_t n, uint32_t code)
{
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		k += at(i)->code == code;
	return k;
}

static void test_every_frontend_code_once(void **state)
{
	(void)state;
	for (uint32_t c = FRONTEND_FIRST; c <= FRONTEND_LAST; c++) {
		if (count_code(vhu_req_at, vhu_req_count(), c) != 1)
			fail_msg("front-end request %u appears %u times in the catalog", c,
				 count_code(vhu_req_at, vhu_req_count(), c));
	}
	assert_int_equal(count_code(vhu_req_at, vhu_req_count(), VHOST_USER_GET_SHARED_MEMORY_REGIONS), 1);
	/* Nothing else: 45 spec codes and the one extension. */
	assert_int_equal(vhu_req_count(), FRONTEND_LAST - FRONTEND_FIRST + 1 + 1);
	assert_int_equal(count_code(vhu_req_at, vhu_req_count(), 0), 0);
}

static void test_every_backend_code_once(void **state)
{
	(void)state;
	for (uint32_t c = BACKEND_FIRST; c <= BACKEND_LAST; c++) {
		if (count_code(vhu_backend_req_at, vhu_backend_req_count(), c) != 1)
			fail_msg("back-end request %u appears %u times in the catalog", c,
				 count_code(vhu_backend_req_at, vhu_backend_req_count(), c));
	}
	assert_int_equal(vhu_backend_req_count(), BACKEND_LAST - BACKEND_FIRST + 1);
}

/* Bounds a transport can honour; messages for the errors. */
static void check_bounds(const struct vhu_req_desc *d)
{
	if (d->req_min > d->req_max || d->req_max > VHU_MAX_PAYLOAD)
		fail_msg("%s: request bounds %u..%u", d->name, d->req_min, d->req_max);
	if (d->fds_min > d->fds_max || d->fds_max > VHOST_USER_MAX_FDS)
		fail_msg("%s: request fds %u..%u", d->name, d->fds_min, d->fds_max);
	if (d->reply_min > d->reply_max || d->reply_max > VHU_MAX_PAYLOAD)
		fail_msg("%s: reply bounds %u..%u", d->name, d->reply_min, d->reply_max);
	if (d->rfds_min > d->rfds_max || d->rfds_max > VHOST_USER_MAX_FDS)
		fail_msg("%s: reply fds %u..%u", d->name, d->rfds_min, d->rfds_max);
	/* A header-only request has no payload shape to decode, and back. */
	if ((d->req_shape == VHU_SHAPE_NONE) != (d->req_max == 0))
		fail_msg("%s: request shape %s with payload bounds %u..%u", d->name,
			 vhu_shape_name(d->req_shape), d->req_min, d->req_max);
	switch (d->reply) {
	case VHU_REPLY_ACK:
		/* The answer to NEED_REPLY is one u64 status, nothing else. */
		if (d->reply_shape != VHU_SHAPE_ACK || d->reply_min != 8 || d->reply_max != 8 || d->rfds_max)
			fail_msg("%s: an ack row must expect exactly a u64 status", d->name);
		break;
	case VHU_REPLY_NONE:
		if (d->reply_max || d->rfds_max)
			fail_msg("%s: no reply, but reply bounds", d->name);
		break;
	case VHU_REPLY_ALWAYS:
	case VHU_REPLY_LOG: break;
	default: fail_msg("%s: unknown reply kind %d", d->name, (int)d->reply);
	}
	if (!strcmp(vhu_shape_name(d->req_shape), "?") || !strcmp(vhu_shape_name(d->reply_shape), "?"))
		fail_msg("%s: a shape without a name", d->name);
}

/* The gate names a protocol feature that exists, under its own name. */
static void check_gate(const struct vhu_req_desc *d)
{
	const char *bit;

	if (d->pf == -1) {
		if (d->pf_name)
			fail_msg("%s: gate name %s without a gate bit", d->name, d->pf_name);
		return;
	}
	/* Catches a row that forgot .pf: 0 (MQ) with no name. */
	if (!d->pf_name)
		fail_msg("%s: gate bit %d without a name", d->name, d->pf);
	if (d->pf < 0 || d->pf >= VHOST_USER_PROTOCOL_F_COUNT)
		fail_msg("%s: gate bit %d is not a protocol feature", d->name, d->pf);
	bit = vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, (unsigned)d->pf);
	if (!bit || strcmp(bit, d->pf_name))
		fail_msg("%s: gate %s, but protocol feature bit %d is %s", d->name, d->pf_name, d->pf,
			 bit ? bit : "unnamed");
}

static void test_frontend_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < vhu_req_count(); i++) {
		const struct vhu_req_desc *d = vhu_req_at(i);
		char buf[16];

		check_bounds(d);
		check_gate(d);
		if (d->gate & VHU_GATE_BACKEND_CHANNEL)
			fail_msg("%s: a front-end request marked as back-end channel", d->name);
		if ((d->gate & VHU_GATE_EXTENSION) != (d->code > FRONTEND_LAST ? VHU_GATE_EXTENSION : 0u))
			fail_msg("%s: code %u and the extension mark disagree", d->name, d->code);
		/* The lookups lead back to the row. */
		assert_ptr_equal(vhu_req_by_code(d->code), d);
		assert_ptr_equal(vhu_req_by_name(d->name), d);
		assert_string_equal(vhu_req_name(d->code, buf, sizeof(buf)), d->name);
		assert_non_null(d->help);
		assert_true(d->help[0] != '\0');
	}
}

static void test_backend_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < vhu_backend_req_count(); i++) {
		const struct vhu_req_desc *d = vhu_backend_req_at(i);

		check_bounds(d);
		check_gate(d);
		if (!(d->gate & VHU_GATE_BACKEND_CHANNEL))
			fail_msg("%s: a back-end request without the back-end channel mark", d->name);
		if (strncmp(d->name, "BACKEND_", 8))
			fail_msg("%s: back-end names start with BACKEND_", d->name);
		assert_ptr_equal(vhu_backend_req_by_code(d->code), d);
		assert_non_null(d->help);
	}
}

/* Rows the spec pins down, so that a plausible-looking edit is caught. */
static void test_known_rows(void **state)
{
	const struct vhu_req_desc *d;

	(void)state;
	d = vhu_req_by_code(VHOST_USER_GET_FEATURES);
	assert_int_equal(d->reply, VHU_REPLY_ALWAYS);
	assert_int_equal(d->reply_min, 8);
	d = vhu_req_by_code(VHOST_USER_SET_MEM_TABLE);
	assert_int_equal(d->fds_min, 1);
	assert_int_equal(d->fds_max, VHOST_MEMORY_BASELINE_NREGIONS);
	assert_int_equal(d->req_max, sizeof(struct vhost_user_memory));
	d = vhu_req_by_code(VHOST_USER_SET_PROTOCOL_FEATURES);
	assert_true(d->gate & VHU_GATE_NO_NEED_REPLY);
	d = vhu_req_by_code(VHOST_USER_SET_LOG_BASE);
	assert_int_equal(d->reply, VHU_REPLY_LOG);
	assert_int_equal(d->pf, VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	d = vhu_req_by_code(VHOST_USER_POSTCOPY_ADVISE);
	assert_int_equal(d->rfds_min, 1);
	d = vhu_req_by_code(VHOST_USER_GET_SHMEM_CONFIG);
	assert_int_equal(d->reply_min, 2056);
	/* Names are case-insensitive, with or without the prefix, - or _. */
	assert_ptr_equal(vhu_req_by_name("vhost_user_get_features"),
			 vhu_req_by_code(VHOST_USER_GET_FEATURES));
	assert_ptr_equal(vhu_req_by_name("get-vring-base"), vhu_req_by_code(VHOST_USER_GET_VRING_BASE));
	assert_null(vhu_req_by_name("GET_FEATURE"));
	assert_null(vhu_req_by_code(46));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_frontend_code_once),
		cmocka_unit_test(test_every_backend_code_once),
		cmocka_unit_test(test_frontend_rows),
		cmocka_unit_test(test_backend_rows),
		cmocka_unit_test(test_known_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
