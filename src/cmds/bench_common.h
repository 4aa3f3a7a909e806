/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor side that bench -T blk (cmd_bench.c) and -T net
 * (cmd_bench_net.c) share: while the workers run, this thread sleeps
 * until the next progress tick or phase change, a worker's end (the done
 * eventfd), a signal (util/intr.h) or the main socket becoming readable,
 * and looks at the socket without taking anything from it.  What each
 * does about it (pause, abort, the messages) stays with the command.
 */
#ifndef VHU_CMDS_BENCH_COMMON_H
#define VHU_CMDS_BENCH_COMMON_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "dev/benchq.h"
#include "util/intr.h"

/* What vhu_bench_sleep() filled: the slots of its pollfd array. */
enum { VHU_BENCH_DONE, VHU_BENCH_INTR, VHU_BENCH_SOCK, VHU_BENCH_NFDS };

/*
 * Sleep until @wake (ns, vhu_bq_now_ns()) at the latest, or until
 * @done_fd, the signals' fd or, with @watch, the main socket @sock_fd is
 * readable (a hang-up stays readable: unwatched while paused or
 * aborting).  @p receives what poll(2) saw, *@now the clock after it.
 * poll(2)'s result; errno is poll's when it is < 0.
 */
static inline int vhu_bench_sleep(struct pollfd p[VHU_BENCH_NFDS], int done_fd, int sock_fd, bool watch,
				  int64_t wake, int64_t *now)
{
	int64_t t = vhu_bq_now_ns();
	int r, err;

	p[VHU_BENCH_DONE] = (struct pollfd){ .fd = done_fd, .events = POLLIN };
	p[VHU_BENCH_INTR] = (struct pollfd){ .fd = vhu_intr_fd(), .events = POLLIN };
	p[VHU_BENCH_SOCK] = (struct pollfd){ .fd = sock_fd, .events = POLLIN };
	r = poll(p, watch ? 3 : 2, wake > t ? (int)((wake - t + 999999) / 1000000) : 0);
	err = errno;
	*now = vhu_bq_now_ns();
	errno = err;
	return r;
}

/*
 * The main socket looked readable while the workers ran: VHU_OK when it
 * only looked so; VHU_E_PROTO when the back-end sent something nobody
 * asked for, VHU_E_IO when it hung up, and @msg (@size bytes) says which,
 * "while @what were in flight".  Nothing is taken from the socket.
 */
static inline int vhu_bench_peer(int sock_fd, const char *what, char *msg, size_t size)
{
	char c;
	ssize_t r = recv(sock_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return VHU_OK;
	if (r > 0) {
		snprintf(msg, size, "the back-end sent an unrequested message while %s were in flight", what);
		return VHU_E_PROTO;
	}
	snprintf(msg, size, "the back-end closed the connection while %s were in flight", what);
	return VHU_E_IO;
}

/* The signal that came (util/intr.h), or 0.  Taken: cleared, so that
 * the orderly stop's requests do not see it. */
static inline int vhu_bench_take_signal(void)
{
	int sig = vhu_intr_signo();

	if (sig)
		vhu_intr_clear();
	return sig;
}

/* The progress tick after @now: a late wake-up skips the ticks missed. */
static inline void vhu_bench_next_tick(int64_t *next_tick, int64_t now, int tick_ms)
{
	while (*next_tick <= now)
		*next_tick += (int64_t)tick_ms * 1000000;
}

#endif
