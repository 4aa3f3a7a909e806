/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requirements on a back-end (--require EXPR): parse the expression,
 * resolve its names through the bit and config tables, and evaluate it
 * against values already read.  Pure: nothing here does I/O or prints.
 *
 *   feature=NAME  feature!=NAME        a virtio feature bit offered or not
 *   protocol-feature=NAME  (and !=)    a vhost-user protocol feature offered
 *   queues OP N                        GET_QUEUE_NUM
 *   mem-slots OP N                     GET_MAX_MEM_SLOTS
 *   status=NAME  status!=NAME          a bit of the device status byte set
 *   config.FIELD OP VALUE              a decoded config field
 *
 * OP is one of = (or ==) != < <= > >=; bits and text fields compare with
 * = and != only.
 */
#ifndef VHU_DECODE_REQUIRE_H
#define VHU_DECODE_REQUIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/bits.h"
#include "decode/config.h"

enum vhu_req_kind {
	VHU_REQ_FEATURE,
	VHU_REQ_PROTOCOL,
	VHU_REQ_QUEUES,
	VHU_REQ_MEM_SLOTS,
	VHU_REQ_STATUS,
	VHU_REQ_CONFIG,
};

enum vhu_req_op { VHU_REQ_EQ, VHU_REQ_NE, VHU_REQ_LT, VHU_REQ_LE, VHU_REQ_GT, VHU_REQ_GE };

#define VHU_REQ_TEXT_MAX 256

struct vhu_req {
	char text[VHU_REQ_TEXT_MAX]; /* as given, without spaces around OP */
	enum vhu_req_kind kind;
	enum vhu_req_op op;
	char name[128];		      /* config field (group.name) as given */
	char value[VHU_REQ_TEXT_MAX]; /* right-hand side as given */
	uint64_t num;		      /* QUEUES, MEM_SLOTS */

	/* Filled by vhu_req_resolve(). */
	bool resolved;
	unsigned bit;			   /* FEATURE, PROTOCOL, STATUS */
	const char *bit_name;		   /* its spec name (static), NULL for bit_N */
	enum vhu_dev_type dev;		   /* table a device bit or a config field came from */
	const struct vhu_cfg_field *field; /* CONFIG */
	uint64_t u;			   /* CONFIG value: UINT (also an enum name) */
	int64_t i;			   /* INT */
	uint8_t bytes[256];		   /* MAC, STRING, BYTES: as encoded (field->size) */
};

/*
 * Parse @text into *@r (the syntax only; names are resolved later).
 * 0, or -1 with a message (without "--require") in @err.
 */
int vhu_req_parse(const char *text, struct vhu_req *r, char *err, size_t errlen);

/*
 * Resolve the names of @r: with @dev (--type) in that device's tables;
 * without, a device bit or config field is looked up in every device
 * table and must be found in exactly one (the message lists the
 * candidates otherwise).  The value of a config requirement is checked
 * against the field.  0, or -1 with a message in @err.
 */
int vhu_req_resolve(struct vhu_req *r, enum vhu_dev_type dev, char *err, size_t errlen);

/*
 * What is known about the back-end.  A value that could not be read has
 * have_X false and X_why set to the reason (NULL: it was not asked for).
 * config holds config_len bytes read from offset 0.
 */
struct vhu_req_facts {
	bool have_features;
	uint64_t features;
	bool have_protocol;
	uint64_t protocol;
	const char *protocol_why;
	bool have_queues;
	uint64_t queues;
	const char *queues_why;
	bool have_slots;
	uint64_t slots;
	const char *slots_why;
	bool have_status;
	uint8_t status;
	const char *status_why;
	const uint8_t *config;
	size_t config_len;
	const char *config_why;
};

enum vhu_req_actual {
	VHU_REQ_ACT_NONE,
	VHU_REQ_ACT_BOOL,
	VHU_REQ_ACT_UINT,
	VHU_REQ_ACT_INT,
	VHU_REQ_ACT_STRING
};

struct vhu_req_result {
	bool met;
	enum vhu_req_actual type; /* NONE: the value is unknown (why) */
	bool b;			  /* BOOL: the bit is set */
	uint64_t u;
	int64_t i;
	char str[VHU_CFG_STR_MAX];	 /* STRING */
	const char *name;		 /* the name of the actual value (enum field), or NULL */
	char why[512];			 /* NONE: why the value is unknown */
	char text[VHU_CFG_STR_MAX + 64]; /* the actual value for a message: "2", "not offered", ... */
};

/* Evaluate resolved @r against @f. */
void vhu_req_eval(const struct vhu_req *r, const struct vhu_req_facts *f, struct vhu_req_result *res);

/* One past the last config byte @r needs (offset 0 based); 0 when it is
 * not a config requirement. */
uint32_t vhu_req_config_end(const struct vhu_req *r);

/* "feature", "protocol_feature", "queues", "mem_slots", "status", "config". */
const char *vhu_req_kind_name(enum vhu_req_kind k);

#endif
