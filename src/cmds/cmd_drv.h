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

#include <sha2.h>

#include "cmds/cmd_common.h"
#include "driver/driver.h"
#include "util/outfile.h"

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
	VHU_DRV_OPT_IOMMU,
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
	  "guest-physical address of guest memory (default 4G, never the user address)", VHU_DRV_OPT_GROUP }, \
	{ "iommu", VHU_DRV_OPT_IOMMU, NULL, 0, \
	  "ack VIRTIO_F_ACCESS_PLATFORM and answer the back-end's IOTLB misses (identity map)", VHU_DRV_OPT_GROUP }

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

/*
 * Where the data a device command reads goes (blk read, fs cat): stdout
 * (raw, text mode only), or -o FILE through an atomic output file
 * (util/outfile.h: FILE is replaced whole after everything succeeded, or
 * left as it was), and always into a SHA-256 (libmd).
 *
 *	vhu_drv_sink_open()    before anything is sent: a FILE that cannot
 *	                       be replaced is a usage error (64), other
 *	                       failures to create the temporary 74
 *	vhu_drv_sink_write()   the data, in order
 *	vhu_drv_sink_commit()  after the orderly stop, when all went well
 *	vhu_drv_sink_abort()   always (a no-op after a commit)
 *
 * The struct owns the temporary and its fds.
 */
struct vhu_drv_sink {
	struct vhu_session *s; /* borrowed: messages */
	SHA2_CTX sha;
	const char *path; /* -o FILE (borrowed), or NULL */
	struct vhu_outfile f;
	bool to_stdout;
	uint64_t bytes;
};

/* @path: -o FILE or NULL; @to_stdout: copy the data to stdout. */
int vhu_drv_sink_open(struct vhu_drv_sink *k, struct vhu_session *s, const char *path, bool to_stdout);
int vhu_drv_sink_write(struct vhu_drv_sink *k, const uint8_t *buf, size_t len);
int vhu_drv_sink_commit(struct vhu_drv_sink *k);
void vhu_drv_sink_abort(struct vhu_drv_sink *k);
/* The SHA-256 of what was written, 64 lowercase hex digits. */
void vhu_drv_sink_digest(struct vhu_drv_sink *k, char hex[65]);

#endif
