// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for src/decode/config.c: every layout with full, truncated,
 * windowed and garbage input, the input select variants, encoding.
 * Inputs are copied into malloc'd buffers of the exact length so that
 * AddressSanitizer reports any read past the window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAXV	      64
#define FULL	      256

static const enum vhu_dev_type all_devs[] = {
	VHU_DEV_NET, VHU_DEV_BLK,   VHU_DEV_CONSOLE, VHU_DEV_RNG,    VHU_DEV_SCSI,
	VHU_DEV_GPU, VHU_DEV_INPUT, VHU_DEV_VSOCK,   VHU_DEV_CRYPTO, VHU_DEV_SOUND,
	VHU_DEV_FS,  VHU_DEV_SCMI,  VHU_DEV_I2C,     VHU_DEV_CAN,    VHU_DEV_GPIO,
};

/* ---- helpers ---- */

static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* Decode @len bytes of @full starting at @offset through an exact-size copy. */
static size_t decode_win(enum vhu_dev_type dev, const uint8_t *full, uint32_t offset, size_t len,
			 uint64_t feat, bool have, struct vhu_cfg_value *out, size_t max, bool *trunc)
{
	uint8_t *b = dup_exact(full + offset, len);
	size_t n;

	n = vhu_cfg_decode(dev, b, len, offset, feat, have, out, max, trunc);
	free(b);
	return n;
}

static uint64_t ref_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void ref_string(char *dst, const uint8_t *p, size_t n)
{
	size_t i;

	dst[0] = '\0';
	for (i = 0; i < n && p[i]; i++) {
		char t[8];

		if (p[i] == '\\')
			strcpy(t, "\\\\");
		else if (p[i] >= 0x20 && p[i] <= 0x7e)
			snprintf(t, sizeof(t), "%c", p[i]);
		else
			snprintf(t, sizeof(t), "\\x%02x", p[i]);
		strcat(dst, t);
	}
}

static void ref_hex(char *dst, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(dst + 2 * i, "%02x", p[i]);
	dst[2 * n] = '\0';
}

/* Furthest byte any field of @dev can occupy. */
static size_t layout_extent(const struct vhu_cfg_layout *l)
{
	size_t i, e = l->size;

	for (i = 0; i < l->nfields; i++)
		if (l->fields[i].offset + l->fields[i].size > e)
			e = l->fields[i].offset + l->fields[i].size;
	return e;
}

static const struct vhu_cfg_value *find_val(const struct vhu_cfg_value *v, size_t n, const char *group,
					    const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct vhu_cfg_field *f = v[i].field;

		if (strcmp(f->name, name))
			continue;
		if ((group == NULL) != (f->group == NULL))
			continue;
		if (group && strcmp(group, f->group))
			continue;
		return &v[i];
	}
	return NULL;
}

static void check_str_sane(const struct vhu_cfg_value *v)
{
	assert_true(memchr(v->str, '\0', VHU_CFG_STR_MAX) != NULL);
}

/* Expected `valid`: gating bit offered; a few net fields accept either of two. */
static bool ref_valid(enum vhu_dev_type dev, const struct vhu_cfg_field *f, uint64_t feat, bool have)
{
	if (f->feature < 0 || !have || ((feat >> f->feature) & 1))
		return true;
	if (dev != VHU_DEV_NET)
		return false;
	if (!strcmp(f->name, "max_virtqueue_pairs"))
		return (feat >> 60) & 1; /* MQ or RSS */
	if (!strcmp(f->name, "rss_max_key_size") || !strcmp(f->name, "supported_hash_types"))
		return (feat >> 57) & 1; /* RSS or HASH_REPORT */
	return false;
}

/*
 * Check a static-layout decode of window [offset, offset+len) of @full
 * against a model computed here from the field table.
 */
static void check_window(enum vhu_dev_type dev, const uint8_t *full, uint32_t offset, size_t len,
			 uint64_t feat, bool have)
{
	const struct vhu_cfg_layout *l = vhu_cfg_layout(dev);
	struct vhu_cfg_value out[MAXV];
	size_t i, n, k = 0;
	bool trunc = true, exp_trunc = false;
	char ref[VHU_CFG_STR_MAX];

	assert_non_null(l);
	n = decode_win(dev, full, offset, len, feat, have, out, MAXV, &trunc);
	for (i = 0; i < l->nfields; i++) {
		const struct vhu_cfg_field *f = &l->fields[i];
		size_t fs = f->offset, fe = fs + f->size, ws = offset, we = offset + len;
		bool present = fs >= ws && fe <= we;

		if (fe <= ws)
			continue;
		if (fs >= ws && fs < we && fe > we)
			exp_trunc = true;
		assert_true(k < n);
		assert_ptr_equal(out[k].field, f);
		assert_int_equal(out[k].present, present);
		assert_int_equal(out[k].valid, ref_valid(dev, f, feat, have));
		check_str_sane(&out[k]);
		if (present) {
			const uint8_t *p = full + f->offset;

			switch (f->kind) {
			case VHU_CFG_UINT: assert_true(out[k].u == ref_le(p, f->size)); break;
			case VHU_CFG_INT:
				assert_true((uint64_t)out[k].i << (64 - 8 * f->size) ==
					    ref_le(p, f->size) << (64 - 8 * f->size));
				break;
			case VHU_CFG_MAC:
				snprintf(ref, sizeof(ref), "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2],
					 p[3], p[4], p[5]);
				assert_string_equal(out[k].str, ref);
				break;
			case VHU_CFG_STRING:
				ref_string(ref, p, f->size);
				assert_string_equal(out[k].str, ref);
				break;
			case VHU_CFG_BYTES:
				ref_hex(ref, p, f->size);
				assert_string_equal(out[k].str, ref);
				break;
			}
		}
		k++;
	}
	assert_int_equal(n, k);
	assert_int_equal(trunc, exp_trunc);
}

/* Every window of @full: all offsets, all lengths up to the layout extent. */
static void check_all_windows(enum vhu_dev_type dev, const uint8_t *full, uint64_t feat, bool have)
{
	const struct vhu_cfg_layout *l = vhu_cfg_layout(dev);
	size_t ext = layout_extent(l), off, len;

	for (off = 0; off <= ext; off++)
		for (len = 0; off + len <= ext + 4 && off + len <= FULL; len++)
			check_window(dev, full, (uint32_t)off, len, feat, have);
}

static void fill_pattern(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 37 + 11);
}

/* ---- layout tables ---- */

