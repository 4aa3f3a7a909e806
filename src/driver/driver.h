/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest-less virtio driver over one vhost-user session: guest memory,
 * the bring-up a hypervisor does, the queues (src/virtq) with their kick
 * and call eventfds, waiting for completions, and the orderly stop.
 *
 *   vhu_drv_init()   options; nothing sent
 *   vhu_drv_probe()  GET_FEATURES, GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM
 *                    (MQ), GET_CONFIG (CONFIG, when config_size is set):
 *                    what the device is, before anything changes it
 *   vhu_drv_start()  SET_OWNER, SET_FEATURES, SET_STATUS FEATURES_OK,
 *                    SET_MEM_TABLE, per ring SET_VRING_NUM / BASE / ADDR /
 *                    KICK / CALL / ENABLE 1, SET_STATUS DRIVER_OK
 *   vhu_drv_alloc()  buffers in guest memory (bump allocator)
 *   vhu_vq_add() on q->vq, then vhu_drv_kick(), vhu_drv_wait()
 *   vhu_drv_stop()   per ring SET_VRING_ENABLE 0, GET_VRING_BASE
 *   vhu_drv_fini()
 *
 * Every request of probe, start and stop is recorded (struct
 * vhu_drv_step: request, ring, value, result) in order, so the bring-up
 * can be shown; the session's replay log (proto/replay.h) holds what
 * vhu_drv_replay() sends again on a new connection.
 *
 * Ownership: the session and the resources (struct vhu_res: memory
 * regions, kick/call eventfds) are the caller's; the driver adds its
 * region and eventfds to @res, where vhu_res_free() releases them, so a
 * batch that ran `setup` keeps using them.  The driver owns only its
 * queues' bookkeeping (vhu_drv_fini()).  Nothing here prints; failures
 * return a vhu_rc with the message in the session (vhu_session_error()).
 *
 * Features: only ring features the driver really drives are acked
 * (EVENT_IDX, INDIRECT_DESC, RING_PACKED as chosen; ACCESS_PLATFORM with
 * the iommu option), never LOG_ALL, plus VERSION_1,
 * VHOST_USER_F_PROTOCOL_FEATURES and the device bits the caller says it
 * handles.
 *
 * IOMMU (opts.iommu; spec "IOMMU support"): the driver is its own IOMMU,
 * an identity map (iova = guest-physical address).  It acks
 * VIRTIO_F_ACCESS_PLATFORM, needs BACKEND_REQ and REPLY_ACK (as QEMU
 * does), opens the back-end channel before SET_OWNER, and sends ring
 * addresses as iovas.  Each BACKEND_IOTLB_MSG miss is answered by an
 * IOTLB_MSG update for the whole region holding the iova, read-write (the
 * permission the mapping grants, which covers the one asked for), then
 * acked on the channel when the back-end asked for an ack.  Where the
 * channel is served (vhu_drv_iotlb()): after each ring request of the
 * bring-up and at its end (a back-end like DPDK sends its misses while it
 * handles SET_VRING_KICK, before the ack), and in vhu_drv_wait() -- in
 * event mode with the channel in the same poll() as the call eventfd, in
 * poll mode in the poll() the spin makes every 65536 empty rounds anyway:
 * a progressing data path makes no extra system call.  Answering with
 * whole regions makes the first miss the last one in practice.
 */
#ifndef VHU_DRIVER_DRIVER_H
#define VHU_DRIVER_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/chan.h"
#include "proto/mem.h"
#include "proto/replay.h"
#include "proto/session.h"
#include "virtq/virtq.h"

#define VHU_DRV_MAX_QUEUES 256u /* every ring the vring-fd messages can address */
#define VHU_DRV_MAX_STEPS  (16u + 8u * VHU_DRV_MAX_QUEUES)
/* Guest memory: 2 MiB multiples (huge-page friendly; spec-wise any page
 * multiple would do, but back-ends map regions in huge pages). */
