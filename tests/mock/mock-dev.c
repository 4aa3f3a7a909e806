/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mock's virtio-blk device: rings read the way a back-end reads them
 * (through the memory table, with the same 16-bit atomic accessors as the
 * driver), requests served from a file, completions announced on the
 * call eventfd per the driver's suppression settings.
 *
 * Ring faults (--ring-fault KIND[:N], from the N-th request on, counted
 * per connection from 0):
 *   bad-id          a used id that was never made available
 *   bad-len         a used length one byte beyond the writable part
 *   idx-jump        (split) the used index moves by the ring size + 1
 *   wrong-wrap      (packed) a used descriptor in the other lap's colours
 *   never-complete  requests are taken but never completed
 *
 * Data fault (--corrupt-read SECTOR): every IN request that covers SECTOR
 * returns byte 100 of it inverted; the file keeps the right byte.
 *
 * Log lines (the mock's --log): "BLK q=Q type=T sector=S bytes=B segs=N
 * indirect=0|1 status=S", "RING_FAULT KIND q=Q", "HELD q=Q", "CORRUPT q=Q
 * sector=S".
 *
 * With --fs instead of --blk it is a virtio-fs device (FUSE 7.38) serving
 * a fixed tree: /hello (a file of FS_HELLO), /sub (an empty directory).
 * Queue 0 is hiprio (FORGET), the others request queues.  FUSE faults
 * (--fs-fault KIND[:OPCODE], every matching reply, every opcode when none
 * is given):
 *   bad-unique    out.unique one more than the request's
 *   oversize-len  out.len 4096 bytes more than written (used.len true)
 *   short-reply   a success with the header alone
 *   bad-error     out.error +5
 *   old-minor     INIT answers FUSE 7.30
 * Log lines: "FUSE q=Q op=NAME node=N unique=U error=E bytes=B",
 * "FUSE_FAULT KIND q=Q op=NAME".
 * With --net instead of --blk it is a virtio-net device: even rings
 * receive (each posted buffer gets the next frame of a fixed sequence,
 * num_buffers 1 with MRG_RXBUF, 0 without as DPDK does), odd rings
 * transmit (each frame is logged).  "NET_RX q=Q frame=I len=L",
 * "NET_TX q=Q len=L hdr=HEX frame=HEX", "NET_RX q=Q short buffer=B".
 *
 * Inflight I/O tracking (spec "Inflight I/O tracking", split rings, as
 * libvhost-user does it): with a buffer from GET_INFLIGHT_FD or
 * SET_INFLIGHT_FD, every request taken from the ring is marked in flight
 * there until its used entry is written.  A mock started again that gets
 * the buffer with SET_INFLIGHT_FD serves the requests still marked, in
 * the order they were taken, before anything new ("RESUBMIT q=Q head=H"),
 * and takes new ones from used index + that count on.  A request held by
 * never-complete stays marked: what a back-end that died holds.
 */
#define _GNU_SOURCE
#include "mock-dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fuse.h>
#include <linux/virtio_blk.h>

#include "proto/wire.h"
#include "virtq/ring.h"

#define MAX_REGIONS 8
#define MAX_RINGS   8
#define MAX_SEGS    1100

enum fault { RF_NONE, RF_BAD_ID, RF_BAD_LEN, RF_IDX_JUMP, RF_WRONG_WRAP, RF_NEVER };

enum fs_fault { FF_NONE, FF_BAD_UNIQUE, FF_OVERSIZE_LEN, FF_SHORT_REPLY, FF_BAD_ERROR, FF_OLD_MINOR };

static const char *const fs_fault_names[] = {
	[FF_NONE] = "none",
	[FF_BAD_UNIQUE] = "bad-unique",
	[FF_OVERSIZE_LEN] = "oversize-len",
	[FF_SHORT_REPLY] = "short-reply",
	[FF_BAD_ERROR] = "bad-error",
	[FF_OLD_MINOR] = "old-minor",
};

#define FS_HELLO "hello from the mock's virtio-fs device\n"
#define FS_TAG	 "vhu-mock-fs"

static const char *const fault_names[] = {
	[RF_NONE] = "none",	    [RF_BAD_ID] = "bad-id",	    [RF_BAD_LEN] = "bad-len",
	[RF_IDX_JUMP] = "idx-jump", [RF_WRONG_WRAP] = "wrong-wrap", [RF_NEVER] = "never-complete",
};

static struct {
	const char *path;
	uint8_t *disk;
	uint64_t size;
	char serial[21];
	bool ro;
	uint32_t seg_max;
	enum fault fault;
	uint64_t fault_at;
	bool fs;
	enum fs_fault fs_fault;
	uint32_t fs_fault_op; /* 0: every opcode */
	bool net;
	uint64_t net_frames; /* frames the receive side hands out at most */
	bool corrupt;
	uint64_t corrupt_sector;
	void (*log)(const char *fmt, ...);
} g = { .serial = "vhu-mock-blk", .seg_max = 126, .net_frames = UINT64_MAX };

struct region {
	uint64_t gpa, size, uva;
	uint8_t *map;  /* mmap base */
	uint64_t mlen; /* mmap length (offset + size) */
	uint64_t off;
};

struct ring {
	uint32_t num;
	uint64_t desc_uva, avail_uva, used_uva;
	bool have_addr, enabled, stopped;
	bool iotlb_wait; /* kicked, its ring not in the IOTLB yet: served on the update */
	int kick, call;
	void *desc, *avail, *used;
	/* split */
	uint16_t last_avail, used_idx, signalled;
	/* packed */
	uint16_t avail_pos, used_pos, sig_pos;
	bool avail_wrap, used_wrap, sig_wrap;
	/* inflight: looked at once the ring runs; heads to serve first */
	bool infl_checked;
	uint16_t *resubmit;
	unsigned nresubmit, resubmit_pos;
};

/* An IOTLB entry (spec "IOMMU support"): iova -> front-end user address. */
struct tlb {
	uint64_t iova, size, uaddr;
};
#define MAX_TLB 64

struct mdev {
	struct region reg[MAX_REGIONS];
	unsigned nreg;
	struct tlb tlb[MAX_TLB];
	unsigned ntlb;
	bool miss;	    /* a ring address missed the IOTLB ... */
	uint64_t miss_iova; /* ... here: for mdev_take_miss() */
	struct ring ring[MAX_RINGS];
	uint64_t features;
	uint64_t served;
	uint64_t rx_frames; /* net: frames delivered on this connection */
	bool hold;	    /* net: the buffer just taken is held (out of frames) */
	/* inflight buffer (mapped), its queues and queue size */
	uint8_t *infl;
	uint64_t infl_len;
	uint16_t infl_nq, infl_qs;
	uint64_t counter;
};

struct seg {
	uint8_t *p;
	uint32_t len;
	bool write;
};

/* ---- options ---- */

bool mdev_option(const char *name, const char *arg)
{
	char *end;

	if (!strcmp(name, "blk")) {
		g.path = arg;
	} else if (!strcmp(name, "serial")) {
		if (strlen(arg) > 20)
			return false;
		snprintf(g.serial, sizeof(g.serial), "%s", arg);
	} else if (!strcmp(name, "blk-ro")) {
		g.ro = true;
	} else if (!strcmp(name, "seg-max")) {
		g.seg_max = (uint32_t)strtoul(arg, &end, 0);
		return *arg && !*end && g.seg_max >= 1 && g.seg_max <= 1024;
	} else if (!strcmp(name, "fs")) {
		g.fs = true;
	} else if (!strcmp(name, "fs-fault")) {
		static const struct {
			const char *name;
			uint32_t op;
		} ops[] = { { "INIT", FUSE_INIT },
			    { "LOOKUP", FUSE_LOOKUP },
			    { "GETATTR", FUSE_GETATTR },
			    { "OPEN", FUSE_OPEN },
			    { "READ", FUSE_READ },
			    { "RELEASE", FUSE_RELEASE },
			    { "OPENDIR", FUSE_OPENDIR },
			    { "READDIR", FUSE_READDIR },
			    { "RELEASEDIR", FUSE_RELEASEDIR } };
		const char *colon = strchr(arg, ':');
		size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

		g.fs_fault = FF_NONE;
		for (unsigned i = 1; i < sizeof(fs_fault_names) / sizeof(fs_fault_names[0]); i++)
			if (strlen(fs_fault_names[i]) == n && !strncmp(arg, fs_fault_names[i], n))
				g.fs_fault = (enum fs_fault)i;
		if (g.fs_fault == FF_NONE)
			return false;
		g.fs_fault_op = 0;
		if (colon) {
			for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
				if (!strcmp(colon + 1, ops[i].name))
					g.fs_fault_op = ops[i].op;
			return g.fs_fault_op != 0;
		}
	} else if (!strcmp(name, "net")) {
		g.net = true;
	} else if (!strcmp(name, "net-frames")) {
		g.net_frames = strtoull(arg, &end, 0);
		return *arg && !*end;
	} else if (!strcmp(name, "corrupt-read")) {
		g.corrupt_sector = strtoull(arg, &end, 0);
		g.corrupt = true;
		return *arg && !*end;
	} else if (!strcmp(name, "ring-fault")) {
		const char *colon = strchr(arg, ':');
		size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

		g.fault = RF_NONE;
		for (unsigned i = 1; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
			if (strlen(fault_names[i]) == n && !strncmp(arg, fault_names[i], n))
				g.fault = (enum fault)i;
		if (g.fault == RF_NONE)
			return false;
		if (colon) {
			g.fault_at = strtoull(colon + 1, &end, 0);
			return colon[1] && !*end;
		}
	} else {
		return false;
	}
	return true;
}

const char *mdev_usage(void)
{
	return "  --blk FILE                serve virtio-blk requests, the disk being FILE\n"
	       "  --serial STR              GET_ID answer (default vhu-mock-blk)\n"
	       "  --blk-ro                  offer VIRTIO_BLK_F_RO; writes get IOERR\n"
	       "  --seg-max N               seg_max in the config space (default 126)\n"
	       "  --net                     serve virtio-net instead: even rings receive, odd transmit\n"
	       "  --net-frames N            net: hand out N received frames, then hold buffers\n"
	       "  --ring-fault KIND[:N]     from request N on (default 0): bad-id, bad-len,\n"
	       "                            idx-jump, wrong-wrap, never-complete\n"
	       "  --fs                      serve virtio-fs (FUSE) requests on a fixed tree\n"
	       "  --fs-fault KIND[:OPCODE]  bad-unique, oversize-len, short-reply, bad-error,\n"
	       "                            old-minor\n"
	       "  --corrupt-read SECTOR     IN requests return byte 100 of SECTOR inverted\n";
}

bool mdev_setup(void (*log)(const char *fmt, ...))
{
	struct stat st;
	int fd;

	g.log = log;
	if (g.fs && g.path) {
		fprintf(stderr, "vhu-mock-backend: --fs and --blk exclude each other\n");
		return false;
	}
	if (!g.path)
		return true;
	fd = open(g.path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % 512) {
		fprintf(stderr, "vhu-mock-backend: --blk %s: not a file of 512-byte sectors\n", g.path);
		if (fd >= 0)
			close(fd);
		return false;
	}
	g.size = (uint64_t)st.st_size;
	g.disk = mmap(NULL, g.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (g.disk == MAP_FAILED) {
		perror("vhu-mock-backend: mmap --blk");
		return false;
	}
	return true;
}

bool mdev_enabled(void)
{
	return g.disk != NULL || g.fs || g.net;
}

uint64_t mdev_features(void)
{
	if (g.net) /* MRG_RXBUF, INDIRECT_DESC, EVENT_IDX, bit 30, VERSION_1 */
		return VHU_BIT(15) | VHU_BIT(28) | VHU_BIT(29) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		       VHU_BIT(VIRTIO_F_VERSION_1);

	uint64_t f = VHU_BIT(28) | VHU_BIT(29) | VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		     VHU_BIT(VIRTIO_F_VERSION_1);

	if (g.fs)
		return f;
	f |= VHU_BIT(VIRTIO_BLK_F_SEG_MAX) | VHU_BIT(VIRTIO_BLK_F_BLK_SIZE) | VHU_BIT(VIRTIO_BLK_F_FLUSH) |
	     VHU_BIT(VIRTIO_BLK_F_MQ) | VHU_BIT(VIRTIO_BLK_F_DISCARD) | VHU_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return g.ro ? f | VHU_BIT(VIRTIO_BLK_F_RO) : f;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

size_t mdev_config(uint8_t *buf, size_t max, uint16_t queues)
{
	uint64_t cap = g.size / 512;

	if (g.fs) {
		uint32_t nrq = queues > 1 ? queues - 1u : 1u;

		if (max < 40)
			return 0;
		memset(buf, 0, 40);
		memcpy(buf, FS_TAG, strlen(FS_TAG));
		put32(buf + 36, nrq);
		return 40;
	}
	if (g.net) {
		/* mac 02:00:00:00:00:10, status LINK_UP, one queue pair */
		static const uint8_t net[10] = { 2, 0, 0, 0, 0, 0x10, 1, 0, 1, 0 };

		if (max < sizeof(net))
			return 0;
		memcpy(buf, net, sizeof(net));
		return sizeof(net);
	}
	if (max < 60)
		return 0;
	memset(buf, 0, 60);
	memcpy(buf, &cap, 8);
	put32(buf + 12, g.seg_max);
	put32(buf + 20, 512);
	memcpy(buf + 34, &queues, 2);
	put32(buf + 36, 64); /* max_discard_sectors: 32 KiB per request */
	put32(buf + 40, 1);
	put32(buf + 44, 1);
	put32(buf + 48, 64); /* max_write_zeroes_sectors */
	put32(buf + 52, 1);
	buf[56] = 1;
	return 60;
}

/* ---- memory ---- */

struct mdev *mdev_new(void)
{
	struct mdev *d = calloc(1, sizeof(*d));

	for (unsigned i = 0; d && i < MAX_RINGS; i++)
		d->ring[i].kick = d->ring[i].call = -1;
	return d;
}

static void unmap_all(struct mdev *d)
{
	for (unsigned i = 0; i < d->nreg; i++)
		munmap(d->reg[i].map, d->reg[i].mlen);
	d->nreg = 0;
}

void mdev_free(struct mdev *d)
{
	if (!d)
		return;
	unmap_all(d);
	if (d->infl)
		munmap(d->infl, d->infl_len);
	for (unsigned i = 0; i < MAX_RINGS; i++)
		free(d->ring[i].resubmit);
	for (unsigned i = 0; i < MAX_RINGS; i++) {
		if (d->ring[i].kick >= 0)
			close(d->ring[i].kick);
		if (d->ring[i].call >= 0)
			close(d->ring[i].call);
	}
	free(d);
}

static void *by_gpa(struct mdev *d, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < d->nreg; i++) {
		struct region *r = &d->reg[i];

		if (gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return r->map + r->off + (gpa - r->gpa);
	}
	return NULL;
}

static void *by_uva(struct mdev *d, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < d->nreg; i++) {
		struct region *r = &d->reg[i];

		if (uva >= r->uva && len <= r->size && uva - r->uva <= r->size - len)
			return r->map + r->off + (uva - r->uva);
	}
	return NULL;
}

/* With VIRTIO_F_ACCESS_PLATFORM (bit 33) every address is an iova: only
 * what an IOTLB_MSG update mapped can be reached. */
static bool iommu(const struct mdev *d)
{
	return d->features & (UINT64_C(1) << 33);
}

static void *by_iova(struct mdev *d, uint64_t iova, uint64_t len)
{
	for (unsigned i = 0; i < d->ntlb; i++) {
		struct tlb *t = &d->tlb[i];

		if (iova >= t->iova && len <= t->size && iova - t->iova <= t->size - len)
			return by_uva(d, t->uaddr + (iova - t->iova), len);
	}
	g.log("IOTLB_FAULT iova=0x%llx len=%llu", (unsigned long long)iova, (unsigned long long)len);
	return NULL;
}

/* A buffer address in a descriptor. */
static void *by_addr(struct mdev *d, uint64_t addr, uint64_t len)
{
	return iommu(d) ? by_iova(d, addr, len) : by_gpa(d, addr, len);
}

/* A ring address from SET_VRING_ADDR. */
static void *by_ring_addr(struct mdev *d, uint64_t addr, uint64_t len)
{
	return iommu(d) ? by_iova(d, addr, len) : by_uva(d, addr, len);
}

static void serve_ring(struct mdev *d, unsigned q, struct ring *r);

static void iotlb_msg(struct mdev *d, const uint8_t *payload, uint32_t size)
{
	struct vhost_iotlb_msg_wire w;

	if (size < sizeof(w))
		return;
	memcpy(&w, payload, sizeof(w));
	if (w.type == 2 && d->ntlb < MAX_TLB) {
		d->tlb[d->ntlb++] = (struct tlb){ w.iova, w.size, w.uaddr };
		/* Rings that waited for it run now. */
		for (unsigned q = 0; q < MAX_RINGS; q++)
			if (d->ring[q].iotlb_wait)
				serve_ring(d, q, &d->ring[q]);
	} else if (w.type == 3) {
		for (unsigned i = 0; i < d->ntlb;)
			if (d->tlb[i].iova < w.iova + w.size && w.iova < d->tlb[i].iova + d->tlb[i].size)
				d->tlb[i] = d->tlb[--d->ntlb];
			else
				i++;
	}
}

static void set_mem_table(struct mdev *d, const uint8_t *payload, uint32_t size, int *fds, unsigned nfds)
{
	struct vhost_user_memory m;

	unmap_all(d);
	if (size < 8)
		return;
	memset(&m, 0, sizeof(m));
	memcpy(&m, payload, size < sizeof(m) ? size : sizeof(m));
	for (unsigned i = 0; i < m.nregions && i < nfds && i < MAX_REGIONS; i++) {
		struct vhost_user_memory_region *w = &m.regions[i];
		struct region *r = &d->reg[d->nreg];
		void *p = mmap(NULL, w->mmap_offset + w->memory_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[i], 0);

		if (p == MAP_FAILED)
			continue;
		*r = (struct region){ w->guest_phys_addr,
				      w->memory_size,
				      w->userspace_addr,
				      p,
				      w->mmap_offset + w->memory_size,
				      w->mmap_offset };
		d->nreg++;
	}
}

/* ---- inflight buffer (split layout) ---- */

/* Queue region: features u64, version u16, desc_num u16, last_batch_head
 * u16, used_idx u16, then per descriptor {inflight u8, padding[5], next
 * u16, counter u64}; queues round_up(16 + 16 * queue_size, 64) apart. */
static uint8_t *infl_queue(struct mdev *d, unsigned q)
{
	uint64_t stride = ((16 + 16 * (uint64_t)d->infl_qs) + 63) & ~UINT64_C(63);

	if (!d->infl || q >= d->infl_nq || (q + 1) * stride > d->infl_len)
		return NULL;
	return d->infl + q * stride;
}

static uint8_t *infl_desc(uint8_t *qr, uint16_t i)
{
	return qr + 16 + 16 * (size_t)i;
}

void mdev_inflight(struct mdev *d, int fd, uint64_t size, uint64_t offset, uint16_t nq, uint16_t qs,
		   bool init)
{
	void *p;

	if (!g.disk || fd < 0 || !size)
		return;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return;
	if (d->infl)
		munmap(d->infl, d->infl_len);
	d->infl = p;
	d->infl_len = size;
	d->infl_nq = nq;
	d->infl_qs = qs;
	for (unsigned q = 0; q < MAX_RINGS; q++)
		d->ring[q].infl_checked = false;
	/* libvhost-user's GET_INFLIGHT_FD: version 1, desc_num per queue. */
	for (unsigned q = 0; init && q < nq; q++) {
		uint8_t *qr = infl_queue(d, q);
		uint16_t one = 1;

		if (!qr)
			break;
		memcpy(qr + 8, &one, 2);
		memcpy(qr + 10, &qs, 2);
	}
}

/* Taken from the ring: in flight, with the next counter. */
static void infl_get(struct mdev *d, unsigned q, uint16_t head)
{
	uint8_t *qr = infl_queue(d, q);
	uint64_t c = d->counter++;

	if (!qr || head >= d->infl_qs)
		return;
	memcpy(infl_desc(qr, head) + 8, &c, 8);
	infl_desc(qr, head)[0] = 1;
}

/* Its used entry is about to be written / was written. */
static void infl_pre_put(struct mdev *d, unsigned q, uint16_t head)
{
	uint8_t *qr = infl_queue(d, q);

	if (qr)
		memcpy(qr + 12, &head, 2);
}

static void infl_post_put(struct mdev *d, unsigned q, uint16_t head, uint16_t used_idx)
{
	uint8_t *qr = infl_queue(d, q);

	if (!qr || head >= d->infl_qs)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	infl_desc(qr, head)[0] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(qr + 14, &used_idx, 2);
}

static int by_counter(const void *a, const void *b, void *qr)
{
	uint64_t ca, cb;

	memcpy(&ca, infl_desc(qr, *(const uint16_t *)a) + 8, 8);
	memcpy(&cb, infl_desc(qr, *(const uint16_t *)b) + 8, 8);
	return ca < cb ? -1 : ca > cb;
}

/* libvhost-user's vu_check_queue_inflights, when the ring first runs. */
static void infl_check(struct mdev *d, unsigned q, struct ring *r)
{
	uint8_t *qr = infl_queue(d, q);
	uint16_t version, desc_num, last_batch, iused, used;
	unsigned n = 0;

	r->infl_checked = true;
	if (!qr)
		return;
	memcpy(&version, qr + 8, 2);
	if (!version) {
		version = 1;
		memcpy(qr + 8, &version, 2);
		return;
	}
	memcpy(&desc_num, qr + 10, 2);
	memcpy(&last_batch, qr + 12, 2);
	memcpy(&iused, qr + 14, 2);
	used = vhu_ld16(&((struct vring_used *)r->used)->idx);
	/* Died between the used index and clearing the last request. */
	if (iused != used) {
		if (last_batch < desc_num)
			infl_desc(qr, last_batch)[0] = 0;
		memcpy(qr + 14, &used, 2);
	}
	if (desc_num > r->num)
		desc_num = (uint16_t)r->num;
	free(r->resubmit);
	r->resubmit = calloc(desc_num ? desc_num : 1, sizeof(*r->resubmit));
	r->nresubmit = r->resubmit_pos = 0;
	for (uint16_t i = 0; r->resubmit && i < desc_num; i++)
		if (infl_desc(qr, i)[0] == 1)
			r->resubmit[n++] = i;
	if (n > 1)
		qsort_r(r->resubmit, n, sizeof(*r->resubmit), by_counter, qr);
	r->nresubmit = n;
	/* What was taken before is in flight; new requests follow it. */
	r->used_idx = r->signalled = used;
	r->last_avail = (uint16_t)(used + n);
	if (n) {
		uint64_t c;

		memcpy(&c, infl_desc(qr, r->resubmit[n - 1]) + 8, 8);
		d->counter = c + 1;
	}
}

static bool packed(const struct mdev *d)
{
	return d->features & VHU_BIT(VIRTIO_F_RING_PACKED);
}

static bool event_idx(const struct mdev *d)
{
	return d->features & VHU_BIT(29);
}

void mdev_request(struct mdev *d, uint32_t code, const uint8_t *payload, uint32_t size, int *fds,
		  unsigned nfds)
{
	struct vhost_vring_state vs;
	struct vhost_vring_addr a;
	uint64_t u64 = 0;
	struct ring *r;

	if (!mdev_enabled())
		return;
	memcpy(&u64, payload, size < 8 ? size : 8);
	memcpy(&vs, payload, sizeof(vs));
	switch (code) {
	case VHOST_USER_SET_FEATURES: d->features = u64; return;
	case VHOST_USER_IOTLB_MSG: iotlb_msg(d, payload, size); return;
	case VHOST_USER_SET_MEM_TABLE: set_mem_table(d, payload, size, fds, nfds); return;
	case VHOST_USER_SET_VRING_NUM:
		if (vs.index < MAX_RINGS)
			d->ring[vs.index].num = vs.num;
		return;
	case VHOST_USER_SET_VRING_BASE:
		if (vs.index >= MAX_RINGS)
			return;
		r = &d->ring[vs.index];
		if (packed(d)) {
			r->avail_pos = r->used_pos = r->sig_pos = vs.num & 0x7fff;
			r->avail_wrap = r->used_wrap = r->sig_wrap = (vs.num >> 15) & 1;
		} else {
			r->last_avail = r->used_idx = r->signalled = (uint16_t)vs.num;
		}
		r->stopped = false;
		return;
	case VHOST_USER_SET_VRING_ADDR:
		memcpy(&a, payload, sizeof(a));
		if (a.index >= MAX_RINGS)
			return;
		r = &d->ring[a.index];
		r->desc_uva = a.desc_user_addr;
		r->avail_uva = a.avail_user_addr;
		r->used_uva = a.used_user_addr;
		r->have_addr = true;
		r->desc = r->avail = r->used = NULL;
		return;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL: {
		unsigned idx = u64 & VHOST_USER_VRING_IDX_MASK;
		int *slot;

		if (idx >= MAX_RINGS)
			return;
		slot = code == VHOST_USER_SET_VRING_KICK ? &d->ring[idx].kick : &d->ring[idx].call;
		if (*slot >= 0)
			close(*slot);
		*slot = -1;
		if (!(u64 & VHOST_USER_VRING_NOFD_MASK) && nfds) {
			*slot = fds[0];
			fds[0] = -1;
		}
		return;
	}
	case VHOST_USER_SET_VRING_ENABLE:
		if (vs.index < MAX_RINGS)
			d->ring[vs.index].enabled = vs.num != 0;
		return;
	case VHOST_USER_SET_INFLIGHT_FD: {
		struct vhost_user_inflight in;

		if (size < sizeof(in) || !nfds)
			return;
		memcpy(&in, payload, sizeof(in));
		mdev_inflight(d, fds[0], in.mmap_size, in.mmap_offset, in.num_queues, in.queue_size, false);
		return;
	}
	default: return;
	}
}

bool mdev_vring_base(struct mdev *d, uint32_t index, uint32_t *num)
{
	struct ring *r;

	if (!mdev_enabled() || index >= MAX_RINGS)
		return false;
	r = &d->ring[index];
	r->stopped = true;
	*num = packed(d) ? (uint32_t)r->avail_pos | (uint32_t)r->avail_wrap << 15 : r->last_avail;
	return true;
}

unsigned mdev_pollfds(struct mdev *d, struct pollfd *p, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; mdev_enabled() && i < MAX_RINGS && n < max; i++)
		if (d->ring[i].kick >= 0)
			p[n++] = (struct pollfd){ .fd = d->ring[i].kick, .events = POLLIN };
	return n;
}

/* ---- requests ---- */

/* Collect the chain at @head (split) into @s; returns segments, 0 on a
 * bad chain. */
static unsigned chain_split(struct mdev *d, struct ring *r, uint16_t head, struct seg *s, bool *indirect)
{
	struct vring_desc *tab = r->desc;
	uint32_t max = r->num;
	unsigned n = 0;
	uint16_t i = head;

	*indirect = false;
	if (le16toh(tab[head].flags) & VRING_DESC_F_INDIRECT) {
		uint32_t len = le32toh(tab[head].len);

		tab = by_addr(d, le64toh(tab[head].addr), len);
		if (!tab || len % 16)
			return 0;
		max = len / 16;
		i = 0;
		*indirect = true;
	}
	for (;;) {
		struct vring_desc *x = &tab[i];
		uint16_t f = le16toh(x->flags);

		if (n >= MAX_SEGS || n >= max)
			return 0;
		s[n].len = le32toh(x->len);
		s[n].write = f & VRING_DESC_F_WRITE;
		s[n].p = by_addr(d, le64toh(x->addr), s[n].len);
		if (!s[n].p)
			return 0;
		n++;
		if (!(f & VRING_DESC_F_NEXT))
			return n;
		i = le16toh(x->next);
		if (i >= max)
			return 0;
	}
}

/* Serve one blk request; returns bytes written into the writable part. */
static uint32_t serve_blk(unsigned q, struct seg *s, unsigned n, bool indirect)
{
	uint8_t status = VIRTIO_BLK_S_OK;
	uint32_t type, written = 0, rbytes = 0, wbytes = 0;
	uint64_t sector;
	unsigned first_w = n;
	struct seg *st = NULL;

	for (unsigned i = 0; i < n; i++) {
		if (s[i].write) {
			if (first_w == n)
				first_w = i;
			wbytes += s[i].len;
		} else {
			rbytes += s[i].len;
		}
	}
	if (!n || s[0].write || s[0].len < 16 || first_w == n) {
		g.log("BLK q=%u bad chain segs=%u", q, n);
		return 0;
	}
	st = &s[n - 1];
	memcpy(&type, s[0].p, 4);
	memcpy(&sector, s[0].p + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);
	switch (type) {
	case VIRTIO_BLK_T_IN: {
		uint64_t off = sector * 512, len = wbytes - 1, done = 0;

		if (len % 512 || off > g.size || len > g.size - off) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		for (unsigned i = first_w; i < n && done < len; i++) {
			uint32_t k = s[i].len;
			uint64_t bad = g.corrupt_sector * 512 + 100;

			if (i == n - 1)
				k--;
			memcpy(s[i].p, g.disk + off + done, k);
			if (g.corrupt && bad >= off + done && bad < off + done + k) {
				s[i].p[bad - off - done] ^= 0xff;
				g.log("CORRUPT q=%u sector=%llu", q, (unsigned long long)g.corrupt_sector);
			}
			done += k;
		}
		written = (uint32_t)len;
		break;
	}
	case VIRTIO_BLK_T_OUT: {
		uint64_t off = sector * 512, len = rbytes - 16, done = 0;

		if (g.ro || len % 512 || off > g.size || len > g.size - off) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		/* The first segment may carry data after the header. */
		for (unsigned i = 0; i < first_w; i++) {
			uint32_t skip = i == 0 ? 16 : 0;

			memcpy(g.disk + off + done, s[i].p + skip, s[i].len - skip);
			done += s[i].len - skip;
		}
		break;
	}
	case VIRTIO_BLK_T_FLUSH: break;
	case VIRTIO_BLK_T_GET_ID: {
		uint32_t len = wbytes - 1 < 20 ? wbytes - 1 : 20;

		if (first_w == n - 1) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		memset(s[first_w].p, 0, len < s[first_w].len ? len : s[first_w].len);
		memcpy(s[first_w].p, g.serial, strlen(g.serial) < len ? strlen(g.serial) : len);
		written = len;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		uint8_t seg[16];
		uint64_t ssec;
		uint32_t num, flags;

		if (rbytes != 32 || s[0].len != 16 || first_w != 2 || s[1].len != 16) {
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		memcpy(seg, s[1].p, 16);
		memcpy(&ssec, seg, 8);
		memcpy(&num, seg + 8, 4);
		memcpy(&flags, seg + 12, 4);
		if (g.ro) {
			status = VIRTIO_BLK_S_IOERR;
		} else if ((flags & ~1u) || (type == VIRTIO_BLK_T_DISCARD && flags)) {
			status = VIRTIO_BLK_S_UNSUPP;
		} else if (ssec * 512 > g.size || (uint64_t)num * 512 > g.size - ssec * 512) {
			status = VIRTIO_BLK_S_IOERR;
		} else {
			memset(g.disk + ssec * 512, 0, (size_t)num * 512);
		}
		sector = ssec;
		break;
	}
	default: status = VIRTIO_BLK_S_UNSUPP;
	}
	st->p[st->len - 1] = status;
	g.log("BLK q=%u type=%u sector=%llu bytes=%u segs=%u indirect=%d status=%u", q, type,
	      (unsigned long long)sector, type == VIRTIO_BLK_T_IN ? wbytes - 1 : rbytes - 16, n, indirect,
	      status);
	return written + 1;
}

/* ---- virtio-fs: FUSE on a fixed tree ---- */

#define FS_BUF (64u * 1024u)

struct fs_node {
	uint64_t id;
	const char *name; /* in the root */
	uint32_t mode;
};

static const struct fs_node fs_nodes[] = {
	{ FUSE_ROOT_ID, "", S_IFDIR | 0755 },
	{ 2, "hello", S_IFREG | 0644 },
	{ 3, "sub", S_IFDIR | 0755 },
};

static const struct fs_node *fs_node(uint64_t id)
{
	for (unsigned i = 0; i < sizeof(fs_nodes) / sizeof(fs_nodes[0]); i++)
		if (fs_nodes[i].id == id)
			return &fs_nodes[i];
	return NULL;
}

static const char *fs_op_name(uint32_t op)
{
	switch (op) {
	case FUSE_INIT: return "INIT";
	case FUSE_LOOKUP: return "LOOKUP";
	case FUSE_FORGET: return "FORGET";
	case FUSE_GETATTR: return "GETATTR";
	case FUSE_OPEN: return "OPEN";
	case FUSE_READ: return "READ";
	case FUSE_RELEASE: return "RELEASE";
	case FUSE_OPENDIR: return "OPENDIR";
	case FUSE_READDIR: return "READDIR";
	case FUSE_RELEASEDIR: return "RELEASEDIR";
	default: return "?";
	}
}

static void fs_attr(const struct fs_node *nd, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = nd->id + 100;
	a->mode = nd->mode;
	a->nlink = S_ISDIR(nd->mode) ? 2 : 1;
	a->size = S_ISDIR(nd->mode) ? 4096 : sizeof(FS_HELLO) - 1;
	a->blocks = 8;
	a->blksize = 4096;
	a->mtime = a->ctime = a->atime = 1700000000;
}

/* The entries of directory @nd: ".", "..", and for the root its nodes. */
static unsigned fs_dir(const struct fs_node *nd, const char **names, uint64_t *inos, uint32_t *types)
{
	unsigned n = 0;

	names[n] = ".", inos[n] = nd->id + 100, types[n++] = 4;
	names[n] = "..", inos[n] = 101, types[n++] = 4;
	if (nd->id != FUSE_ROOT_ID)
		return n;
	for (unsigned i = 1; i < sizeof(fs_nodes) / sizeof(fs_nodes[0]); i++)
		names[n] = fs_nodes[i].name, inos[n] = fs_nodes[i].id + 100,
		types[n++] = fs_nodes[i].mode >> 12;
	return n;
}

/* One FUSE request; returns the bytes written into the writable part. */
static uint32_t serve_fs(unsigned q, struct seg *s, unsigned n, bool indirect)
{
	static uint8_t in[FS_BUF], out[FS_BUF];
	struct fuse_in_header ih;
	struct fuse_out_header oh = { 0 };
	const struct fs_node *nd;
	uint32_t rbytes = 0, wbytes = 0, len = sizeof(oh), k;
	const uint8_t *arg = in + sizeof(ih);
	enum fs_fault f = FF_NONE;

	for (unsigned i = 0; i < n; i++) {
		if (s[i].write) {
			wbytes += s[i].len;
		} else {
			k = s[i].len < FS_BUF - rbytes ? s[i].len : FS_BUF - rbytes;
			memcpy(in + rbytes, s[i].p, k);
			rbytes += k;
		}
	}
	if (rbytes < sizeof(ih)) {
		g.log("FUSE q=%u bad chain segs=%u indirect=%d", q, n, indirect);
		return 0;
	}
	memcpy(&ih, in, sizeof(ih));
	nd = fs_node(ih.nodeid);
	oh.unique = ih.unique;
	if (ih.opcode == FUSE_FORGET) {
		/* No reply; the chain comes back with used length 0. */
		g.log("FUSE q=%u op=FORGET node=%llu unique=%llu", q, (unsigned long long)ih.nodeid,
		      (unsigned long long)ih.unique);
		return 0;
	}
	switch (ih.opcode) {
	case FUSE_INIT: {
		struct fuse_init_out io = { .major = FUSE_KERNEL_VERSION,
					    .minor = 38,
					    .flags = FUSE_MAX_PAGES,
					    .max_write = 16384,
					    .max_pages = 4 };

		memcpy(out + len, &io, sizeof(io));
		len += sizeof(io);
		break;
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out e = { 0 };
		const struct fs_node *c = NULL;

		for (unsigned i = 1;
		     nd && nd->id == FUSE_ROOT_ID && i < sizeof(fs_nodes) / sizeof(fs_nodes[0]); i++)
			if (!strncmp((const char *)arg, fs_nodes[i].name, rbytes - sizeof(ih)))
				c = &fs_nodes[i];
		if (!c) {
			oh.error = nd && S_ISDIR(nd->mode) ? -ENOENT : -ENOTDIR;
			break;
		}
		e.nodeid = c->id;
		fs_attr(c, &e.attr);
		memcpy(out + len, &e, sizeof(e));
		len += sizeof(e);
		break;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out a = { 0 };

		if (!nd) {
			oh.error = -ESTALE;
			break;
		}
		fs_attr(nd, &a.attr);
		memcpy(out + len, &a, sizeof(a));
		len += sizeof(a);
		break;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out o = { .fh = 7 };

		if (!nd || (ih.opcode == FUSE_OPENDIR) != S_ISDIR(nd->mode)) {
			oh.error = !nd ? -ESTALE : ih.opcode == FUSE_OPENDIR ? -ENOTDIR : -EISDIR;
			break;
		}
		memcpy(out + len, &o, sizeof(o));
		len += sizeof(o);
		break;
	}
	case FUSE_READ: {
		struct fuse_read_in r;
		uint64_t size = sizeof(FS_HELLO) - 1;

		memcpy(&r, arg, sizeof(r));
		if (!nd || !S_ISREG(nd->mode)) {
			oh.error = -EISDIR;
			break;
		}
		k = r.offset >= size ? 0 : (uint32_t)(size - r.offset);
		if (k > r.size)
			k = r.size;
		memcpy(out + len, FS_HELLO + (r.offset < size ? r.offset : size), k);
		len += k;
		break;
	}
	case FUSE_READDIR: {
		struct fuse_read_in r;
		const char *names[8];
		uint64_t inos[8];
		uint32_t types[8], cnt;

		memcpy(&r, arg, sizeof(r));
		if (!nd || !S_ISDIR(nd->mode)) {
			oh.error = -ENOTDIR;
			break;
		}
		cnt = fs_dir(nd, names, inos, types);
		for (uint64_t i = r.offset; i < cnt; i++) {
			struct fuse_dirent d = { .ino = inos[i],
						 .off = i + 1,
						 .namelen = (uint32_t)strlen(names[i]),
						 .type = types[i] };
			size_t rec = FUSE_DIRENT_SIZE(&d);

			if (len - sizeof(oh) + rec > r.size || len + rec > FS_BUF)
				break;
			memset(out + len, 0, rec);
			memcpy(out + len, &d, FUSE_NAME_OFFSET);
			memcpy(out + len + FUSE_NAME_OFFSET, names[i], d.namelen);
			len += (uint32_t)rec;
		}
		break;
	}
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR: break;
	default: oh.error = -ENOSYS;
	}
	if (g.fs_fault != FF_NONE && (!g.fs_fault_op || g.fs_fault_op == ih.opcode))
		f = g.fs_fault;
	if (f == FF_OLD_MINOR && ih.opcode == FUSE_INIT && !oh.error) {
		/* fuse_init_out.minor, right after the major */
		uint32_t minor = 30;

		memcpy(out + sizeof(oh) + 4, &minor, 4);
	}
	if (oh.error)
		len = sizeof(oh);
	if (len > wbytes)
		len = wbytes; /* a device cannot write more than it was given */
	oh.len = len;
	switch (f) {
	case FF_BAD_UNIQUE: oh.unique++; break;
	case FF_OVERSIZE_LEN: oh.len += 4096; break;
	case FF_SHORT_REPLY: len = oh.len = sizeof(oh); break;
	case FF_BAD_ERROR: oh.error = 5; break;
	case FF_OLD_MINOR:
	case FF_NONE: break;
	}
	if (f != FF_NONE)
		g.log("FUSE_FAULT %s q=%u op=%s", fs_fault_names[f], q, fs_op_name(ih.opcode));
	memcpy(out, &oh, len < sizeof(oh) ? len : sizeof(oh));
	k = 0;
	for (unsigned i = 0; i < n && k < len; i++) {
		uint32_t c;

		if (!s[i].write)
			continue;
		c = s[i].len < len - k ? s[i].len : len - k;
		memcpy(s[i].p, out + k, c);
		k += c;
	}
	g.log("FUSE q=%u op=%s node=%llu unique=%llu error=%d bytes=%u", q, fs_op_name(ih.opcode),
	      (unsigned long long)ih.nodeid, (unsigned long long)ih.unique, oh.error, len);
	return len;
}

/* ---- virtio-net ---- */

static size_t net_hdr_len(const struct mdev *d)
{
	return d->features & (VHU_BIT(VIRTIO_F_VERSION_1) | VHU_BIT(15)) ? 12 : 10;
}

/* Frame @i of the receive sequence: 60..448 bytes, byte j = (7i + j) & 0xff.
 * The same in tests/bats/net.bats. */
static uint32_t net_frame_len(uint64_t i)
{
	return 60 + (uint32_t)(i % 5) * 97;
}

/* Copy @len bytes of @src into the segments from byte @off on. */
static void seg_write(struct seg *s, unsigned n, uint32_t off, const uint8_t *src, uint32_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		uint32_t k;

		if (off >= s[i].len) {
			off -= s[i].len;
			continue;
		}
		k = s[i].len - off < len ? s[i].len - off : len;
		memcpy(s[i].p + off, src, k);
		src += k;
		len -= k;
		off = 0;
	}
}

static void hex_of(char *out, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * len] = 0;
}

/* One net chain: receive (even ring) or transmit (odd); bytes written. */
static uint32_t serve_net(struct mdev *d, unsigned q, struct seg *s, unsigned n)
{
	static uint8_t buf[70000];
	static char hex[2 * 70000 + 1];
	size_t hl = net_hdr_len(d);
	uint32_t total = 0;

	d->hold = false;
	for (unsigned i = 0; i < n; i++)
		total += s[i].len;
	if (q % 2 == 0) {
		uint64_t i = d->rx_frames;
		uint32_t len = net_frame_len(i);

		if (i >= g.net_frames) {
			d->hold = true;
			return 0;
		}
		if (total < hl + len) {
			g.log("NET_RX q=%u short buffer=%u", q, total);
			return 0;
		}
		memset(buf, 0, hl);
		if (hl == 12 && (d->features & VHU_BIT(15)))
			buf[10] = 1; /* num_buffers */
		for (uint32_t j = 0; j < len; j++)
			buf[hl + j] = (uint8_t)(7 * i + j);
		seg_write(s, n, 0, buf, (uint32_t)hl + len);
		d->rx_frames++;
		g.log("NET_RX q=%u frame=%llu len=%u", q, (unsigned long long)i, len);
		return (uint32_t)hl + len;
	}
	if (total > sizeof(buf) || total < hl) {
		g.log("NET_TX q=%u bad chain bytes=%u", q, total);
		return 0;
	}
	for (uint32_t off = 0, i = 0; i < n; off += s[i].len, i++)
		memcpy(buf + off, s[i].p, s[i].len);
	hex_of(hex, buf, (uint32_t)hl);
	hex_of(hex + 2 * hl + 1, buf + hl, total - (uint32_t)hl);
	hex[2 * hl] = 0;
	g.log("NET_TX q=%u len=%u hdr=%s frame=%s", q, total - (uint32_t)hl, hex, hex + 2 * hl + 1);
	return 0;
}

static uint32_t serve(struct mdev *d, unsigned q, struct seg *s, unsigned n, bool indirect)
{
	d->hold = false;
	return g.net  ? serve_net(d, q, s, n)
	       : g.fs ? serve_fs(q, s, n, indirect)
		      : serve_blk(q, s, n, indirect);
}

/* The fault for request number @n of this connection, if any. */
static enum fault fault_for(struct mdev *d)
{
	return g.fault != RF_NONE && d->served >= g.fault_at ? g.fault : RF_NONE;
}

static void notify(struct ring *r)
{
	uint64_t one = 1;

	if (r->call >= 0 && write(r->call, &one, sizeof(one)) < 0) {
		/* the front-end went away; nothing to tell */
	}
}

static bool process_split(struct mdev *d, unsigned q, struct ring *r)
{
	struct vring_avail *avail = r->avail;
	struct vring_used *used = r->used;
	static struct seg s[MAX_SEGS];
	bool any = false;

	for (;;) {
		while (r->nresubmit || vhu_ld16_acquire(&avail->idx) != r->last_avail) {
			uint16_t head;
			enum fault f = fault_for(d);
			bool ind = false;
			unsigned n;
			uint32_t len, id;

			if (r->nresubmit) {
				/* Taken by the device that went away. */
				head = r->resubmit[r->resubmit_pos++];
				r->nresubmit--;
				g.log("RESUBMIT q=%u head=%u", q, head);
			} else {
				head = vhu_ld16(vhu_avail_ring(avail, r->last_avail % r->num));
				r->last_avail++;
				infl_get(d, q, head);
			}
			id = head;
			n = head < r->num ? chain_split(d, r, head, s, &ind) : 0;
			len = n ? serve(d, q, s, n, ind) : 0;
			d->served++;
			if (f == RF_NEVER || d->hold) {
				g.log("HELD q=%u", q);
				continue;
			}
			if (f == RF_BAD_ID) {
				/* A descriptor inside the chain, or past the ring. */
				id = !ind && n > 1 ? le16toh(((struct vring_desc *)r->desc)[head].next)
						   : r->num + 5;
				g.log("RING_FAULT bad-id q=%u", q);
			} else if (f == RF_BAD_LEN) {
				len = 0;
				for (unsigned i = 0; i < n; i++)
					len += s[i].write ? s[i].len : 0;
				len++;
				g.log("RING_FAULT bad-len q=%u", q);
			}
			infl_pre_put(d, q, head);
			vhu_st32(&used->ring[r->used_idx % r->num].id, id);
			vhu_st32(&used->ring[r->used_idx % r->num].len, len);
			r->used_idx++;
			if (f == RF_IDX_JUMP) {
				r->used_idx = (uint16_t)(r->used_idx + r->num + 1);
				g.log("RING_FAULT idx-jump q=%u", q);
			}
			vhu_st16_release(&used->idx, r->used_idx);
			infl_post_put(d, q, head, r->used_idx);
			any = true;
		}
		if (!event_idx(d))
			break;
		/* Spec: tell the driver where to kick next, then look again
		 * (it may have added something before seeing it). */
		vhu_st16(vhu_avail_event(used, r->num), r->last_avail);
		vhu_fence();
		if (vhu_ld16_acquire(&avail->idx) == r->last_avail)
			break;
	}
	if (any) {
		bool n;

		vhu_fence();
		if (event_idx(d))
			n = vring_need_event(vhu_ld16(vhu_used_event(avail, r->num)), r->used_idx,
					     r->signalled);
		else
			n = !(vhu_ld16(&avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
		r->signalled = r->used_idx;
		if (n)
			notify(r);
	}
	return any;
}

static bool process_packed(struct mdev *d, unsigned q, struct ring *r)
{
	struct vring_packed_desc *ring = r->desc;
	static struct seg s[MAX_SEGS];
	bool any = false;

	for (;;) {
		struct vring_packed_desc *h = &ring[r->avail_pos];
		uint16_t f = vhu_ld16_acquire(&h->flags), id, ndesc = 0;
		bool ind = false;
		unsigned n = 0;
		uint32_t len;
		enum fault fl;

		if (!(!!(f & VHU_PACKED_AVAIL) == r->avail_wrap && !!(f & VHU_PACKED_USED) != r->avail_wrap))
			break;
		id = le16toh(h->id);
		if (f & VRING_DESC_F_INDIRECT) {
			uint32_t tl = le32toh(h->len);
			struct vring_packed_desc *t = by_addr(d, le64toh(h->addr), tl);

			ind = true;
			for (unsigned i = 0; t && i < tl / 16 && i < MAX_SEGS; i++) {
				s[n].len = le32toh(t[i].len);
				s[n].write = le16toh(t[i].flags) & VRING_DESC_F_WRITE;
				s[n].p = by_addr(d, le64toh(t[i].addr), s[n].len);
				n = s[n].p ? n + 1 : 0;
				if (!n)
					break;
			}
			ndesc = 1;
			if (++r->avail_pos == r->num) {
				r->avail_pos = 0;
				r->avail_wrap = !r->avail_wrap;
			}
		} else {
			for (;;) {
				struct vring_packed_desc *x = &ring[r->avail_pos];
				uint16_t xf = vhu_ld16_acquire(&x->flags);

				if (n < MAX_SEGS) {
					s[n].len = le32toh(x->len);
					s[n].write = xf & VRING_DESC_F_WRITE;
					s[n].p = by_addr(d, le64toh(x->addr), s[n].len);
					n++;
				}
				id = le16toh(x->id); /* the buffer id rides in the last one */
				ndesc++;
				if (++r->avail_pos == r->num) {
					r->avail_pos = 0;
					r->avail_wrap = !r->avail_wrap;
				}
				if (!(xf & VRING_DESC_F_NEXT) || ndesc >= r->num)
					break;
			}
			for (unsigned i = 0; i < n; i++)
				if (!s[i].p)
					n = 0;
		}
		len = n ? serve(d, q, s, n, ind) : 0;
		fl = fault_for(d);
		d->served++;
		if (fl == RF_NEVER || d->hold) {
			g.log("HELD q=%u", q);
			continue;
		}
		if (fl == RF_BAD_ID) {
			id = (uint16_t)(r->num + 5);
			g.log("RING_FAULT bad-id q=%u", q);
		} else if (fl == RF_BAD_LEN) {
			len = 1;
			for (unsigned i = 0; i < n; i++)
				len += s[i].write ? s[i].len : 0;
			g.log("RING_FAULT bad-len q=%u", q);
		}
		{
			struct vring_packed_desc *u = &ring[r->used_pos];
			bool w = r->used_wrap;

			if (fl == RF_WRONG_WRAP) {
				w = !w;
				g.log("RING_FAULT wrong-wrap q=%u", q);
			}
			u->id = htole16(id);
			u->len = htole32(len);
			vhu_st16_release(&u->flags, w ? VHU_PACKED_AVAIL | VHU_PACKED_USED : 0);
			r->used_pos = (uint16_t)(r->used_pos + ndesc);
			if (r->used_pos >= r->num) {
				r->used_pos = (uint16_t)(r->used_pos - r->num);
				r->used_wrap = !r->used_wrap;
			}
		}
		any = true;
	}
	if (any) {
		struct vring_packed_desc_event *e = r->avail;
		uint16_t flags, ow;
		bool n;

		vhu_fence();
		flags = vhu_ld16(&e->flags) & 3;
		if (flags == VRING_PACKED_EVENT_FLAG_DESC && event_idx(d)) {
			/* The driver's event position, as a free-running index
			 * against the used positions just written. */
			uint16_t ev, old = r->sig_pos, new = r->used_pos;

			ow = vhu_ld16(&e->off_wrap);
			ev = ow & 0x7fff;
			if ((bool)(ow >> 15) != r->used_wrap)
				ev = (uint16_t)(ev - r->num);
			if (r->sig_wrap != r->used_wrap)
				old = (uint16_t)(old - r->num);
			n = vring_need_event(ev, new, old);
		} else {
			n = flags != VRING_PACKED_EVENT_FLAG_DISABLE;
		}
		r->sig_pos = r->used_pos;
		r->sig_wrap = r->used_wrap;
		if (n)
			notify(r);
	}
	return any;
}

/* The ring's addresses are all in the IOTLB (rings are looked up only
 * when all three are). */
static bool ring_mapped(struct mdev *d, struct ring *r, size_t sz[3])
{
	uint64_t a[3] = { r->desc_uva, r->avail_uva, r->used_uva };

	for (int i = 0; i < 3; i++) {
		bool hit = false;

		for (unsigned k = 0; k < d->ntlb && !hit; k++)
			hit = a[i] >= d->tlb[k].iova && sz[i] <= d->tlb[k].size &&
			      a[i] - d->tlb[k].iova <= d->tlb[k].size - sz[i];
		if (!hit) {
			d->miss = true;
			d->miss_iova = a[i];
			return false;
		}
	}
	return true;
}

void mdev_kicked(struct mdev *d, int fd)
{
	for (unsigned q = 0; q < MAX_RINGS; q++) {
		struct ring *r = &d->ring[q];
		uint64_t cnt;

		if (r->kick != fd)
			continue;
		while (read(fd, &cnt, sizeof(cnt)) < 0 && errno == EINTR)
			;
		serve_ring(d, q, r);
		return;
	}
}

bool mdev_take_miss(struct mdev *d, uint64_t *iova)
{
	bool m = d->miss;

	d->miss = false;
	*iova = d->miss_iova;
	return m;
}

static void serve_ring(struct mdev *d, unsigned q, struct ring *r)
{
	size_t sz[3];

	{
		if (!r->enabled || r->stopped || !r->have_addr || !r->num)
			return;
		if (!r->desc) {
			if (packed(d)) {
				sz[0] = 16 * r->num;
				sz[1] = sz[2] = 4;
			} else {
				sz[0] = 16 * r->num;
				sz[1] = 6 + 2 * r->num;
				sz[2] = 6 + 8 * r->num;
			}
			/* DPDK: a ring not in the IOTLB waits for its update
			 * (after a miss) instead of failing. */
			if (iommu(d) && !ring_mapped(d, r, sz)) {
				if (!r->iotlb_wait)
					g.log("IOTLB_RING_MISS q=%u iova=0x%llx", q,
					      (unsigned long long)d->miss_iova);
				else
					d->miss = false; /* asked already */
				r->iotlb_wait = true;
				return;
			}
			r->iotlb_wait = false;
			r->desc = by_ring_addr(d, r->desc_uva, sz[0]);
			r->avail = by_ring_addr(d, r->avail_uva, sz[1]);
			r->used = by_ring_addr(d, r->used_uva, sz[2]);
			if (!r->desc || !r->avail || !r->used) {
				g.log("BAD_RING_ADDR q=%u", q);
				r->desc = NULL;
				return;
			}
		}
		if (packed(d)) {
			process_packed(d, q, r);
		} else {
			if (d->infl && !r->infl_checked)
				infl_check(d, q, r);
			process_split(d, q, r);
		}
	}
}