static void test_layout_tables(void **state)
{
	size_t d, i, j;

	(void)state;
	for (d = 0; d < ARRAY_SIZE(all_devs); d++) {
		const struct vhu_cfg_layout *l = vhu_cfg_layout(all_devs[d]);

		assert_non_null(l);
		assert_int_equal(l->dev, all_devs[d]);
		assert_true(l->size <= 256);
		for (i = 0; i < l->nfields; i++) {
			const struct vhu_cfg_field *f = &l->fields[i];

			assert_non_null(f->name);
			assert_non_null(f->help);
			assert_true(f->size > 0);
			assert_true(f->offset + f->size <= 256);
			if (f->kind == VHU_CFG_UINT || f->kind == VHU_CFG_INT)
				assert_true(f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8);
			if (f->kind == VHU_CFG_MAC)
				assert_int_equal(f->size, 6);
			assert_true(f->feature >= -1 && f->feature < 64);
			if (i)
				assert_true(f->offset >= l->fields[i - 1].offset + l->fields[i - 1].size);
			/* Names resolve back to the same field. */
			{
				char nm[128];

				snprintf(nm, sizeof(nm), "%s%s%s", f->group ? f->group : "",
					 f->group ? "." : "", f->name);
				assert_ptr_equal(vhu_cfg_field_by_name(all_devs[d], nm), f);
			}
			for (j = 0; j < i; j++)
				assert_false(!strcmp(f->name, l->fields[j].name) &&
					     ((!f->group && !l->fields[j].group) ||
					      (f->group && l->fields[j].group &&
					       !strcmp(f->group, l->fields[j].group))));
		}
	}
	assert_int_equal(vhu_cfg_layout(VHU_DEV_BLK)->size, 60);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_NET)->size, 28);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_FS)->size, 44);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_INPUT)->size, 136);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_VSOCK)->size, 8);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_SCSI)->size, 36);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_CRYPTO)->size, 56);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_GPU)->size, 16);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_CONSOLE)->size, 12);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_SOUND)->size, 16);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_CAN)->size, 2);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_GPIO)->size, 8);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_SCMI)->nfields, 0);
	assert_int_equal(vhu_cfg_layout(VHU_DEV_I2C)->nfields, 0);
	assert_null(vhu_cfg_layout(VHU_DEV_NONE));
	assert_null(vhu_cfg_layout((enum vhu_dev_type)99));
}

static void test_field_by_name(void **state)
{
	const struct vhu_cfg_field *f;

	(void)state;
	f = vhu_cfg_field_by_name(VHU_DEV_BLK, "capacity");
	assert_non_null(f);
	assert_int_equal(f->offset, 0);
	assert_int_equal(f->size, 8);
	assert_string_equal(f->unit, "512-byte sectors");
	assert_int_equal(f->feature, -1);
	f = vhu_cfg_field_by_name(VHU_DEV_BLK, "geometry.heads");
	assert_non_null(f);
	assert_int_equal(f->offset, 18);
	assert_int_equal(f->size, 1);
	assert_string_equal(f->group, "geometry");
	f = vhu_cfg_field_by_name(VHU_DEV_BLK, "writeback");
	assert_non_null(f);
	assert_true(f->writable);
	assert_int_equal(f->feature, 11);
	f = vhu_cfg_field_by_name(VHU_DEV_BLK, "zoned.model");
	assert_non_null(f);
	assert_int_equal(f->offset, 92);
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, "heads"));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, "geometry."));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, ".heads"));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, "geometry.nope"));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, "topology.heads"));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, "nope"));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, ""));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_BLK, NULL));
	assert_null(vhu_cfg_field_by_name(VHU_DEV_NONE, "capacity"));
	assert_true(vhu_cfg_field_by_name(VHU_DEV_GPU, "events_clear")->writable);
	assert_true(vhu_cfg_field_by_name(VHU_DEV_INPUT, "select")->writable);
	assert_true(vhu_cfg_field_by_name(VHU_DEV_INPUT, "subsel")->writable);
	assert_true(vhu_cfg_field_by_name(VHU_DEV_CONSOLE, "emerg_wr")->writable);
	assert_false(vhu_cfg_field_by_name(VHU_DEV_BLK, "capacity")->writable);
	f = vhu_cfg_field_by_name(VHU_DEV_FS, "tag");
	assert_int_equal(f->kind, VHU_CFG_STRING);
	assert_int_equal(f->size, 36);
	f = vhu_cfg_field_by_name(VHU_DEV_NET, "mac");
	assert_int_equal(f->kind, VHU_CFG_MAC);
	f = vhu_cfg_field_by_name(VHU_DEV_VSOCK, "guest_cid");
	assert_int_equal(f->size, 8);
}

/* ---- per-device known values ---- */

static void put_le(uint8_t *b, size_t off, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static void test_blk_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	const struct vhu_cfg_value *x;
	bool trunc;
	size_t n;

	(void)state;
	put_le(full, 0, 131072, 8);
	put_le(full, 12, 126, 4);
	put_le(full, 16, 1023, 2);
	full[18] = 16;
	full[19] = 63;
	put_le(full, 20, 4096, 4);
	full[32] = 1;
	put_le(full, 34, 4, 2);
	put_le(full, 60, 0xdeadbeef, 4);
	put_le(full, 72, 524288, 4);
	full[92] = 2;

	/* Default size 60: secure-erase and zoned fields are not present. */
	n = decode_win(VHU_DEV_BLK, full, 0, 60, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	x = find_val(v, n, NULL, "capacity");
	assert_true(x->present && x->valid);
	assert_true(x->u == 131072);
	x = find_val(v, n, NULL, "blk_size");
	assert_true(x->present);
	assert_int_equal(x->u, 4096);
	x = find_val(v, n, NULL, "num_queues");
	assert_int_equal(x->u, 4);
	x = find_val(v, n, "geometry", "cylinders");
	assert_int_equal(x->u, 1023);
	x = find_val(v, n, "geometry", "heads");
	assert_int_equal(x->u, 16);
	x = find_val(v, n, "geometry", "sectors");
	assert_int_equal(x->u, 63);
	x = find_val(v, n, NULL, "writeback");
	assert_int_equal(x->u, 1);
	x = find_val(v, n, NULL, "max_secure_erase_sectors");
	assert_non_null(x);
	assert_false(x->present);
	x = find_val(v, n, "zoned", "model");
	assert_false(x->present);

	/* Full 96 bytes: everything present. */
	n = decode_win(VHU_DEV_BLK, full, 0, 96, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, NULL, "max_secure_erase_sectors")->u, 0xdeadbeef);
	assert_int_equal(find_val(v, n, "zoned", "zone_sectors")->u, 524288);
	assert_int_equal(find_val(v, n, "zoned", "model")->u, 2);
	assert_true(find_val(v, n, "zoned", "model")->present);

	/* Feature gating: only BLK_SIZE (6) and MQ (12) offered. */
	n = decode_win(VHU_DEV_BLK, full, 0, 60, (1ULL << 6) | (1ULL << 12), true, v, MAXV, &trunc);
	assert_true(find_val(v, n, NULL, "capacity")->valid);
	assert_true(find_val(v, n, NULL, "blk_size")->valid);
	assert_true(find_val(v, n, NULL, "num_queues")->valid);
	assert_false(find_val(v, n, NULL, "size_max")->valid);
	assert_false(find_val(v, n, "geometry", "heads")->valid);
	assert_false(find_val(v, n, NULL, "writeback")->valid);

	/* Cut inside capacity: truncated, nothing present. */
	n = decode_win(VHU_DEV_BLK, full, 0, 5, 0, false, v, MAXV, &trunc);
	assert_true(trunc);
	assert_false(find_val(v, n, NULL, "capacity")->present);

	/* max limits the output but not the truncation report. */
	n = decode_win(VHU_DEV_BLK, full, 0, 21, 0, false, v, 2, &trunc);
	assert_int_equal(n, 2);
	assert_true(trunc);
	n = decode_win(VHU_DEV_BLK, full, 0, 60, 0, false, NULL, 0, NULL);
	assert_int_equal(n, 0);

	check_all_windows(VHU_DEV_BLK, full, 0, false);
	check_all_windows(VHU_DEV_BLK, full, (1ULL << 4) | (1ULL << 17), true);
}

