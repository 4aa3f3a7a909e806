/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's output: one line per relayed message or event, as text or
 * as a JSON line (render/jsonl.h), written as it happens and flushed by
 * vhu_relay_flush() as the relay's poll round ends: one write for what a
 * round relayed, and nothing held back while the relay waits.
 *
 * Text:
 *   HH:MM:SS.uuuuuu sN F>B main NAME [reply] flags=0x1 size=0 [fds=N [type,...]]
 *                   [rtt=Nus] [decoded payload] [interposed] [INVALID: problems]
 *   HH:MM:SS.uuuuuu sN -- event text
 *
 * JSON, one object per line:
 *   { "ts": "2026-12-03T02:46:00.054656Z", "t": 0.054656, "event": "message",
 *     "session": 1, "chan": false, "dir": "F>B", "code": 1, "name": "GET_FEATURES",
 *     "reply": false, "flags": "0x1", "need_reply": false, "size": 0,
 *     "fds": 0, "fd_info": [ { "type": "memfd", "size": 4096 } ],
 *     "decoded": { ... }, "rtt_us": 12 (paired replies), "expect": "reply"|"ack"
 *     (requests that get an answer), "interposed": true (SET_BACKEND_REQ_FD),
 *     "dropped": true, "invalid": "problems", "raw": "hex" (--raw) }
 *   { "ts", "t", "event": "listen"|"wait"|"open"|"channel"|"end"|"stop"|"note", "session",
 *     "chan", "note": "text" }
 */
#ifndef VHU_RENDER_RELAY_H
#define VHU_RENDER_RELAY_H

#include <stdbool.h>

#include "decode/bits.h"
#include "proto/relay.h"

struct vhu_cap_writer;

struct vhu_relay_view {
	bool json;
	bool quiet;		    /* no lines on stdout (capture only) */
	struct vhu_cap_writer *cap; /* also a pcapng packet per record (render/capture.h), or NULL */
	bool raw;		    /* JSON: the message bytes as "raw" */
	enum vhu_dev_type dev;	    /* for naming device feature bits */
	int err;		    /* the first failed write to stdout (errno), 0 */
	int cap_err;		    /* the first failed write of the capture (errno), 0 */
	int failed;		    /* err or cap_err is set: for vhu_relay_cfg.stop */
};

/* vhu_relay_fn for vhu_relay_run(); @arg is a struct vhu_relay_view. */
void vhu_relay_print(void *arg, const struct vhu_relay_rec *r);
/* The relay's round_end for vhu_relay_print(): flush stdout. */
void vhu_relay_flush(void *arg);

#endif
