/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blk get-id | read | write | flush | discard | write-zeroes
 *
 * Each is one whole session with a virtio-blk back-end: the driver's
 * bring-up (src/driver), the requests (src/dev/blk.c), the orderly stop.
 *
 * Order: operands and files first (a bad command line or an unwritable
 * -o FILE sends nothing), then the probe (features, config: capacity and
 * limits), the local checks against it (range inside the capacity, the
 * feature a request needs), and only then SET_OWNER and the rest.  Data
 * read goes through the driver commands' sink (cmd_drv.h): -o FILE is an
 * atomic output file, replaced only when everything succeeded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* strvis() only; pick a strnvis() flavour to silence libbsd's warning. */
#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>
#include <linux/virtio_blk.h>

#include "cmds/cmd_drv.h"
#include "dev/blk.h"
#include "render/out.h"
#include "util/hex.h"
#include "util/parse.h"

enum { OPT_OUTPUT = 'o', OPT_INPUT = 'i', OPT_PATTERN = 0x800, OPT_LENGTH, OPT_UNMAP };

enum blk_op { OP_GET_ID, OP_READ, OP_WRITE, OP_FLUSH, OP_DISCARD, OP_WRITE_ZEROES };

static const struct {
	const char *name;
	unsigned operands; /* OFFSET, LENGTH */
} ops[] = {
	[OP_GET_ID] = { "get-id", 0 },	 [OP_READ] = { "read", 2 },
	[OP_WRITE] = { "write", 1 },	 [OP_FLUSH] = { "flush", 0 },
	[OP_DISCARD] = { "discard", 2 }, [OP_WRITE_ZEROES] = { "write-zeroes", 2 },
};

struct blk_args {
	struct vhu_drv_args d;
	const char *op[4];
	unsigned nop;
	const char *output, *input;
	bool have_pattern, have_length, unmap;
	uint8_t pattern;
	uint64_t length;
};

static const struct argp_option blk_opts[] = {
	{ "output", OPT_OUTPUT, "FILE", 0, "read: write the data to FILE (atomically) instead of stdout", 0 },
	{ "input", OPT_INPUT, "FILE", 0, "write: the data, a regular file whose size is a multiple of 512",
	  0 },
	{ "pattern", OPT_PATTERN, "BYTE", 0, "write: LENGTH bytes of BYTE (0..255) instead of -i", 0 },
	{ "length", OPT_LENGTH, "LENGTH", 0, "write: bytes to write with --pattern", 0 },
	{ "unmap", OPT_UNMAP, NULL, 0, "write-zeroes: let the device deallocate (the UNMAP flag)", 0 },
	VHU_DRV_RING_OPTIONS,
	VHU_DRV_IO_OPTIONS,
	{ 0 }
};

static error_t blk_parser(int key, char *arg, struct argp_state *state)
{
	struct blk_args *a = state->input;
	uint64_t v;

	switch (key) {
	case OPT_OUTPUT: a->output = arg; return 0;
	case OPT_INPUT: a->input = arg; return 0;
	case OPT_UNMAP: a->unmap = true; return 0;
	case OPT_PATTERN:
		if (vhu_parse_u64(arg, 255, &v)) {
			vhu_argp_error(state, "invalid --pattern '%s' (a byte, 0..255 or 0x00..0xff)", arg);
			return EINVAL;
		}
		a->pattern = (uint8_t)v;
		a->have_pattern = true;
		return 0;
	case OPT_LENGTH:
		if (vhu_parse_size(arg, &a->length)) {
			vhu_argp_error(state, "invalid --length '%s' (bytes, K/M/G units)", arg);
			return EINVAL;
		}
		a->have_length = true;
		return 0;
	case ARGP_KEY_ARG:
		if (a->nop >= 4)
			return vhu_reject_operand(state, arg);
		a->op[a->nop++] = arg;
		return 0;
	default: return vhu_drv_parse_opt(key, arg, state, &a->d);
	}
}

static const struct argp blk_argp = {
	blk_opts,
	blk_parser,
	"get-id\nread OFFSET LENGTH [-o FILE]\nwrite OFFSET (-i FILE | --pattern BYTE --length "
	"LENGTH)\nflush\n"
	"discard OFFSET LENGTH\nwrite-zeroes OFFSET LENGTH [--unmap]",
	"Drive a virtio-blk back-end: bring the device up, run the requests, stop it (SET_VRING_ENABLE 0, "
	"GET_VRING_BASE).  OFFSET and LENGTH are bytes (K/M/G units), multiples of 512 inside the capacity "
	"the config space gives.  get-id prints the serial (GET_ID); read sends IN requests and writes the "
	"data to stdout or -o FILE; write sends OUT requests; flush, discard and write-zeroes send one "
	"FLUSH or as many DISCARD / WRITE_ZEROES requests as the device's limits ask.  A status other than "
	"OK exits 1 naming the request and its sector.",
	NULL,
	NULL,
	NULL
};