/* GET_CONFIG reply recorded from qemu-storage-daemon 7.2 (traces/qemu-blk_to_qsd.txt). */
static void test_blk_qsd_trace(void **state)
{
	static const char hex[] = "0000200000000000000000007e000000000000000002000000000100"
				  "0100000000000100008000000100000001000000008000000100000000";
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t i, n;

	(void)state;
	for (i = 0; i < 57; i++) {
		unsigned b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		full[i] = (uint8_t)b;
	}
	n = decode_win(VHU_DEV_BLK, full, 0, 57, 0x175007e46ULL, true, v, MAXV, &trunc);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, NULL, "capacity")->u, 2097152);
	assert_int_equal(find_val(v, n, NULL, "seg_max")->u, 126);
	assert_true(find_val(v, n, NULL, "seg_max")->valid);
	assert_int_equal(find_val(v, n, NULL, "blk_size")->u, 512);
	assert_int_equal(find_val(v, n, "topology", "min_io_size")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "num_queues")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "max_discard_sectors")->u, 32768);
	assert_true(find_val(v, n, NULL, "write_zeroes_may_unmap")->present);
	assert_false(find_val(v, n, NULL, "max_secure_erase_sectors")->present);
	assert_false(find_val(v, n, NULL, "max_secure_erase_sectors")->valid);
	assert_false(find_val(v, n, "geometry", "heads")->valid);
	check_all_windows(VHU_DEV_BLK, full, 0x175007e46ULL, true);
}

static void test_net_known(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xAB, 0xcd, 0xef };
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	memcpy(full, mac, 6);
	put_le(full, 6, 1, 2);
	put_le(full, 8, 4, 2);
	put_le(full, 10, 9000, 2);
	put_le(full, 12, 0xffffffff, 4);
	full[16] = 1;
	full[17] = 40;
	put_le(full, 18, 128, 2);
	put_le(full, 20, 0x1ff, 4);
	put_le(full, 24, 0x10, 4);
	n = decode_win(VHU_DEV_NET, full, 0, 28, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_string_equal(find_val(v, n, NULL, "mac")->str, "52:54:00:ab:cd:ef");
	assert_int_equal(find_val(v, n, NULL, "status")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "max_virtqueue_pairs")->u, 4);
	assert_int_equal(find_val(v, n, NULL, "mtu")->u, 9000);
	assert_true(find_val(v, n, NULL, "speed")->u == 0xffffffffULL);
	assert_int_equal(find_val(v, n, NULL, "duplex")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "rss_max_key_size")->u, 40);
	assert_int_equal(find_val(v, n, NULL, "rss_max_indirection_table_length")->u, 128);
	assert_int_equal(find_val(v, n, NULL, "supported_hash_types")->u, 0x1ff);
	assert_int_equal(find_val(v, n, NULL, "supported_tunnel_types")->u, 0x10);

	/* Linux-sized 24-byte reply: tunnel types absent, not truncated. */
	n = decode_win(VHU_DEV_NET, full, 0, 24, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_false(find_val(v, n, NULL, "supported_tunnel_types")->present);

	/* MAC cut after 3 bytes. */
	n = decode_win(VHU_DEV_NET, full, 0, 3, 0, false, v, MAXV, &trunc);
	assert_true(trunc);
	assert_false(find_val(v, n, NULL, "mac")->present);
	assert_string_equal(find_val(v, n, NULL, "mac")->str, "");

	/* Either of two bits validates some fields. */
	n = decode_win(VHU_DEV_NET, full, 0, 28, 1ULL << 60, true, v, MAXV, &trunc);
	assert_true(find_val(v, n, NULL, "max_virtqueue_pairs")->valid);
	assert_true(find_val(v, n, NULL, "rss_max_key_size")->valid);
	assert_false(find_val(v, n, NULL, "mac")->valid);
	n = decode_win(VHU_DEV_NET, full, 0, 28, 1ULL << 57, true, v, MAXV, &trunc);
	assert_false(find_val(v, n, NULL, "max_virtqueue_pairs")->valid);
	assert_true(find_val(v, n, NULL, "rss_max_key_size")->valid);
	assert_true(find_val(v, n, NULL, "supported_hash_types")->valid);
	assert_false(find_val(v, n, NULL, "rss_max_indirection_table_length")->valid);
	n = decode_win(VHU_DEV_NET, full, 0, 28, (1ULL << 5) | (1ULL << 22) | (1ULL << 63), true, v, MAXV,
		       &trunc);
	assert_true(find_val(v, n, NULL, "mac")->valid);
	assert_true(find_val(v, n, NULL, "max_virtqueue_pairs")->valid);
	assert_true(find_val(v, n, NULL, "speed")->valid);
	assert_false(find_val(v, n, NULL, "mtu")->valid);

	check_all_windows(VHU_DEV_NET, full, 0, false);
}

