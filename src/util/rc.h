/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Result codes shared by every layer.  The values are the documented exit
 * statuses, so a code can travel from the ring or the wire up to main()
 * unchanged.
 */
#ifndef VHU_UTIL_RC_H
#define VHU_UTIL_RC_H

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

#endif
