/* SPDX-License-Identifier: Apache-2.0 */
/*
 * send-rarp, net-set-mtu: the net helpers of the protocol.
 *
 * net send | recv: one whole session with a virtio-net back-end, like
 * blk: the driver's bring-up of a queue pair (src/driver), frames
 * through it (src/dev/net.c), the orderly stop.  Order: operands and
 * files first (a bad --frame, an unusable --pcap or -w FILE sends
 * nothing), then the probe, then the bring-up.  Frames received into
 * -w FILE go to a pcap file (libpcap) built in a temporary next to FILE
 * and renamed over it only when everything succeeded (util/outfile).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds/cmd_drv.h"
#include "dev/net.h"
#include "render/out.h"
#include "util/hex.h"
#include "util/intr.h"
#include "util/outfile.h"
#include "util/parse.h"
#include "util/pcapdl.h"

static const struct argp rarp_argp = {
	NULL,
	vhu_operand_parser,
	"MAC",
	"Ask the back-end to broadcast a RARP for guest MAC aa:bb:cc:dd:ee:ff, as after a migration "
	"(SEND_RARP, needs VHOST_USER_PROTOCOL_F_RARP).",
	NULL,
	NULL,
	NULL
};

int cmd_send_rarp(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vhu_operand a = { NULL, true };
	uint8_t payload[8] = { 0 };
	uint64_t v;
	int rc = vhu_cmd_parse(ctx, &rarp_argp, argc, argv, &a);

	if (rc)
		return rc;
	/* Spec "SEND_RARP": the first 6 bytes of the u64 are the MAC. */
	if (vhu_parse_mac(a.v, payload))
		return vhu_usage(ctx, "invalid MAC '%s' (aa:bb:cc:dd:ee:ff)", a.v);
	memcpy(&v, payload, 8);
	rc = vhu_cmd_start(ctx);
	if (!rc)
		rc = vhu_set_u64(&ctx->s, VHOST_USER_SEND_RARP, v);
	if (rc)
		return rc;
	vhu_out_string("mac", "RARP sent for", a.v);
	return VHU_OK;
}

static const struct argp mtu_argp = {
	NULL,
	vhu_operand_parser,
	"MTU",
	"Tell a net back-end the MTU (NET_SET_MTU, needs VHOST_USER_PROTOCOL_F_NET_MTU; the guest sees "
	"it only with VIRTIO_NET_F_MTU).  68..65535.",
	NULL,
	NULL,
	NULL
};