static void test_fs_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	memcpy(full, "myfs", 4);
	put_le(full, 36, 2, 4);
	put_le(full, 40, 4096, 4);
	n = decode_win(VHU_DEV_FS, full, 0, 44, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 3);
	assert_false(trunc);
	assert_string_equal(find_val(v, n, NULL, "tag")->str, "myfs");
	assert_int_equal(find_val(v, n, NULL, "num_request_queues")->u, 2);
	assert_int_equal(find_val(v, n, NULL, "notify_buf_size")->u, 4096);
	n = decode_win(VHU_DEV_FS, full, 0, 44, 0, true, v, MAXV, &trunc);
	assert_true(find_val(v, n, NULL, "num_request_queues")->valid);
	assert_false(find_val(v, n, NULL, "notify_buf_size")->valid);
	check_all_windows(VHU_DEV_FS, full, 0, false);

	/* A 36-byte tag has no NUL: it must stop at the field end. */
	memset(full, 'A', 36);
	full[35] = 'Z';
	n = decode_win(VHU_DEV_FS, full, 0, 40, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_string_equal(find_val(v, n, NULL, "tag")->str, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAZ");
	check_all_windows(VHU_DEV_FS, full, 0, false);

	/* Tag cut at 35 bytes: truncated, not present. */
	n = decode_win(VHU_DEV_FS, full, 0, 35, 0, false, v, MAXV, &trunc);
	assert_true(trunc);
	assert_false(find_val(v, n, NULL, "tag")->present);

	/* Escaping: control, high and backslash bytes; stop at NUL. */
	memset(full, 0, 36);
	memcpy(full, "a\\b\x01\x7f\xe9z\0hidden", 15);
	n = decode_win(VHU_DEV_FS, full, 0, 40, 0, false, v, MAXV, &trunc);
	assert_string_equal(find_val(v, n, NULL, "tag")->str, "a\\\\b\\x01\\x7f\\xe9z");
}

static void test_scsi_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	put_le(full, 0, 2, 4);
	put_le(full, 20, 96, 4);
	put_le(full, 24, 32, 4);
	put_le(full, 30, 255, 2);
	put_le(full, 32, 16383, 4);
	n = decode_win(VHU_DEV_SCSI, full, 0, 36, ~0ULL, true, v, MAXV, &trunc);
	assert_int_equal(n, 10);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, NULL, "num_queues")->u, 2);
	assert_int_equal(find_val(v, n, NULL, "sense_size")->u, 96);
	assert_true(find_val(v, n, NULL, "sense_size")->field->writable);
	assert_int_equal(find_val(v, n, NULL, "cdb_size")->u, 32);
	assert_int_equal(find_val(v, n, NULL, "max_target")->u, 255);
	assert_int_equal(find_val(v, n, NULL, "max_lun")->u, 16383);
	check_all_windows(VHU_DEV_SCSI, full, 0, true);
}

static void test_vsock_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	put_le(full, 0, 0x0123456789abcdefULL, 8);
	n = decode_win(VHU_DEV_VSOCK, full, 0, 8, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 1);
	assert_true(v[0].present);
	assert_true(v[0].u == 0x0123456789abcdefULL);
	n = decode_win(VHU_DEV_VSOCK, full, 0, 7, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 1);
	assert_false(v[0].present);
	assert_true(trunc);
	check_all_windows(VHU_DEV_VSOCK, full, 0, false);
}

static void test_gpu_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	put_le(full, 0, 1, 4);
	put_le(full, 8, 1, 4);
	put_le(full, 12, 2, 4);
	put_le(full, 16, 4096, 4);
	n = decode_win(VHU_DEV_GPU, full, 0, 16, 0, true, v, MAXV, &trunc);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, NULL, "events_read")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "num_scanouts")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "num_capsets")->u, 2);
	assert_false(find_val(v, n, NULL, "blob_alignment")->present);
	n = decode_win(VHU_DEV_GPU, full, 0, 20, 1ULL << 5, true, v, MAXV, &trunc);
	assert_int_equal(find_val(v, n, NULL, "blob_alignment")->u, 4096);
	assert_true(find_val(v, n, NULL, "blob_alignment")->valid);
	check_all_windows(VHU_DEV_GPU, full, 0, false);
}

static void test_console_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	put_le(full, 0, 80, 2);
	put_le(full, 2, 25, 2);
	put_le(full, 4, 31, 4);
	n = decode_win(VHU_DEV_CONSOLE, full, 0, 12, 1ULL << 1, true, v, MAXV, &trunc);
	assert_int_equal(n, 4);
	assert_int_equal(find_val(v, n, NULL, "cols")->u, 80);
	assert_int_equal(find_val(v, n, NULL, "rows")->u, 25);
	assert_false(find_val(v, n, NULL, "rows")->valid);
	assert_int_equal(find_val(v, n, NULL, "max_nr_ports")->u, 31);
	assert_true(find_val(v, n, NULL, "max_nr_ports")->valid);
	check_all_windows(VHU_DEV_CONSOLE, full, 1ULL << 1, true);
}

static void test_misc_known(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	/* crypto */
	put_le(full, 0, 1, 4);
	put_le(full, 4, 8, 4);
	put_le(full, 48, 0x100000000ULL, 8);
	n = decode_win(VHU_DEV_CRYPTO, full, 0, 56, 0, true, v, MAXV, &trunc);
	assert_int_equal(n, 13);
	assert_int_equal(find_val(v, n, NULL, "status")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "max_dataqueues")->u, 8);
	assert_true(find_val(v, n, NULL, "max_size")->u == 0x100000000ULL);
	check_all_windows(VHU_DEV_CRYPTO, full, 0, false);

	/* sound */
	memset(full, 0, sizeof(full));
	put_le(full, 0, 1, 4);
	put_le(full, 4, 2, 4);
	put_le(full, 8, 3, 4);
	put_le(full, 12, 4, 4);
	n = decode_win(VHU_DEV_SOUND, full, 0, 12, 0, true, v, MAXV, &trunc);
	assert_int_equal(n, 4);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, NULL, "chmaps")->u, 3);
	assert_false(find_val(v, n, NULL, "controls")->present);
	assert_false(find_val(v, n, NULL, "controls")->valid);
	check_all_windows(VHU_DEV_SOUND, full, 1, true);

	/* can */
	memset(full, 0, sizeof(full));
	put_le(full, 0, 1, 2);
	n = decode_win(VHU_DEV_CAN, full, 0, 2, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].u, 1);
	check_all_windows(VHU_DEV_CAN, full, 0, false);

	/* gpio */
	memset(full, 0, sizeof(full));
	put_le(full, 0, 32, 2);
	full[2] = 0xee; /* padding must not leak into a field */
	put_le(full, 4, 300, 4);
	n = decode_win(VHU_DEV_GPIO, full, 0, 8, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 2);
	assert_int_equal(find_val(v, n, NULL, "ngpio")->u, 32);
	assert_int_equal(find_val(v, n, NULL, "gpio_names_size")->u, 300);
	check_all_windows(VHU_DEV_GPIO, full, 0, false);

	/* devices without config space, and unknown devices */
	fill_pattern(full, sizeof(full));
	n = decode_win(VHU_DEV_SCMI, full, 0, 16, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 0);
	assert_false(trunc);
	assert_int_equal(decode_win(VHU_DEV_I2C, full, 0, 16, 0, false, v, MAXV, &trunc), 0);
	assert_int_equal(decode_win(VHU_DEV_RNG, full, 0, 16, 0, false, v, MAXV, &trunc), 0);
	assert_int_equal(decode_win(VHU_DEV_NONE, full, 0, 16, 0, false, v, MAXV, &trunc), 0);
	assert_int_equal(decode_win((enum vhu_dev_type)77, full, 0, 16, 0, false, v, MAXV, &trunc), 0);
}

