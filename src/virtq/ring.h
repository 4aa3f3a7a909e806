/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring layouts and the only accessors for memory a device shares with us.
 *
 * Indices and flags are le16 fields that the other side polls.  Each is
 * read or written with one aligned 16-bit atomic access: a compiler may
 * split a plain store into bytes, and a busy-polling device then reads
 * half an index (a DPDK back-end processed ~1,350 stale entries that
 * way).  Acquire/release give the ordering the spec's "Memory barriers"
 * ask for; vhu_fence() is the full barrier between publishing an index
 * and reading the other side's suppression fields.
 *
 * Also used by the test device sides (tests/unit, tests/mock).
 */
#ifndef VHU_VIRTQ_RING_H
#define VHU_VIRTQ_RING_H

#include <endian.h>
#include <stdint.h>

#include <linux/virtio_ring.h> /* layouts, VRING_* flags, vring_need_event() */

static inline uint16_t vhu_ld16_acquire(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static inline uint16_t vhu_ld16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static inline void vhu_st16_release(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

static inline void vhu_st16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static inline uint32_t vhu_ld32(const void *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}

static inline void vhu_st32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

static inline void vhu_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Split ring parts by queue size @q (spec "Split Virtqueues"). */
static inline uint16_t *vhu_avail_ring(struct vring_avail *a, uint32_t i)
{
	return (uint16_t *)&a->ring[i];
}

/* used_event: after the avail ring; avail_event: after the used ring. */
static inline uint16_t *vhu_used_event(struct vring_avail *a, uint32_t q)
{
	return (uint16_t *)&a->ring[q];
}

static inline uint16_t *vhu_avail_event(struct vring_used *u, uint32_t q)
{
	return (uint16_t *)&u->ring[q];
}

/* Packed descriptor flag masks (the header gives bit numbers). */
#define VHU_PACKED_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define VHU_PACKED_USED	 (1u << VRING_PACKED_DESC_F_USED)

/* Flags that mark a packed descriptor available in lap @wrap. */
static inline uint16_t vhu_packed_avail_flags(int wrap)
{
	return wrap ? VHU_PACKED_AVAIL : VHU_PACKED_USED;
}

#endif