/* ---- the local end: -o FILE or stdout (the sink), -i FILE ---- */

struct blk_io {
	struct vhu_session *s;
	/* read */
	struct vhu_drv_sink sink;
	bool sink_open;
	/* write */
	SHA2_CTX sha;
	const char *in_path;
	int in_fd;
	bool pattern;
	uint8_t byte;
};

/* IN data, in offset order. */
static int sink(void *arg, uint8_t *buf, uint32_t len)
{
	struct blk_io *io = arg;

	return vhu_drv_sink_write(&io->sink, buf, len);
}

/* OUT data, in offset order. */
static int source(void *arg, uint8_t *buf, uint32_t len)
{
	struct blk_io *io = arg;
	size_t got = 0;

	if (io->pattern) {
		memset(buf, io->byte, len);
	} else {
		while (got < len) {
			ssize_t n = read(io->in_fd, buf + got, len - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return vhu_fail(io->s, VHU_E_IO, "%s: %s", io->in_path, strerror(errno));
			if (n == 0)
				return vhu_fail(io->s, VHU_E_IO, "%s: shorter than when it was opened",
						io->in_path);
			got += (size_t)n;
		}
	}
	SHA256Update(&io->sha, buf, len);
	return VHU_OK;
}

/* ---- the command ---- */

static int operand(struct vhu_ctx *ctx, const char *what, const char *v, uint64_t *out)
{
	if (vhu_parse_size(v, out))
		return vhu_usage(ctx, "invalid %s '%s' (bytes, K/M/G units)", what, v);
	if (*out % VHU_BLK_SECTOR)
		return vhu_usage(ctx, "%s %llu is not a multiple of 512", what, (unsigned long long)*out);
	return VHU_OK;
}

/* Everything that can be checked before connecting. */
static int check_args(struct vhu_ctx *ctx, struct blk_args *a, enum blk_op *op, uint64_t *off, uint64_t *len)
{
	unsigned i;
	int rc;

	if (!a->nop)
		return vhu_usage(ctx,
				 "blk needs an operation: get-id, read, write, flush, discard, write-zeroes");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(a->op[0], ops[i].name))
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return vhu_usage(
			ctx, "unknown blk operation '%s' (get-id, read, write, flush, discard, write-zeroes)",
			a->op[0]);
	*op = (enum blk_op)i;
	if (a->nop - 1 != ops[i].operands)
		return vhu_usage(ctx, "blk %s takes %s", ops[i].name,
				 ops[i].operands == 2 ? "OFFSET and LENGTH"
				 : ops[i].operands    ? "OFFSET"
						      : "no operands");
	if (a->output && *op != OP_READ)
		return vhu_usage(ctx, "-o is for blk read");
	if ((a->input || a->have_pattern || a->have_length) && *op != OP_WRITE)
		return vhu_usage(ctx, "-i, --pattern and --length are for blk write");
	if (a->unmap && *op != OP_WRITE_ZEROES)
		return vhu_usage(ctx, "--unmap is for blk write-zeroes");
	*off = *len = 0;
	if (ops[i].operands && (rc = operand(ctx, "OFFSET", a->op[1], off)))
		return rc;
	if (ops[i].operands == 2 && ((rc = operand(ctx, "LENGTH", a->op[2], len)) ||
				     (!*len && (rc = vhu_usage(ctx, "LENGTH must not be 0")))))
		return rc;
	if (*op == OP_WRITE) {
		if (!a->input == !(a->have_pattern || a->have_length))
			return vhu_usage(ctx,
					 "blk write takes -i FILE, or --pattern BYTE with --length LENGTH");
		if (!a->input && !(a->have_pattern && a->have_length))
			return vhu_usage(ctx, "--pattern and --length go together");
		if (!a->input && (!a->length || a->length % VHU_BLK_SECTOR))
			return vhu_usage(ctx, "--length %llu is not a non-zero multiple of 512",
					 (unsigned long long)a->length);
		*len = a->length;
	}
	return vhu_drv_args_check(ctx, &a->d);
}