/* Offset windows with a blk example the CLI will actually produce. */
static void test_offset_window(void **state)
{
	uint8_t full[FULL] = { 0 };
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n;

	(void)state;
	put_le(full, 0, 131072, 8);
	put_le(full, 20, 4096, 4);
	put_le(full, 34, 4, 2);
	/* [20, 36): blk_size .. num_queues; capacity etc. skipped. */
	n = decode_win(VHU_DEV_BLK, full, 20, 16, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_null(find_val(v, n, NULL, "capacity"));
	assert_null(find_val(v, n, "geometry", "heads"));
	assert_string_equal(v[0].field->name, "blk_size");
	assert_true(v[0].present);
	assert_int_equal(v[0].u, 4096);
	assert_int_equal(find_val(v, n, NULL, "num_queues")->u, 4);
	assert_true(find_val(v, n, NULL, "num_queues")->present);
	assert_false(find_val(v, n, NULL, "max_discard_sectors")->present);
	/* [4, 10): capacity straddles the start -> returned, absent, not "truncated". */
	n = decode_win(VHU_DEV_BLK, full, 4, 6, 0, false, v, MAXV, &trunc);
	assert_true(trunc); /* size_max [8,12) is cut */
	assert_string_equal(v[0].field->name, "capacity");
	assert_false(v[0].present);
	n = decode_win(VHU_DEV_BLK, full, 4, 4, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_false(v[0].present);
	/* Window entirely past the struct: all fields skipped. */
	n = decode_win(VHU_DEV_BLK, full, 200, 56, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 0);
	assert_false(trunc);
	/* Huge offset must not wrap. */
	n = vhu_cfg_decode(VHU_DEV_BLK, full, 8, UINT32_MAX - 3, 0, false, v, MAXV, &trunc);
	assert_int_equal(n, 0);
	assert_false(trunc);
	n = vhu_cfg_decode(VHU_DEV_BLK, NULL, 0, 0, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	assert_false(v[0].present);
}

/* ---- garbage ---- */

static void check_garbage(enum vhu_dev_type dev, const uint8_t *full)
{
	const struct vhu_cfg_layout *l = vhu_cfg_layout(dev);
	struct vhu_cfg_value v[MAXV];
	size_t off, len, ext = layout_extent(l) + 8, i, n;
	bool trunc;

	for (off = 0; off < ext; off += 3)
		for (len = 0; off + len <= FULL && len <= ext; len++) {
			n = decode_win(dev, full, (uint32_t)off, len, 0x5555, true, v, MAXV, &trunc);
			assert_true(n <= MAXV);
			for (i = 0; i < n; i++) {
				check_str_sane(&v[i]);
				assert_true(strlen(v[i].str) < VHU_CFG_STR_MAX);
				/* An empty input answer (size 0) is complete anywhere. */
				if (v[i].present && v[i].str[0])
					assert_true(v[i].field->offset >= off &&
						    v[i].field->offset < off + len);
				if (v[i].present && v[i].field->kind == VHU_CFG_UINT)
					assert_true(v[i].field->offset >= off &&
						    v[i].field->offset + v[i].field->size <= off + len);
			}
			if (dev != VHU_DEV_INPUT)
				check_window(dev, full, (uint32_t)off, len, 0x5555, true);
		}
}

static void test_garbage(void **state)
{
	uint8_t full[FULL];
	size_t d, i, round;

	(void)state;
	srand(12345);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < FULL; i++)
			full[i] = (uint8_t)rand();
		for (d = 0; d < ARRAY_SIZE(all_devs); d++)
			check_garbage(all_devs[d], full);
	}
	memset(full, 0xff, sizeof(full));
	for (d = 0; d < ARRAY_SIZE(all_devs); d++)
		check_garbage(all_devs[d], full);
	memset(full, 0, sizeof(full));
	for (d = 0; d < ARRAY_SIZE(all_devs); d++)
		check_garbage(all_devs[d], full);
}

static void test_fs_all_ff(void **state)
{
	uint8_t full[FULL];
	struct vhu_cfg_value v[MAXV];
	char ref[VHU_CFG_STR_MAX] = "";
	bool trunc;
	size_t n, i;

	(void)state;
	memset(full, 0xff, sizeof(full));
	n = decode_win(VHU_DEV_FS, full, 0, 44, 0, false, v, MAXV, &trunc);
	for (i = 0; i < 36; i++)
		strcat(ref, "\\xff");
	assert_string_equal(find_val(v, n, NULL, "tag")->str, ref);
	assert_true(find_val(v, n, NULL, "num_request_queues")->u == 0xffffffffULL);
}

/* ---- input ---- */

static size_t input_decode(const uint8_t *full, uint32_t off, size_t len, struct vhu_cfg_value *v,
			   bool *trunc)
{
	return decode_win(VHU_DEV_INPUT, full, off, len, 0, false, v, MAXV, trunc);
}

static void input_hdr(uint8_t *full, uint8_t sel, uint8_t sub, uint8_t size)
{
	memset(full, 0, FULL);
	full[0] = sel;
	full[1] = sub;
	full[2] = size;
	memset(full + 3, 0xaa, 5); /* reserved: never shown */
}

static void test_input_string(void **state)
{
	uint8_t full[FULL];
	struct vhu_cfg_value v[MAXV];
	const struct vhu_cfg_value *x;
	char ref[VHU_CFG_STR_MAX];
	bool trunc;
	size_t n, len;

	(void)state;
	input_hdr(full, VHU_INPUT_CFG_ID_NAME, 0, 5);
	memcpy(full + 8, "mouseJUNK", 9); /* not NUL terminated: size rules */
	n = input_decode(full, 0, 136, v, &trunc);
	assert_int_equal(n, 4);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, NULL, "select")->u, 1);
	assert_int_equal(find_val(v, n, NULL, "subsel")->u, 0);
	assert_int_equal(find_val(v, n, NULL, "size")->u, 5);
	x = find_val(v, n, NULL, "string");
	assert_non_null(x);
	assert_true(x->present);
	assert_int_equal(x->field->kind, VHU_CFG_STRING);
	assert_string_equal(x->str, "mouse");

	/* Serial too; reply only as long as needed. */
	full[0] = VHU_INPUT_CFG_ID_SERIAL;
	n = input_decode(full, 0, 13, v, &trunc);
	assert_false(trunc);
	assert_string_equal(find_val(v, n, NULL, "string")->str, "mouse");

	/* Every short length: no over-read, present iff all 5 bytes came. */
	for (len = 0; len <= 136; len++) {
		n = input_decode(full, 0, len, v, &trunc);
		assert_int_equal(find_val(v, n, NULL, "select")->present, len >= 1);
		assert_int_equal(find_val(v, n, NULL, "size")->present, len >= 3);
		if (len == 0) {
			assert_int_equal(n, 4);
			assert_non_null(find_val(v, n, NULL, "u"));
			assert_false(trunc);
			continue;
		}
		x = find_val(v, n, NULL, "string");
		assert_non_null(x);
		assert_int_equal(x->present, len >= 13);
		assert_int_equal(trunc, len > 8 && len < 13);
		if (len > 8 && len < 13) {
			memcpy(ref, "mouse", len - 8);
			ref[len - 8] = '\0';
			assert_string_equal(x->str, ref);
		}
	}

	/* size > 128 is clamped to the union. */
	input_hdr(full, VHU_INPUT_CFG_ID_NAME, 0, 200);
	memset(full + 8, 'x', 128);
	memset(full + 136, 'y', 64);
	n = input_decode(full, 0, 200, v, &trunc);
	assert_false(trunc);
	x = find_val(v, n, NULL, "string");
	assert_true(x->present);
	assert_int_equal(strlen(x->str), 128);
	assert_null(strchr(x->str, 'y'));

	/* Unprintable name bytes are escaped; worst case fits. */
	input_hdr(full, VHU_INPUT_CFG_ID_NAME, 0, 128);
	memset(full + 8, 0x80, 128);
	n = input_decode(full, 0, 136, v, &trunc);
	x = find_val(v, n, NULL, "string");
	assert_int_equal(strlen(x->str), 4 * 128);

	/* Empty answer. */
	input_hdr(full, VHU_INPUT_CFG_ID_NAME, 0, 0);
	n = input_decode(full, 0, 3, v, &trunc);
	assert_false(trunc);
	x = find_val(v, n, NULL, "string");
	assert_true(x->present);
	assert_string_equal(x->str, "");
}

