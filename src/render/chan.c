/* SPDX-License-Identifier: Apache-2.0 */
/* Back-end channel messages as watch and set-backend-req-fd show them. */
#include "render/chan.h"

#include <stdio.h>

#include "render/out.h"
#include "render/trace.h"

static const char *msg_name(const struct vhu_chan_msg *m, char *buf, size_t len)
{
	if (m->desc)
		return m->desc->name;
	snprintf(buf, len, "REQ_%u", m->hdr.request);
	return buf;
}

void vhu_render_chan_msg(const struct vhu_chan_msg *m, enum vhu_dev_type dev)
{
	char nb[24], dec[1024];
	const char *name = msg_name(m, nb, sizeof(nb)), *d;

	/* Unknown codes are decoded as opaque bytes: shown raw. */
	vhu_trace_decode(m->desc ? m->desc->req_shape : VHU_SHAPE_OPAQUE, dev, m->payload, m->hdr.size, dec,
			 sizeof(dec));
	d = dec[0] == ' ' ? dec + 1 : dec;
	if (vhu_out_is_json()) {
		vhu_out_open(NULL, name);
		vhu_out_string("request", "request", name);
		vhu_out_uint("code", "code", m->hdr.request, NULL);
		vhu_out_hex("flags", "flags", m->hdr.flags, 1);
		vhu_out_uint("size", "size", m->hdr.size, NULL);
		vhu_out_uint("fds", "fds", m->nfds, NULL);
		vhu_out_open_list("fd_info", "fd_info");
		for (unsigned i = 0; i < m->nfds; i++) {
			vhu_out_open(NULL, "fd");
			vhu_out_string("type", "type", vhu_fd_kind_name(m->fd[i].kind));
			if (m->fd[i].size >= 0)
				vhu_out_int("size", "size", m->fd[i].size, NULL);
			vhu_out_close();
		}
		vhu_out_close_list();
		vhu_out_string("decoded", "decoded", d);
		vhu_out_bytes("payload", "payload", m->payload, m->hdr.size, 0);
		vhu_out_bool("need_reply", "need_reply", m->need_reply);
		/* out.h has no null writer: a message that got no answer has
		 * no "answered" member, which jq reads as null. */
		if (m->answered)
			vhu_out_uint("answered", "answered", m->answer, NULL);
		vhu_out_close();
	} else {
		char fdtxt[8 * 40] = "";
		size_t n = 0;

		for (unsigned i = 0; i < m->nfds && n < sizeof(fdtxt); i++) {
			if (m->fd[i].size >= 0)
				n += (size_t)snprintf(fdtxt + n, sizeof(fdtxt) - n, " fd%u=%s:%lld", i,
						      vhu_fd_kind_name(m->fd[i].kind),
						      (long long)m->fd[i].size);
			else
				n += (size_t)snprintf(fdtxt + n, sizeof(fdtxt) - n, " fd%u=%s", i,
						      vhu_fd_kind_name(m->fd[i].kind));
		}
		if (m->answered)
			vhu_out_text("channel: %s code=%u flags=0x%x size=%u fds=%u%s%s%s%s answered=%llu",
				     name, m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds, *d ? " " : "",
				     d, fdtxt, m->need_reply ? " need_reply" : "",
				     (unsigned long long)m->answer);
		else
			vhu_out_text("channel: %s code=%u flags=0x%x size=%u fds=%u%s%s%s%s answered=none",
				     name, m->hdr.request, m->hdr.flags, m->hdr.size, m->nfds, *d ? " " : "",
				     d, fdtxt, m->need_reply ? " need_reply" : "");
	}
	if (m->problem[0])
		vhu_out_warn("%s: %s", name, m->problem);
}
