/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluated requirements (--require) as the "requirements" list shows them. */
#ifndef VHU_RENDER_REQUIRE_H
#define VHU_RENDER_REQUIRE_H

#include "decode/require.h"

/* Requirement @r and its result @res: "met"/"NOT MET" with the actual
 * value in text; in JSON an object with the kind, the actual value (or
 * why there is none) and what the requirement names. */
void vhu_render_requirement(const struct vhu_req *r, const struct vhu_req_result *res);

#endif
