/* SPDX-License-Identifier: Apache-2.0 */
/* What a reconnect replayed, as batch, watch and blk report it. */
#ifndef VHU_RENDER_REPLAY_H
#define VHU_RENDER_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/replay.h"

/* "GET_FEATURES SET_OWNER SET_VRING_NUM x2 ...": each request of @rep
 * once, in the order of its first appearance, with its count, into @buf. */
void vhu_render_replay_summary(const struct vhu_replay_report *rep, char *buf, size_t len);

/* The members of one reconnect: its @cause, how long it took, the
 * connections tried and what was replayed (a list of requests, with the
 * ring of those that have one). */
void vhu_render_reconnect(const char *cause, int64_t duration_ms, unsigned attempts,
			  const struct vhu_replay_report *rep);

#endif