int cmd_net_set_mtu(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vhu_operand a = { NULL, true };
	uint64_t mtu;
	int rc = vhu_cmd_parse(ctx, &mtu_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (vhu_parse_u64(a.v, 65535, &mtu) || mtu < 68)
		return vhu_usage(ctx, "invalid MTU '%s' (68..65535)", a.v);
	rc = vhu_cmd_start(ctx);
	if (!rc && ctx->s.have_features && !(ctx->s.features & VHU_BIT(3)) && vhu_ctx_dev(ctx) == VHU_DEV_NET)
		vhu_out_warn("the back-end does not offer VIRTIO_NET_F_MTU: a guest would not see the MTU");
	if (!rc)
		rc = vhu_set_u64(&ctx->s, VHOST_USER_NET_SET_MTU, mtu);
	if (rc)
		return rc;
	vhu_out_uint("mtu", "MTU", mtu, NULL);
	return VHU_OK;
}

/* ---- net send | recv: frames through a virtio-net queue pair ---- */

enum { OPT_COUNT = 0x900, OPT_FRAME, OPT_PCAP, OPT_WRITE = 'w', OPT_RX_BUFFER = 0x910, OPT_MRG_RXBUF };

/* Packets a --pcap file may hold (all are read before anything is sent). */
#define NET_PCAP_MAX 65536u

struct net_args {
	struct vhu_drv_args d;
	const char *op[3];
	unsigned nop;
	uint64_t count;
	bool have_count;
	const char *frame, *pcap, *write;
	uint32_t rx_buf;
	enum vhu_drv_choice mrg;
};

static const struct argp_option net_opts[] = {
	{ "count", OPT_COUNT, "N", 0,
	  "frames to send (default 1, or every packet of --pcap once) or to receive (default 1)", 0 },
	{ "frame", OPT_FRAME, "HEX", 0,
	  "send: this Ethernet frame (14..1514 bytes of hex, e.g. ffffffffffff02...)", 0 },
	{ "pcap", OPT_PCAP, "FILE", 0,
	  "send: the packets of a pcap file (Ethernet), in order, round after round", 0 },
	{ "write", OPT_WRITE, "FILE", 0, "recv: write the frames to a pcap file (atomically)", 0 },
	{ "rx-buffer", OPT_RX_BUFFER, "SIZE", 0,
	  "bytes per receive buffer (default 2048; at least header + 1514 without VIRTIO_NET_F_MRG_RXBUF)",
	  0 },
	{ "mrg-rxbuf", OPT_MRG_RXBUF, "on|off", 0, "ack VIRTIO_NET_F_MRG_RXBUF (default: on when offered)",
	  0 },
	VHU_DRV_RING_OPTIONS,
	VHU_DRV_IO_OPTIONS,
	{ 0 }
};

static error_t net_parser(int key, char *arg, struct argp_state *state)
{
	struct net_args *a = state->input;
	uint64_t v;

	switch (key) {
	case OPT_COUNT:
		if (vhu_parse_u64(arg, UINT64_MAX >> 1, &a->count) || !a->count) {
			vhu_argp_error(state, "invalid --count '%s' (1 or more frames)", arg);
			return EINVAL;
		}
		a->have_count = true;
		return 0;
	case OPT_FRAME: a->frame = arg; return 0;
	case OPT_PCAP: a->pcap = arg; return 0;
	case OPT_WRITE: a->write = arg; return 0;
	case OPT_RX_BUFFER:
		if (vhu_parse_size(arg, &v) || !v || v > (UINT64_C(1) << 20)) {
			vhu_argp_error(state, "invalid --rx-buffer '%s' (bytes, at most 1M)", arg);
			return EINVAL;
		}
		a->rx_buf = (uint32_t)v;
		return 0;
	case OPT_MRG_RXBUF:
		if (!strcmp(arg, "on"))
			a->mrg = VHU_DRV_ON;
		else if (!strcmp(arg, "off"))
			a->mrg = VHU_DRV_OFF;
		else {
			vhu_argp_error(state, "invalid --mrg-rxbuf '%s' (on or off)", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_ARG:
		if (a->nop >= 1) {
			vhu_argp_error(state, "unexpected argument '%s'", arg);
			return EINVAL;
		}
		a->op[a->nop++] = arg;
		return 0;
	default: return vhu_drv_parse_opt(key, arg, state, &a->d);
	}
}

static const struct argp net_argp = {
	net_opts,
	net_parser,
	"send [--count N] [--frame HEX | --pcap FILE]\nrecv [--count N] [-w FILE]",
	"Drive a virtio-net back-end: bring up a queue pair (receiveq 2N and transmitq 2N+1, N = --queue), "
	"move frames, stop both rings (SET_VRING_ENABLE 0, GET_VRING_BASE).  send transmits --count frames "
	"(the default one is a 60-byte UDP datagram 192.0.2.1:1024 > 192.0.2.2:9) and ends once the device "
	"has used them all; recv posts receive buffers and takes --count frames, into a pcap file with -w.  "
	"The virtio-net header is 12 bytes with VIRTIO_F_VERSION_1 or MRG_RXBUF; no offload is acked, so "
	"frames travel as they are.",
	NULL,
	NULL,
	NULL
};

/* The frames to send, read and checked before connecting. */
struct net_src {
	struct vhu_net_frame *f; /* owned */
	size_t n;
	uint8_t *bytes; /* owned: every frame's bytes */
	uint8_t one[VHU_NET_FRAME_MAX];
	const char *kind; /* "default", "frame", "pcap" */
};

static void src_free(struct net_src *s)
{
	free(s->f);
	free(s->bytes);
	s->f = NULL;
	s->bytes = NULL;
}

/* libpcap, once loaded (util/pcapdl.h). */
static const struct vhu_pcap *pc;

static int load_pcap(struct vhu_ctx *ctx)
{
	char err[256];

	if (!pc && !(pc = vhu_pcap(err, sizeof(err))))
		return vhu_fail(&ctx->s, VHU_E_IO, "%s", err);
	return VHU_OK;
}

static int src_pcap(struct vhu_ctx *ctx, struct net_src *s, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t cap = 0, used = 0;
	pcap_t *p;
	int r, rc = load_pcap(ctx);

	if (rc)
		return rc;
	p = pc->open_offline(path, errbuf);
	if (!p)
		return vhu_usage(ctx, "--pcap %s: %s", path, errbuf);
	if (pc->datalink(p) != DLT_EN10MB) {
		const char *name = pc->datalink_val_to_name(pc->datalink(p));

		rc = vhu_usage(ctx, "--pcap %s: link type %s (%d), not Ethernet", path,
			       name ? name : "unknown", pc->datalink(p));
		goto out;
	}
	while ((r = pc->next_ex(p, &h, &data)) == 1) {
		if (h->caplen != h->len) {
			rc = vhu_usage(ctx, "--pcap %s: packet %zu was captured truncated (%u of %u bytes)",
				       path, s->n + 1, h->caplen, h->len);
			goto out;
		}
		if (h->caplen < VHU_NET_FRAME_MIN || h->caplen > VHU_NET_FRAME_MAX) {
			rc = vhu_usage(ctx,
				       "--pcap %s: packet %zu has %u bytes; an Ethernet frame has %u..%u",
				       path, s->n + 1, h->caplen, VHU_NET_FRAME_MIN, VHU_NET_FRAME_MAX);
			goto out;
		}
		if (s->n == NET_PCAP_MAX) {
			rc = vhu_usage(ctx, "--pcap %s: more than %u packets", path, NET_PCAP_MAX);
			goto out;
		}
		if (used + h->caplen > cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			uint8_t *nb = realloc(s->bytes, ncap);

			if (!nb) {
				rc = vhu_fail(&ctx->s, VHU_E_IO, "--pcap %s: out of memory", path);
				goto out;
			}
			s->bytes = nb;
			cap = ncap;
		}
		if (!(s->n & (s->n + 1))) {
			/* n is 0 or 2^k - 1: double the frame table. */
			struct vhu_net_frame *nf = realloc(s->f, 2 * (s->n + 1) * sizeof(*nf));

			if (!nf) {
				rc = vhu_fail(&ctx->s, VHU_E_IO, "--pcap %s: out of memory", path);
				goto out;
			}
			s->f = nf;
		}
		memcpy(s->bytes + used, data, h->caplen);
		/* Offsets for now: the byte buffer may still move. */
		s->f[s->n++] = (struct vhu_net_frame){ (const uint8_t *)(uintptr_t)used, h->caplen };
		used += h->caplen;
	}
	if (r == -1) {
		rc = vhu_usage(ctx, "--pcap %s: %s", path, pc->geterr(p));
		goto out;
	}
	if (!s->n) {
		rc = vhu_usage(ctx, "--pcap %s: holds no packets", path);
		goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		s->f[i].data = s->bytes + (uintptr_t)s->f[i].data;
out:
	pc->close(p);
	return rc;
}

static int net_sources(struct vhu_ctx *ctx, struct net_args *a, struct net_src *s)
{
	char why[160];
	size_t len;

	if (a->pcap) {
		s->kind = "pcap";
		return src_pcap(ctx, s, a->pcap);
	}
	s->f = calloc(1, sizeof(*s->f));
	if (!s->f)
		return vhu_fail(&ctx->s, VHU_E_IO, "net send: out of memory");
	if (a->frame) {
		s->kind = "frame";
		if (vhu_net_parse_frame(a->frame, s->one, &len, why, sizeof(why)))
			return vhu_usage(ctx, "invalid --frame: %s", why);
	} else {
		s->kind = "default";
		len = vhu_net_default_frame(s->one);
	}
	s->f[0] = (struct vhu_net_frame){ s->one, (uint32_t)len };
	s->n = 1;
	return VHU_OK;
}

/* recv -w FILE: pcap through an atomic output file. */
struct net_sink {
	struct vhu_session *s;
	struct vhu_outfile of;
	const char *path;
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *fp;
};

static int sink_open(struct vhu_ctx *ctx, struct net_sink *k, const char *path)
{
	int fd;

	int rc = load_pcap(ctx);

	if (rc)
		return rc;
	k->path = path;
	switch (vhu_outfile_create(&k->of, path, 0)) {
	case VHU_OUTFILE_OK: break;
	case VHU_OUTFILE_BAD_TARGET: return vhu_usage(ctx, "-w %s", k->of.err);
	default: return vhu_fail(&ctx->s, VHU_E_IO, "-w %s", k->of.err);
	}
	/* The dumper's FILE gets its own fd: closing it leaves the outfile's
	 * for the commit. */
	fd = dup(k->of.fd);
	if (fd < 0 || !(k->fp = fdopen(fd, "wb"))) {
		if (fd >= 0)
			close(fd);
		return vhu_fail(&ctx->s, VHU_E_IO, "-w %s: %s", path, strerror(errno));
	}
	k->dead = pc->open_dead(DLT_EN10MB, VHU_NET_PACKET_MAX);
	if (!k->dead || !(k->dump = pc->dump_fopen(k->dead, k->fp)))
		return vhu_fail(&ctx->s, VHU_E_IO, "-w %s: %s", path,
				k->dead ? pc->geterr(k->dead) : "pcap_open_dead failed");
	return VHU_OK;
}

static int sink_frame(void *arg, const uint8_t *frame, uint32_t len)
{
	struct net_sink *k = arg;
	struct pcap_pkthdr h = { .caplen = len, .len = len };
	struct timespec ts;

	if (!k->dump)
		return VHU_OK;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	pc->dump((u_char *)k->dump, &h, frame);
	return VHU_OK;
}

static void sink_close(struct net_sink *k)
{
	if (k->dump)
		pc->dump_close(k->dump); /* closes k->fp */
	else if (k->fp)
		fclose(k->fp);
	k->dump = NULL;
	k->fp = NULL;
	if (k->dead)
		pc->close(k->dead);
	k->dead = NULL;
}

static int sink_commit(struct net_sink *k)
{
	int e = 0, rc;

	if (pc->dump_flush(k->dump) < 0 || ferror(k->fp))
		e = errno ? errno : EIO;
	sink_close(k);
	if (e)
		return vhu_fail(k->s, VHU_E_IO, "-w %s: %s", k->path, strerror(e));
	rc = vhu_outfile_commit(&k->of);
	switch (rc) {
	case VHU_OUTFILE_OK: return VHU_OK;
	case VHU_OUTFILE_INTERRUPTED:
		return vhu_fail(k->s, vhu_intr_status() ? vhu_intr_status() : VHU_E_IO, "-w %s", k->of.err);
	case VHU_OUTFILE_BAD_TARGET: return vhu_fail(k->s, VHU_E_USAGE, "-w %s", k->of.err);
	default: return vhu_fail(k->s, VHU_E_IO, "-w %s", k->of.err);
	}
}

static int net_check_args(struct vhu_ctx *ctx, struct net_args *a, bool *send)
{
	if (!a->nop)
		return vhu_usage(ctx, "net needs an operation: send, recv");
	if (strcmp(a->op[0], "send") && strcmp(a->op[0], "recv"))
		return vhu_usage(ctx, "unknown net operation '%s' (send, recv)", a->op[0]);
	*send = !strcmp(a->op[0], "send");
	/* A receive run cannot tell what a back-end that went away had for
	 * it: carrying on would hide the loss. */
	if (!*send && ctx->reconnect)
		return vhu_usage(ctx, "--reconnect is for net send, not net recv");
	if (!*send && (a->frame || a->pcap))
		return vhu_usage(ctx, "--frame and --pcap are for net send");
	if (*send && a->write)
		return vhu_usage(ctx, "-w is for net recv");
	if (a->frame && a->pcap)
		return vhu_usage(ctx, "net send takes --frame or --pcap, not both");
	if (a->d.queue > 127)
		return vhu_usage(ctx, "--queue %u: queue pair %u would use ring %u (rings go to 255)",
				 a->d.queue, a->d.queue, 2 * a->d.queue + 1);
	return vhu_drv_args_check(ctx, &a->d);
}

static void net_show(const struct net_args *a, bool send, const struct net_src *src, const struct vhu_net *n,
		     bool ok)
{
	if (!ok && !vhu_out_is_json())
		return;
	vhu_out_open("net", "Net device");
	vhu_out_string("operation", "Operation", send ? "send" : "recv");
	vhu_out_uint("queue_pair", "Queue pair", a->d.queue, NULL);
	vhu_out_uint("header_size", "Header size", n->hdr_len, "bytes");
	vhu_out_bool("mrg_rxbuf", "Mergeable rx buffers", n->mrg_rxbuf);
	if (send) {
		vhu_out_string("source", "Source", src->kind);
		if (a->pcap)
			vhu_out_string("input", "Input", a->pcap);
	} else {
		vhu_out_uint("rx_buffer", "Receive buffer", n->rx_buf, "bytes");
		if (ok && a->write)
			vhu_out_string("output", "Output", a->write);
	}
	vhu_out_uint("frames", "Frames", n->frames, NULL);
	vhu_out_uint("bytes", "Bytes", n->bytes, NULL);
	if (send && n->reconnect)
		vhu_out_uint("resubmitted", "Sent again after a reconnect", n->resubmitted, NULL);
	if (!send) {
		vhu_out_uint("buffers", "Buffers used", n->buffers, NULL);
		vhu_out_uint("merged", "Merged packets", n->merged, NULL);
	}
	vhu_out_close();
}

/* net send --reconnect: connect again and replay the driver's bring-up. */
struct net_again {
	struct vhu_ctx *ctx;
	struct vhu_drv *d;
};

static int net_reconnect(void *arg, const char *cause)
{
	struct net_again *g = arg;
	struct vhu_replay_hooks h;

	vhu_drv_replay_hooks(g->d, &h);
	return vhu_ctx_reconnect(g->ctx, cause, &h, NULL);
}

int cmd_net(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct net_again again = { ctx, NULL };
	struct net_args a = { .rx_buf = VHU_NET_RX_BUF };
	struct net_src src = { 0 };
	struct net_sink sink = { .s = &ctx->s };
	struct vhu_net n = { 0 };
	struct vhu_drv *d = NULL;
	uint32_t rings[2];
	uint64_t count;
	bool send = true, io_started = false;
	int rc;

	vhu_outfile_init(&sink.of);
	vhu_drv_args_init(&a.d);
	rc = vhu_cmd_parse(ctx, &net_argp, argc, argv, &a);
	if (rc || (rc = net_check_args(ctx, &a, &send)))
		return rc;
	if (send && (rc = net_sources(ctx, &a, &src)))
		goto out;
	count = a.have_count ? a.count : send ? src.n : 1;
	if (!send && a.write && (rc = sink_open(ctx, &sink, a.write)))
		goto out;
	if ((rc = vhu_cmd_start(ctx)))
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = vhu_fail(&ctx->s, VHU_E_IO, "net: out of memory");
		goto out;
	}
	if (a.mrg != VHU_DRV_OFF)
		a.d.o.device_features = VHU_BIT(VHU_NET_F_MRG_RXBUF);
	vhu_drv_init(d, &ctx->s, &ctx->res, &a.d.o);
	if ((rc = vhu_drv_probe(d)))
		goto out;
	if (a.mrg == VHU_DRV_ON && !(ctx->s.features & VHU_BIT(VHU_NET_F_MRG_RXBUF))) {
		rc = vhu_fail(&ctx->s, VHU_E_UNSUPPORTED,
			      "VIRTIO_NET_F_MRG_RXBUF: the back-end does not offer it (--mrg-rxbuf off)");
		goto out;
	}
	/* Spec "Device Operation": pairs beyond the first need MQ. */
	if (a.d.queue && !(ctx->s.features & VHU_BIT(VHU_NET_F_MQ))) {
		rc = vhu_fail(&ctx->s, VHU_E_UNSUPPORTED,
			      "--queue %u: the back-end does not offer VIRTIO_NET_F_MQ (one queue pair)",
			      a.d.queue);
		goto out;
	}
	/* The features the bring-up will ack decide the header. */
	if (!send &&
	    (rc = vhu_net_check_rx_buf(
		     &ctx->s, ctx->s.features & (VHU_BIT(VIRTIO_F_VERSION_1) | a.d.o.device_features),
		     a.rx_buf)))
		goto out;
	/* Both rings of the pair, whatever the direction: DPDK starts a port
	 * only once all its rings are ready. */
	rings[0] = 2 * a.d.queue;
	rings[1] = 2 * a.d.queue + 1;
	if ((rc = vhu_drv_start(d, rings, 2)))
		goto out;
	if ((rc = vhu_net_init(&n, d, vhu_drv_queue(d, rings[0]), vhu_drv_queue(d, rings[1]), a.rx_buf)))
		goto out;
	io_started = true;
	if (send && ctx->reconnect) {
		again.d = d;
		n.reconnect = net_reconnect;
		n.reconnect_arg = &again;
	}
	if (send)
		rc = vhu_net_send(&n, src.f, src.n, count);
	else
		rc = vhu_net_recv(&n, count, sink_frame, &sink);
	/* The orderly stop, unless the back-end is gone or hanging, or a
	 * signal asked to end. */
	if (rc != VHU_E_TIMEOUT && rc != VHU_E_IO && !vhu_intr_is_status(rc)) {
		int src_rc = vhu_drv_stop(d);

		if (!rc)
			rc = src_rc;
	}
	if (!rc && sink.dump)
		rc = sink_commit(&sink);
out:
	vhu_ctx_err_prefix(ctx, rc, "net ", "net %s", send ? "send" : "recv");
	if (io_started) {
		net_show(&a, send, &src, &n, !rc);
		if (vhu_out_is_json())
			vhu_show_driver(d, true);
	}
	sink_close(&sink);
	vhu_outfile_abort(&sink.of);
	src_free(&src);
	vhu_net_fini(&n);
	if (d)
		vhu_drv_fini(d);
	free(d);
	return rc;
}
