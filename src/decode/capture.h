/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's capture files: pcapng (one section, one interface of link
 * type LINKTYPE_USER0, 147), one Enhanced Packet Block per relayed message
 * or event, microsecond timestamps.  Each packet is a pseudo-header
 * (little-endian) followed by the vhost-user message as it crossed the
 * socket:
 *
 *   0  u8  version (1)            1  u8  kind: 0 message, 1 event
 *   2  u8  dir: 0 F>B, 1 B>F      3  u8  channel: 0 main, 1 back-end channel
 *   4  u32 session
 *   8  u8  expect: 0 none, 1 reply, 2 ack
 *   9  u8  flags: 0x1 interposed, 0x2 dropped, 0x4 reply flag (informative)
 *  10  u8  number of fds          11 u8  reserved (0)
 *  12  u16 event name length     14  u16 text length (problem or note)
 *  16  i64 round-trip time in us (-1: none)
 *  24  i64 us since the proxy started
 *  32  per fd: u8 type (enum vhu_fd_type), 7 bytes 0, i64 size (-1: none)
 *  then the event name, the text, and (messages) header + payload.
 *
 * contrib/wireshark/vhost-user.lua dissects the same layout.
 */
#ifndef VHU_DECODE_CAPTURE_H
#define VHU_DECODE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/relay.h"

#define VHU_CAP_LINKTYPE 147u /* LINKTYPE_USER0 */
#define VHU_CAP_VERSION	 1u
#define VHU_CAP_HDR	 32u
#define VHU_CAP_FD	 16u

/* Called for each record of a capture; @r and what it points to live
 * until the call returns. */
typedef void (*vhu_cap_fn)(void *arg, const struct vhu_relay_rec *r);

/*
 * Read the capture @f and call @fn for each record.  0, or -1 with a
 * one-line reason in @err: not pcapng, a block cut short, a packet of
 * another link type or version, a pseudo-header that does not add up.
 * Records before the problem were passed on.
 */
int vhu_cap_read(FILE *f, vhu_cap_fn fn, void *arg, char *err, size_t errlen);

#endif