static void test_input_bitmap_devids_abs(void **state)
{
	uint8_t full[FULL];
	struct vhu_cfg_value v[MAXV];
	const struct vhu_cfg_value *x;
	bool trunc;
	size_t n, len;

	(void)state;
	input_hdr(full, VHU_INPUT_CFG_EV_BITS, 1, 3);
	full[8] = 0x01;
	full[9] = 0xA0;
	full[10] = 0xff;
	full[11] = 0x77; /* beyond size */
	n = input_decode(full, 0, 136, v, &trunc);
	x = find_val(v, n, NULL, "bitmap");
	assert_non_null(x);
	assert_true(x->present);
	assert_int_equal(x->field->kind, VHU_CFG_BYTES);
	assert_string_equal(x->str, "01a0ff");
	assert_int_equal(find_val(v, n, NULL, "subsel")->u, 1);
	full[0] = VHU_INPUT_CFG_PROP_BITS;
	n = input_decode(full, 0, 10, v, &trunc);
	x = find_val(v, n, NULL, "bitmap");
	assert_true(trunc);
	assert_false(x->present);
	assert_string_equal(x->str, "01a0");

	input_hdr(full, VHU_INPUT_CFG_ID_DEVIDS, 0, 8);
	put_le(full, 8, 6, 2);
	put_le(full, 10, 0x1af4, 2);
	put_le(full, 12, 0x1052, 2);
	put_le(full, 14, 1, 2);
	n = input_decode(full, 0, 136, v, &trunc);
	assert_int_equal(n, 7);
	assert_false(trunc);
	assert_int_equal(find_val(v, n, "devids", "bustype")->u, 6);
	assert_int_equal(find_val(v, n, "devids", "vendor")->u, 0x1af4);
	assert_int_equal(find_val(v, n, "devids", "product")->u, 0x1052);
	assert_int_equal(find_val(v, n, "devids", "version")->u, 1);
	for (len = 0; len <= 20; len++) {
		n = input_decode(full, 0, len, v, &trunc);
		if (!len)
			continue;
		x = find_val(v, n, "devids", "version");
		assert_non_null(x);
		assert_int_equal(x->present, len >= 16);
		assert_int_equal(trunc, len > 8 && len < 16 && len % 2);
	}

	input_hdr(full, VHU_INPUT_CFG_ABS_INFO, 0, 20);
	put_le(full, 8, 0xffff8000, 4); /* -32768 as le32 */
	put_le(full, 12, 32767, 4);
	put_le(full, 16, 0, 4);
	put_le(full, 20, 0, 4);
	put_le(full, 24, 0xffffffff, 4); /* -1 as le32 */
	n = input_decode(full, 0, 136, v, &trunc);
	assert_int_equal(n, 8);
	/* min and max are signed axis values; fuzz, flat, res are not. */
	assert_int_equal(find_val(v, n, "abs", "min")->field->kind, VHU_CFG_INT);
	assert_true(find_val(v, n, "abs", "min")->i == -32768);
	assert_true(find_val(v, n, "abs", "max")->i == 32767);
	assert_true(find_val(v, n, "abs", "res")->u == 0xffffffffULL);
	n = input_decode(full, 0, 26, v, &trunc);
	assert_true(trunc);
	assert_true(find_val(v, n, "abs", "flat")->present);
	assert_false(find_val(v, n, "abs", "res")->present);

	/* Unknown select: raw u, min(size, 128) bytes. */
	input_hdr(full, 0x42, 0, 2);
	full[8] = 0xde;
	full[9] = 0xad;
	n = input_decode(full, 0, 136, v, &trunc);
	x = find_val(v, n, NULL, "u");
	assert_true(x->present);
	assert_string_equal(x->str, "dead");
	input_hdr(full, VHU_INPUT_CFG_UNSET, 0, 0);
	n = input_decode(full, 0, 136, v, &trunc);
	x = find_val(v, n, NULL, "u");
	assert_true(x->present);
	assert_string_equal(x->str, "");
}

