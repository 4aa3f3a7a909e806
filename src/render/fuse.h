/* SPDX-License-Identifier: Apache-2.0 */
/* FUSE replies as `fs stat` shows them. */
#ifndef VHU_RENDER_FUSE_H
#define VHU_RENDER_FUSE_H

#include "decode/fuse.h"

/* The "attributes" object of @at: type, mode (a number in JSON, octal in
 * text), sizes, owners and the three times (seconds and nanoseconds). */
void vhu_render_fuse_attr(const struct fuse_attr *at);

#endif
