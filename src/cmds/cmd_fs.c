/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs ls PATH | cat PATH [-o FILE] | stat PATH
 *
 * Each is one whole session with a virtio-fs back-end (virtiofsd): the
 * driver's bring-up (src/driver) of hiprio and one request queue,
 * FUSE_INIT, the LOOKUP walk of PATH and the operation (src/dev/fs.c),
 * FORGET of every node looked up, the orderly stop.
 *
 * Order: operands and files first (a bad command line or an unusable -o
 * FILE sends nothing), then the probe (features; the config space when
 * CONFIG is offered: tag, request queues), the local checks against it,
 * and only then SET_OWNER and the rest.  Data goes through the driver
 * commands' sink (cmd_drv.h), so -o FILE is replaced whole or not at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds/cmd_drv.h"
#include "dev/fs.h"
#include "render/fuse.h"
#include "render/out.h"
#include "util/text.h"

enum { OPT_OUTPUT = 'o', OPT_QUEUE_FS = 0x900 };

enum fs_op { OP_LS, OP_CAT, OP_STAT };

static const char *const op_names[] = { [OP_LS] = "ls", [OP_CAT] = "cat", [OP_STAT] = "stat" };

struct fs_args {
	struct vhu_drv_args d;
	const char *op[3];
	unsigned nop;
	const char *output;
};

static const struct argp_option fs_opts[] = {
	{ "output", OPT_OUTPUT, "FILE", 0, "cat: write the data to FILE (atomically) instead of stdout", 0 },
	VHU_DRV_RING_OPTIONS,
	VHU_DRV_NOTIFY_OPTION,
	{ "queue", VHU_DRV_OPT_QUEUE, "N", 0, "request queue to use (default 1; 0 is hiprio)",
	  VHU_DRV_OPT_GROUP },
	{ 0 }
};

static error_t fs_parser(int key, char *arg, struct argp_state *state)
{
	struct fs_args *a = state->input;

	switch (key) {
	case OPT_OUTPUT: a->output = arg; return 0;
	case ARGP_KEY_ARG:
		if (a->nop >= 3)
			return vhu_reject_operand(state, arg);
		a->op[a->nop++] = arg;
		return 0;
	default: return vhu_drv_parse_opt(key, arg, state, &a->d);
	}
}

static const struct argp fs_argp = {
	fs_opts,
	fs_parser,
	"ls PATH\ncat PATH [-o FILE]\nstat PATH",
	"Drive a virtio-fs back-end (virtiofsd) with FUSE requests: bring the device up (hiprio and one "
	"request queue), FUSE_INIT, LOOKUP each component of PATH (relative to the shared directory; '/' is "
	"its root), run the operation, FORGET what was looked up, stop (SET_VRING_ENABLE 0, GET_VRING_BASE). "
	" "
	"ls lists a directory (OPENDIR, READDIR, RELEASEDIR), one name a line; cat writes a file's bytes "
	"(OPEN, READ, RELEASE) to stdout or -o FILE; stat shows its attributes (GETATTR).  A FUSE error "
	"exits 1 naming the request, the path and the errno.",
	NULL,
	NULL,
	NULL
};

/* ---- output ---- */

struct fs_run {
	struct vhu_ctx *ctx;
	enum fs_op op;
	struct vhu_drv_sink sink;
	bool sink_open;
	bool doc_open; /* JSON: the "fs" object is open */
	uint64_t entries;
	char name[VHU_FUSE_NAME_MAX + 1];
};

/* JSON: the "fs" object is opened as I/O starts, so that ls can stream
 * its entries into it. */
static void doc_open(struct fs_run *run, const char *path)
{
	if (!vhu_out_is_json() || run->doc_open)
		return;
	vhu_out_open("fs", "File system");
	vhu_out_string("operation", "Operation", op_names[run->op]);
	vhu_out_string("path", "Path", path);
	if (run->op == OP_LS)
		vhu_out_open_list("entries", "Entries");
	run->doc_open = true;
}

static int on_entry(void *arg, const struct vhu_fuse_dirent *e)
{
	struct fs_run *run = arg;
	char *esc = NULL;

	/* Like ls -A: the directory itself and its parent are not entries. */
	if ((e->namelen == 1 && e->name[0] == '.') || (e->namelen == 2 && !memcmp(e->name, "..", 2)))
		return VHU_OK;
	memcpy(run->name, e->name, e->namelen);
	run->name[e->namelen] = '\0';
	run->entries++;
	if (vhu_out_is_json()) {
		vhu_out_open(NULL, run->name);
		vhu_out_string("name", "Name", run->name);
		vhu_out_uint("ino", "Inode", e->ino, NULL);
		vhu_out_string("type", "Type", vhu_fuse_dtype_name(e->type));
		vhu_out_close();
		return VHU_OK;
	}
	/* One name a line: control characters must not break the line. */
	if (!vhu_text_plain(run->name))
		esc = vhu_escape_controls(run->name);
	vhu_out_text("%s", esc ? esc : run->name);
	free(esc);
	if (vhu_out_error())
		return vhu_fail(&run->ctx->s, VHU_E_IO, "stdout: %s", strerror(vhu_out_error()));
	return VHU_OK;
}

