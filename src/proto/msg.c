/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The message transport (see msg.h for the framing rules).
 */
#define _GNU_SOURCE
#include "proto/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/intr.h"
#include "util/rc.h"

void vhu_msg_close_fds(struct vhu_msg *m)
{
	for (unsigned i = 0; i < m->nfds && i < VHU_MSG_FD_ROOM; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

void vhu_close_fds(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int64_t vhu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vhu_wait_fd(int fd, short events, int64_t deadline, volatile sig_atomic_t *stop)
{
	for (;;) {
		/* The self-pipe of util/intr wakes the wait on SIGINT & co. */
		struct pollfd p[2] = { { .fd = fd, .events = events },
				       { .fd = vhu_intr_fd(), .events = POLLIN } };
		int left = -1, r;

		if (stop && *stop)
			return VHU_E_TIMEOUT;
		if (vhu_intr_status())
			return vhu_intr_status();
		if (deadline >= 0) {
			int64_t l = deadline - vhu_now_ms();
			left = l < 0 ? 0 : l > INT_MAX ? INT_MAX : (int)l;
		}
		r = poll(p, 2, left);
		if (r > 0 && p[0].revents)
			return 0;
		if (r == 0)
			return VHU_E_TIMEOUT;
		if (r < 0 && errno != EINTR)
			return VHU_E_IO;
	}
}

/*
 * After a recvmsg that reported MSG_CTRUNC: did the fds fail to arrive
 * because this process has no free fd left (the kernel stops installing
 * them at the first one over RLIMIT_NOFILE)?  @installed fds of the
 * message are still open.  A full control buffer (VHU_MSG_FD_ROOM fds)
 * means the sender sent more than any message may carry: its fault.
 */
static bool own_fd_limit(int fd, size_t installed)
{
	int probe;

	if (installed >= VHU_MSG_FD_ROOM)
		return false;
	probe = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (probe >= 0) {
		close(probe);
		return false;
	}
	return errno == EMFILE || errno == ENFILE;
}

/* Keep the fds of one recvmsg: with the first byte of a message in @m,
 * later ones are strays (closed).  False when the process ran out of fds
 * (errno set). */
static bool take_fds(int fd, struct msghdr *mh, bool first, struct vhu_msg *m, struct vhu_rx *rx)
{
	size_t installed = 0;
	bool out_of_fds = false;

	if (mh->msg_flags & MSG_CTRUNC) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				installed += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		out_of_fds = own_fd_limit(fd, installed);
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int rfd;

			memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (first && m->nfds < VHU_MSG_FD_ROOM) {
				m->fds[m->nfds++] = rfd;
			} else {
				close(rfd);
				rx->stray++;
			}
		}
	}
	if (out_of_fds) {
		errno = EMFILE;
		return false;
	}
	if (mh->msg_flags & MSG_CTRUNC)
		rx->trunc = true;
	return true;
}

ssize_t vhu_msg_recv_bytes(int fd, void *buf, size_t len, int *fds, unsigned *nfds, bool *trunc)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MSG_FD_ROOM)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)
	};
	size_t installed = 0;
	ssize_t n;

	*nfds = 0;
	*trunc = false;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		installed += k;
		for (size_t i = 0; i < k; i++) {
			int rfd;

			memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < VHU_MSG_FD_ROOM)
				fds[(*nfds)++] = rfd;
			else
				close(rfd);
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		*trunc = true;
		if (own_fd_limit(fd, installed)) {
			vhu_close_fds(fds, *nfds);
			*nfds = 0;
			errno = EMFILE;
			return -1;
		}
	}
	return n;
}

enum vhu_rx_status vhu_msg_read(int fd, struct vhu_msg *m, struct vhu_rx *rx, uint32_t max, unsigned flags)
{
	bool block = flags & VHU_RX_BLOCK;

	if (max > VHU_MAX_PAYLOAD)
		max = VHU_MAX_PAYLOAD;
	if (rx->got == 0)
		m->nfds = 0;
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHU_MSG_FD_ROOM)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		bool first = rx->got == 0;
		ssize_t n;

		if (rx->got < VHOST_USER_HDR_SIZE) {
			iov.iov_base = (char *)&m->hdr + rx->got;
			iov.iov_len = VHOST_USER_HDR_SIZE - rx->got;
		} else {
			size_t off = rx->got - VHOST_USER_HDR_SIZE;

			if ((flags & VHU_RX_STOP_HEADER) && !rx->hdr_told) {
				rx->hdr_told = true;
				return VHU_RX_HEADER;
			}
			if (m->hdr.size > max) {
				errno = EMSGSIZE;
				return VHU_RX_ERROR;
			}
			if (off == m->hdr.size)
				return VHU_RX_DONE;
			iov.iov_base = m->payload + off;
			iov.iov_len = m->hdr.size - off;
		}
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | (block ? 0 : MSG_DONTWAIT));
		block = false;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return VHU_RX_AGAIN;
			return VHU_RX_ERROR;
		}
		if (!take_fds(fd, &mh, first, m, rx))
			return VHU_RX_ERROR;
		if (n == 0) {
			if (first)
				return VHU_RX_EOF;
			errno = 0;
			return VHU_RX_ERROR;
		}
		rx->got += (size_t)n;
	}
}

