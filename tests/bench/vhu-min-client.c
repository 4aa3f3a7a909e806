/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The yardstick of scripts/bench: the least a vhost-user front-end can do
 * for the same requests vhuctl sends, and nothing more.  Blocking I/O,
 * libc only, no feature gating, no catalog, no JSON; but the same
 * checks on every reply (version, REPLY flag, echoed request code, size
 * bound) and the same printed result, one line per value, because
 * skipping them would not be equivalent work.
 *
 *   vhu-min-client SOCKET probe      the requests of `vhuctl probe`
 *   vhu-min-client SOCKET loop N     N GET_FEATURES round trips
 *
 * And the stopwatch scripts/bench times both programs with, so that
 * neither pays for a shell:
 *
 *   vhu-min-client --time N PROG [ARG...]
 *                   run PROG N times one after another (stdout to
 *                   /dev/null), print the mean wall time of one run in
 *                   microseconds; exit 1 if any run failed
 *
 * Exit status 0, or 1 with a message on stderr.  Not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/session.h" /* wire constants and VHU_PF_DEFAULT_MASK; nothing linked */

static int fd = -1;
static uint8_t body[VHU_MAX_PAYLOAD];

static void die(const char *what)
{
	fprintf(stderr, "vhu-min-client: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static void send_req(uint32_t code, const void *payload, uint32_t len)
{
	struct vhost_user_hdr h = { code, VHOST_USER_VERSION, len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	/* A 12..268-byte message fits a Unix socket buffer: one call. */
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len))
		die("sendmsg");
}

static void recv_all(void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n <= 0) {
			if (n == 0)
				errno = 0;
			die("recv");
		}
		got += (size_t)n;
	}
}

/* Receive the reply to @code: header, checks, body.  Returns its size. */
static uint32_t recv_reply(uint32_t code, uint32_t max)
{
	struct vhost_user_hdr h;

	recv_all(&h, sizeof(h));
	errno = 0;
	if ((h.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION || !(h.flags & VHOST_USER_REPLY_MASK) ||
	    (h.flags & VHOST_USER_RESERVED_MASK) || h.request != code || h.size > max)
		die("bad reply header");
	recv_all(body, h.size);
	return h.size;
}

static uint64_t get_u64(uint32_t code)
{
	uint64_t v;

	send_req(code, NULL, 0);
	errno = 0;
	if (recv_reply(code, 8) != 8)
		die("short u64 reply");
	memcpy(&v, body, 8);
	return v;
}

static void probe(void)
{
	struct vhost_user_config c = { 0, VHOST_USER_MAX_CONFIG_SIZE, 0, { 0 } };
	uint64_t f = get_u64(VHOST_USER_GET_FEATURES), pf = 0;
	uint32_t n;

	printf("features 0x%016llx\n", (unsigned long long)f);
	if (f & VHU_BIT(VHOST_USER_F_PROTOCOL_FEATURES)) {
		pf = get_u64(VHOST_USER_GET_PROTOCOL_FEATURES);
		printf("protocol_features 0x%016llx\n", (unsigned long long)pf);
		/* What vhuctl acks by default, as offered. */
		pf &= VHU_PF_DEFAULT_MASK;
		send_req(VHOST_USER_SET_PROTOCOL_FEATURES, &pf, 8);
	}
	if (pf & VHU_BIT(VHOST_USER_PROTOCOL_F_MQ))
		printf("queue_num %llu\n", (unsigned long long)get_u64(VHOST_USER_GET_QUEUE_NUM));
	if (pf & VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		printf("max_mem_slots %llu\n", (unsigned long long)get_u64(VHOST_USER_GET_MAX_MEM_SLOTS));
	if (pf & VHU_BIT(VHOST_USER_PROTOCOL_F_STATUS))
		printf("status 0x%02llx\n", (unsigned long long)get_u64(VHOST_USER_GET_STATUS));
	if (pf & VHU_BIT(VHOST_USER_PROTOCOL_F_CONFIG)) {
		send_req(VHOST_USER_GET_CONFIG, &c, VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE);
		errno = 0;
		n = recv_reply(VHOST_USER_GET_CONFIG,
			       VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE);
		if (n != VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE || memcmp(body, &c, 8))
			die("bad GET_CONFIG reply");
		printf("config");
		for (uint32_t i = VHOST_USER_CONFIG_HDR_SIZE; i < n; i++)
			printf(" %02x", body[i]);
		printf("\n");
	}
}

extern char **environ;

static int stopwatch(unsigned long n, char **argv)
{
	posix_spawn_file_actions_t fa;
	struct timespec t0, t1;

	if (posix_spawn_file_actions_init(&fa) ||
	    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0))
		die("posix_spawn_file_actions");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < n; i++) {
		pid_t pid;
		int st, e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);

		if (e) {
			errno = e;
			die(argv[0]);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
			errno = 0;
			fprintf(stderr, "vhu-min-client: run %lu of %s failed\n", i + 1, argv[0]);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)n);
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (argc >= 4 && !strcmp(argv[1], "--time"))
		return stopwatch(strtoul(argv[2], NULL, 10), argv + 3);

	if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path) || (strcmp(argv[2], "probe") && argc != 4)) {
		fprintf(stderr, "usage: vhu-min-client SOCKET probe | SOCKET loop N\n");
		return 64;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	if (!strcmp(argv[2], "probe")) {
		probe();
	} else if (!strcmp(argv[2], "loop")) {
		unsigned long n = strtoul(argv[3], NULL, 10);

		for (unsigned long i = 0; i < n; i++)
			printf("features 0x%016llx\n", (unsigned long long)get_u64(VHOST_USER_GET_FEATURES));
	} else {
		fprintf(stderr, "vhu-min-client: unknown mode '%s'\n", argv[2]);
		return 64;
	}
	close(fd);
	return fflush(stdout) ? 1 : 0;
}
