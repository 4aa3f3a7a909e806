/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the command files. */
#ifndef VHU_CMDS_COMMON_H
#define VHU_CMDS_COMMON_H

#include "cmds/cmd.h"

/* argp for commands without options or operands. */
extern const struct argp vhu_noargs_argp;

/* One operand: the parser vhu_operand_parser() fills it (state->input
 * must point to a struct vhu_operand, or to a struct starting with one). */
struct vhu_operand {
	const char *v;
	bool required;
};
error_t vhu_operand_parser(int key, char *arg, struct argp_state *state);
/* For parsers whose command takes no operand: report @arg, EINVAL. */
error_t vhu_reject_operand(struct argp_state *state, const char *arg);

/* Why a GET_CONFIG of [@offset, @offset + @size) may have been refused,
 * and what to try (-n N), written into @buf. */
void vhu_config_hint(struct vhu_ctx *ctx, uint32_t offset, uint32_t size, char *buf, size_t len);

#endif