static void test_input_windows(void **state)
{
	uint8_t full[FULL];
	struct vhu_cfg_value v[MAXV];
	bool trunc;
	size_t n, off, len, i;

	(void)state;
	input_hdr(full, VHU_INPUT_CFG_ID_NAME, 0, 4);
	memcpy(full + 8, "kbd!", 4);
	/* offset 2: size visible, select not -> raw u of 128 bytes. */
	n = input_decode(full, 2, 134, v, &trunc);
	assert_int_equal(n, 2);
	assert_false(trunc);
	assert_string_equal(v[0].field->name, "size");
	assert_int_equal(v[0].u, 4);
	assert_string_equal(v[1].field->name, "u");
	assert_true(v[1].present);
	assert_int_equal(strlen(v[1].str), 256);
	assert_int_equal(strncmp(v[1].str, "6b626421", 8), 0);
	/* offset 8 with 10 bytes: raw u cut. */
	n = input_decode(full, 8, 10, v, &trunc);
	assert_int_equal(n, 1);
	assert_true(trunc);
	assert_false(v[0].present);

	/* Every window: no over-read, present values inside the window. */
	for (off = 0; off <= 140; off++)
		for (len = 0; off + len <= 150; len++) {
			n = input_decode(full, (uint32_t)off, len, v, &trunc);
			for (i = 0; i < n; i++) {
				check_str_sane(&v[i]);
				/* An empty input answer (size 0) is complete anywhere. */
				if (v[i].present && v[i].str[0])
					assert_true(v[i].field->offset >= off &&
						    v[i].field->offset < off + len);
				if (v[i].present && v[i].field->kind == VHU_CFG_UINT)
					assert_true(v[i].field->offset >= off &&
						    v[i].field->offset + v[i].field->size <= off + len);
			}
		}
}

