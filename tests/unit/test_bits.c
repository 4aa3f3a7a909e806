/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/decode/bits.c: bit names, device-specific lookups,
 * parsing and iteration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode/bits.h"

static const enum vhu_dev_type all_devs[] = {
	VHU_DEV_NET, VHU_DEV_BLK,   VHU_DEV_CONSOLE, VHU_DEV_RNG,    VHU_DEV_SCSI,
	VHU_DEV_GPU, VHU_DEV_INPUT, VHU_DEV_VSOCK,   VHU_DEV_CRYPTO, VHU_DEV_SOUND,
	VHU_DEV_FS,  VHU_DEV_SCMI,  VHU_DEV_I2C,     VHU_DEV_CAN,    VHU_DEV_GPIO,
};

#define NDEVS (sizeof(all_devs) / sizeof(all_devs[0]))

static void test_feature_names(void **state)
{
	(void)state;
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 32), "VIRTIO_F_VERSION_1");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 30),
			    "VHOST_USER_F_PROTOCOL_FEATURES");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_BLK, 26), "VHOST_F_LOG_ALL");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 28), "VIRTIO_RING_F_INDIRECT_DESC");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 43), "VIRTIO_F_SUSPEND");
	assert_non_null(vhu_bit_help(VHU_BITS_FEATURES, VHU_DEV_NONE, 32));

	/* Unnamed and out-of-range bits. */
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 25));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 31));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 44));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NET, 58));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NET, 64));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 1000));
	assert_null(vhu_bit_help(VHU_BITS_FEATURES, VHU_DEV_NONE, 25));
}

static void test_device_specific(void **state)
{
	(void)state;
	assert_true(vhu_feature_is_device_specific(0));
	assert_true(vhu_feature_is_device_specific(23));
	assert_false(vhu_feature_is_device_specific(24));
	assert_false(vhu_feature_is_device_specific(40));
	assert_true(vhu_feature_is_device_specific(41));
	assert_true(vhu_feature_is_device_specific(42));
	assert_false(vhu_feature_is_device_specific(43));
	assert_false(vhu_feature_is_device_specific(49));
	assert_true(vhu_feature_is_device_specific(50));
	assert_true(vhu_feature_is_device_specific(63));
	assert_false(vhu_feature_is_device_specific(64));

	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_BLK, 1), "VIRTIO_BLK_F_SIZE_MAX");
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 1));
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NET, 1), "VIRTIO_NET_F_GUEST_CSUM");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NET, 63), "VIRTIO_NET_F_SPEED_DUPLEX");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_FS, 0), "VIRTIO_FS_F_NOTIFICATION");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_GPIO, 0), "VIRTIO_GPIO_F_IRQ");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_SOUND, 0), "VIRTIO_SND_F_CTLS");
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_BLK, 3));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_RNG, 0));
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_INPUT, 0));
	/* The independent table never answers for device-specific bits. */
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_BLK, 50));

	/* Bit 41: the device's name if it has one, else ADMIN_VQ. */
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NET, 41), "VIRTIO_NET_F_GUEST_RSC4");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NET, 42), "VIRTIO_NET_F_GUEST_RSC6");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_BLK, 41), "VIRTIO_F_ADMIN_VQ");
	assert_string_equal(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_NONE, 41), "VIRTIO_F_ADMIN_VQ");
	assert_null(vhu_bit_name(VHU_BITS_FEATURES, VHU_DEV_BLK, 42));
}

static void test_protocol_status_names(void **state)
{
	const char *help;

	(void)state;
	assert_string_equal(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 0), "VHOST_USER_PROTOCOL_F_MQ");
	assert_string_equal(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 9), "VHOST_USER_PROTOCOL_F_CONFIG");
	assert_string_equal(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 21),
			    "VHOST_USER_PROTOCOL_F_GPA_ADDRESSES");
	assert_string_equal(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 23),
			    "VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN");
	/* Protocol bits do not depend on the device. */
	assert_string_equal(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_BLK, 1),
			    "VHOST_USER_PROTOCOL_F_LOG_SHMFD");
	help = vhu_bit_help(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 21);
	assert_non_null(help);
	assert_non_null(strstr(help, "SHMEM"));
	assert_non_null(strstr(help, "0.16"));
	assert_null(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 24));
	assert_null(vhu_bit_name(VHU_BITS_PROTOCOL, VHU_DEV_NONE, 63));

	assert_string_equal(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 0), "VIRTIO_CONFIG_S_ACKNOWLEDGE");
	assert_string_equal(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 2), "VIRTIO_CONFIG_S_DRIVER_OK");
	assert_string_equal(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 4), "VIRTIO_CONFIG_S_SUSPEND");
	assert_string_equal(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 6),
			    "VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET");
	assert_string_equal(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 7), "VIRTIO_CONFIG_S_FAILED");
	assert_null(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 5));
	assert_null(vhu_bit_name(VHU_BITS_STATUS, VHU_DEV_NONE, 8));
}

