/* SPDX-License-Identifier: Apache-2.0 */
/* Back-end channel messages as watch and set-backend-req-fd show them. */
#ifndef VHU_RENDER_CHAN_H
#define VHU_RENDER_CHAN_H

#include "decode/bits.h"
#include "proto/chan.h"

/* One message @m (decoded with device type @dev for feature names): a
 * text line, or an object in the JSON list being built; its problem, if
 * any, as a warning. */
void vhu_render_chan_msg(const struct vhu_chan_msg *m, enum vhu_dev_type dev);

#endif
