/* SPDX-License-Identifier: Apache-2.0 */
#include "util/rc.h"

#include <signal.h>
#include <stddef.h>

const struct vhu_exit_status vhu_exit_statuses[] = {
	{ VHU_OK, "success", "success" },
	{ VHU_E_REFUSED, "refused",
	  "the back-end refused a request (non-zero REPLY_ACK status, failed check)" },
	{ VHU_E_PROTO, "protocol_violation",
	  "protocol violation by the back-end (bad reply header, code, size or fds)" },
	{ VHU_E_UNSUPPORTED, "not_supported", "feature not offered or not negotiated (nothing was sent)" },
	{ VHU_E_REQUIREMENT, "requirement_not_met",
	  "a requirement (--require) is not met (one line each on stderr)" },
	{ VHU_E_USAGE, "usage", "usage error (bad command line)" },
	{ VHU_E_CONNECT, "cannot_connect", "cannot connect to the socket" },
	{ VHU_E_IO, "io_error", "I/O error (connection closed, send or receive failed)" },
	{ VHU_E_TIMEOUT, "timeout", "timeout (no answer within --timeout)" },
	{ 128 + SIGHUP, "interrupted", "interrupted by SIGHUP" },
	{ 128 + SIGINT, "interrupted", "interrupted by SIGINT" },
	{ 128 + SIGQUIT, "interrupted", "interrupted by SIGQUIT" },
	{ 128 + SIGTERM, "interrupted", "interrupted by SIGTERM" },
};

const size_t vhu_exit_nstatuses = sizeof(vhu_exit_statuses) / sizeof(vhu_exit_statuses[0]);

const char *vhu_exit_name(int status)
{
	for (size_t i = 0; i < vhu_exit_nstatuses; i++)
		if (vhu_exit_statuses[i].status == status)
			return vhu_exit_statuses[i].name;
	return "unknown";
}
