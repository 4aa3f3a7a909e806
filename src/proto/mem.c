/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest memory for a session without a guest.  Regions are memfds mapped
 * MAP_SHARED here, so the user addresses sent in SET_MEM_TABLE and
 * SET_VRING_ADDR are real mappings of the same pages the back-end maps
 * (spec "Memory regions description"; user addresses are opaque to the
 * back-end but must be consistent between the table and the rings).
 */
#define _GNU_SOURCE
#include "proto/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/intr.h"
#include "util/text.h"

void vhu_res_init(struct vhu_res *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < VHU_MAX_FD_VRINGS; i++)
		r->kick[i] = r->call[i] = r->err[i] = -1;
	r->inflight_fd = r->log_fd = r->log_event_fd = -1;
}

void vhu_res_free(struct vhu_res *r)
{
	for (unsigned i = 0; i < r->nregions; i++) {
		if (r->regions[i].map)
			munmap(r->regions[i].map, r->regions[i].size);
		if (r->regions[i].fd >= 0)
			close(r->regions[i].fd);
	}
	for (unsigned i = 0; i < VHU_MAX_FD_VRINGS; i++) {
		if (r->kick[i] >= 0)
			close(r->kick[i]);
		if (r->call[i] >= 0)
			close(r->call[i]);
		if (r->err[i] >= 0)
			close(r->err[i]);
	}
	if (r->inflight_fd >= 0)
		close(r->inflight_fd);
	if (r->log_fd >= 0)
		close(r->log_fd);
	if (r->log_event_fd >= 0)
		close(r->log_event_fd);
	vhu_res_init(r);
}

int vhu_region_create(struct vhu_session *s, struct vhu_res *r, uint64_t size, uint64_t gpa, const char *path)
{
	return vhu_region_create_ex(s, r, size, gpa, path, 0);
}