#define VHU_DRV_MEM_ALIGN   (UINT64_C(2) << 20)
#define VHU_DRV_DEFAULT_MEM (UINT64_C(64) << 20)
/* Default guest-physical base: not the user address, so a back-end that
 * confuses the two fails visibly. */
#define VHU_DRV_DEFAULT_GPA	   (UINT64_C(4) << 30)
#define VHU_DRV_DEFAULT_QUEUE_SIZE 128u

/* Protocol features the driver acks by default (offered & these): the
 * ones it uses. */
#define VHU_DRV_PF_MASK                                                                                      \
	(VHU_BIT(VHOST_USER_PROTOCOL_F_MQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |                      \
	 VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS))

/* What the iommu option adds: misses come on the back-end channel, and
 * updates are acked before the rings use them. */
#define VHU_DRV_PF_IOMMU                                                                                     \
	(VHU_BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK))

/* Device-specific feature bits (spec "Feature Bits": 0-23 and 50-127 of
 * which a u64 carries 50-63). */
#define VHU_DEVICE_FEATURES_MASK (UINT64_C(0xffffff) | (~UINT64_C(0) << 50))

/* Transport feature bits by number (spec "Reserved Feature Bits"). */
#define VIRTIO_F_INDIRECT_DESC	   28
#define VIRTIO_F_EVENT_IDX	   29
#define VIRTIO_F_ACCESS_PLATFORM   33
#define VIRTIO_F_IN_ORDER	   35
#define VIRTIO_F_NOTIFICATION_DATA 38

/* Offered bits vhuctl does not drive and never acks on its own: dirty
 * logging, IOMMU translation (only with --iommu), packed rings (the batch commands lay out
 * split rings; the driver acks RING_PACKED only with --ring packed),
 * in-order batching of used entries, data in notifications. */
#define VHU_FEATURES_NOT_DRIVEN                                                                              \
	(VHU_BIT(VHOST_F_LOG_ALL) | VHU_BIT(VIRTIO_F_ACCESS_PLATFORM) | VHU_BIT(VIRTIO_F_RING_PACKED) |      \
	 VHU_BIT(VIRTIO_F_IN_ORDER) | VHU_BIT(VIRTIO_F_NOTIFICATION_DATA))

enum vhu_notify_mode {
	VHU_NOTIFY_EVENT, /* sleep on the call eventfd (notifications on while waiting) */
	VHU_NOTIFY_POLL,  /* busy-poll the used ring (notifications off) */
};

/* on / off / on when offered. */
enum vhu_drv_choice { VHU_DRV_AUTO, VHU_DRV_OFF, VHU_DRV_ON };

struct vhu_drv_opts {
	enum vhu_vq_layout layout;     /* split (default) or packed */
	enum vhu_drv_choice event_idx; /* default: on when offered */
	enum vhu_drv_choice indirect;  /* default: on when offered */
	uint32_t queue_size;	       /* 0: VHU_DRV_DEFAULT_QUEUE_SIZE */
	uint16_t indirect_max;	       /* entries per indirect table; 0: queue size */
	enum vhu_notify_mode notify;
	uint64_t mem_size; /* 0: 64 MiB; rounded up to 2 MiB */
	uint64_t gpa_base; /* with have_gpa_base; else 4 GiB or after
			    * the highest region already in the session */
	bool have_gpa_base;
	bool hugetlb;		  /* memfd with MFD_HUGETLB */
	const char *backing;	  /* a file (hugetlbfs) instead of a memfd, or NULL */
	uint64_t device_features; /* device bits the caller handles */
	uint64_t protocol_mask;	  /* 0: VHU_DRV_PF_MASK */
	uint32_t config_size;	  /* config bytes probe reads (0: none) */
	/* Inflight I/O tracking (spec "Inflight I/O tracking") when the
	 * back-end offers INFLIGHT_SHMFD: GET_INFLIGHT_FD and
	 * SET_INFLIGHT_FD before the rings start, as QEMU's vhost-user-blk
	 * does, so that a restarted back-end takes up what was in flight. */
	bool inflight;
	/* The driver as an identity IOMMU (see above), and the back-end
	 * channel it serves: borrowed, or NULL for one of the driver's own
	 * (closed by vhu_drv_fini()). */
	bool iommu;
	struct vhu_chan *chan;
};