static void test_devices(void **state)
{
	static const char *const names[] = {
		"net",	  "blk",   "console", "rng",  "scsi", "gpu",  "input", "vsock",
		"crypto", "sound", "fs",      "scmi", "i2c",  "gpio", "can",
	};
	const struct vhu_dev_info *d;
	size_t i;

	(void)state;
	assert_int_equal(vhu_dev_count(), NDEVS);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		d = vhu_dev_by_name(names[i]);
		assert_non_null(d);
		assert_string_equal(d->name, names[i]);
		assert_non_null(d->desc);
		assert_ptr_equal(vhu_dev_by_id(d->id), d);
	}
	for (i = 0; i < vhu_dev_count(); i++) {
		d = vhu_dev_at(i);
		assert_non_null(d);
		assert_ptr_equal(vhu_dev_by_name(d->name), d);
	}
	assert_null(vhu_dev_at(vhu_dev_count()));
	assert_int_equal(vhu_dev_by_name("blk")->id, VHU_DEV_BLK);
	assert_string_equal(vhu_dev_by_id(VHU_DEV_BLK)->desc, "block device");
	assert_int_equal(vhu_dev_by_id(VHU_DEV_RNG)->nfeatures, 0);
	assert_null(vhu_dev_by_name("balloon"));
	assert_null(vhu_dev_by_name(""));
	assert_null(vhu_dev_by_name(NULL));
	assert_null(vhu_dev_by_id(VHU_DEV_NONE));
	assert_null(vhu_dev_by_id((enum vhu_dev_type)5));
}

static unsigned parse_ok(enum vhu_bit_space space, enum vhu_dev_type dev, const char *word)
{
	unsigned bit = 12345;

	assert_int_equal(vhu_bit_parse(space, dev, word, &bit), 0);
	return bit;
}

static void parse_bad(enum vhu_bit_space space, enum vhu_dev_type dev, const char *word)
{
	unsigned bit = 12345;

	assert_int_equal(vhu_bit_parse(space, dev, word, &bit), -1);
	assert_int_equal(bit, 12345); /* untouched on failure */
}

static void test_parse(void **state)
{
	(void)state;
	/* Full, short and case-insensitive names. */
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_F_VERSION_1"), 32);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "VERSION_1"), 32);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "version_1"), 32);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "virtio_f_Version_1"), 32);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_RING_F_EVENT_IDX"), 29);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "event_idx"), 29);
	/* Spec spelling of a Linux VIRTIO_RING_F_ name. */
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_F_INDIRECT_DESC"), 28);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "log_all"), 26);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "PROTOCOL_FEATURES"), 30);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_F_IOMMU_PLATFORM"), 33);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "admin_vq"), 41);

	/* Device names, with and without prefix. */
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_BLK, "VIRTIO_BLK_F_SIZE_MAX"), 1);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_BLK, "size_max"), 1);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_BLK, "Flush"), 9);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_BLK, "wce"), 9);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_BLK, "version_1"), 32);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NET, "guest_rsc4"), 41);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NET, "mq"), 22);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_BLK, "mq"), 12);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_SOUND, "ctls"), 0);
	/* Device names need the device. */
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_BLK_F_SIZE_MAX");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "size_max");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NET, "size_max");
	/* A prefix belongs to its own table. */
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_BLK, "VIRTIO_NET_F_MQ");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_BLK, "VIRTIO_F_SIZE_MAX");

	/* bit_N and plain numbers. */
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "bit_5"), 5);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "BIT_63"), 63);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "0"), 0);
	assert_int_equal(parse_ok(VHU_BITS_FEATURES, VHU_DEV_NONE, "63"), 63);
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "40"), 40);

	/* Protocol and status names. */
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "VHOST_USER_PROTOCOL_F_MQ"), 0);
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "reply_ack"), 3);
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "Backend_Req"), 5);
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "slave_req"), 5);
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "net_mtu"), 4);
	assert_int_equal(parse_ok(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "shmem"), 22);
	assert_int_equal(parse_ok(VHU_BITS_STATUS, VHU_DEV_NONE, "VIRTIO_CONFIG_S_DRIVER_OK"), 2);
	assert_int_equal(parse_ok(VHU_BITS_STATUS, VHU_DEV_NONE, "driver_ok"), 2);
	assert_int_equal(parse_ok(VHU_BITS_STATUS, VHU_DEV_NONE, "failed"), 7);
	assert_int_equal(parse_ok(VHU_BITS_STATUS, VHU_DEV_NONE, "bit_7"), 7);
	assert_int_equal(parse_ok(VHU_BITS_STATUS, VHU_DEV_NONE, "5"), 5);
	/* Names of one space are not names of another. */
	parse_bad(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "VERSION_1");
	parse_bad(VHU_BITS_STATUS, VHU_DEV_NONE, "MQ");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "driver_ok");
}