static int on_data(void *arg, const uint8_t *buf, uint32_t len)
{
	struct fs_run *run = arg;

	return vhu_drv_sink_write(&run->sink, buf, len);
}

static void show_result(struct fs_run *run, const char *path, const struct vhu_fs *f,
			const struct vhu_fs_info *fi, const struct fuse_attr *attr, bool have_attr, bool ok)
{
	char hexd[65], ver[24];

	/* Text: the facts of a success (the failure is on stderr; ls and cat
	 * to stdout print their data only); JSON: also how far a failed run
	 * got. */
	if (!vhu_out_is_json() && (!ok || run->op == OP_LS || (run->op == OP_CAT && !run->sink.path)))
		return;
	if (!run->doc_open) {
		vhu_out_open("fs", "File system");
		vhu_out_string("operation", "Operation", op_names[run->op]);
		vhu_out_string("path", "Path", path);
	} else if (run->op == OP_LS) {
		vhu_out_close_list();
	}
	if (fi->have)
		vhu_out_string("tag", "Tag", fi->tag);
	if (f->major) {
		snprintf(ver, sizeof(ver), "%u.%u", f->major, f->minor);
		vhu_out_string("fuse_version", "FUSE version", ver);
	}
	if (run->op == OP_LS)
		vhu_out_uint("count", "Entries", run->entries, NULL);
	if (have_attr && run->op == OP_STAT)
		vhu_render_fuse_attr(attr);
	if (run->op == OP_CAT) {
		vhu_out_uint("bytes", "Bytes", run->sink.bytes, NULL);
		vhu_out_uint("max_read", "Bytes per READ", f->max_read, NULL);
		if (ok) {
			vhu_drv_sink_digest(&run->sink, hexd);
			vhu_out_string("sha256", "SHA-256", hexd);
		}
		if (ok && run->sink.path)
			vhu_out_string("output", "Output", run->sink.path);
	}
	vhu_out_uint("requests", "Requests", f->requests, NULL);
	vhu_out_uint("forgets", "Forgets", f->forgets, NULL);
	vhu_out_close();
}

/* ---- the command ---- */

static int check_args(struct vhu_ctx *ctx, struct fs_args *a, enum fs_op *op, struct vhu_fs_path *p)
{
	char why[160];
	unsigned i;

	if (!a->nop)
		return vhu_usage(ctx, "fs needs an operation: ls, cat, stat");
	for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcmp(a->op[0], op_names[i]))
			break;
	if (i == sizeof(op_names) / sizeof(op_names[0]))
		return vhu_usage(ctx, "unknown fs operation '%s' (ls, cat, stat)", a->op[0]);
	*op = (enum fs_op)i;
	if (a->nop != 2)
		return vhu_usage(ctx, "fs %s takes PATH", op_names[i]);
	if (a->output && *op != OP_CAT)
		return vhu_usage(ctx, "-o is for fs cat");
	if (!a->d.queue)
		return vhu_usage(ctx, "--queue 0 is the hiprio queue; requests go to queue 1 or above");
	if (vhu_fs_path_parse(p, a->op[1], why, sizeof(why)))
		return vhu_usage(ctx, "%s", why);
	return vhu_drv_args_check(ctx, &a->d);
}

/* Checks against what the device said, before it is touched. */
static int check_device(struct vhu_ctx *ctx, const struct vhu_drv *d, const struct vhu_fs_info *fi,
			uint32_t queue)
{
	/* Spec: queue 0 is hiprio, then num_request_queues request queues. */
	if (fi->have && queue > fi->num_request_queues)
		return vhu_usage(ctx, "--queue %u: the device has %u request queue%s (1..%u)", queue,
				 fi->num_request_queues, VHU_PLURAL(fi->num_request_queues, "", "s"),
				 fi->num_request_queues);
	if (d->queue_num && queue >= d->queue_num)
		return vhu_usage(ctx,
				 "--queue %u: the back-end has %llu queues (GET_QUEUE_NUM), hiprio included",
				 queue, (unsigned long long)d->queue_num);
	return VHU_OK;
}

/* The operation on the node of PATH. */
static int run_op(struct fs_run *run, struct vhu_fs *f, uint64_t node, const char *path,
		  struct fuse_attr *attr, bool *have_attr)
{
	int rc;

