/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The driver side of one virtqueue, split or packed (virtio spec "Split
 * Virtqueues", "Packed Virtqueues"), behind one set of operations:
 *
 *   vhu_vq_area_sizes()   how much ring memory a layout needs, and where
 *   vhu_vq_init()         bind a vq to ring memory the caller owns
 *   vhu_vq_set_base()     start at a given index (before the first add)
 *   vhu_vq_add()          one chain of buffers with a driver token
 *   vhu_vq_publish()      make added chains visible; "kick needed?"
 *   vhu_vq_poll()         completions (token, used length), batched
 *   vhu_vq_enable_notify() / vhu_vq_disable_notify()  used notifications
 *
 * Pure ring logic: no syscall, no I/O, no printing, and nothing is
 * allocated after vhu_vq_init().  Ring memory (descriptor area, driver
 * area, device area, indirect tables) belongs to the caller, who maps it
 * and tells the device where it is; descriptors carry the device
 * addresses the caller passes in (guest-physical addresses for
 * vhost-user), never host pointers.
 *
 * Every index and flag the device also touches is read or written with a
 * single aligned 16-bit atomic access (virtq/ring.h): a torn store lets a
 * busy-polling device read half an index.  Ordering follows the spec's
 * "Memory barriers": split rings store avail->idx with release, fence
 * before reading used->flags / avail_event, load used->idx with acquire;
 * packed rings write a chain's other descriptors first and the head's
 * flags last with release, and load a descriptor's flags with acquire.
 *
 * Requests are tracked by the caller's token, never by descriptor or
 * buffer id, which the ring reuses as soon as they are free.
 *
 * What the device hands back is checked before it is believed: a used id
 * that is not in flight, a used length beyond the chain's device-writable
 * bytes (a chain without any has its length ignored: stats.readonly_len), a used index that moves by more
 * than the ring size, a packed descriptor with inconsistent wrap bits.  Each makes vhu_vq_poll() return
 * VHU_E_PROTO with a message naming the queue and the index (vhu_vq_error()); the vq then stays broken and
 * refuses further work.
 */
#ifndef VHU_VIRTQ_VIRTQ_H
#define VHU_VIRTQ_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rc.h"

/* Largest queue for either layout (spec: split Q <= 32768, packed <= 2^15). */
#define VHU_VQ_MAX_SIZE 32768u
/* vhu_vq_add(): no room now; poll completions and try again. */
#define VHU_VQ_FULL (-1)

enum vhu_vq_layout { VHU_VQ_SPLIT, VHU_VQ_PACKED };

/* One buffer of a chain: device address, length, direction. */
struct vhu_vq_seg {
	uint64_t addr; /* device address (a GPA for vhost-user) */
	uint32_t len;  /* bytes, > 0 */
	bool write;    /* device-writable; all of them after the readable ones */
};

/* One completion. */
struct vhu_vq_used {
	void *token;  /* as given to vhu_vq_add() */
	uint32_t len; /* bytes the device reports written (checked <= the
		       * chain's device-writable bytes) */
};

/* Areas of a layout, in the order of struct vhu_vq_areas. */
enum { VHU_VQ_AREA_DESC, VHU_VQ_AREA_DRIVER, VHU_VQ_AREA_DEVICE, VHU_VQ_AREAS };

/*
 * Where the rings live, as host pointers into memory the caller owns and
 * keeps mapped for the vq's lifetime.
 *   split:  desc = descriptor table, driver = available ring (with
 *           used_event), device = used ring (with avail_event)
 *   packed: desc = descriptor ring, driver = driver event suppression,
 *           device = device event suppression
 * SET_VRING_ADDR's desc/avail/used addresses are these three, in the same
 * roles.  indirect/indirect_addr: @size tables of @indirect_max
 * descriptors each (vhu_vq_indirect_bytes()), 16-byte aligned, inside the
 * memory the device can reach; only with config.indirect.
 */
struct vhu_vq_areas {
	void *desc, *driver, *device;
	void *indirect;
	uint64_t indirect_addr; /* device address of @indirect */
};

struct vhu_vq_config {
	enum vhu_vq_layout layout;
	uint16_t index;	       /* queue index, named in messages */
	uint32_t size;	       /* split: power of 2; packed: any; 1..32768 */
	bool event_idx;	       /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	       /* VIRTIO_F_INDIRECT_DESC negotiated and used */
	uint16_t indirect_max; /* descriptors per indirect table (>= 2) */
};

struct vhu_vq_stats {
	uint64_t added;		   /* chains added */
	uint64_t completed;	   /* chains returned by vhu_vq_poll() */
	uint64_t kicks;		   /* publishes that asked for a kick */
	uint64_t kicks_suppressed; /* publishes of new chains the device did not want notified */
	uint64_t indirect;	   /* chains sent through an indirect table */
	uint64_t readonly_len;	   /* used lengths > 0 on chains without writable bytes, taken as 0 */
};

/* Per buffer id (split: head descriptor index; packed: buffer id). */
struct vhu_vq_slot {
	void *token;
	uint32_t wlen;	/* device-writable bytes of the chain */
	uint16_t ndesc; /* ring descriptors the chain occupies */
	uint16_t next;	/* split: next descriptor of the chain / free list;
			 * packed: next free buffer id */
	bool inflight;
};

struct vhu_vq {
	struct vhu_vq_config cfg;
	struct vhu_vq_areas a;
	struct vhu_vq_slot *slot; /* cfg.size entries, owned */
	unsigned free_desc;	  /* ring descriptors free */
	unsigned inflight;	  /* chains in flight */
	uint16_t free_head;	  /* split: first free descriptor; packed: first free id */
	unsigned free_ids;	  /* packed: buffer ids free */

	/* split: free-running indices */
	uint16_t avail_idx; /* next avail->idx to publish */
	uint16_t kick_old;  /* avail->idx at the last kick decision */
	uint16_t last_used; /* next used->idx to consume */

	/* packed: positions (0..size-1) and wrap counters */
	uint16_t next_avail, next_used;
	bool avail_wrap, used_wrap;
	unsigned added_since_kick; /* descriptors made available since the last kick decision */

	bool notify_on; /* used notifications wanted */
	bool broken;	/* a protocol violation was seen */
	struct vhu_vq_stats stats;
	char err[200];
};

/*
 * Bytes (@sz) and alignment (@align) of each area (VHU_VQ_AREA_*) for a
 * queue of @size.  Split: 16*Q/16, 6+2*Q/2, 6+8*Q/4; packed: 16*Q/16, 4/4,
 * 4/4 (spec "Virtqueue Part Sizes", "Driver and Device Event
 * Suppression").
 */
void vhu_vq_area_sizes(enum vhu_vq_layout layout, uint32_t size, size_t sz[VHU_VQ_AREAS],
		       size_t align[VHU_VQ_AREAS]);
/* Bytes of the indirect tables for @size ids of @max descriptors each. */
size_t vhu_vq_indirect_bytes(uint32_t size, uint16_t max);

/*
 * Bind @vq to @areas (zeroed here) with @cfg.  Allocates the per-id
 * table (released by vhu_vq_fini()).  VHU_OK, or VHU_E_USAGE (bad size,
 * missing area) / VHU_E_IO (no memory) with the message in vq->err.
 */
int vhu_vq_init(struct vhu_vq *vq, const struct vhu_vq_config *cfg, const struct vhu_vq_areas *areas);
void vhu_vq_fini(struct vhu_vq *vq);

/*
 * Start at @base instead of 0, before anything was added; the same value
 * goes to the device with SET_VRING_BASE.  Split: the free-running avail
 * and used index (both written into the ring, so a device that reads
 * used->idx from memory agrees).  Packed: bits 0-14 the descriptor
 * position (< size), bit 15 the wrap counter, for both driver and device
 * (spec: both start at 1; a fresh ring's base is 0x8000).
 */
int vhu_vq_set_base(struct vhu_vq *vq, uint32_t base);
/* The value for SET_VRING_BASE now: split avail index; packed position | wrap << 15. */
uint32_t vhu_vq_base(const struct vhu_vq *vq);

/*
 * Start the ring again for a new device (the back-end restarted): every
 * chain in flight is forgotten (the caller adds again those it still
 * wants), the areas are cleared and *@base is where both sides start:
 * split, the used index the old device left in the ring, as QEMU resumes
 * a ring after a reconnect; packed, a fresh ring (position 0, wrap
 * counters 1), as DPDK's front-end does, since 16 bits cannot carry the
 * used state of a packed ring.  Completions still in the ring must be
 * collected first (vhu_vq_poll).  Statistics and the notification choice
 * are kept.  Re-allocates the per-id table: VHU_OK or VHU_E_IO.
 */
int vhu_vq_restart(struct vhu_vq *vq, uint32_t *base);

/*
 * Add a chain of @n segments (device-readable ones first) with @token.
 * With config.indirect, a chain of 2..indirect_max segments goes through
 * the id's indirect table and takes one ring descriptor.  The chain may
 * be visible to the device at once (packed); vhu_vq_publish() makes sure.
 * VHU_OK; VHU_VQ_FULL when there is no room now; VHU_E_USAGE for a
 * chain that can never be sent (empty, too long, writable before
 * readable, zero-length segment); VHU_E_PROTO once the vq is broken.
 */
int vhu_vq_add(struct vhu_vq *vq, const struct vhu_vq_seg *seg, unsigned n, void *token);

/*
 * Make every added chain visible and decide whether the device must be
 * notified (split: used NO_NOTIFY, or vring_need_event() on avail_event
 * with the index of the previous decision; packed: the device event
 * suppression structure).  True: write the kick eventfd.
 */
bool vhu_vq_publish(struct vhu_vq *vq);

/*
 * Collect up to @max completions into @out, oldest first; *@n gets the
 * count (0: nothing yet).  VHU_OK, or VHU_E_PROTO (message in vq->err)
 * when the device handed back something it must not.
 */
int vhu_vq_poll(struct vhu_vq *vq, struct vhu_vq_used *out, unsigned max, unsigned *n);

/* True when a completion is waiting (acquire load; no side effect). */
bool vhu_vq_pending(const struct vhu_vq *vq);

/*
 * Ask for a used notification on the next completion (split: avail flags
 * 0, or used_event = next used index; packed: ENABLE, or DESC at the next
 * used position), then a full fence and a re-check.  True when a
 * completion is already waiting: do not sleep, poll.  The caller sleeps
 * on the call eventfd only after this returned false.
 */
bool vhu_vq_enable_notify(struct vhu_vq *vq);
/* Ask for no used notifications (split: NO_INTERRUPT, or used_event as
 * far behind as it goes; packed: DISABLE).  Advisory for the device. */
void vhu_vq_disable_notify(struct vhu_vq *vq);

/* Chains in flight, free ring descriptors. */
unsigned vhu_vq_inflight(const struct vhu_vq *vq);
unsigned vhu_vq_free(const struct vhu_vq *vq);
/* The largest chain vhu_vq_add() can ever take (segments). */
unsigned vhu_vq_max_chain(const struct vhu_vq *vq);
const char *vhu_vq_error(const struct vhu_vq *vq);

#endif
