/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Options of the commands that run the driver (setup, blk, and the device
 * commands to come): ring layout, ring features, guest memory, and for
 * commands that do I/O the notification mode and the queue.
 *
 * A command puts VHU_DRV_RING_OPTIONS (and VHU_DRV_IO_OPTIONS, or only
 * VHU_DRV_NOTIFY_OPTION for one that picks its rings itself) into its
 * argp option table and hands unknown keys to vhu_drv_parse_opt().
 */
#ifndef VHU_CMDS_CMD_DRV_H
#define VHU_CMDS_CMD_DRV_H

#include "cmds/cmd_common.h"
#include "driver/driver.h"

enum {
	VHU_DRV_OPT_RING = 0x600,
	VHU_DRV_OPT_EVENT_IDX,
	VHU_DRV_OPT_INDIRECT,
	VHU_DRV_OPT_QUEUE_SIZE,
	VHU_DRV_OPT_MEMORY,
	VHU_DRV_OPT_BACKING,
	VHU_DRV_OPT_HUGETLB,
	VHU_DRV_OPT_GPA_BASE,
	VHU_DRV_OPT_NOTIFY,
	VHU_DRV_OPT_QUEUE,
};

#define VHU_DRV_OPT_GROUP 5

/* clang-format off */
#define VHU_DRV_RING_OPTIONS \
	{ NULL, 0, NULL, 0, "Driver options:", VHU_DRV_OPT_GROUP }, \
	{ "ring", VHU_DRV_OPT_RING, "split|packed", 0, \
	  "ring layout (default split; packed needs VIRTIO_F_RING_PACKED offered)", VHU_DRV_OPT_GROUP }, \
	{ "event-idx", VHU_DRV_OPT_EVENT_IDX, "on|off", 0, \
	  "use VIRTIO_F_EVENT_IDX (default: on when offered)", VHU_DRV_OPT_GROUP }, \
	{ "indirect", VHU_DRV_OPT_INDIRECT, "on|off", 0, \
	  "use indirect descriptor tables, VIRTIO_F_INDIRECT_DESC (default: on when offered)", VHU_DRV_OPT_GROUP }, \
	{ "queue-size", VHU_DRV_OPT_QUEUE_SIZE, "N", 0, \
	  "descriptors per ring (default 128; split: a power of 2)", VHU_DRV_OPT_GROUP }, \
	{ "memory", VHU_DRV_OPT_MEMORY, "SIZE", 0, "guest memory, in 2 MiB steps (default 64M)", VHU_DRV_OPT_GROUP }, \
	{ "backing", VHU_DRV_OPT_BACKING, "memfd|file:PATH", 0, \
	  "what backs guest memory (default memfd; a file on hugetlbfs for huge pages)", VHU_DRV_OPT_GROUP }, \
	{ "hugetlb", VHU_DRV_OPT_HUGETLB, NULL, 0, "back the memfd with huge pages (MFD_HUGETLB)", VHU_DRV_OPT_GROUP }, \
	{ "gpa-base", VHU_DRV_OPT_GPA_BASE, "ADDR", 0, \
	  "guest-physical address of guest memory (default 4G, never the user address)", VHU_DRV_OPT_GROUP }

#define VHU_DRV_NOTIFY_OPTION \
	{ "notify", VHU_DRV_OPT_NOTIFY, "event|poll", 0, \
	  "wait for completions on the call eventfd (default) or busy-poll the used ring", VHU_DRV_OPT_GROUP }

#define VHU_DRV_IO_OPTIONS \
	VHU_DRV_NOTIFY_OPTION, \
	{ "queue", VHU_DRV_OPT_QUEUE, "N", 0, "ring to use (default 0)", VHU_DRV_OPT_GROUP }
/* clang-format on */

struct vhu_drv_args {
	struct vhu_drv_opts o;
	uint32_t queue;
};

void vhu_drv_args_init(struct vhu_drv_args *a);
/* ARGP_ERR_UNKNOWN for keys that are not driver options. */
error_t vhu_drv_parse_opt(int key, char *arg, struct argp_state *state, struct vhu_drv_args *a);
/* Checks that need several options together (split ring sizes); a usage
 * error before anything is sent. */
int vhu_drv_args_check(struct vhu_ctx *ctx, const struct vhu_drv_args *a);

/* The driver as it ran: ring layout and features in effect, queue size,
 * notification mode, and the counters of every queue (JSON "driver"). */
void vhu_show_driver(const struct vhu_drv *d, bool io);
/* The recorded steps from @first on, each {"request", "ring"}, leaving
 * out the failed last one; returns that one, or NULL. */
const struct vhu_drv_step *vhu_show_steps(const struct vhu_drv *d, unsigned first);

#endif