static void test_parse_reject(void **state)
{
	unsigned bit;

	(void)state;
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "bit_");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "64");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "bit_64");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "VERSION_2");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "12abc");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "bit_1x");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "-1");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "+1");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, " 1");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "1 ");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "0x1");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "99999999999999999999999");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "bit_4294967328");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "VERSION_1x");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_F_");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "VIRTIO_F_VERSION_1 ");
	parse_bad(VHU_BITS_FEATURES, VHU_DEV_NONE, "garbage");
	parse_bad(VHU_BITS_PROTOCOL, VHU_DEV_NONE, "64");
	parse_bad(VHU_BITS_STATUS, VHU_DEV_NONE, "8");
	parse_bad(VHU_BITS_STATUS, VHU_DEV_NONE, "bit_8");
	assert_int_equal(vhu_bit_parse(VHU_BITS_FEATURES, VHU_DEV_NONE, NULL, &bit), -1);
	assert_int_equal(vhu_bit_parse(VHU_BITS_FEATURES, VHU_DEV_NONE, "1", NULL), -1);
}

struct walk {
	unsigned count;
	unsigned descents; /* times a bit was <= its predecessor */
	int last;
	enum vhu_bit_space space;
	enum vhu_dev_type dev;
};

static void walk_fn(const struct vhu_bit_name *b, void *arg)
{
	struct walk *w = arg;

	assert_non_null(b->name);
	assert_non_null(b->help);
	assert_true(b->bit < 64);
	/* Every listed bit resolves back to itself by name and number. */
	assert_string_equal(vhu_bit_name(w->space, w->dev, b->bit), b->name);
	assert_int_equal(parse_ok(w->space, w->dev, b->name), b->bit);
	if ((int)b->bit <= w->last)
		w->descents++;
	w->last = (int)b->bit;
	w->count++;
}

static struct walk walk(enum vhu_bit_space space, enum vhu_dev_type dev)
{
	struct walk w = { 0, 0, -1, space, dev };

	vhu_bit_foreach(space, dev, walk_fn, &w);
	return w;
}

static void test_foreach(void **state)
{
	const struct vhu_dev_info *d;
	struct walk w;
	size_t i;

	(void)state;
	w = walk(VHU_BITS_PROTOCOL, VHU_DEV_NONE);
	assert_int_equal(w.count, 24);
	assert_int_equal(w.descents, 0);

	w = walk(VHU_BITS_STATUS, VHU_DEV_NONE);
	assert_int_equal(w.count, 7);
	assert_int_equal(w.descents, 0);

	w = walk(VHU_BITS_FEATURES, VHU_DEV_NONE);
	assert_int_equal(w.count, 17);
	assert_int_equal(w.descents, 0);

	/* Independent bits ascending, then the device's bits ascending. */
	for (i = 0; i < NDEVS; i++) {
		d = vhu_dev_by_id(all_devs[i]);
		assert_non_null(d);
		w = walk(VHU_BITS_FEATURES, all_devs[i]);
		assert_true(w.count > 0);
		assert_true(w.descents <= 1);
		if (d->nfeatures)
			assert_int_equal(w.descents, 1);
		/* Net's 41 replaces ADMIN_VQ rather than adding to it. */
		if (all_devs[i] == VHU_DEV_NET)
			assert_int_equal(w.count, 16 + d->nfeatures);
		else
			assert_int_equal(w.count, 17 + d->nfeatures);
	}

	vhu_bit_foreach(VHU_BITS_FEATURES, VHU_DEV_BLK, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feature_names),
		cmocka_unit_test(test_device_specific),
		cmocka_unit_test(test_protocol_status_names),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_foreach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