int vhu_region_create_ex(struct vhu_session *s, struct vhu_res *r, uint64_t size, uint64_t gpa,
			 const char *path, unsigned flags)
{
	struct vhu_region *g;
	int fd;
	void *map;
	uint64_t off = 0;

	if (size == 0)
		return -vhu_fail(s, VHU_E_USAGE, "memory region of size 0");
	if (size % 4096)
		return -vhu_fail(s, VHU_E_USAGE, "memory region size %llu is not a multiple of 4096",
				 (unsigned long long)size);
	/* Far beyond any guest, and keeps off + size inside off_t. */
	if (size > VHU_MEM_MAX_REGION)
		return -vhu_fail(s, VHU_E_USAGE, "memory region of %llu bytes is larger than %llu",
				 (unsigned long long)size, (unsigned long long)VHU_MEM_MAX_REGION);
	if (gpa + size < gpa)
		return -vhu_fail(s, VHU_E_USAGE, "memory region at 0x%llx overflows",
				 (unsigned long long)gpa);
	if (r->nregions >= VHU_MEM_MAX_REGIONS)
		return -vhu_fail(s, VHU_E_USAGE, "at most %u memory regions", VHU_MEM_MAX_REGIONS);
	for (unsigned i = 0; i < r->nregions; i++) {
		const struct vhu_region *o = &r->regions[i];
		if (!o->removed && gpa < o->gpa + o->size && o->gpa < gpa + size)
			return -vhu_fail(s, VHU_E_USAGE, "memory region at 0x%llx overlaps region %u",
					 (unsigned long long)gpa, i);
	}
	if (path)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	else
		fd = memfd_create("vhuctl-guest",
				  MFD_CLOEXEC | (flags & VHU_REGION_HUGETLB ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -vhu_fail(s, VHU_E_IO, "%s: %s", path ? path : "memfd_create", vhu_strerror(errno));
	/* Several regions of this session in one file sit one after another
	 * in it (huge-page aligned), and the file is sized to exactly what
	 * they need: what an earlier run left in it is not an offset, or the
	 * file would grow with every run. */
	if (path) {
		struct stat st, o;

		if (fstat(fd, &st) < 0) {
			int e = errno;
			close(fd);
			return -vhu_fail(s, VHU_E_IO, "%s: %s", path, strerror(e));
		}
		for (unsigned i = 0; i < r->nregions; i++) {
			const struct vhu_region *e = &r->regions[i];
			uint64_t end = (e->mmap_offset + e->size + 0x1fffff) & ~(uint64_t)0x1fffff;

			if (e->fd >= 0 && fstat(e->fd, &o) == 0 && o.st_dev == st.st_dev &&
			    o.st_ino == st.st_ino && end > off)
				off = end;
		}
	}
	if (ftruncate(fd, (off_t)(off + size)) < 0) {
		int e = errno;
		close(fd);
		return -vhu_fail(s, VHU_E_IO, "cannot size guest memory to %llu bytes: %s",
				 (unsigned long long)size, strerror(e));
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	if (map == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -vhu_fail(s, VHU_E_IO, "cannot map guest memory: %s%s", strerror(e),
				 flags & VHU_REGION_HUGETLB ? " (huge pages: see /proc/sys/vm/nr_hugepages)"
							    : "");
	}
	g = &r->regions[r->nregions];
	*g = (struct vhu_region){ .gpa = gpa,
				  .size = size,
				  .uva = (uint64_t)(uintptr_t)map,
				  .mmap_offset = off,
				  .fd = fd,
				  .map = map };
	return (int)r->nregions++;
}

void *vhu_res_ptr(const struct vhu_res *r, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < r->nregions; i++) {
		const struct vhu_region *g = &r->regions[i];

		if (g->map && uva >= g->uva && len <= g->size && uva - g->uva <= g->size - len)
			return (uint8_t *)g->map + (uva - g->uva);
	}
	return NULL;
}

void vhu_region_drop_from(struct vhu_res *r, unsigned first)
{
	while (r->nregions > first) {
		struct vhu_region *g = &r->regions[--r->nregions];

		if (g->map)
			munmap(g->map, g->size);
		if (g->fd >= 0)
			close(g->fd);
		memset(g, 0, sizeof(*g));
	}
}

static void region_wire(const struct vhu_region *g, struct vhost_user_memory_region *w)
{
	w->guest_phys_addr = g->gpa;
	w->memory_size = g->size;
	w->userspace_addr = g->uva;
	w->mmap_offset = g->mmap_offset;
}

int vhu_set_mem_table(struct vhu_session *s, struct vhu_res *r, unsigned first, unsigned n)
{
	struct vhost_user_memory m = { 0 };
	int fds[VHOST_MEMORY_BASELINE_NREGIONS];
	int rc;

	if (n == 0 || n > VHOST_MEMORY_BASELINE_NREGIONS)
		return vhu_fail(s, VHU_E_USAGE, "SET_MEM_TABLE: %u regions, the table holds 1 to %u", n,
				VHOST_MEMORY_BASELINE_NREGIONS);
	if (first + n > r->nregions)
		return vhu_fail(s, VHU_E_USAGE, "SET_MEM_TABLE: no such regions");
	m.nregions = n;
	for (unsigned i = 0; i < n; i++) {
		const struct vhu_region *g = &r->regions[first + i];
		struct stat st;

		if (g->size == 0 || g->fd < 0 || fstat(g->fd, &st) < 0)
			return vhu_fail(s, VHU_E_USAGE, "SET_MEM_TABLE: region %u has no size or no valid fd",
					i);
		region_wire(g, &m.regions[i]);
		fds[i] = g->fd;
	}
	rc = vhu_request(s, VHOST_USER_SET_MEM_TABLE, &m, 8 + 32 * n, fds, n, NULL);
	/* The new table replaces the whole old one (spec SET_MEM_TABLE). */
	if (!rc)
		for (unsigned i = 0; i < r->nregions; i++)
			r->regions[i].sent = i >= first && i < first + n;
	return rc;
}

int vhu_add_mem_reg(struct vhu_session *s, struct vhu_res *r, unsigned idx)
{
	struct vhost_user_mem_reg_msg m = { 0 };
	unsigned used = 0;
	int rc;

	if (idx >= r->nregions || r->regions[idx].fd < 0 || !r->regions[idx].size)
		return vhu_fail(s, VHU_E_USAGE, "ADD_MEM_REG: region without size or fd");
	for (unsigned i = 0; i < r->nregions; i++)
		used += r->regions[i].sent;
	if (r->max_mem_slots && used >= r->max_mem_slots)
		return vhu_fail(s, VHU_E_USAGE, "ADD_MEM_REG: all %llu memory %s of the back-end are in use",
				(unsigned long long)r->max_mem_slots,
				VHU_PLURAL(r->max_mem_slots, "slot", "slots"));
	region_wire(&r->regions[idx], &m.region);
	rc = vhu_request(s, VHOST_USER_ADD_MEM_REG, &m, sizeof(m), &r->regions[idx].fd, 1, NULL);
	if (!rc)
		r->regions[idx].sent = true;
	return rc;
}

int vhu_rem_mem_reg(struct vhu_session *s, struct vhu_res *r, unsigned idx)
{
	struct vhost_user_mem_reg_msg m = { 0 };
	struct vhu_region *g;
	int rc;

	if (idx >= r->nregions || !r->regions[idx].size)
		return vhu_fail(s, VHU_E_USAGE, "REM_MEM_REG: no region %u in this session", idx);
	g = &r->regions[idx];
	/* A back-end that no longer has the region may drop the connection
	 * on a second REM_MEM_REG (qemu-storage-daemon acks, then closes). */
	if (!g->sent && !s->force)
		return vhu_fail(s, VHU_E_USAGE, "REM_MEM_REG: region %u %s (--force sends it anyway)", idx,
				g->removed ? "was removed earlier in this session"
					   : "is not in the back-end's memory table (a later SET_MEM_TABLE "
					     "replaced it)");
	region_wire(g, &m.region);
	rc = vhu_request(s, VHOST_USER_REM_MEM_REG, &m, sizeof(m), NULL, 0, NULL);
	if (rc)
		return rc;
	/* The back-end unmapped it: so do we, and nothing may point into it. */
	if (g->map)
		munmap(g->map, g->size);
	if (g->fd >= 0)
		close(g->fd);
	g->map = NULL;
	g->fd = -1;
	g->sent = false;
	g->removed = true;
	return VHU_OK;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int vhu_ring_layout(struct vhu_session *s, struct vhu_res *r, uint32_t index, uint32_t num,
		    struct vhost_vring_addr *addr)
{
	uint64_t desc = 0, avail = 0, used = 0, end = 0;
	struct vhu_region *g = NULL;
	bool any = false;

	if (num == 0 || num > 32768 || (num & (num - 1)))
		return vhu_fail(s, VHU_E_USAGE,
				"SET_VRING_ADDR: ring size %u is not a power of 2 in 1..32768", num);
	/* Only memory the back-end has mapped: not a removed region, not
	 * one a later SET_MEM_TABLE replaced. */
	for (unsigned i = 0; i < r->nregions && !g; i++) {
		struct vhu_region *c = &r->regions[i];

		if (!c->sent || c->removed || !c->map)
			continue;
		any = true;
		/* Split ring: desc 16*num, avail 6+2*num, used 6+8*num (virtio
		 * spec "Virtqueue Part Sizes"); each ring starts on its own page. */
		desc = align_up(c->alloc, 4096);
		avail = desc + 16ull * num;
		used = align_up(avail + 6 + 2ull * num, 4096);
		end = used + 6 + 8ull * num;
		if (end <= c->size)
			g = c;
	}
	if (!any)
		return vhu_fail(s, VHU_E_USAGE,
				"SET_VRING_ADDR: --auto needs a memory region in the back-end's table "
				"(set-mem-table or "
				"add-mem-reg first)");
	if (!g)
		return vhu_fail(s, VHU_E_USAGE,
				"SET_VRING_ADDR: no memory region has room for another ring of %u", num);
	memset((uint8_t *)g->map + desc, 0, end - desc);
	g->alloc = end;
	*addr = (struct vhost_vring_addr){ .index = index,
					   .flags = 0,
					   .desc_user_addr = g->uva + desc,
					   .used_user_addr = g->uva + used,
					   .avail_user_addr = g->uva + avail,
					   .log_guest_addr = g->gpa + used };
	return VHU_OK;
}

int vhu_ring_check(struct vhu_session *s, const struct vhu_res *r, const char *req, uint64_t index)
{
	/* Net back-ends count queue pairs in GET_QUEUE_NUM: DPDK answers 128
	 * and takes rings up to 255, QEMU reads it as pairs too. */
	uint64_t rings = r->queue_pairs ? 2 * r->queue_num : r->queue_num;

	if (rings && index >= rings && s->force) {
		vhu_note(s, VHU_DIR_SEND, "--force: ring %llu beyond the %llu the back-end reports",
			 (unsigned long long)index, (unsigned long long)rings);
	} else if (rings && index >= rings) {
		if (r->queue_pairs)
			return vhu_fail(s, VHU_E_USAGE,
					"%s: ring %llu is beyond the back-end's %llu queue pairs (%llu "
					"rings; --force "
					"sends it anyway)",
					req, (unsigned long long)index, (unsigned long long)r->queue_num,
					(unsigned long long)rings);
		return vhu_fail(s, VHU_E_USAGE,
				"%s: ring %llu is beyond the back-end's %llu %s (net back-ends count queue "
				"pairs: give "
				"-T net; --force sends it anyway)",
				req, (unsigned long long)index, (unsigned long long)r->queue_num,
				VHU_PLURAL(r->queue_num, "queue", "queues"));
	}
	if (index >= VHU_MAX_FD_VRINGS)
		return vhu_fail(s, VHU_E_USAGE, "%s: ring %llu cannot be addressed (8-bit ring index)", req,
				(unsigned long long)index);
	return VHU_OK;
}

bool vhu_ring_packed(const struct vhu_session *s)
{
	return s->features_set && (s->acked_features & VHU_BIT(VIRTIO_F_RING_PACKED));
}

int vhu_ring_eventfd(struct vhu_session *s, struct vhu_res *r, uint32_t code, uint32_t index, int *fd)
{
	int *slot = code == VHOST_USER_SET_VRING_KICK	? &r->kick[index]
		    : code == VHOST_USER_SET_VRING_CALL ? &r->call[index]
							: &r->err[index];

	if (*slot < 0) {
		const struct vhu_req_desc *d = vhu_req_by_code(code);

		*slot = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (*slot < 0)
			return vhu_fail(s, VHU_E_IO, "%s: eventfd: %s", d ? d->name : "eventfd",
					vhu_strerror(errno));
	}
	*fd = *slot;
	return VHU_OK;
}

uint64_t vhu_inflight_stride(uint16_t qs)
{
	return align_up(16 + 16 * (uint64_t)qs, 64);
}

int vhu_get_inflight_fd(struct vhu_session *s, struct vhu_res *r, uint16_t nq, uint16_t qs)
{
	struct vhost_user_inflight req = { 0, 0, nq, qs, 0 }, rep;
	struct vhu_msg m;
	struct stat st;
	int rc;

	if (!nq || !qs)
		return vhu_fail(s, VHU_E_USAGE, "GET_INFLIGHT_FD: queues and queue size must be at least 1");
	rc = vhu_request(s, VHOST_USER_GET_INFLIGHT_FD, &req, sizeof(req), NULL, 0, &m);
	if (rc)
		return rc;
	memcpy(&rep, m.payload, sizeof(rep));
	/* mmap_size 0 means "no buffer", and then no fd (spec, QEMU). */
	if (rep.mmap_size == 0) {
		if (m.nfds) {
			vhu_msg_close_fds(&m);
			return vhu_fail(s, VHU_E_PROTO,
					"GET_INFLIGHT_FD: fd attached to an empty (mmap_size 0) reply");
		}
	} else if (m.nfds != 1) {
		return vhu_fail(s, VHU_E_PROTO, "GET_INFLIGHT_FD: mmap_size %llu but no fd attached",
				(unsigned long long)rep.mmap_size);
	} else if (fstat(m.fds[0], &st) < 0 || !S_ISREG(st.st_mode)) {
		vhu_msg_close_fds(&m);
		return vhu_fail(s, VHU_E_PROTO, "GET_INFLIGHT_FD: the fd is not a memory file");
	} else if (rep.mmap_offset + rep.mmap_size < rep.mmap_offset ||
		   (uint64_t)st.st_size < rep.mmap_offset + rep.mmap_size) {
		vhu_msg_close_fds(&m);
		return vhu_fail(s, VHU_E_PROTO,
				"GET_INFLIGHT_FD: fd of %lld bytes is smaller than offset %llu + size %llu",
				(long long)st.st_size, (unsigned long long)rep.mmap_offset,
				(unsigned long long)rep.mmap_size);
	}
	if (r->inflight_fd >= 0)
		close(r->inflight_fd);
	r->inflight_fd = m.nfds ? m.fds[0] : -1;
	r->inflight = rep;
	return VHU_OK;
}

int vhu_set_inflight_fd(struct vhu_session *s, struct vhu_res *r)
{
	const struct vhost_user_inflight *i = &r->inflight;

	if (!i->mmap_size || !i->num_queues || !i->queue_size || r->inflight_fd < 0)
		return vhu_fail(
			s, VHU_E_USAGE,
			"SET_INFLIGHT_FD: no inflight buffer in this session (run get-inflight-fd first)");
	return vhu_request(s, VHOST_USER_SET_INFLIGHT_FD, i, sizeof(*i), &r->inflight_fd, 1, NULL);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void vhu_inflight_decode(const uint8_t *buf, size_t len, uint16_t qs, unsigned q,
			 struct vhu_inflight_queue *out)
{
	uint64_t base = vhu_inflight_stride(qs) * q;

	memset(out, 0, sizeof(*out));
	if (base + 16 > len)
		return;
	out->present = true;
	memcpy(&out->features, buf + base, 8);
	out->version = rd16(buf + base + 8);
	out->desc_num = rd16(buf + base + 10);
	out->last_batch_head = rd16(buf + base + 12);
	out->used_idx = rd16(buf + base + 14);
	/* Entries: 0:1 inflight flag, 6:2 next, 8:8 counter.  Trust
	 * neither desc_num nor qs beyond the buffer. */
	for (unsigned d = 0; d < out->desc_num && d < qs; d++) {
		uint64_t e = base + 16 + 16ull * d;

		if (e + 16 > len) {
			out->truncated = true;
			break;
		}
		if (buf[e]) {
			if (out->inflight < sizeof(out->heads) / sizeof(out->heads[0]))
				out->heads[out->inflight] = (uint16_t)d;
			out->inflight++;
		}
	}
}

/* pread exactly @len bytes at @off unless the file ends first; the bytes
 * read, or -1 (errno). */
static ssize_t pread_upto(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int vhu_inflight_read(struct vhu_session *s, int fd, const struct vhost_user_inflight *in, unsigned q,
		      int64_t deadline, struct vhu_inflight_queue *out)
{
	uint8_t hdr[16], ent[4096];
	uint64_t len = in->mmap_size, base = vhu_inflight_stride(in->queue_size) * q, want;
	uint16_t qs = in->queue_size;
	ssize_t n;
	unsigned d;

	memset(out, 0, sizeof(*out));
	if (base + 16 > len)
		return VHU_OK;
	n = pread_upto(fd, hdr, sizeof(hdr), in->mmap_offset + base);
	if (n < 0)
		return vhu_fail(s, VHU_E_IO, "GET_INFLIGHT_FD: reading the buffer: %s", strerror(errno));
	if (n < (ssize_t)sizeof(hdr))
		return VHU_OK; /* the back-end shrank the file since GET_INFLIGHT_FD */
	out->present = true;
	memcpy(&out->features, hdr, 8);
	out->version = rd16(hdr + 8);
	out->desc_num = rd16(hdr + 10);
	out->last_batch_head = rd16(hdr + 12);
	out->used_idx = rd16(hdr + 14);
	/* Entries as vhu_inflight_decode(): neither desc_num nor qs is
	 * trusted beyond mmap_size; read in small pieces, each within
	 * --timeout, however large the buffer claims to be. */
	want = out->desc_num < qs ? out->desc_num : qs;
	for (d = 0; d < want;) {
		uint64_t e = base + 16 + 16ull * d, k = want - d;

		if (e + 16 > len) {
			out->truncated = true;
			break;
		}
		if (k > sizeof(ent) / 16)
			k = sizeof(ent) / 16;
		if (k > (len - e) / 16)
			k = (len - e) / 16;
		if (vhu_intr_status())
			return vhu_fail(s, vhu_intr_status(),
					"GET_INFLIGHT_FD: interrupted by %s while decoding queue %u",
					vhu_intr_name(vhu_intr_signo()), q);
		if (deadline >= 0 && vhu_now_ms() >= deadline)
			return vhu_fail(s, VHU_E_TIMEOUT,
					"GET_INFLIGHT_FD: decoding the buffer took longer than --timeout (at "
					"queue %u of %u)",
					q, in->num_queues);
		n = pread_upto(fd, ent, (size_t)k * 16, in->mmap_offset + e);
		if (n < 0)
			return vhu_fail(s, VHU_E_IO, "GET_INFLIGHT_FD: reading the buffer: %s",
					strerror(errno));
		for (uint64_t i = 0; i < (uint64_t)n / 16; i++, d++) {
			if (!ent[16 * i])
				continue;
			if (out->inflight < sizeof(out->heads) / sizeof(out->heads[0]))
				out->heads[out->inflight] = (uint16_t)d;
			out->inflight++;
		}
		if ((uint64_t)n < k * 16) {
			out->truncated = true; /* the file ends early */
			break;
		}
	}
	return VHU_OK;
}

int vhu_set_log_base(struct vhu_session *s, struct vhu_res *r, uint64_t size, bool with_fd)
{
	bool shmfd = vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	struct vhost_user_log log = { size, 0 };
	int fd;

	if (shmfd != with_fd)
		return vhu_fail(s, VHU_E_USAGE, "SET_LOG_BASE: %s",
				shmfd ? "LOG_SHMFD is negotiated, so a log fd is required"
				      : "an fd needs VHOST_USER_PROTOCOL_F_LOG_SHMFD negotiated");
	if (!with_fd)
		return vhu_request(s, VHOST_USER_SET_LOG_BASE, &size, sizeof(size), NULL, 0, NULL);
	if (!size)
		return vhu_fail(s, VHU_E_USAGE, "SET_LOG_BASE: log size must be at least 1 byte");
	fd = memfd_create("vhuctl-log", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return vhu_fail(s, VHU_E_IO, "SET_LOG_BASE: cannot create a %llu-byte log: %s",
				(unsigned long long)size, vhu_strerror(e));
	}
	if (r->log_fd >= 0)
		close(r->log_fd);
	r->log_fd = fd;
	return vhu_request(s, VHOST_USER_SET_LOG_BASE, &log, sizeof(log), &fd, 1, NULL);
}

int vhu_set_log_fd(struct vhu_session *s, struct vhu_res *r)
{
	if (r->log_event_fd < 0) {
		r->log_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r->log_event_fd < 0)
			return vhu_fail(s, VHU_E_IO, "SET_LOG_FD: eventfd: %s", vhu_strerror(errno));
	}
	return vhu_request(s, VHOST_USER_SET_LOG_FD, NULL, 0, &r->log_event_fd, 1, NULL);
}