/* One request of the bring-up or stop, as sent. */
struct vhu_drv_step {
	uint32_t request; /* VHOST_USER_* */
	int32_t ring;	  /* -1: device-wide */
	uint64_t value;	  /* features, protocol features, num, base, status,
			   * memory bytes, config bytes, the enable flag; for
			   * GET_* the value received */
	int rc;		  /* VHU_OK, or how it failed (the last step only) */
};

struct vhu_drv_queue {
	uint32_t index; /* ring index */
	struct vhu_vq vq;
	int kick_fd, call_fd;  /* borrowed from the vhu_res */
	uint64_t kicks;	       /* kick eventfd writes */
	uint64_t call_waits;   /* sleeps on the call eventfd */
	uint64_t call_wakeups; /* of which ended by a notification */
	bool started, stopped;
	uint32_t stop_base;	      /* GET_VRING_BASE at stop */
	struct vhost_vring_addr addr; /* as sent */
};

struct vhu_drv {
	struct vhu_session *s; /* borrowed */
	struct vhu_res *res;   /* borrowed */
	struct vhu_drv_opts o;

	/* from probe */
	uint64_t queue_num; /* GET_QUEUE_NUM, 0 unknown */
	uint8_t config[VHOST_USER_MAX_CONFIG_SIZE];
	uint32_t config_len; /* 0: not read */
	/* from start */
	uint64_t features;	  /* acked */
	bool event_idx, indirect; /* in effect */
	int region;		  /* index in res->regions, -1 none */
	uint8_t *mem;		  /* its mapping */
	uint64_t mem_gpa, mem_size, mem_used;
	bool inflight; /* the back-end tracks requests in an inflight buffer */
	/* IOMMU: ACCESS_PLATFORM acked; the channel served (o.chan or
	 * own_chan); how far its queue was looked at; counters. */
	bool iommu;
	struct vhu_chan *chan;
	struct vhu_chan own_chan;
	unsigned chan_seen;
	uint64_t iotlb_misses, iotlb_updates, iotlb_invalid;

	struct vhu_drv_queue q[VHU_DRV_MAX_QUEUES];
	unsigned nq;
	struct vhu_drv_step steps[VHU_DRV_MAX_STEPS];
	unsigned nsteps;
	unsigned start_step; /* first step of vhu_drv_start() */
};

void vhu_drv_init(struct vhu_drv *d, struct vhu_session *s, struct vhu_res *res,
		  const struct vhu_drv_opts *o);
/* Release the queues' bookkeeping (not the session or @res). */
void vhu_drv_fini(struct vhu_drv *d);

/*
 * Learn the device: features (VHU_E_UNSUPPORTED when a ring feature asked
 * for with VHU_DRV_ON, or the packed layout, is not offered), protocol
 * features (acks offered & protocol_mask), the queue count, and
 * config_size bytes of config space (VHU_E_UNSUPPORTED without CONFIG).
 * Steps already done on the session are skipped.
 */
int vhu_drv_probe(struct vhu_drv *d);

/*
 * Bring up rings @rings[0..n) (at most VHU_DRV_MAX_QUEUES, each below the
 * queue count when known): features, guest memory, every ring, status.
 * On failure the last recorded step names what failed.
 */
int vhu_drv_start(struct vhu_drv *d, const uint32_t *rings, unsigned n);

/*
 * Stop every started ring: SET_VRING_ENABLE 0 (when protocol features are
 * acked), GET_VRING_BASE (q->stop_base).  Goes on after a failure and
 * returns the first one.
 */
int vhu_drv_stop(struct vhu_drv *d);

/* The queue of ring @index, or NULL. */
struct vhu_drv_queue *vhu_drv_queue(struct vhu_drv *d, uint32_t index);

