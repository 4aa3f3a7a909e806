/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest memory and ring resources of a session: memfd-backed regions
 * (mapped in this process so their user addresses are real), the vring
 * layout allocator and the eventfds handed out for kick/call/err.
 * Everything here is owned by the session and released by vhu_res_free().
 */
#ifndef VHU_PROTO_MEM_H
#define VHU_PROTO_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/session.h"

#define VHU_MEM_MAX_REGIONS 32u
/* Largest region vhuctl creates: 64 TiB. */
#define VHU_MEM_MAX_REGION (UINT64_C(1) << 46)

struct vhu_region {
	uint64_t gpa, size, uva, mmap_offset;
	int fd;		/* owned; -1 once removed */
	void *map;	/* our mapping (uva), size bytes; NULL once removed */
	bool sent;	/* in the back-end's memory table */
	bool removed;	/* REM_MEM_REG went through: unmapped and closed; the
			 * description stays for --force, the number is not reused */
	uint64_t alloc; /* rings laid out so far (vhu_ring_layout) */
};

struct vhu_res {
	struct vhu_region regions[VHU_MEM_MAX_REGIONS];
	unsigned nregions;
	int kick[VHU_MAX_FD_VRINGS]; /* owned eventfds, -1 = none */
	int call[VHU_MAX_FD_VRINGS];
	int err[VHU_MAX_FD_VRINGS];
	int inflight_fd;		     /* owned; from GET_INFLIGHT_FD, -1 = none */
	struct vhost_user_inflight inflight; /* its description */
	int log_fd;			     /* owned; dirty log memfd, -1 = none */
	int log_event_fd;		     /* owned; SET_LOG_FD eventfd, -1 = none */
	uint64_t max_mem_slots;		     /* 0 = unknown */
	uint64_t queue_num;		     /* 0 = unknown */
	bool queue_pairs;		     /* queue_num counts queue pairs, 2 rings
					      * each (net: DPDK, QEMU) */
};

void vhu_res_init(struct vhu_res *r);
void vhu_res_free(struct vhu_res *r);

/*
 * Create a region of @size bytes at guest address @gpa, backed by a memfd
 * (@path NULL) or by the file @path (e.g. on hugetlbfs), mapped shared.
 * Returns its index, or a negative vhu_rc with the message in @s.
 */
int vhu_region_create(struct vhu_session *s, struct vhu_res *r, uint64_t size, uint64_t gpa,
		      const char *path);
/* The same with VHU_REGION_* @flags: HUGETLB backs a memfd with huge
 * pages (MFD_HUGETLB; @size then a multiple of the huge page size). */
#define VHU_REGION_HUGETLB 0x1u
int vhu_region_create_ex(struct vhu_session *s, struct vhu_res *r, uint64_t size, uint64_t gpa,
			 const char *path, unsigned flags);

/* Our pointer to [@uva, @uva + @len) when it lies inside one mapped
 * region (user addresses are our own mappings), else NULL. */
void *vhu_res_ptr(const struct vhu_res *r, uint64_t uva, uint64_t len);

/* Unmap and close regions [first, nregions) again (a failed command). */
void vhu_region_drop_from(struct vhu_res *r, unsigned first);

/* SET_MEM_TABLE with regions [first, first + n): 1..8 regions, none of size
 * 0, every fd valid (the seed client's checks), fds passed with
 * SCM_RIGHTS. */
int vhu_set_mem_table(struct vhu_session *s, struct vhu_res *r, unsigned first, unsigned n);
/* ADD_MEM_REG / REM_MEM_REG of one region (CONFIGURE_MEM_SLOTS); add
 * refuses beyond the back-end's slot limit when it is known.  A removed
 * region leaves the session's table: unmapped, closed, no ring is laid
 * out in it, and removing it again is refused (--force sends it). */
int vhu_add_mem_reg(struct vhu_session *s, struct vhu_res *r, unsigned idx);
int vhu_rem_mem_reg(struct vhu_session *s, struct vhu_res *r, unsigned idx);

