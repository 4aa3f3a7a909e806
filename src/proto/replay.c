/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay of the session's log on a new connection (see replay.h).
 */
#include "proto/replay.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

void vhu_replay_report_free(struct vhu_replay_report *rep)
{
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

static void note(struct vhu_replay_report *rep, uint32_t code, int32_t ring)
{
	if (rep->n == rep->cap) {
		unsigned cap = rep->cap ? rep->cap * 2 : 32;
		struct vhu_replay_item *it = realloc(rep->items, sizeof(*it) * cap);

		if (!it)
			return; /* the report is shorter; the replay goes on */
		rep->items = it;
		rep->cap = cap;
	}
	rep->items[rep->n++] = (struct vhu_replay_item){ code, ring };
}

static uint64_t u64_at(const struct vhu_replay_rec *e)
{
	uint64_t v = 0;

	if (e->len) /* header-only requests keep no payload (NULL) */
		memcpy(&v, e->payload, e->len < 8 ? e->len : 8);
	return v;
}

/* The ring a logged request is about, or -1. */
static int32_t rec_ring(const struct vhu_replay_rec *e)
{
	uint32_t idx;

	switch (e->code) {
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ADDR:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
		if (e->len < 4)
			return -1;
		memcpy(&idx, e->payload, 4);
		return (int32_t)(idx & 0x7fffffff);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR: return (int32_t)(u64_at(e) & VHOST_USER_VRING_IDX_MASK);
	default: return -1;
	}
}

/* The region of @r a wire description names (same addresses and size),
 * or -1. */
static int find_region(const struct vhu_res *r, const struct vhost_user_memory_region *w)
{
	for (unsigned i = 0; i < r->nregions; i++) {
		const struct vhu_region *g = &r->regions[i];

		if (g->gpa == w->guest_phys_addr && g->size == w->memory_size &&
		    g->uva == w->userspace_addr && g->mmap_offset == w->mmap_offset)
			return (int)i;
	}
	return -1;
}

/* The live region (its fd still open) an ADD_MEM_REG or REM_MEM_REG
 * record names, or -1. */
static int mem_reg_region(const struct vhu_res *r, const struct vhu_replay_rec *e)
{
	struct vhost_user_mem_reg_msg m = { 0 };
	int g;

	memcpy(&m, e->payload, e->len < sizeof(m) ? e->len : sizeof(m));
	g = find_region(r, &m.region);
	return g >= 0 && r->regions[g].fd >= 0 ? g : -1;
}

/* The last SET_VRING_@what (NUM, ADDR) of @ring in @log, or NULL. */
static const struct vhu_replay_rec *last_of(const struct vhu_replay_log *log, uint32_t code, uint32_t ring)
{
	for (unsigned i = log->n; i-- > 0;)
		if (log->rec[i].code == code && rec_ring(&log->rec[i]) == (int32_t)ring)
			return &log->rec[i];
	return NULL;
}

/*
 * Where a ring resumes when nobody drives it: split, the used index in
 * guest memory; packed, a fresh ring.  False: its rings are not in
 * vhuctl's memory, keep the base as sent.
 */
static bool base_from_memory(const struct vhu_session *s, struct vhu_res *r, const struct vhu_replay_log *log,
			     uint32_t ring, uint32_t *base)
{
	const struct vhu_replay_rec *a = last_of(log, VHOST_USER_SET_VRING_ADDR, ring);
	const struct vhu_replay_rec *n = last_of(log, VHOST_USER_SET_VRING_NUM, ring);
	struct vhost_vring_addr addr;
	uint32_t num = 0;

	if (!a || a->len < sizeof(addr))
		return false;
	memcpy(&addr, a->payload, sizeof(addr));
	if (n && n->len >= 8)
		memcpy(&num, n->payload + 4, 4);
	if (vhu_ring_packed(s)) {
		uint8_t *desc = num ? vhu_res_ptr(r, addr.desc_user_addr, (uint64_t)num * 16) : NULL;

		if (!desc)
			return false;
		/* Spec "Packed Virtqueues": both wrap counters start at 1;
		 * cleared descriptors are neither available nor used. */
		memset(desc, 0, (size_t)num * 16);
		*base = 0x8000;
		return true;
	}
	/* Spec "The Virtqueue Used Ring": idx at offset 2, written by the
	 * device with a 16-bit store. */
	uint16_t *used = vhu_res_ptr(r, addr.used_user_addr + 2, 2);

	if (!used)
		return false;
	*base = __atomic_load_n(used, __ATOMIC_ACQUIRE);
	return true;
}

static int replay_one(struct vhu_session *s, struct vhu_res *r, struct vhu_chan *c,
		      const struct vhu_replay_hooks *h, const struct vhu_replay_log *log,
		      const struct vhu_replay_rec *e, struct vhu_replay_report *rep)
{
	const struct vhu_req_desc *d = vhu_req_by_code(e->code);
	const char *name = d ? d->name : "?";
	int32_t ring = rec_ring(e);
	int fds[VHOST_MEMORY_BASELINE_NREGIONS];
	unsigned nfds = 0;
	uint64_t v = u64_at(e), lost;
	int rc;

	switch (e->code) {
	case VHOST_USER_SET_FEATURES:
		lost = v & ~s->features;
		if (lost)
			return vhu_fail(s, VHU_E_UNSUPPORTED,
					"SET_FEATURES: the back-end no longer offers feature bits 0x%llx "
					"acked before",
					(unsigned long long)lost);
		note(rep, e->code, -1);
		return vhu_set_features(s, v);
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (!s->have_protocol) {
			uint64_t pf;

			note(rep, VHOST_USER_GET_PROTOCOL_FEATURES, -1);
			if ((rc = vhu_get_protocol_features(s, &pf)))
				return rc;
		}
		lost = v & ~s->protocol;
		if (lost)
			return vhu_fail(s, VHU_E_UNSUPPORTED,
					"SET_PROTOCOL_FEATURES: the back-end no longer offers protocol "
					"features 0x%llx "
					"negotiated before",
					(unsigned long long)lost);
		note(rep, e->code, -1);
		return vhu_set_protocol_features(s, v);
	case VHOST_USER_SET_OWNER: note(rep, e->code, -1); return vhu_set_owner(s);
	case VHOST_USER_SET_MEM_TABLE: {
		struct vhost_user_memory m = { 0 };

		memcpy(&m, e->payload, e->len < sizeof(m) ? e->len : sizeof(m));
		if (m.nregions > VHOST_MEMORY_BASELINE_NREGIONS)
			return vhu_fail(s, VHU_E_USAGE, "SET_MEM_TABLE: logged table of %u regions",
					m.nregions);
		for (unsigned i = 0; i < m.nregions; i++) {
			int g = find_region(r, &m.regions[i]);

			if (g < 0 || r->regions[g].fd < 0)
				return vhu_fail(s, VHU_E_USAGE,
						"SET_MEM_TABLE: region %u (guest address 0x%llx) is no "
						"longer in this "
						"session",
						i, (unsigned long long)m.regions[i].guest_phys_addr);
			fds[nfds++] = r->regions[g].fd;
		}
		note(rep, e->code, -1);
		rc = vhu_request(s, e->code, e->payload, e->len, fds, nfds, NULL);
		if (!rc)
			for (unsigned i = 0; i < r->nregions; i++) {
				r->regions[i].sent = false;
				for (unsigned j = 0; j < m.nregions; j++)
					if (find_region(r, &m.regions[j]) == (int)i)
						r->regions[i].sent = true;
			}
		return rc;
	}
	case VHOST_USER_ADD_MEM_REG: {
		int g = mem_reg_region(r, e);

		/* Removed later in the session: its REM_MEM_REG follows. */
		if (g < 0)
			return VHU_OK;
		note(rep, e->code, -1);
		return vhu_request(s, e->code, e->payload, e->len, &r->regions[g].fd, 1, NULL);
	}
	case VHOST_USER_REM_MEM_REG:
		/* Only the regions the replay added again go again. */
		if (mem_reg_region(r, e) < 0)
			return VHU_OK;
		break;
	case VHOST_USER_SET_LOG_BASE:
		if (e->len == sizeof(struct vhost_user_log)) {
			if (r->log_fd < 0)
				return vhu_fail(s, VHU_E_USAGE,
						"SET_LOG_BASE: the log is no longer in this session");
			fds[nfds++] = r->log_fd;
		}
		break;
	case VHOST_USER_SET_LOG_FD:
		if (r->log_event_fd < 0)
			return vhu_fail(s, VHU_E_USAGE,
					"SET_LOG_FD: the eventfd is no longer in this session");
		fds[nfds++] = r->log_event_fd;
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		if (!(v & VHOST_USER_VRING_NOFD_MASK)) {
			int fd = e->code == VHOST_USER_SET_VRING_KICK	? r->kick[ring]
				 : e->code == VHOST_USER_SET_VRING_CALL ? r->call[ring]
									: r->err[ring];

			if (fd < 0)
				return vhu_fail(s, VHU_E_USAGE, "%s: ring %d has no eventfd in this session",
						name, ring);
			fds[nfds++] = fd;
		}
		break;
	case VHOST_USER_SET_VRING_BASE: {
		struct vhost_vring_state st;
		uint32_t base;

		memcpy(&st, e->payload, sizeof(st));
		if ((h && h->ring_base && h->ring_base(h->arg, st.index, &base)) ||
		    base_from_memory(s, r, log, st.index, &base))
			st.num = base;
		note(rep, e->code, ring);
		return vhu_request(s, e->code, &st, sizeof(st), NULL, 0, NULL);
	}
	case VHOST_USER_SET_BACKEND_REQ_FD:
		if (!c)
			return VHU_OK;
		note(rep, e->code, -1);
		return vhu_chan_open(s, c);
	case VHOST_USER_GET_INFLIGHT_FD:
		/* The buffer the first back-end gave goes to the new one
		 * (QEMU: GET_INFLIGHT_FD once, SET_INFLIGHT_FD on every
		 * start): what it tracked survives the restart.  Once, when
		 * a SET_INFLIGHT_FD follows anyway. */
		if (r->inflight_fd < 0 || !vhu_pf_acked(s, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))
			return VHU_OK;
		for (const struct vhu_replay_rec *x = e + 1; x < log->rec + log->n; x++)
			if (x->code == VHOST_USER_SET_INFLIGHT_FD)
				return VHU_OK;
		note(rep, VHOST_USER_SET_INFLIGHT_FD, -1);
		return vhu_set_inflight_fd(s, r);
	case VHOST_USER_SET_INFLIGHT_FD: note(rep, e->code, -1); return vhu_set_inflight_fd(s, r);
	default: break;
	}
	note(rep, e->code, ring);
	return vhu_request(s, e->code, e->payload, e->len, fds, nfds, NULL);
}

int vhu_replay(struct vhu_session *s, struct vhu_res *r, struct vhu_chan *c, const struct vhu_replay_hooks *h,
	       struct vhu_replay_report *rep)
{
	struct vhu_replay_log old = s->log;
	bool record = s->record;
	uint64_t v;
	int rc;

	if (old.overflow)
		return vhu_fail(s, VHU_E_USAGE, "reconnect: too many requests to replay (more than %u)",
				VHU_REPLAY_MAX);
	/* The requests replayed make the new log, as if sent for the first
	 * time; the old one comes back if this connection fails too. */
	memset(&s->log, 0, sizeof(s->log));
	s->record = true;
	note(rep, VHOST_USER_GET_FEATURES, -1);
	rc = vhu_get_features(s, &v);
	for (unsigned i = 0; !rc && i < old.n; i++)
		rc = replay_one(s, r, c, h, &old, &old.rec[i], rep);
	s->record = record;
	if (rc) {
		struct vhu_replay_log fresh = s->log;

		s->log = old;
		for (unsigned i = 0; i < fresh.n; i++)
			free(fresh.rec[i].payload);
		free(fresh.rec);
		return rc;
	}
	for (unsigned i = 0; i < old.n; i++)
		free(old.rec[i].payload);
	free(old.rec);
	return VHU_OK;
}
