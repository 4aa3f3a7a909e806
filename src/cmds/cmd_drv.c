/* SPDX-License-Identifier: Apache-2.0 */
/* Driver options shared by setup and the device commands, how a driver run
 * is shown, and where the data a device command reads goes. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cmds/cmd_drv.h"
#include "render/out.h"
#include "util/hex.h"
#include "util/intr.h"
#include "util/parse.h"

void vhu_drv_args_init(struct vhu_drv_args *a)
{
	memset(a, 0, sizeof(*a));
	a->o.layout = VHU_VQ_SPLIT;
	a->o.notify = VHU_NOTIFY_EVENT;
}

static int on_off(struct argp_state *state, const char *opt, const char *arg, enum vhu_drv_choice *c)
{
	if (!strcmp(arg, "on"))
		*c = VHU_DRV_ON;
	else if (!strcmp(arg, "off"))
		*c = VHU_DRV_OFF;
	else {
		vhu_argp_error(state, "invalid %s '%s' (on or off)", opt, arg);
		return EINVAL;
	}
	return 0;
}

error_t vhu_drv_parse_opt(int key, char *arg, struct argp_state *state, struct vhu_drv_args *a)
{
	uint64_t v;

	switch (key) {
	case VHU_DRV_OPT_RING:
		if (!strcmp(arg, "split"))
			a->o.layout = VHU_VQ_SPLIT;
		else if (!strcmp(arg, "packed"))
			a->o.layout = VHU_VQ_PACKED;
		else {
			vhu_argp_error(state, "invalid --ring '%s' (split or packed)", arg);
			return EINVAL;
		}
		return 0;
	case VHU_DRV_OPT_EVENT_IDX: return on_off(state, "--event-idx", arg, &a->o.event_idx);
	case VHU_DRV_OPT_INDIRECT: return on_off(state, "--indirect", arg, &a->o.indirect);
	case VHU_DRV_OPT_QUEUE_SIZE:
		if (vhu_parse_u64(arg, VHU_VQ_MAX_SIZE, &v) || !v) {
			vhu_argp_error(state, "invalid --queue-size '%s' (1..%u)", arg, VHU_VQ_MAX_SIZE);
			return EINVAL;
		}
		a->o.queue_size = (uint32_t)v;
		return 0;
	case VHU_DRV_OPT_MEMORY:
		if (vhu_parse_size(arg, &v) || !v || v > VHU_MEM_MAX_REGION) {
			vhu_argp_error(state, "invalid --memory '%s' (e.g. 64M, at most 64T)", arg);
			return EINVAL;
		}
		a->o.mem_size = v;
		return 0;
	case VHU_DRV_OPT_BACKING:
		if (strcmp(arg, "memfd") && (strncmp(arg, "file:", 5) || !arg[5])) {
			vhu_argp_error(state, "invalid --backing '%s' (memfd or file:PATH)", arg);
			return EINVAL;
		}
		a->o.backing = strcmp(arg, "memfd") ? arg + 5 : NULL;
		return 0;
	case VHU_DRV_OPT_HUGETLB: a->o.hugetlb = true; return 0;
	case VHU_DRV_OPT_IOMMU: a->o.iommu = true; return 0;
	case VHU_DRV_OPT_GPA_BASE:
		/* Page aligned, and room for the largest region above it. */
		if (vhu_parse_size(arg, &v) || (v & 4095) || v > UINT64_MAX - VHU_MEM_MAX_REGION) {
			vhu_argp_error(state,
				       "invalid --gpa-base '%s' (a multiple of 4096, e.g. 4G or 0x100000000)",
				       arg);
			return EINVAL;
		}
		a->o.gpa_base = v;
		a->o.have_gpa_base = true;
		return 0;
	case VHU_DRV_OPT_NOTIFY:
		if (!strcmp(arg, "poll"))
			a->o.notify = VHU_NOTIFY_POLL;
		else if (!strcmp(arg, "event"))
			a->o.notify = VHU_NOTIFY_EVENT;
		else {
			vhu_argp_error(state, "invalid --notify '%s' (event or poll)", arg);
			return EINVAL;
		}
		return 0;
	case VHU_DRV_OPT_QUEUE:
		if (vhu_parse_u64(arg, VHU_MAX_FD_VRINGS - 1, &v)) {
			vhu_argp_error(state, "invalid --queue '%s' (0..%u)", arg, VHU_MAX_FD_VRINGS - 1);
			return EINVAL;
		}
		a->queue = (uint32_t)v;
		return 0;
	default: return ARGP_ERR_UNKNOWN;
	}
}

int vhu_drv_args_check(struct vhu_ctx *ctx, const struct vhu_drv_args *a)
{
	uint32_t qs = a->o.queue_size;

	if (a->o.layout == VHU_VQ_SPLIT && qs && (qs & (qs - 1)))
		return vhu_usage(ctx, "--queue-size %u: a split ring's size is a power of 2", qs);
	if (a->o.hugetlb && a->o.backing)
		return vhu_usage(ctx, "--hugetlb is for memfd backing; a file on hugetlbfs is huge already");
	return VHU_OK;
}