/* Lay out a split ring of @num descriptors in the first region of the
 * back-end's table with room for it (spec "Split Virtqueues": desc
 * 16-byte, avail 2-byte, used 4-byte aligned) and fill @addr with user
 * addresses. */
int vhu_ring_layout(struct vhu_session *s, struct vhu_res *r, uint32_t index, uint32_t num,
		    struct vhost_vring_addr *addr);

/* Check a ring index against the queue count (when known; twice it for
 * queue pairs) and the 8-bit index of the vring-fd messages.  --force
 * passes the queue count, not the 8-bit index. */
int vhu_ring_check(struct vhu_session *s, const struct vhu_res *r, const char *req, uint64_t index);

/* True when VIRTIO_F_RING_PACKED was acknowledged with SET_FEATURES in
 * this session; otherwise the rings are split, and a ring base (spec
 * "Ring states") is a 16-bit index. */
bool vhu_ring_packed(const struct vhu_session *s);

/* An eventfd for ring @index of kind @code (SET_VRING_KICK/CALL/ERR),
 * created once and kept for the session. */
int vhu_ring_eventfd(struct vhu_session *s, struct vhu_res *r, uint32_t code, uint32_t index, int *fd);

/*
 * GET_INFLIGHT_FD for @nq queues of @qs descriptors.  The returned fd is
 * checked with fstat (regular file or memfd, large enough for
 * mmap_offset + mmap_size) before it is kept in @r (closing any earlier
 * one).  A reply with mmap_size 0 carries no fd and keeps none.
 */
int vhu_get_inflight_fd(struct vhu_session *s, struct vhu_res *r, uint16_t nq, uint16_t qs);
/* SET_INFLIGHT_FD with the buffer kept from GET_INFLIGHT_FD; the seed's
 * checks: non-zero mmap_size, num_queues, queue_size and a valid fd. */
int vhu_set_inflight_fd(struct vhu_session *s, struct vhu_res *r);

/* Split-ring inflight region of one queue (spec "Inflight I/O tracking"). */
struct vhu_inflight_queue {
	uint64_t features;
	uint16_t version, desc_num, last_batch_head, used_idx;
	uint32_t inflight;  /* descriptors with the inflight flag */
	uint16_t heads[16]; /* the first of them */
	bool present;	    /* the whole header was inside the buffer */
	bool truncated;	    /* desc_num entries did not fit */
};
/* Per-queue stride of the split layout: round_up(16 + 16 * qs, 64). */
uint64_t vhu_inflight_stride(uint16_t qs);
/* Decode queue @q of a mapped inflight buffer of @len bytes; never reads
 * past @len. */
void vhu_inflight_decode(const uint8_t *buf, size_t len, uint16_t qs, unsigned q,
			 struct vhu_inflight_queue *out);

/*
 * Decode queue @q of the inflight buffer behind @fd (described by @in, as
 * GET_INFLIGHT_FD returned it) like vhu_inflight_decode(), reading only
 * what that decoding looks at (the queue's header, then at most
 * min(desc_num, queue_size) entries, in small pieces), never the whole
 * mmap_size the back-end claims.  @deadline (vhu_now_ms based, < 0:
 * none) bounds the work: VHU_E_TIMEOUT.  A file shorter than claimed
 * gives present = false or truncated, not an error.
 */
int vhu_inflight_read(struct vhu_session *s, int fd, const struct vhost_user_inflight *in, unsigned q,
		      int64_t deadline, struct vhu_inflight_queue *out);

/*
 * SET_LOG_BASE.  The seed's rule: an fd is passed exactly when LOG_SHMFD
 * is negotiated.  With it, a memfd of @size bitmap bytes is created, kept
 * in @r and described by a VhostUserLog; without it, @size is sent as the
 * u64 log base address (legacy form).
 */
int vhu_set_log_base(struct vhu_session *s, struct vhu_res *r, uint64_t size, bool with_fd);
/* SET_LOG_FD with an eventfd kept in @r. */
int vhu_set_log_fd(struct vhu_session *s, struct vhu_res *r);

#endif
