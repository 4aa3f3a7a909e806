/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Result codes shared by every layer.  The values are the documented exit
 * statuses, so a code can travel from the ring or the wire up to main()
 * unchanged.
 */
#ifndef VHU_UTIL_RC_H
#define VHU_UTIL_RC_H

#include <stddef.h>

enum vhu_rc {
	VHU_OK = 0,
	VHU_E_REFUSED = 1,     /* the back-end answered with a failure */
	VHU_E_PROTO = 2,       /* the back-end violated the protocol */
	VHU_E_UNSUPPORTED = 3, /* a needed feature was not offered/negotiated */
	VHU_E_REQUIREMENT = 4, /* a --require expression is not met */
	VHU_E_USAGE = 64,      /* bad command line (EX_USAGE) */
	VHU_E_CONNECT = 69,    /* cannot connect (EX_UNAVAILABLE) */
	VHU_E_IO = 74,	       /* I/O error, connection closed (EX_IOERR) */
	VHU_E_TIMEOUT = 75,    /* no answer within --timeout (EX_TEMPFAIL) */
};

/*
 * Every documented exit status, in ascending order: the result codes
 * above and 128 + the signals that interrupt a run (util/intr.h).  The
 * one table behind the JSON "exit_status_name", the --help list and, by
 * the tests, the man page's EXIT STATUS and doc/json/common.schema.json.
 */
struct vhu_exit_status {
	int status;
	const char *name; /* JSON exit_status_name: "protocol_violation" */
	const char *text; /* one line for --help and the man page */
};

extern const struct vhu_exit_status vhu_exit_statuses[];
extern const size_t vhu_exit_nstatuses;

/* The name of @status, "unknown" when it is not in the table. */
const char *vhu_exit_name(int status);

#endif
