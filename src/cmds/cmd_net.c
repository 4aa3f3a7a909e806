/* SPDX-License-Identifier: Apache-2.0 */
/* send-rarp, net-set-mtu: the net helpers of the protocol. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmds/cmd_common.h"
#include "render/out.h"
#include "util/parse.h"

static const struct argp rarp_argp = {
	NULL, vhu_operand_parser, "MAC",
	"Ask the back-end to broadcast a RARP for guest MAC aa:bb:cc:dd:ee:ff, as after a migration "
	"(SEND_RARP, needs VHOST_USER_PROTOCOL_F_RARP).",
	NULL, NULL, NULL
};

int cmd_send_rarp(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vhu_operand a = { NULL, true };
	unsigned m[6];
	uint8_t payload[8] = { 0 };
	uint64_t v;
	char tail;
	int rc = vhu_cmd_parse(ctx, &rarp_argp, argc, argv, &a);

	if (rc)
		return rc;
	/* Exactly xx:xx:xx:xx:xx:xx in hex digits: sscanf alone would take
	 * signs and 0x prefixes. */
	for (size_t i = 0; i < 17 && a.v[i]; i++)
		if (i % 3 == 2 ? a.v[i] != ':' : !isxdigit((unsigned char)a.v[i]))
			return vhu_usage(ctx, "invalid MAC '%s' (aa:bb:cc:dd:ee:ff)", a.v);
	if (strlen(a.v) != 17 ||
	    sscanf(a.v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
		return vhu_usage(ctx, "invalid MAC '%s' (aa:bb:cc:dd:ee:ff)", a.v);
	/* Spec "SEND_RARP": the first 6 bytes of the u64 are the MAC. */
	for (int i = 0; i < 6; i++)
		payload[i] = (uint8_t)m[i];
	memcpy(&v, payload, 8);
	rc = vhu_cmd_connect(ctx, VHU_NEG_PROTOCOL);
	if (!rc)
		rc = vhu_set_u64(&ctx->s, VHOST_USER_SEND_RARP, v);
	if (rc)
		return rc;
	vhu_out_string("mac", "RARP sent for", a.v);
	return VHU_OK;
}

static const struct argp mtu_argp = {
	NULL, vhu_operand_parser, "MTU",
	"Tell a net back-end the MTU (NET_SET_MTU, needs VHOST_USER_PROTOCOL_F_NET_MTU; the guest sees "
	"it only with VIRTIO_NET_F_MTU).  68..65535.",
	NULL, NULL, NULL
};

int cmd_net_set_mtu(struct vhu_ctx *ctx, int argc, char **argv)
{
	struct vhu_operand a = { NULL, true };
	uint64_t mtu;
	int rc = vhu_cmd_parse(ctx, &mtu_argp, argc, argv, &a);

	if (rc)
		return rc;
	if (vhu_parse_u64(a.v, 65535, &mtu) || mtu < 68)
		return vhu_usage(ctx, "invalid MTU '%s' (68..65535)", a.v);
	rc = vhu_cmd_connect(ctx, VHU_NEG_PROTOCOL);
	if (!rc && ctx->s.have_features && !(ctx->s.features & VHU_BIT(3)) && vhu_ctx_dev(ctx) == VHU_DEV_NET)
		vhu_out_warn("the back-end does not offer VIRTIO_NET_F_MTU: a guest would not see the MTU");
	if (!rc)
		rc = vhu_set_u64(&ctx->s, VHOST_USER_NET_SET_MTU, mtu);
	if (rc)
		return rc;
	vhu_out_uint("mtu", "MTU", mtu, NULL);
	return VHU_OK;
}
