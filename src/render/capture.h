/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing the proxy's capture (pcapng, layout in decode/capture.h): a
 * file a live proxy appends to, each packet flushed as it is written, so
 * that a proxy that is killed leaves every packet before that readable.
 */
#ifndef VHU_RENDER_CAPTURE_H
#define VHU_RENDER_CAPTURE_H

#include <stddef.h>

#include "proto/relay.h"

struct vhu_cap_writer;

/* Create (or truncate) @path and write the section and interface blocks.
 * NULL with a one-line reason in @err. */
struct vhu_cap_writer *vhu_cap_open(const char *path, char *err, size_t errlen);
/* One record as one packet.  0, or the errno of a failed write (later
 * writes are then skipped). */
int vhu_cap_write(struct vhu_cap_writer *w, const struct vhu_relay_rec *r);
/* Close the file; 0 or the errno of the first failure. */
int vhu_cap_close(struct vhu_cap_writer *w);

#endif