/*
 * @size bytes of guest memory aligned to @align (a power of 2), zeroed;
 * *@ptr our mapping, *@gpa the address for descriptors.  Memory is never
 * freed before the driver goes.  VHU_OK or VHU_E_USAGE (guest memory too
 * small: the message says how much is needed).
 */
int vhu_drv_alloc(struct vhu_drv *d, uint64_t size, uint64_t align, void **ptr, uint64_t *gpa);
/* Guest-physical address of @p (inside the driver's memory). */
uint64_t vhu_drv_gpa(const struct vhu_drv *d, const void *p);
/* Our pointer for [@gpa, @gpa + @len), or NULL when outside the memory. */
void *vhu_drv_ptr(const struct vhu_drv *d, uint64_t gpa, uint64_t len);

/*
 * Publish what was added to @q and write its kick eventfd when the device
 * wants it.  VHU_OK or VHU_E_IO.
 */
int vhu_drv_kick(struct vhu_drv *d, struct vhu_drv_queue *q);
/*
 * The same without a session, for a thread of its own that keeps its own
 * error message (dev/blkbench, dev/netbench): publish, and count and
 * write the kick eventfd when the device wants it or @force is set (see
 * vhu_drv_notify()).  No allocation, and no system call but the write.
 * 0, or the errno of the failed write.
 */
int vhu_drv_queue_kick(struct vhu_drv_queue *q, bool force);

/*
 * Wait for at least one completion on @q and collect up to @max.  Poll
 * mode spins on the used ring; event mode enables notifications,
 * re-checks, and sleeps on the call eventfd.  Bounded by the session's
 * timeout: VHU_E_TIMEOUT names the queue and what is in flight.
 * VHU_E_PROTO: the ring check failed (message names queue and index);
 * VHU_E_IO: the back-end closed the connection.
 */
int vhu_drv_wait(struct vhu_drv *d, struct vhu_drv_queue *q, struct vhu_vq_used *out, unsigned max,
		 unsigned *n);

/*
 * With the iommu option in effect: serve the back-end channel without
 * waiting -- the messages read while a main-socket request waited, then
 * whatever is readable -- answering every IOTLB miss (see above).
 * VHU_OK without the option.  A failing update or channel: its vhu_rc.
 */
int vhu_drv_iotlb(struct vhu_drv *d);

/* Name of a recorded step's request ("SET_VRING_NUM"). */
const char *vhu_drv_step_name(const struct vhu_drv_step *st);

/*
 * After the back-end went away and a new connection was made on the
 * session: bring it to the state of the old one (proto/replay.h): the
 * probe's GET_FEATURES and GET/SET_PROTOCOL_FEATURES, SET_OWNER,
 * SET_FEATURES, SET_STATUS, SET_MEM_TABLE with the same guest memory,
 * and every started ring with its eventfds, each ring started afresh
 * with vhu_vq_restart() (split: from the used index in guest memory;
 * packed: reset), then DRIVER_OK.  The chains that were in flight are
 * forgotten by the rings: collect the completions first and add the rest
 * again afterwards (dev/blk does), then vhu_drv_notify().  With an
 * inflight buffer (d->inflight) it goes to the new back-end with
 * SET_INFLIGHT_FD and the rings are left as they are, resuming from the
 * used index: the back-end serves again what it had taken (spec
 * "Inflight I/O tracking"); only vhu_drv_notify() is left to do.  @c: the
 * back-end channel to open again, or NULL.  @rep receives what was sent.
 */
int vhu_drv_replay(struct vhu_drv *d, struct vhu_chan *c, struct vhu_replay_report *rep);
/* The hooks vhu_drv_replay() gives vhu_replay(), for a caller that runs
 * the replay itself (a reconnect loop). */
void vhu_drv_replay_hooks(struct vhu_drv *d, struct vhu_replay_hooks *h);

/* Publish and write the kick eventfd whether or not the device asked
 * for it: a device that has just started knows nothing of what is
 * already in the ring.  VHU_OK or VHU_E_IO. */
int vhu_drv_notify(struct vhu_drv *d, struct vhu_drv_queue *q);

#endif
