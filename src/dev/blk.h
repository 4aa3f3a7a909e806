/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk requests over the driver (virtio spec "Block Device"):
 * a request is a chain [16-byte header, readable] [data] [1-byte status,
 * writable]; sectors are 512 bytes whatever blk_size says.
 *
 * vhu_blk_rw() moves a byte range with as many requests as it takes:
 * each at most seg_max data descriptors (4 KiB each, as a guest's pages,
 * or size_max when smaller) and several in flight.  Data passes through
 * a callback in offset order whatever order the device completes in.
 * Discard and write-zeroes ranges are split by their sector limits.
 *
 * A back-end that goes away during I/O ends the run with VHU_E_IO, unless
 * a reconnect hook is set: then what the old back-end completed is
 * collected, the connection made again with the bring-up replayed, and
 * every request still in flight is sent again, in submission order, with
 * the same buffers.  A request the old back-end carried out without
 * saying so is thus carried out twice, with the same data at the same
 * place: the requests of one run never overlap, so nothing is lost and
 * nothing lands out of order.
 *
 * Statuses: OK goes on; IOERR and UNSUPP end the run with VHU_E_REFUSED
 * and a message naming the request type, sector and length; any other
 * value (the status byte is preset to 0xff, so an unwritten one shows)
 * is VHU_E_PROTO.  Nothing here prints.
 */
#ifndef VHU_DEV_BLK_H
#define VHU_DEV_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/driver.h"

/* Config bytes read: up to write_zeroes_may_unmap (offset 56), which is
 * what QEMU 7.2 serves (60). */
#define VHU_BLK_CONFIG_SIZE 60u
#define VHU_BLK_SECTOR	    512u
#define VHU_BLK_ID_BYTES    20u
/* Data descriptor size: a guest page. */
#define VHU_BLK_SEG_BYTES 4096u
/* Requests in flight at most. */
#define VHU_BLK_DEPTH 16u

/* Feature bits vhuctl's blk driver handles (and acks when offered). */
#define VHU_BLK_FEATURES                                                                                     \
	(VHU_BIT(1) /* SIZE_MAX */ | VHU_BIT(2) /* SEG_MAX */ | VHU_BIT(4) /* GEOMETRY */ |                  \
	 VHU_BIT(5) /* RO */ | VHU_BIT(6) /* BLK_SIZE */ | VHU_BIT(9) /* FLUSH */ |                          \
	 VHU_BIT(10) /* TOPOLOGY */ | VHU_BIT(12) /* MQ */ | VHU_BIT(13) /* DISCARD */ |                     \
	 VHU_BIT(14) /* WRITE_ZEROES */)

/* What the config space and features say (fields valid per feature). */
struct vhu_blk_info {
	uint64_t features; /* offered */
	uint64_t capacity; /* sectors */
	uint32_t size_max, seg_max, blk_size;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_align;
	uint32_t max_wz_sectors, max_wz_seg;
	bool wz_may_unmap;
	bool ro, flush, discard, write_zeroes, mq;
};

/* Decode @len config bytes (little-endian fields) with @features. */
void vhu_blk_info(const uint8_t *cfg, uint32_t len, uint64_t features, struct vhu_blk_info *out);

/* Request type name ("IN", "OUT", "FLUSH", "GET_ID", "DISCARD", "WRITE_ZEROES"). */
const char *vhu_blk_type_name(uint32_t type);
/* Status name ("OK", "IOERR", "UNSUPP"), NULL for others. */
const char *vhu_blk_status_name(uint8_t status);

struct vhu_blk_slot;

struct vhu_blk {
	struct vhu_drv *d;	 /* borrowed */
	struct vhu_drv_queue *q; /* borrowed */
	struct vhu_blk_info info;
	uint32_t seg_bytes;	   /* bytes per data descriptor */
	uint32_t max_segs;	   /* data descriptors per request */
	uint32_t max_bytes;	   /* data bytes per request */
	unsigned depth;		   /* request slots */
	struct vhu_blk_slot *slot; /* owned */
	struct vhu_vq_seg *segs;   /* owned scratch: max_segs + 2 */
	uint64_t requests;	   /* requests completed */
	uint64_t bytes;		   /* data bytes moved */

	/* Optional: make the connection again when the back-end went away
	 * during I/O, and replay the bring-up (vhu_drv_replay() or the
	 * same through vhu_drv_replay_hooks()); VHU_OK to carry on.  The
	 * requests in flight then go to the new back-end again. */
	int (*reconnect)(void *arg, const char *cause);
	void *reconnect_arg;
	uint64_t reconnects;  /* times it carried on */
	uint64_t resubmitted; /* requests sent again after a reconnect */
};

/*
 * Slots for up to VHU_BLK_DEPTH requests in guest memory (vhu_drv_alloc)
 * on the started queue @q: as many as the ring and the memory hold.  VHU_OK, VHU_E_USAGE (guest memory too
 * small, size_max below a sector) or VHU_E_IO (out of memory).
 */
int vhu_blk_init(struct vhu_blk *b, struct vhu_drv *d, struct vhu_drv_queue *q,
		 const struct vhu_blk_info *info);
void vhu_blk_fini(struct vhu_blk *b);

/*
 * Data callback: OUT fills @buf with the next @len bytes before the
 * request goes out, IN is handed the @len bytes read, in offset order.
 * Returns VHU_OK or a vhu_rc (its message set by the callback in the
 * session) that ends the run.
 */
typedef int (*vhu_blk_data_fn)(void *arg, uint8_t *buf, uint32_t len);

/* Read (@write false) or write @length bytes at byte @offset; both
 * multiples of 512 inside the capacity (checked: VHU_E_USAGE). */
int vhu_blk_rw(struct vhu_blk *b, bool write, uint64_t offset, uint64_t length, vhu_blk_data_fn fn,
	       void *arg);
/* DISCARD or WRITE_ZEROES (@unmap: the UNMAP flag) over a range, split
 * by max_discard_sectors / max_write_zeroes_sectors. */
int vhu_blk_range(struct vhu_blk *b, uint32_t type, uint64_t offset, uint64_t length, bool unmap);
int vhu_blk_flush(struct vhu_blk *b);
/* GET_ID: the serial, NUL-padded to 20 bytes (@id has 21, always NUL
 * terminated). */
int vhu_blk_get_id(struct vhu_blk *b, char id[VHU_BLK_ID_BYTES + 1]);

#endif
