/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device configuration space decoders (virtio spec, "Device Types",
 * "Device configuration layout" of each device).  Table driven and pure:
 * bytes in, typed fields out, never printing, never reading past @len.
 * All fields are little-endian (VIRTIO_F_VERSION_1).
 */
#ifndef VHU_DECODE_CONFIG_H
#define VHU_DECODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bits.h"

enum vhu_cfg_kind {
	VHU_CFG_UINT,	/* little-endian unsigned integer of 1, 2, 4 or 8 bytes */
	VHU_CFG_INT,	/* little-endian two's complement integer of 1, 2, 4 or 8 bytes */
	VHU_CFG_MAC,	/* 6 bytes shown as aa:bb:cc:dd:ee:ff */
	VHU_CFG_STRING, /* fixed-size text, NUL padded (fs tag, input name) */
	VHU_CFG_BYTES,	/* opaque bytes shown as hex */
};

/*
 * Names of a field's values.  An enum names whole values (net duplex 1 is
 * "full"); a flags field names single bits (net status bit 0 is
 * VIRTIO_NET_S_LINK_UP): value is then the bit number.
 */
struct vhu_cfg_name {
	uint64_t value;
	const char *name;
};

struct vhu_cfg_names {
	bool flags;
	const struct vhu_cfg_name *v;
	size_t n;
};

struct vhu_cfg_field {
	const char *group; /* JSON object the field belongs to ("geometry"), or NULL */
	const char *name;  /* snake_case, e.g. "capacity" */
	uint16_t offset;   /* byte offset in the device config space */
	uint16_t size;	   /* bytes */
	enum vhu_cfg_kind kind;
	const char *unit; /* "512-byte sectors", "bytes", ... or NULL */
	int feature;	  /* virtio feature bit making it valid, -1 = always */
	bool writable;	  /* driver-writable (set-config --field) */
	const char *help;
	const struct vhu_cfg_names *names; /* value or bit names, or NULL */
};

struct vhu_cfg_layout {
	enum vhu_dev_type dev;
	uint16_t size; /* bytes get-config requests by default */
	const struct vhu_cfg_field *fields;
	size_t nfields;
};

/* Layout of @dev, or NULL when no decoder exists for it. */
const struct vhu_cfg_layout *vhu_cfg_layout(enum vhu_dev_type dev);

/*
 * Every field the decoder can emit for @dev: the layout's fields and, for
 * input, the interpretations of the union u per select value (string,
 * bitmap, devids.*, abs.*).  Fills up to @max pointers, returns the total.
 * `vhuctl list config` and the man page test read the tables through it.
 */
size_t vhu_cfg_fields(enum vhu_dev_type dev, const struct vhu_cfg_field **out, size_t max);

/*
 * Where the fields of @dev that @features make valid end: the largest
 * offset + size among them (fields valid without a feature included).
 * Devices size their config struct by what they offer, so a read past
 * this may be refused.  0 without a layout.
 */
uint32_t vhu_cfg_extent(enum vhu_dev_type dev, uint64_t features);

/* Field named @name ("capacity" or "group.name") of @dev, or NULL. */
const struct vhu_cfg_field *vhu_cfg_field_by_name(enum vhu_dev_type dev, const char *name);

/* Like vhu_cfg_field_by_name() among every field vhu_cfg_fields() lists
 * (for input also string, bitmap, devids.*, abs.*). */
const struct vhu_cfg_field *vhu_cfg_field_find(enum vhu_dev_type dev, const char *name);

/*
 * Value names.  vhu_cfg_value_name(): the name of @v for an enum field,
 * NULL for a value without one or a field that is not an enum.
 * vhu_cfg_bit_name(): the name of bit @bit of a flags field, or NULL.
 * vhu_cfg_name_parse(): an enum value given by name (case-insensitive);
 * 0 and *@v, or -1.
 */
const char *vhu_cfg_value_name(const struct vhu_cfg_field *f, uint64_t v);
const char *vhu_cfg_bit_name(const struct vhu_cfg_field *f, unsigned bit);
int vhu_cfg_name_parse(const struct vhu_cfg_field *f, const char *word, uint64_t *v);
static inline bool vhu_cfg_is_enum(const struct vhu_cfg_field *f)
{
	return f->names && !f->names->flags;
}
static inline bool vhu_cfg_is_flags(const struct vhu_cfg_field *f)
{
	return f->names && f->names->flags;
}

#define VHU_CFG_STR_MAX 520

struct vhu_cfg_value {
	const struct vhu_cfg_field *field;
	bool present;		   /* all of the field's bytes were in the buffer */
	bool valid;		   /* the gating feature was offered (true when feature == -1
				    * or when features are unknown) */
	uint64_t u;		   /* VHU_CFG_UINT */
	int64_t i;		   /* VHU_CFG_INT */
	char str[VHU_CFG_STR_MAX]; /* MAC, STRING (unprintable bytes escaped
				    * with vis(3) rules), BYTES (hex) */
};

/*
 * Decode @len bytes of @dev's config space that start at @offset in the
 * config space.  Fields that are not wholly inside [@offset, @offset+@len)
 * are returned with present = false (and *truncated set when any field
 * reaching past the end was cut).  @features / @have_features decide
 * `valid`.  Writes at most @max values; returns the number written.
 */
size_t vhu_cfg_decode(enum vhu_dev_type dev, const uint8_t *buf, size_t len, uint32_t offset,
		      uint64_t features, bool have_features, struct vhu_cfg_value *out, size_t max,
		      bool *truncated);

/*
 * Encode @text as the value of @field into @buf (field->size bytes,
 * little-endian for UINT, MAC as aa:bb:.., STRING NUL padded).
 * Returns 0, or -1 when @text is not a valid value for the field.
 */
int vhu_cfg_encode(const struct vhu_cfg_field *field, const char *text, uint8_t *buf);

/*
 * virtio-input config window (virtio spec "Input Device", "Device
 * configuration layout"): the driver writes select/subsel, the device
 * answers in size/u.  Select values:
 */
#define VHU_INPUT_CFG_UNSET	0x00
#define VHU_INPUT_CFG_ID_NAME	0x01
#define VHU_INPUT_CFG_ID_SERIAL 0x02
#define VHU_INPUT_CFG_ID_DEVIDS 0x03
#define VHU_INPUT_CFG_PROP_BITS 0x10
#define VHU_INPUT_CFG_EV_BITS	0x11
#define VHU_INPUT_CFG_ABS_INFO	0x12

/*
 * Parse a virtio-input select value given as a name (UNSET, ID_NAME,
 * ID_SERIAL, ID_DEVIDS, PROP_BITS, EV_BITS, ABS_INFO; case-insensitive) or
 * as a number 0-255 (decimal or 0x hex).  Returns 0 and sets *select, or -1.
 */
int vhu_input_select_parse(const char *word, uint8_t *select);

#endif
