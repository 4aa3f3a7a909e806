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

struct vhu_region {
	uint64_t gpa, size, uva, mmap_offset;
	int fd;        /* owned */
	void *map;     /* our mapping (uva), size bytes */
	bool sent;     /* the back-end was told about it */
};

struct vhu_res {
	struct vhu_region regions[VHU_MEM_MAX_REGIONS];
	unsigned nregions;
	uint64_t alloc_off;                /* bump allocator in region 0 */
	int kick[VHU_MAX_FD_VRINGS];       /* owned eventfds, -1 = none */
	int call[VHU_MAX_FD_VRINGS];
	int err[VHU_MAX_FD_VRINGS];
	uint64_t max_mem_slots;            /* 0 = unknown */
	uint64_t queue_num;                /* 0 = unknown */
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

/* SET_MEM_TABLE with regions [first, first + n): 1..8 regions, none of size
 * 0, every fd valid (the seed client's checks), fds passed with
 * SCM_RIGHTS. */
int vhu_set_mem_table(struct vhu_session *s, struct vhu_res *r, unsigned first, unsigned n);
/* ADD_MEM_REG / REM_MEM_REG of one region (CONFIGURE_MEM_SLOTS); add
 * refuses beyond the back-end's slot limit when it is known. */
int vhu_add_mem_reg(struct vhu_session *s, struct vhu_res *r, unsigned idx);
int vhu_rem_mem_reg(struct vhu_session *s, struct vhu_res *r, unsigned idx);

/* Lay out a split ring of @num descriptors in region 0 (spec "Split
 * Virtqueues": desc 16-byte, avail 2-byte, used 4-byte aligned) and fill
 * @addr with user addresses. */
int vhu_ring_layout(struct vhu_session *s, struct vhu_res *r, uint32_t index, uint32_t num,
		    struct vhost_vring_addr *addr);

/* Check a ring index against the queue count (when known) and the 8-bit
 * index of the vring-fd messages. */
int vhu_ring_check(struct vhu_session *s, const struct vhu_res *r, const char *req, uint64_t index);

/* An eventfd for ring @index of kind @code (SET_VRING_KICK/CALL/ERR),
 * created once and kept for the session. */
int vhu_ring_eventfd(struct vhu_session *s, struct vhu_res *r, uint32_t code, uint32_t index, int *fd);

#endif
