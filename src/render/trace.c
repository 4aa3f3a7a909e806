/* SPDX-License-Identifier: Apache-2.0 */
/* --trace printer: one line per message on stderr, decoded by shape. */
#include "render/trace.h"
#include "render/out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static size_t names(char *buf, size_t size, uint64_t mask, enum vhu_bit_space sp, enum vhu_dev_type dev)
{
	size_t n = 0;
	const char *sep = "";

	n += (size_t)snprintf(buf + n, n < size ? size - n : 0, " [");
	for (unsigned b = 0; b < 64; b++) {
		const char *nm;
		if (!(mask & VHU_BIT(b)))
			continue;
		nm = vhu_bit_name(sp, dev, b);
		if (nm)
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", sep, nm);
		else
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%sbit_%u", sep, b);
		sep = ",";
	}
	n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "]");
	return n;
}

#define OUT(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))

void vhu_decoded_text(const struct vhu_decoded *d, enum vhu_dev_type dev, char *buf, size_t size)
{
	enum vhu_val_kind open[8];
	unsigned depth = 0;
	bool fresh = false; /* just after "[": no space before the next value */
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned i = 0; i < d->n; i++) {
		const struct vhu_val *v = &d->v[i];
		const char *sp = fresh ? "" : " ";

		if (v->kind != VHU_VAL_END && v->kind != VHU_VAL_LIST)
			fresh = false;
		switch (v->kind) {
		case VHU_VAL_UINT: OUT("%s%s=%llu", sp, v->key, (unsigned long long)v->v); break;
		case VHU_VAL_HEX: OUT("%s%s=0x%llx", sp, v->key, (unsigned long long)v->v); break;
		case VHU_VAL_MASK:
			OUT("%s%s=0x%llx", sp, v->key, (unsigned long long)v->v);
			n += names(buf + (n < size ? n : size), n < size ? size - n : 0, v->v, v->space, dev);
			break;
		case VHU_VAL_FLAG:
			if (v->v)
				OUT("%s%s", sp, v->key);
			else if (v->str)
				OUT("%s%s", sp, v->str);
			break;
		case VHU_VAL_WORD: OUT("%s%s=%s", sp, v->key, v->str); break;
		case VHU_VAL_BYTES:
			OUT("%s%s=", sp, v->key);
			for (size_t k = 0; k < v->len && k < v->show; k++)
				OUT("%02x", v->bytes[k]);
			if (v->len > v->show)
				OUT("...");
			break;
		case VHU_VAL_UUID:
			OUT("%s%s=", sp, v->key);
			for (int k = 0; k < 16; k++)
				OUT("%s%02x", (k == 4 || k == 6 || k == 8 || k == 10) ? "-" : "",
				    v->bytes[k]);
			break;
		case VHU_VAL_LIST:
			/* The elements speak for themselves: "[k=v ...] [k=v ...]". */
		case VHU_VAL_OBJ:
			if (v->kind == VHU_VAL_OBJ) {
				OUT("%s[", sp);
				fresh = true;
			}
			if (depth < sizeof(open) / sizeof(open[0]))
				open[depth] = v->kind;
			depth++;
			break;
		case VHU_VAL_END:
			if (depth && --depth < sizeof(open) / sizeof(open[0]) && open[depth] == VHU_VAL_OBJ) {
				OUT("]");
				fresh = false;
			}
			break;
		}
	}
}

void vhu_trace_decode(enum vhu_shape shape, enum vhu_dev_type dev, const uint8_t *p, size_t len, char *buf,
		      size_t size)
{
	struct vhu_decoded d;

	vhu_decode_payload(shape, p, len, &d);
	vhu_decoded_text(&d, dev, buf, size);
}

void vhu_trace_print(void *arg, enum vhu_dir dir, const struct vhost_user_hdr *hdr, const uint8_t *payload,
		     size_t len, unsigned nfds, const char *note)
{
	struct vhu_trace_ctx *t = arg;
	const struct vhu_req_desc *d;
	bool backend = dir == VHU_DIR_BACKEND_RECV || dir == VHU_DIR_BACKEND_SEND;
	bool reply;
	enum vhu_shape shape;
	char nb[48], dec[1024];
	const char *arrow;

	if (note) {
		/* Notes may quote a path from the command line. */
		char *esc = vhu_text_plain(note) ? NULL : vhu_escape_controls(note);

		vhu_out_before_stderr();
		fprintf(stderr, "trace: -- %s\n", esc ? esc : note);
		free(esc);
		return;
	}
	d = backend ? vhu_backend_req_by_code(hdr->request) : vhu_req_by_code(hdr->request);
	reply = hdr->flags & VHOST_USER_REPLY_MASK;
	if (!reply)
		shape = d ? d->req_shape : VHU_SHAPE_OPAQUE;
	else if (d && len == 8 && d->reply == VHU_REPLY_ACK)
		shape = VHU_SHAPE_ACK;
	else
		shape = d ? d->reply_shape : VHU_SHAPE_OPAQUE;
	vhu_trace_decode(shape, t->dev, payload, len, dec, sizeof(dec));
	switch (dir) {
	case VHU_DIR_SEND: arrow = "F>B"; break;
	case VHU_DIR_RECV: arrow = "B>F"; break;
	case VHU_DIR_BACKEND_RECV: arrow = "B>F chan"; break;
	default: arrow = "F>B chan"; break;
	}
	if (d)
		snprintf(nb, sizeof(nb), "%s", d->name);
	else
		snprintf(nb, sizeof(nb), "REQ_%u", hdr->request);
	vhu_out_before_stderr();
	fprintf(stderr, "trace: %s %s%s flags=0x%x size=%u fds=%u%s\n", arrow, nb, reply ? " (reply)" : "",
		hdr->flags, hdr->size, nfds, dec);
}