static int open_input(struct vhu_ctx *ctx, struct blk_io *io, uint64_t *len)
{
	struct stat st;

	io->in_fd = open(io->in_path, O_RDONLY | O_CLOEXEC);
	if (io->in_fd < 0)
		return vhu_fail(&ctx->s, VHU_E_IO, "%s: %s", io->in_path, strerror(errno));
	if (fstat(io->in_fd, &st) < 0)
		return vhu_fail(&ctx->s, VHU_E_IO, "%s: %s", io->in_path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vhu_usage(ctx, "%s: -i takes a regular file", io->in_path);
	if (!st.st_size || st.st_size % VHU_BLK_SECTOR)
		return vhu_usage(ctx, "%s: %lld bytes is not a non-zero multiple of 512", io->in_path,
				 (long long)st.st_size);
	*len = (uint64_t)st.st_size;
	return VHU_OK;
}

/* Checks against what the device said, before it is touched. */
static int check_device(struct vhu_ctx *ctx, const struct vhu_blk_info *bi, enum blk_op op, uint64_t off,
			uint64_t len, const struct blk_args *a)
{
	uint64_t cap = bi->capacity * VHU_BLK_SECTOR;

	if ((op == OP_READ || op == OP_WRITE || op == OP_DISCARD || op == OP_WRITE_ZEROES) &&
	    (off > cap || len > cap - off))
		return vhu_usage(ctx, "blk %s: bytes %llu..%llu are beyond the capacity of %llu bytes",
				 ops[op].name, (unsigned long long)off, (unsigned long long)(off + len - 1),
				 (unsigned long long)cap);
	if (op == OP_FLUSH && !bi->flush)
		return vhu_fail(&ctx->s, VHU_E_UNSUPPORTED,
				"FLUSH: the back-end does not offer VIRTIO_BLK_F_FLUSH");
	if (op == OP_DISCARD && !bi->discard)
		return vhu_fail(&ctx->s, VHU_E_UNSUPPORTED,
				"DISCARD: the back-end does not offer VIRTIO_BLK_F_DISCARD");
	if (op == OP_WRITE_ZEROES && !bi->write_zeroes)
		return vhu_fail(&ctx->s, VHU_E_UNSUPPORTED,
				"WRITE_ZEROES: the back-end does not offer VIRTIO_BLK_F_WRITE_ZEROES");
	/* Spec "Device Operation": the flag is always allowed; the field
	 * only says whether it can ever deallocate anything. */
	if (op == OP_WRITE_ZEROES && a->unmap && !bi->wz_may_unmap)
		vhu_out_warn(
			"WRITE_ZEROES: write_zeroes_may_unmap is 0: the device zeroes without deallocating");
	if (a->d.queue >= bi->num_queues)
		return vhu_usage(ctx, "--queue %u: the device has %u queue%s%s", a->d.queue, bi->num_queues,
				 bi->num_queues == 1 ? "" : "s",
				 bi->mq ? "" : " (VIRTIO_BLK_F_MQ not offered)");
	return VHU_OK;
}

static void show_result(enum blk_op op, uint64_t off, const struct vhu_blk *b, struct blk_io *io,
			const char *serial, bool ok)
{
	uint8_t digest[32];
	char hexd[65];

	/* Text: the facts of a success (the failure is on stderr); JSON:
	 * also how far a failed run got. */
	if ((op == OP_READ && io->sink.to_stdout) || (!ok && !vhu_out_is_json()))
		return;
	vhu_out_open("blk", "Block device");
	vhu_out_string("operation", "Operation", ops[op].name);
	if (ok && op == OP_GET_ID) {
		char vis[4 * VHU_BLK_ID_BYTES + 1];

		strvis(vis, serial, VIS_CSTYLE | VIS_OCTAL);
		vhu_out_string("serial", "Serial", vis);
	}
	if (op != OP_GET_ID && op != OP_FLUSH) {
		vhu_out_uint("offset", "Offset", off, NULL);
		vhu_out_uint("bytes", "Bytes", b->bytes, NULL);
	}
	if (ok && op == OP_READ) {
		vhu_drv_sink_digest(&io->sink, hexd);
		vhu_out_string("sha256", "SHA-256", hexd);
	}
	if (ok && op == OP_WRITE) {
		SHA256Final(digest, &io->sha);
		vhu_format_hex(digest, sizeof(digest), hexd);
		vhu_out_string("sha256", "SHA-256", hexd);
	}
	if (ok && op == OP_READ && io->sink.path)
		vhu_out_string("output", "Output", io->sink.path);
	vhu_out_uint("requests", "Requests", b->requests, NULL);
	if (b->reconnect)
		vhu_out_uint("resubmitted", "Sent again after a reconnect", b->resubmitted, NULL);
	vhu_out_close();
}

/* --reconnect during I/O: connect again and replay the driver's bring-up. */
struct blk_again {
	struct vhu_ctx *ctx;
	struct vhu_drv *d;
};

static int blk_reconnect(void *arg, const char *cause)
{
	struct blk_again *g = arg;
	struct vhu_replay_hooks h;

	vhu_drv_replay_hooks(g->d, &h);
	return vhu_ctx_reconnect(g->ctx, cause, &h, NULL);
}

int cmd_blk(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct blk_again again = { ctx, NULL };
	struct blk_args a = { 0 };
	struct blk_io io = { .in_fd = -1 };
	struct vhu_blk b = { 0 };
	struct vhu_blk_info bi;
	struct vhu_drv *d = NULL;
	struct vhu_drv_queue *q;
	char serial[VHU_BLK_ID_BYTES + 1] = "";
	enum blk_op op = OP_GET_ID;
	uint64_t off = 0, len = 0;
	bool io_started = false;
	int rc;

	vhu_drv_args_init(&a.d);
	rc = vhu_cmd_parse(ctx, &blk_argp, argc, argv, &a);
	if (rc || (rc = check_args(ctx, &a, &op, &off, &len)))
		return rc;
	io.s = &ctx->s;
	SHA256Init(&io.sha);
	if (op == OP_WRITE) {
		io.in_path = a.input;
		io.pattern = !a.input;
		io.byte = a.pattern;
		if (a.input && (rc = open_input(ctx, &io, &len)))
			goto out;
	}
	if (op == OP_READ) {
		io.sink_open = true;
		if ((rc = vhu_drv_sink_open(&io.sink, &ctx->s, a.output, !a.output && !ctx->json)))
			goto out;
	}
	/* --require waits for the driver's own negotiation (it acks only
	 * the protocol features it uses) and is checked before any ring
	 * starts. */
	ctx->reqs_deferred = true;
	rc = vhu_cmd_start(ctx);
	ctx->reqs_deferred = false;
	if (rc)
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "blk: out of memory");
		goto out;
	}
	a.d.o.device_features = VHU_BLK_FEATURES;
	a.d.o.config_size = VHU_BLK_CONFIG_SIZE;
	/* What is in flight survives a back-end restart when the back-end
	 * can track it. */
	a.d.o.inflight = ctx->reconnect;
	vhu_drv_init(d, &ctx->s, &ctx->res, &a.d.o);
	if ((rc = vhu_drv_probe(d)) || (rc = vhu_req_check(ctx, NULL, false)))
		goto out;
	vhu_blk_info(d->config, d->config_len, ctx->s.features, &bi);
	if ((rc = check_device(ctx, &bi, op, off, len, &a)) || (rc = vhu_drv_start(d, &a.d.queue, 1)))
		goto out;
	q = vhu_drv_queue(d, a.d.queue);
	if ((rc = vhu_blk_init(&b, d, q, &bi)))
		goto out;
	if (ctx->reconnect) {
		again.d = d;
		b.reconnect = blk_reconnect;
		b.reconnect_arg = &again;
	}
	io_started = true;
	switch (op) {
	case OP_GET_ID: rc = vhu_blk_get_id(&b, serial); break;
	case OP_READ: rc = vhu_blk_rw(&b, false, off, len, sink, &io); break;
	case OP_WRITE: rc = vhu_blk_rw(&b, true, off, len, source, &io); break;
	case OP_FLUSH: rc = vhu_blk_flush(&b); break;
	case OP_DISCARD: rc = vhu_blk_range(&b, VIRTIO_BLK_T_DISCARD, off, len, false); break;
	case OP_WRITE_ZEROES: rc = vhu_blk_range(&b, VIRTIO_BLK_T_WRITE_ZEROES, off, len, a.unmap); break;
	}
	/* The orderly stop, unless the back-end is gone or hanging (it would
	 * only add a second timeout); the first failure is the one told. */
	if (rc != VHU_E_TIMEOUT && rc != VHU_E_IO) {
		int src = vhu_drv_stop(d);

		if (!rc)
			rc = src;
	}
	if (!rc && io.sink_open)
		rc = vhu_drv_sink_commit(&io.sink);
out:
	/* Name the operation in front of whatever failed after parsing. */
	vhu_ctx_err_prefix(ctx, rc, "blk ", "blk %s", ops[op].name);
	if (io_started) {
		show_result(op, off, &b, &io, serial, !rc);
		if (vhu_out_is_json())
			vhu_show_driver(d, true);
	}
	if (io.sink_open)
		vhu_drv_sink_abort(&io.sink);
	if (io.in_fd >= 0)
		close(io.in_fd);
	vhu_blk_fini(&b);
	if (d)
		vhu_drv_fini(d);
	free(d);
	return rc;
}
