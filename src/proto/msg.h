/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The message transport: one whole vhost-user message with its fds, read
 * or written on a Unix stream socket.  The session (requests and their
 * replies), the back-end channel and the proxy all frame messages here and
 * nowhere else.
 *
 * Framing rules (spec "Message Specification", "Communication"):
 *  - a message is the 12-byte header then exactly hdr.size payload bytes;
 *    nothing past its last byte is read, since the next message's fds ride
 *    on that message's first byte;
 *  - fds travel as SCM_RIGHTS with the first byte of a message; fds that
 *    arrive with a later byte are strays: closed at once and counted;
 *  - a message is written with one sendmsg, fds on the first byte (QEMU
 *    7.2's virtiofsd aborts when a body arrives in a second piece); only a
 *    full socket buffer splits it, and then the rest follows without fds.
 *
 * Two levels: vhu_msg_read()/vhu_msg_write() never wait (each call makes
 * as much progress as the socket allows and says what it is waiting for),
 * for a poll loop such as the proxy's; vhu_msg_recv()/vhu_msg_send() wait
 * up to a deadline, for the session and the back-end channel.
 *
 * Nothing here prints.  The fds of a received message belong to whoever
 * holds the message (vhu_msg_close_fds()); fds passed for sending are
 * borrowed and never closed here.
 */
#ifndef VHU_PROTO_MSG_H
#define VHU_PROTO_MSG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/wire.h"

/* Receive room for more fds than any message may carry (the spec's 8,
 * QEMU's 16), so that an excess is seen and relayed or refused rather
 * than silently cut by the kernel. */
#define VHU_MSG_FD_ROOM 32u

/* One message as sent or received. */
struct vhu_msg {
	struct vhost_user_hdr hdr;
	uint8_t payload[VHU_MAX_PAYLOAD];
	int fds[VHU_MSG_FD_ROOM];
	unsigned nfds;
};

/* Close the message's fds (those still >= 0); nfds becomes 0. */
void vhu_msg_close_fds(struct vhu_msg *m);

/* Where the reading of one message stands; zero it (vhu_rx_reset) before
 * the first byte of each message. */
struct vhu_rx {
	size_t got;	/* header + payload bytes read */
	unsigned stray; /* fds that came after the first byte: closed */
	bool trunc;	/* the kernel dropped fds (more than VHU_MSG_FD_ROOM) */
	bool hdr_told;	/* VHU_RX_HEADER was returned for this message */
};

static inline void vhu_rx_reset(struct vhu_rx *rx)
{
	*rx = (struct vhu_rx){ 0 };
}

/* The header of the message being read is complete. */
static inline bool vhu_rx_have_header(const struct vhu_rx *rx)
{
	return rx->got >= VHOST_USER_HDR_SIZE;
}

enum vhu_rx_status {
	VHU_RX_AGAIN,  /* the socket has nothing more now: poll POLLIN, call again */
	VHU_RX_HEADER, /* (VHU_RX_STOP_HEADER) header complete, payload not read yet */
	VHU_RX_DONE,   /* the whole message is in @m */
	VHU_RX_EOF,    /* orderly end of stream before the first byte */
	VHU_RX_ERROR,  /* see errno: 0 = EOF inside the message; EMSGSIZE = payload
			* above @max (only the header was read); EMFILE/ENFILE = fds
			* sent along were lost because this process has no free fd;
			* others from recvmsg */
};

#define VHU_RX_BLOCK                                                                                         \
	0x1u /* the first recvmsg may wait in the kernel (a blocking                                         \
	      * socket whose SO_RCVTIMEO bounds the wait) */
#define VHU_RX_STOP_HEADER                                                                                   \
	0x2u /* return VHU_RX_HEADER once, so the header can be                                              \
	      * checked before a payload byte is read */

/*
 * For a reader that frames messages itself from a buffer (the relay:
 * header and payload, often a whole message, in one system call): one
 * non-blocking recvmsg of up to @len bytes into @buf.  Linux ends such a
 * read right after the bytes that carried fds, so the fds belong to the
 * last message whose first byte is in the bytes read.  They go to @fds
 * (room for VHU_MSG_FD_ROOM; *@nfds), *@trunc when the kernel dropped
 * some.  Returns the bytes read, 0 at end of stream, or -1 with errno
 * (EAGAIN: nothing there now; EMFILE/ENFILE: fds sent along were lost
 * because this process has no free fd; the ones that came are closed).
 */
ssize_t vhu_msg_recv_bytes(int fd, void *buf, size_t len, int *fds, unsigned *nfds, bool *trunc);

/*
 * Read (the rest of) one message from @fd into @m, never past its end.
 * Payloads above @max (capped at VHU_MAX_PAYLOAD) are refused with
 * EMSGSIZE once the header is in.  fds on the first byte go to m->fds
 * (m->nfds), up to VHU_MSG_FD_ROOM; later ones are closed and counted in
 * rx->stray.  With VHU_RX_ERROR the fds already in @m stay there for the
 * caller to close.  A cost of one recvmsg for the header and one for the
 * payload when both are there.
 */
enum vhu_rx_status vhu_msg_read(int fd, struct vhu_msg *m, struct vhu_rx *rx, uint32_t max, unsigned flags);

/* Where the writing of one message stands; zero before each message. */
struct vhu_tx {
	size_t done; /* header + payload bytes sent; fds went with the first */
};

enum vhu_tx_status {
	VHU_TX_AGAIN, /* the socket buffer is full: poll POLLOUT, call again */
	VHU_TX_DONE,  /* the whole message went out */
	VHU_TX_ERROR, /* errno from sendmsg (EPIPE: the peer is gone) */
};

/*
 * Write (the rest of) the message @hdr + @payload (hdr->size bytes) with
 * @nfds fds (borrowed) on its first byte; one sendmsg for a message that
 * fits the socket buffer.  Never raises SIGPIPE.
 */
enum vhu_tx_status vhu_msg_write(int fd, const struct vhost_user_hdr *hdr, const void *payload,
				 const int *fds, unsigned nfds, struct vhu_tx *tx);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t vhu_now_ms(void);
/* 0 when @fd is ready for @events (HUP/ERR count as ready: the next I/O
 * tells), VHU_E_TIMEOUT at @deadline (vhu_now_ms() based; < 0: none) or
 * when *@stop becomes non-zero during the wait, 128 + signal when one
 * arrived (util/intr), VHU_E_IO on poll errors. */
int vhu_wait_fd(int fd, short events, int64_t deadline, volatile sig_atomic_t *stop);

/*
 * vhu_msg_read() until it returns something other than VHU_RX_AGAIN,
 * waiting for input up to @deadline.  VHU_OK when the message (or, with
 * VHU_RX_STOP_HEADER, its header) is in; VHU_E_TIMEOUT, 128 + signal;
 * VHU_E_IO with errno as vhu_msg_read() (EOF before the first byte: errno
 * 0 and rx->got == 0).
 */
int vhu_msg_recv(int fd, struct vhu_msg *m, struct vhu_rx *rx, uint32_t max, unsigned flags, int64_t deadline,
		 volatile sig_atomic_t *stop);

/* vhu_msg_write() until done, waiting for room up to @deadline: VHU_OK,
 * VHU_E_TIMEOUT, 128 + signal, or VHU_E_IO with errno.  @tx tells how much
 * went out when it failed. */
int vhu_msg_send(int fd, const struct vhost_user_hdr *hdr, const void *payload, const int *fds, unsigned nfds,
		 struct vhu_tx *tx, int64_t deadline);

void vhu_close_fds(const int *fds, unsigned n);

/* What an fd in a message is, found without changing it (fstat and the
 * /proc/self/fd link).  Memory fds are memfds or files, notifications are
 * eventfds. */
enum vhu_fd_type {
	VHU_FDT_MEMFD,
	VHU_FDT_EVENTFD,
	VHU_FDT_FILE, /* a regular file that is not a memfd */
	VHU_FDT_SOCKET,
	VHU_FDT_PIPE,
	VHU_FDT_DEVICE, /* character or block device */
	VHU_FDT_ANON,	/* another anon inode (dma-buf, userfaultfd, ...) */
	VHU_FDT_OTHER,
	VHU_FDT_BAD, /* fstat failed */
};

struct vhu_fd_desc {
	enum vhu_fd_type type;
	int64_t size;  /* memfd and file size, -1 otherwise */
	char anon[24]; /* anon inode name ("userfaultfd") for VHU_FDT_ANON */
};

void vhu_fd_describe(int fd, struct vhu_fd_desc *d);
/* "memfd", "eventfd", "file", "socket", "pipe", "device", the anon inode
 * name, "other", "bad". */
const char *vhu_fd_type_name(const struct vhu_fd_desc *d);

#endif
