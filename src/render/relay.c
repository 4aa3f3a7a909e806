/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's lines (see relay.h). */
#include "render/relay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/payload.h"
#include "render/capture.h"
#include "render/jsonl.h"
#include "render/trace.h"
#include "util/text.h"

static const char *msg_name(const struct vhu_relay_rec *r, char *buf, size_t len)
{
	if (r->desc)
		return r->desc->name;
	snprintf(buf, len, "%sREQ_%u", r->chan ? "BACKEND_" : "", r->m->hdr.request);
	return buf;
}

static void fd_text(const struct vhu_fd_desc *d, char *buf, size_t len)
{
	if (d->size >= 0)
		snprintf(buf, len, "%s:%" PRId64, vhu_fd_type_name(d), d->size);
	else
		snprintf(buf, len, "%s", vhu_fd_type_name(d));
}

static void text_line(struct vhu_relay_view *v, const struct vhu_relay_rec *r)
{
	char when[32], name[32], dec[2048], fds[VHU_MSG_FD_ROOM * 40] = "", rtt[32] = "";
	struct tm tm;
	const struct vhu_msg *m = r->m;
	struct vhu_decoded d;
	size_t n = 0;
	int w;

	localtime_r(&r->ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (r->kind == VHU_REL_NOTE) {
		char *esc = vhu_text_plain(r->note) ? NULL : vhu_escape_controls(r->note);

		if (r->session)
			w = printf("%s.%06ld s%-3" PRIu64 " -- %s%s\n", when, r->ts.tv_nsec / 1000,
				   r->session, r->chan ? "chan: " : "", esc ? esc : r->note);
		else
			w = printf("%s.%06ld --   -- %s\n", when, r->ts.tv_nsec / 1000, esc ? esc : r->note);
		free(esc);
	} else {
		vhu_decode_payload(vhu_body_shape(r->desc, r->reply, r->expect), m->payload, m->hdr.size, &d);
		vhu_decoded_text(&d, v->dev, dec, sizeof(dec));
		if (m->nfds) {
			n = (size_t)snprintf(fds, sizeof(fds), " fds=%u [", m->nfds);
			for (unsigned i = 0; i < m->nfds && i < VHU_MSG_FD_ROOM && n < sizeof(fds); i++) {
				char one[40];

				fd_text(&r->fd[i], one, sizeof(one));
				n += (size_t)snprintf(fds + n, sizeof(fds) - n, "%s%s", i ? "," : "", one);
			}
			if (n < sizeof(fds))
				snprintf(fds + n, sizeof(fds) - n, "]");
		}
		if (r->rtt_us >= 0)
			snprintf(rtt, sizeof(rtt), " rtt=%" PRId64 "us", r->rtt_us);
		w = printf("%s.%06ld s%-3" PRIu64 " %s %s %s%s flags=0x%x size=%u%s%s%s%s%s%s%s\n", when,
			   r->ts.tv_nsec / 1000, r->session, r->to_backend ? "F>B" : "B>F",
			   r->chan ? "chan" : "main", msg_name(r, name, sizeof(name)),
			   r->reply ? " reply" : "", m->hdr.flags, m->hdr.size, fds, rtt, dec,
			   r->interposed ? " interposed" : "", r->dropped ? " DROPPED (channel gone)" : "",
			   r->problem[0] ? " INVALID: " : "", r->problem);
	}
	if (w < 0 && !v->err)
		v->err = errno ? errno : EIO;
}

static void json_line(struct vhu_relay_view *v, const struct vhu_relay_rec *r)
{
	json_object *o = json_object_new_object();
	char ts[64], t[32], hex[16];
	struct tm tm;
	int err;

	gmtime_r(&r->ts.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06ldZ", r->ts.tv_nsec / 1000);
	snprintf(t, sizeof(t), "%" PRId64 ".%06" PRId64, r->t_us / 1000000, r->t_us % 1000000);
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "t", json_object_new_double_s((double)r->t_us / 1e6, t));
	if (r->kind == VHU_REL_NOTE) {
		json_object_object_add(o, "event", json_object_new_string(r->event));
		json_object_object_add(o, "session", json_object_new_uint64(r->session));
		json_object_object_add(o, "chan", json_object_new_boolean(r->chan));
		vhu_jsonl_add_string(o, "note", r->note);
	} else {
		const struct vhu_msg *m = r->m;
		struct vhu_decoded d;
		json_object *fds = json_object_new_array();
		char name[32];

		json_object_object_add(o, "event", json_object_new_string("message"));
		json_object_object_add(o, "session", json_object_new_uint64(r->session));
		json_object_object_add(o, "chan", json_object_new_boolean(r->chan));
		json_object_object_add(o, "dir", json_object_new_string(r->to_backend ? "F>B" : "B>F"));
		json_object_object_add(o, "code", json_object_new_uint64(m->hdr.request));
		json_object_object_add(o, "name", json_object_new_string(msg_name(r, name, sizeof(name))));
		json_object_object_add(o, "reply", json_object_new_boolean(r->reply));
		snprintf(hex, sizeof(hex), "0x%x", m->hdr.flags);
		json_object_object_add(o, "flags", json_object_new_string(hex));
		json_object_object_add(o, "need_reply",
				       json_object_new_boolean(m->hdr.flags & VHOST_USER_NEED_REPLY_MASK));
		json_object_object_add(o, "size", json_object_new_uint64(m->hdr.size));
		json_object_object_add(o, "fds", json_object_new_uint64(m->nfds));
		for (unsigned i = 0; i < m->nfds && i < VHU_MSG_FD_ROOM; i++) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "type",
					       json_object_new_string(vhu_fd_type_name(&r->fd[i])));
			if (r->fd[i].size >= 0)
				json_object_object_add(f, "size", json_object_new_int64(r->fd[i].size));
			json_object_array_add(fds, f);
		}
		json_object_object_add(o, "fd_info", fds);
		vhu_decode_payload(vhu_body_shape(r->desc, r->reply, r->expect), m->payload, m->hdr.size, &d);
		json_object_object_add(o, "decoded", vhu_decoded_json(&d, v->dev));
		if (r->rtt_us >= 0)
			json_object_object_add(o, "rtt_us", json_object_new_int64(r->rtt_us));
		if (!r->reply && r->expect != VHU_EXPECT_NONE)
			json_object_object_add(
				o, "expect",
				json_object_new_string(r->expect == VHU_EXPECT_ACK ? "ack" : "reply"));
		if (r->interposed)
			json_object_object_add(o, "interposed", json_object_new_boolean(true));
		if (r->dropped)
			json_object_object_add(o, "dropped", json_object_new_boolean(true));
		if (r->problem[0])
			json_object_object_add(o, "invalid", json_object_new_string(r->problem));
		if (v->raw) {
			size_t len = VHOST_USER_HDR_SIZE + m->hdr.size;
			char *buf = malloc(2 * len + 1);
			const uint8_t *h = (const uint8_t *)&m->hdr;

			if (buf) {
				for (size_t i = 0; i < len; i++)
					snprintf(buf + 2 * i, 3, "%02x",
						 i < VHOST_USER_HDR_SIZE
							 ? h[i]
							 : m->payload[i - VHOST_USER_HDR_SIZE]);
				buf[2 * len] = '\0';
				json_object_object_add(o, "raw", json_object_new_string(buf));
				free(buf);
			}
		}
	}
	err = vhu_jsonl_put(o);
	if (err && !v->err)
		v->err = err;
}

void vhu_relay_print(void *arg, const struct vhu_relay_rec *r)
{
	struct vhu_relay_view *v = arg;

	if (v->cap && !v->cap_err)
		v->cap_err = vhu_cap_write(v->cap, r);
	if (!v->quiet) {
		if (v->json)
			json_line(v, r);
		else
			text_line(v, r);
	}
	v->failed = v->err || v->cap_err;
}

void vhu_relay_flush(void *arg)
{
	struct vhu_relay_view *v = arg;

	if (!v->quiet && fflush(stdout) == EOF && !v->err)
		v->err = errno ? errno : EIO;
	v->failed = v->err || v->cap_err;
}