enum vhu_tx_status vhu_msg_write(int fd, const struct vhost_user_hdr *hdr, const void *payload,
				 const int *fds, unsigned nfds, struct vhu_tx *tx)
{
	size_t total = VHOST_USER_HDR_SIZE + hdr->size;

	while (tx->done < total) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHU_MSG_FD_ROOM)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		if (tx->done < VHOST_USER_HDR_SIZE) {
			iov[0] = (struct iovec){ (char *)hdr + tx->done, VHOST_USER_HDR_SIZE - tx->done };
			iov[1] = (struct iovec){ (void *)payload, hdr->size };
			mh.msg_iovlen = hdr->size ? 2 : 1;
		} else {
			size_t off = tx->done - VHOST_USER_HDR_SIZE;

			iov[0] = (struct iovec){ (char *)payload + off, hdr->size - off };
			mh.msg_iovlen = 1;
		}
		if (tx->done == 0 && nfds) {
			struct cmsghdr *c;

			if (nfds > VHU_MSG_FD_ROOM) {
				errno = EINVAL;
				return VHU_TX_ERROR;
			}
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return VHU_TX_AGAIN;
			return VHU_TX_ERROR;
		}
		tx->done += (size_t)n;
	}
	return VHU_TX_DONE;
}

int vhu_msg_recv(int fd, struct vhu_msg *m, struct vhu_rx *rx, uint32_t max, unsigned flags, int64_t deadline,
		 volatile sig_atomic_t *stop)
{
	for (;;) {
		int rc;

		switch (vhu_msg_read(fd, m, rx, max, flags)) {
		case VHU_RX_HEADER:
		case VHU_RX_DONE: return VHU_OK;
		case VHU_RX_EOF: errno = 0; return VHU_E_IO;
		case VHU_RX_ERROR: return VHU_E_IO;
		case VHU_RX_AGAIN: break;
		}
		/* Only the first read may wait in the kernel. */
		flags &= ~VHU_RX_BLOCK;
		rc = vhu_wait_fd(fd, POLLIN, deadline, stop);
		if (rc)
			return rc;
	}
}

int vhu_msg_send(int fd, const struct vhost_user_hdr *hdr, const void *payload, const int *fds, unsigned nfds,
		 struct vhu_tx *tx, int64_t deadline)
{
	for (;;) {
		int rc;

		switch (vhu_msg_write(fd, hdr, payload, fds, nfds, tx)) {
		case VHU_TX_DONE: return VHU_OK;
		case VHU_TX_ERROR: return VHU_E_IO;
		case VHU_TX_AGAIN: break;
		}
		rc = vhu_wait_fd(fd, POLLOUT, deadline, NULL);
		if (rc)
			return rc;
	}
}

void vhu_fd_describe(int fd, struct vhu_fd_desc *d)
{
	struct stat st;
	char path[64], link[128];
	ssize_t n;

	d->type = VHU_FDT_BAD;
	d->size = -1;
	d->anon[0] = '\0';
	if (fd < 0 || fstat(fd, &st))
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (S_ISREG(st.st_mode)) {
		d->type = strncmp(link, "/memfd:", 7) ? VHU_FDT_FILE : VHU_FDT_MEMFD;
		d->size = (int64_t)st.st_size;
	} else if (S_ISSOCK(st.st_mode)) {
		d->type = VHU_FDT_SOCKET;
	} else if (S_ISFIFO(st.st_mode)) {
		d->type = VHU_FDT_PIPE;
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		d->type = VHU_FDT_DEVICE;
	} else if (!strcmp(link, "anon_inode:[eventfd]")) {
		d->type = VHU_FDT_EVENTFD;
	} else if (!strncmp(link, "anon_inode:", 11)) {
		/* "anon_inode:[userfaultfd]", "anon_inode:dmabuf", ... */
		const char *p = link + 11;
		size_t len = strlen(p);

		if (*p == '[' && len > 1 && p[len - 1] == ']') {
			p++;
			len -= 2;
		}
		d->type = VHU_FDT_ANON;
		snprintf(d->anon, sizeof(d->anon), "%.*s", (int)len, p);
	} else {
		d->type = VHU_FDT_OTHER;
	}
}

const char *vhu_fd_type_name(const struct vhu_fd_desc *d)
{
	switch (d->type) {
	case VHU_FDT_MEMFD: return "memfd";
	case VHU_FDT_EVENTFD: return "eventfd";
	case VHU_FDT_FILE: return "file";
	case VHU_FDT_SOCKET: return "socket";
	case VHU_FDT_PIPE: return "pipe";
	case VHU_FDT_DEVICE: return "device";
	case VHU_FDT_ANON: return d->anon[0] ? d->anon : "anon";
	case VHU_FDT_OTHER: return "other";
	case VHU_FDT_BAD: return "bad";
	}
	return "?";
}
