/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Name tables for bit masks: virtio feature bits (device-independent and
 * per device type), vhost-user protocol feature bits and the virtio device
 * status byte.  Pure lookups: no allocation, no printing.
 *
 * Names are the spec names (VIRTIO_F_VERSION_1, VIRTIO_BLK_F_SIZE_MAX,
 * VHOST_USER_PROTOCOL_F_MQ, VIRTIO_CONFIG_S_DRIVER_OK).  A bit without a name
 * is never dropped: callers print it as "bit_N".
 */
#ifndef VHU_DECODE_BITS_H
#define VHU_DECODE_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Virtio device IDs (virtio spec "Device Types"). */
enum vhu_dev_type {
	VHU_DEV_NONE = 0,
	VHU_DEV_NET = 1,
	VHU_DEV_BLK = 2,
	VHU_DEV_CONSOLE = 3,
	VHU_DEV_RNG = 4,
	VHU_DEV_SCSI = 8,
	VHU_DEV_GPU = 16,
	VHU_DEV_INPUT = 18,
	VHU_DEV_VSOCK = 19,
	VHU_DEV_CRYPTO = 20,
	VHU_DEV_SOUND = 25,
	VHU_DEV_FS = 26,
	VHU_DEV_SCMI = 32,
	VHU_DEV_I2C = 34,
	VHU_DEV_CAN = 36,
	VHU_DEV_GPIO = 41,
};

/* Which mask a bit belongs to. */
enum vhu_bit_space {
	VHU_BITS_FEATURES, /* virtio + vhost feature bits (GET_FEATURES) */
	VHU_BITS_PROTOCOL, /* vhost-user protocol features */
	VHU_BITS_STATUS,   /* virtio device status byte */
};

struct vhu_bit_name {
	unsigned bit;
	const char *name; /* spec name, e.g. "VIRTIO_BLK_F_SIZE_MAX" */
	const char *help; /* one line, lower case, no trailing period */
};

struct vhu_dev_info {
	enum vhu_dev_type id;
	const char *name;		     /* --type value: "blk", "net", ... */
	const char *desc;		     /* "block device" */
	const struct vhu_bit_name *features; /* device-specific bits only */
	size_t nfeatures;
};

/* Device type lookups; NULL when unknown.  vhu_dev_at(i) for i < vhu_dev_count(). */
const struct vhu_dev_info *vhu_dev_by_name(const char *name);
const struct vhu_dev_info *vhu_dev_by_id(enum vhu_dev_type id);
size_t vhu_dev_count(void);
const struct vhu_dev_info *vhu_dev_at(size_t i);

/* True for virtio feature bits whose meaning depends on the device type
 * (0-23, 41, 42, 50-63; virtio spec "Feature Bits"). */
bool vhu_feature_is_device_specific(unsigned bit);

/*
 * Name of @bit in @space.  For VHU_BITS_FEATURES, device-specific bits are
 * looked up in @dev's table (VHU_DEV_NONE: none known).  Returns a static
 * string or NULL when the bit has no name.
 */
const char *vhu_bit_name(enum vhu_bit_space space, enum vhu_dev_type dev, unsigned bit);
const char *vhu_bit_help(enum vhu_bit_space space, enum vhu_dev_type dev, unsigned bit);

/*
 * Parse one bit given as a spec name (case-insensitive; the common prefix
 * such as "VIRTIO_F_", "VIRTIO_BLK_F_", "VHOST_USER_PROTOCOL_F_" or
 * "VIRTIO_CONFIG_S_" may be left out), as "bit_N", or as a decimal bit
 * number N.  Returns 0 and sets *bit, or -1 when the word is not a bit of
 * @space (numbers must be < 64, or < 8 for the status byte).
 */
int vhu_bit_parse(enum vhu_bit_space space, enum vhu_dev_type dev, const char *word, unsigned *bit);

/*
 * A mask: "0xHEX" (the value itself), or a list of bit names / bit_N /
 * bit numbers (vhu_bit_parse()) separated by commas, '|', '+' or spaces.
 * "offered" or "all" stand for @offered, "none" for no bit.  Unknown
 * words: -1 and @bad receives the offending word.
 */
int vhu_parse_mask(const char *s, enum vhu_bit_space space, enum vhu_dev_type dev, uint64_t offered,
		   uint64_t *out, char *bad, size_t badlen);

/*
 * Iterate over every named bit of @space (for `list`): calls @fn for the
 * device-independent table, then, for VHU_BITS_FEATURES, @dev's table.
 */
void vhu_bit_foreach(enum vhu_bit_space space, enum vhu_dev_type dev,
		     void (*fn)(const struct vhu_bit_name *b, void *arg), void *arg);

#endif