void vhu_show_driver(const struct vhu_drv *d, bool io)
{
	vhu_out_open("driver", "Driver");
	vhu_out_string("ring", "Ring layout", d->o.layout == VHU_VQ_PACKED ? "packed" : "split");
	vhu_out_bool("event_idx", "Event idx", d->event_idx);
	vhu_out_bool("indirect", "Indirect descriptors", d->indirect);
	vhu_out_uint("queue_size", "Queue size", d->o.queue_size, NULL);
	vhu_out_hex("gpa_base", "Guest-physical base", d->mem_gpa, 1);
	vhu_out_uint("memory", "Guest memory", d->mem_size, "bytes");
	if (d->iommu) {
		vhu_out_bool("iommu", "IOMMU", true);
		vhu_out_uint("iotlb_misses", "IOTLB misses", d->iotlb_misses, NULL);
		vhu_out_uint("iotlb_updates", "IOTLB updates", d->iotlb_updates, NULL);
	}
	if (io) {
		vhu_out_string("notify", "Notify", d->o.notify == VHU_NOTIFY_POLL ? "poll" : "event");
		vhu_out_open_list("queues", "Queues");
		for (unsigned i = 0; i < d->nq; i++) {
			const struct vhu_drv_queue *q = &d->q[i];
			char label[24];

			snprintf(label, sizeof(label), "queue %u", q->index);
			vhu_out_open(NULL, label);
			vhu_out_uint("queue", "queue", q->index, NULL);
			vhu_out_uint("requests", "requests", q->vq.stats.added, NULL);
			vhu_out_uint("completed", "completed", q->vq.stats.completed, NULL);
			vhu_out_uint("indirect", "via indirect tables", q->vq.stats.indirect, NULL);
			vhu_out_uint("kicks", "kicks", q->kicks, NULL);
			vhu_out_uint("kicks_suppressed", "kicks suppressed", q->vq.stats.kicks_suppressed,
				     NULL);
			vhu_out_uint("call_waits", "call waits", q->call_waits, NULL);
			if (q->stopped)
				vhu_out_uint("stop_base", "base at stop", q->stop_base, NULL);
			vhu_out_close();
		}
		vhu_out_close_list();
	}
	vhu_out_close();
}

const struct vhu_drv_step *vhu_show_steps(const struct vhu_drv *d, unsigned first)
{
	const struct vhu_drv_step *failed = NULL;
	unsigned end = d->nsteps;

	if (end > first && d->steps[end - 1].rc) {
		failed = &d->steps[end - 1];
		end--;
	}
	vhu_out_open_list("steps", "Steps");
	for (unsigned i = first; i < end; i++) {
		const struct vhu_drv_step *st = &d->steps[i];
		const char *name = vhu_drv_step_name(st);

		if (!vhu_out_is_json()) {
			if (st->ring >= 0)
				vhu_out_text("%s ring %d: ok", name, st->ring);
			else
				vhu_out_text("%s: ok", name);
			continue;
		}
		/* Like batch steps: an object each, the ring for ring steps. */
		vhu_out_open(NULL, name);
		vhu_out_string("request", "request", name);
		if (st->ring >= 0)
			vhu_out_uint("ring", "ring", (uint64_t)st->ring, NULL);
		vhu_out_close();
	}
	vhu_out_close_list();
	return failed;
}

/* ---- the data sink ---- */

int vhu_drv_sink_open(struct vhu_drv_sink *k, struct vhu_session *s, const char *path, bool to_stdout)
{
	memset(k, 0, sizeof(*k));
	k->s = s;
	k->path = path;
	k->to_stdout = to_stdout;
	SHA256Init(&k->sha);
	vhu_outfile_init(&k->f);
	if (!path)
		return VHU_OK;
	switch (vhu_outfile_create(&k->f, path, 0)) {
	case VHU_OUTFILE_OK: return VHU_OK;
	case VHU_OUTFILE_BAD_TARGET: return vhu_fail(s, VHU_E_USAGE, "%s", k->f.err);
	default: return vhu_fail(s, VHU_E_IO, "%s", k->f.err);
	}
}

int vhu_drv_sink_write(struct vhu_drv_sink *k, const uint8_t *buf, size_t len)
{
	int e;

	SHA256Update(&k->sha, buf, len);
	k->bytes += len;
	for (size_t done = 0; k->f.fd >= 0 && done < len;) {
		ssize_t n = write(k->f.fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vhu_fail(k->s, VHU_E_IO, "%s: %s", k->path, strerror(n < 0 ? errno : EIO));
		done += (size_t)n;
	}
	if (k->to_stdout && (e = vhu_out_raw(buf, len)))
		return vhu_fail(k->s, VHU_E_IO, "stdout: %s", strerror(e));
	return VHU_OK;
}

int vhu_drv_sink_commit(struct vhu_drv_sink *k)
{
	if (!k->path)
		return VHU_OK;
	switch (vhu_outfile_commit(&k->f)) {
	case VHU_OUTFILE_OK: return VHU_OK;
	case VHU_OUTFILE_INTERRUPTED:
		return vhu_fail(k->s, vhu_intr_status() ? vhu_intr_status() : VHU_E_IO, "%s", k->f.err);
	case VHU_OUTFILE_BAD_TARGET: return vhu_fail(k->s, VHU_E_USAGE, "%s", k->f.err);
	default: return vhu_fail(k->s, VHU_E_IO, "%s", k->f.err);
	}
}

void vhu_drv_sink_abort(struct vhu_drv_sink *k)
{
	vhu_outfile_abort(&k->f);
}

void vhu_drv_sink_digest(struct vhu_drv_sink *k, char hex[65])
{
	uint8_t d[32];

	SHA256Final(d, &k->sha);
	vhu_format_hex(d, sizeof(d), hex);
}