static void test_input_select_parse(void **state)
{
	uint8_t s = 0x99;

	(void)state;
	assert_int_equal(vhu_input_select_parse("UNSET", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(vhu_input_select_parse("id_name", &s), 0);
	assert_int_equal(s, 1);
	assert_int_equal(vhu_input_select_parse("Id_Serial", &s), 0);
	assert_int_equal(s, 2);
	assert_int_equal(vhu_input_select_parse("ID_DEVIDS", &s), 0);
	assert_int_equal(s, 3);
	assert_int_equal(vhu_input_select_parse("prop_bits", &s), 0);
	assert_int_equal(s, 0x10);
	assert_int_equal(vhu_input_select_parse("EV_BITS", &s), 0);
	assert_int_equal(s, 0x11);
	assert_int_equal(vhu_input_select_parse("abs_info", &s), 0);
	assert_int_equal(s, 0x12);
	assert_int_equal(vhu_input_select_parse("255", &s), 0);
	assert_int_equal(s, 255);
	assert_int_equal(vhu_input_select_parse("0", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(vhu_input_select_parse("0x11", &s), 0);
	assert_int_equal(s, 0x11);
	s = 7;
	assert_int_equal(vhu_input_select_parse("256", &s), -1);
	assert_int_equal(vhu_input_select_parse("-1", &s), -1);
	assert_int_equal(vhu_input_select_parse("", &s), -1);
	assert_int_equal(vhu_input_select_parse("ID_NAMEX", &s), -1);
	assert_int_equal(vhu_input_select_parse("name", &s), -1);
	assert_int_equal(vhu_input_select_parse("1x", &s), -1);
	assert_int_equal(vhu_input_select_parse(NULL, &s), -1);
	assert_int_equal(s, 7);
}

/* ---- encode ---- */

/* Encode @text into a buffer at the field's offset, decode it back. */
static const struct vhu_cfg_value *roundtrip(enum vhu_dev_type dev, const struct vhu_cfg_field *f,
					     const char *text, struct vhu_cfg_value *v)
{
	uint8_t full[FULL];
	uint8_t *enc;
	size_t n, i;
	bool trunc;

	memset(full, 0x5a, sizeof(full));
	enc = malloc(f->size);
	assert_non_null(enc);
	assert_int_equal(vhu_cfg_encode(f, text, enc), 0);
	memcpy(full + f->offset, enc, f->size);
	free(enc);
	n = decode_win(dev, full, f->offset, f->size, 0, false, v, MAXV, &trunc);
	assert_false(trunc);
	for (i = 0; i < n; i++)
		if (v[i].field == f)
			return &v[i];
	fail_msg("field %s not decoded", f->name);
	return NULL;
}

static void test_encode_uint_all(void **state)
{
	struct vhu_cfg_value v[MAXV];
	uint8_t buf[8];
	size_t d, i;

	(void)state;
	for (d = 0; d < ARRAY_SIZE(all_devs); d++) {
		const struct vhu_cfg_layout *l = vhu_cfg_layout(all_devs[d]);

		if (all_devs[d] == VHU_DEV_INPUT)
			continue; /* select-dependent; covered below */
		for (i = 0; i < l->nfields; i++) {
			const struct vhu_cfg_field *f = &l->fields[i];
			const struct vhu_cfg_value *x;
			uint64_t max;
			char t[64];

			if (f->kind != VHU_CFG_UINT)
				continue;
			max = f->size == 8 ? UINT64_MAX : (1ULL << (8 * f->size)) - 1;
			snprintf(t, sizeof(t), "%llu", (unsigned long long)max);
			x = roundtrip(all_devs[d], f, t, v);
			assert_true(x->present);
			assert_true(x->u == max);
			snprintf(t, sizeof(t), "0x%llx", (unsigned long long)max);
			assert_true(roundtrip(all_devs[d], f, t, v)->u == max);
			assert_true(roundtrip(all_devs[d], f, "0", v)->u == 0);
			assert_true(roundtrip(all_devs[d], f, "1", v)->u == 1);
			if (f->size < 8) {
				snprintf(t, sizeof(t), "%llu", (unsigned long long)max + 1);
				assert_int_equal(vhu_cfg_encode(f, t, buf), -1);
				snprintf(t, sizeof(t), "0x%llx", (unsigned long long)max + 1);
				assert_int_equal(vhu_cfg_encode(f, t, buf), -1);
			}
		}
	}
}

static void test_encode_misc(void **state)
{
	const struct vhu_cfg_field *f;
	struct vhu_cfg_value v[MAXV];
	uint8_t buf[64];
	char tag36[37];

	(void)state;
	f = vhu_cfg_field_by_name(VHU_DEV_BLK, "writeback");
	assert_int_equal(vhu_cfg_encode(f, "1", buf), 0);
	assert_int_equal(buf[0], 1);
	assert_int_equal(vhu_cfg_encode(f, "256", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "0xff", buf), 0);
	assert_int_equal(buf[0], 0xff);
	assert_int_equal(vhu_cfg_encode(f, "0XFF", buf), 0);

	f = vhu_cfg_field_by_name(VHU_DEV_BLK, "capacity");
	assert_int_equal(vhu_cfg_encode(f, "131072", buf), 0);
	assert_memory_equal(buf, "\x00\x00\x02\x00\x00\x00\x00\x00", 8);
	assert_int_equal(vhu_cfg_encode(f, "18446744073709551615", buf), 0);
	assert_int_equal(vhu_cfg_encode(f, "18446744073709551616", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "0x10000000000000000", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "0x", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "-1", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "+1", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, " 1", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "1 ", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "12a", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "0xg", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, NULL, buf), -1);
	assert_int_equal(vhu_cfg_encode(NULL, "1", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "1", NULL), -1);

	/* Signed: the ABS_INFO axis range, found through vhu_cfg_fields(). */
	{
		const struct vhu_cfg_field *all[32];
		size_t k, nall = vhu_cfg_fields(VHU_DEV_INPUT, all, 32);

		assert_true(nall <= 32);
		for (f = NULL, k = 0; k < nall; k++)
			if (all[k]->group && !strcmp(all[k]->group, "abs") && !strcmp(all[k]->name, "min"))
				f = all[k];
		assert_non_null(f);
		assert_int_equal(f->kind, VHU_CFG_INT);
		assert_int_equal(vhu_cfg_encode(f, "-32768", buf), 0);
		assert_memory_equal(buf, "\x00\x80\xff\xff", 4);
		assert_int_equal(vhu_cfg_encode(f, "-2147483648", buf), 0);
		assert_memory_equal(buf, "\x00\x00\x00\x80", 4);
		assert_int_equal(vhu_cfg_encode(f, "2147483647", buf), 0);
		assert_int_equal(vhu_cfg_encode(f, "2147483648", buf), -1);
		assert_int_equal(vhu_cfg_encode(f, "-2147483649", buf), -1);
		assert_int_equal(vhu_cfg_encode(f, "-", buf), -1);
		assert_int_equal(vhu_cfg_encode(f, "--1", buf), -1);
	}

	f = vhu_cfg_field_by_name(VHU_DEV_GPU, "events_clear");
	assert_int_equal(vhu_cfg_encode(f, "4294967296", buf), -1);
	assert_int_equal(roundtrip(VHU_DEV_GPU, f, "0x1", v)->u, 1);

	/* MAC */
	f = vhu_cfg_field_by_name(VHU_DEV_NET, "mac");
	assert_string_equal(roundtrip(VHU_DEV_NET, f, "52:54:00:AB:cd:ef", v)->str, "52:54:00:ab:cd:ef");
	assert_int_equal(vhu_cfg_encode(f, "aa:bb:cc:dd:ee", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "aa:bb:cc:dd:ee:fg", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "aa:bb:cc:dd:ee:ff:00", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "aa:bb:cc:dd:ee:ff:", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "aabbccddeeff", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "aa-bb-cc-dd-ee-ff", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "a:bb:cc:dd:ee:ff", buf), -1);
	assert_int_equal(vhu_cfg_encode(f, "", buf), -1);

	/* STRING */
	f = vhu_cfg_field_by_name(VHU_DEV_FS, "tag");
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(vhu_cfg_encode(f, "myfs", buf), 0);
	assert_memory_equal(buf, "myfs\0\0\0\0", 8);
	assert_int_equal(buf[35], 0);
	assert_int_equal(buf[36], 0x77);
	assert_string_equal(roundtrip(VHU_DEV_FS, f, "myfs", v)->str, "myfs");
	memset(tag36, 'q', 36);
	tag36[36] = '\0';
	assert_string_equal(roundtrip(VHU_DEV_FS, f, tag36, v)->str, tag36);
	assert_string_equal(roundtrip(VHU_DEV_FS, f, "", v)->str, "");
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vhu_cfg_encode(f, "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", buf), -1);

	/* input select/subsel as written by set-config */
	f = vhu_cfg_field_by_name(VHU_DEV_INPUT, "select");
	assert_int_equal(vhu_cfg_encode(f, "0x11", buf), 0);
	assert_int_equal(buf[0], 0x11);
	assert_int_equal(vhu_cfg_encode(f, "300", buf), -1);

	/* BYTES */
	f = vhu_cfg_field_by_name(VHU_DEV_INPUT, "u");
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(vhu_cfg_encode(f, "01aB", (uint8_t[128]){ 0 }), 0);
	assert_int_equal(vhu_cfg_encode(f, "01a", (uint8_t[128]){ 0 }), -1);
	assert_int_equal(vhu_cfg_encode(f, "zz", (uint8_t[128]){ 0 }), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_tables),	cmocka_unit_test(test_field_by_name),
		cmocka_unit_test(test_blk_known),	cmocka_unit_test(test_blk_qsd_trace),
		cmocka_unit_test(test_net_known),	cmocka_unit_test(test_fs_known),
		cmocka_unit_test(test_scsi_known),	cmocka_unit_test(test_vsock_known),
		cmocka_unit_test(test_gpu_known),	cmocka_unit_test(test_console_known),
		cmocka_unit_test(test_misc_known),	cmocka_unit_test(test_offset_window),
		cmocka_unit_test(test_garbage),		cmocka_unit_test(test_fs_all_ff),
		cmocka_unit_test(test_input_string),	cmocka_unit_test(test_input_bitmap_devids_abs),
		cmocka_unit_test(test_input_windows),	cmocka_unit_test(test_input_select_parse),
		cmocka_unit_test(test_encode_uint_all), cmocka_unit_test(test_encode_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