	switch (run->op) {
	case OP_LS: doc_open(run, path); return vhu_fs_readdir(f, node, on_entry, run);
	case OP_STAT:
		rc = vhu_fs_getattr(f, node, attr);
		*have_attr = !rc;
		return rc;
	case OP_CAT:
		if ((rc = vhu_fs_getattr(f, node, attr)))
			return rc;
		*have_attr = true;
		/* OPEN of a FIFO would block the device; a directory has no
		 * data to READ. */
		if (!S_ISREG(attr->mode))
			return vhu_fail(&run->ctx->s, VHU_E_USAGE, "%s: a %s, not a regular file", path,
					vhu_fuse_mode_type(attr->mode));
		doc_open(run, path);
		return vhu_fs_read(f, node, on_data, run);
	}
	return VHU_OK;
}

/* Keep the first failure's message when a later step fails too. */
static int first_of(struct vhu_session *s, int first, const char *first_err, int later)
{
	if (!first)
		return later;
	if (later)
		snprintf(s->err, sizeof(s->err), "%s", first_err);
	return first;
}

int cmd_fs(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct fs_args a = { 0 };
	struct fs_run run = { .ctx = ctx };
	struct vhu_fs_path *p = NULL;
	struct vhu_fs *f = NULL;
	struct vhu_fs_info fi = { 0 };
	struct vhu_drv *d = NULL;
	struct fuse_attr attr = { 0 };
	char path[VHU_FS_PATH_MAX + 2] = "/";
	char err[sizeof(ctx->s.err)];
	uint32_t rings[2];
	uint64_t node = FUSE_ROOT_ID;
	bool io_started = false, have_attr = false;
	int rc, later;

	vhu_drv_args_init(&a.d);
	a.d.queue = VHU_FS_REQUEST;
	rc = vhu_cmd_parse(ctx, &fs_argp, argc, argv, &a);
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	f = calloc(1, sizeof(*f));
	d = calloc(1, sizeof(*d));
	if (!p || !f || !d) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "out of memory");
		goto out;
	}
	if ((rc = check_args(ctx, &a, &run.op, p))) {
		free(d);
		free(f);
		free(p);
		return rc;
	}
	vhu_fs_path_show(p, p->n, path, sizeof(path));
	if (run.op == OP_CAT) {
		run.sink_open = true;
		if ((rc = vhu_drv_sink_open(&run.sink, &ctx->s, a.output, !a.output && !ctx->json)))
			goto out;
	}
	if ((rc = vhu_cmd_start(ctx)))
		goto out;
	/* No device feature is handled (NOTIFICATION stays off), so the
	 * queues are hiprio and request queues only. */
	a.d.o.device_features = 0;
	vhu_drv_init(d, &ctx->s, &ctx->res, &a.d.o);
	if ((rc = vhu_drv_probe(d)))
		goto out;
	/* The config space only when offered: virtiofsd 7.2 has no CONFIG
	 * and drops the connection on GET_CONFIG. */
	if (vhu_pf_acked(&ctx->s, VHOST_USER_PROTOCOL_F_CONFIG)) {
		d->o.config_size = VHU_FS_CONFIG_SIZE;
		if ((rc = vhu_drv_probe(d)))
			goto out;
		vhu_fs_info(d->config, d->config_len, &fi);
	}
	rings[0] = VHU_FS_HIPRIO;
	rings[1] = a.d.queue;
	if ((rc = check_device(ctx, d, &fi, a.d.queue)) || (rc = vhu_drv_start(d, rings, 2)))
		goto out;
	if ((rc = vhu_fs_init(f, d, vhu_drv_queue(d, VHU_FS_HIPRIO), vhu_drv_queue(d, a.d.queue))))
		goto out;
	io_started = true;
	if (!(rc = vhu_fs_handshake(f)) && !(rc = vhu_fs_walk(f, p, &node)))
		rc = run_op(&run, f, node, path, &attr, &have_attr);
	snprintf(err, sizeof(err), "%s", ctx->s.err);
	/* What was looked up is forgotten even after a FUSE error; after a
	 * failure of the device or the ring nothing more is sent. */
	if (!f->broken && rc != VHU_E_TIMEOUT && rc != VHU_E_IO) {
		later = f->nnodes ? vhu_fs_forget(f) : VHU_OK;
		rc = first_of(&ctx->s, rc, err, later);
	}
	snprintf(err, sizeof(err), "%s", ctx->s.err);
	/* The orderly stop, unless the back-end is gone or hanging (it would
	 * only add a second timeout). */
	if (rc != VHU_E_TIMEOUT && rc != VHU_E_IO)
		rc = first_of(&ctx->s, rc, err, vhu_drv_stop(d));
	if (!rc && run.sink_open)
		rc = vhu_drv_sink_commit(&run.sink);
out:
	/* Name the operation in front of whatever failed after parsing. */
	vhu_ctx_err_prefix(ctx, rc, "fs ", "fs %s", op_names[run.op]);
	if (io_started) {
		show_result(&run, path, f, &fi, &attr, have_attr, !rc);
		if (vhu_out_is_json())
			vhu_show_driver(d, true);
	}
	if (run.sink_open)
		vhu_drv_sink_abort(&run.sink);
	if (d)
		vhu_drv_fini(d);
	free(d);
	free(f);
	free(p);
	return rc;
}
