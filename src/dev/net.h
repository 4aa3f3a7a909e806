/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net frames over the driver (virtio spec "Network Device"): a
 * queue pair, receiveq at ring 2N and transmitq at ring 2N+1, every
 * packet preceded by a struct virtio_net_hdr whose size the negotiated
 * features decide (vhu_net_hdr_len()).
 *
 * Transmit: a pool of buffers in guest memory, allocated once by
 * vhu_net_init(), each one descriptor holding header and frame together
 * (spec "Packet Transmission": with VERSION_1 the header need not have a
 * descriptor of its own).  The header is all zeros: no checksum or
 * segmentation offload is acked, so a frame goes out as it is.  The hot
 * path allocates nothing and makes no syscall except the kick: a buffer
 * is refilled (memcpy) only when it held another frame, and reused when
 * the device hands it back.
 *
 * Receive: every pool buffer posted device-writable, reposted as soon as
 * it came back.  With VIRTIO_NET_F_MRG_RXBUF a packet may span
 * num_buffers buffers, consecutive in the used ring (spec "Processing of
 * Incoming Packets"); without it a buffer holds header + 1514 bytes at
 * least and num_buffers is not looked at (DPDK leaves it 0).
 *
 * What the device hands back is checked: the virtq checks (used id,
 * used length within the posted writable bytes, index, wrap bits) and
 * here a first buffer shorter than the header, num_buffers 0 or more
 * than the buffers posted, a packet beyond VHU_NET_PACKET_MAX: each is
 * VHU_E_PROTO with a message naming the queue.  Nothing here prints.
 */
#ifndef VHU_DEV_NET_H
#define VHU_DEV_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"

/* Feature bits by number (spec "Feature bits" of "Network Device"). */
#define VHU_NET_F_MRG_RXBUF   15
#define VHU_NET_F_MQ	      22
#define VHU_NET_F_HASH_REPORT 57

/* Ethernet frames without FCS: a header at least, 1514 bytes at most (no
 * segmentation offload is acked). */
#define VHU_NET_FRAME_MIN 14u
#define VHU_NET_FRAME_MAX 1514u
/* The largest header of the spec ("Device Operation": with IPsec). */
#define VHU_NET_HDR_MAX 32u
/* The largest packet the receive side assembles (IPv4 total length). */
#define VHU_NET_PACKET_MAX 65535u
/* Bytes of a transmit buffer: header + the largest frame, rounded up. */
#define VHU_NET_TX_BUF 2048u
/* Default receive buffer (header + 1514 fits without MRG_RXBUF). */
#define VHU_NET_RX_BUF 2048u
/* Buffers per queue at most (the ring may be smaller). */
#define VHU_NET_POOL 256u
/* The default frame's size (the Ethernet minimum without FCS). */
#define VHU_NET_DEFAULT_FRAME_LEN 60u

/*
 * Bytes of struct virtio_net_hdr for the negotiated @features (spec
 * "Device Operation"): 10 for a legacy device without MRG_RXBUF, 12 with
 * VERSION_1 or MRG_RXBUF (virtio_net_hdr_v1 / _mrg_rxbuf), 20 with
 * HASH_REPORT (virtio_net_hdr_v1_hash).
 */
size_t vhu_net_hdr_len(uint64_t features);

/*
 * A frame from hex bytes ("02000000..", "02:00:00..", "02 00 .."; an
 * optional 0x in front), VHU_NET_FRAME_MIN..VHU_NET_FRAME_MAX bytes, into
 * @buf (VHU_NET_FRAME_MAX bytes).  0 and *@len, or -1 with the reason in
 * @why (without the text, which may be long).
 */
int vhu_net_parse_frame(const char *hex, uint8_t *buf, size_t *len, char *why, size_t whylen);

/*
 * The default frame into @buf (VHU_NET_DEFAULT_FRAME_LEN bytes): a UDP
 * datagram from 02:00:00:00:00:01 / 192.0.2.1:1024 to 02:00:00:00:00:02 /
 * 192.0.2.2:9 (discard; TEST-NET-1 addresses, locally administered MACs)
 * carrying "vhuctl" and zero padding, IPv4 and UDP checksums valid.
 * Returns its length.
 */
size_t vhu_net_default_frame(uint8_t *buf);

/* The smallest frame vhu_net_udp_frame() builds: Ethernet, IPv4 and UDP
 * headers. */
#define VHU_NET_UDP_FRAME_MIN 42u

/*
 * The same datagram as the default frame, @len bytes in all
 * (VHU_NET_UDP_FRAME_MIN..VHU_NET_FRAME_MAX): the UDP payload is "vhuctl"
 * (cut short below 48 bytes) and zeros.  Returns @len.
 */
size_t vhu_net_udp_frame(uint8_t *buf, size_t len);

/* The Internet checksum (RFC 1071) of @len bytes, folded and
 * complemented, starting from the partial sum @sum (host order). */
uint16_t vhu_net_csum(const uint8_t *p, size_t len, uint32_t sum);

/* A frame to send: borrowed bytes. */
struct vhu_net_frame {
	const uint8_t *data;
	uint32_t len; /* VHU_NET_FRAME_MIN..VHU_NET_FRAME_MAX */
};

struct vhu_net_buf;

struct vhu_net {
	struct vhu_drv *d;	  /* borrowed */
	struct vhu_drv_queue *rx; /* borrowed: receiveq */
	struct vhu_drv_queue *tx; /* borrowed: transmitq */
	size_t hdr_len;
	bool mrg_rxbuf;		   /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	uint32_t rx_buf;	   /* bytes per receive buffer */
	unsigned ntx, nrx;	   /* pool sizes */
	struct vhu_net_buf *txb;   /* owned: ntx */
	struct vhu_net_buf *rxb;   /* owned: nrx */
	struct vhu_net_buf **free; /* owned: free transmit buffers, ntx */
	unsigned nfree;
	struct vhu_vq_used *used; /* owned scratch: VHU_NET_POOL */
	uint8_t *pkt;		  /* owned: a packet being assembled */
	/*
	 * Send with --reconnect: called when the back-end closed the
	 * connection with frames in flight, to make it again and replay the
	 * bring-up (the rings start afresh); NULL: the run fails.  What the
	 * old back-end handed back counts as sent; the frames still in
	 * flight are added again (counted in resubmitted): none is lost, and
	 * one the old back-end had transmitted without handing it back goes
	 * out twice.
	 */
	int (*reconnect)(void *arg, const char *cause);
	void *reconnect_arg;
	uint64_t reconnects;
	uint64_t resubmitted; /* frames added again after a reconnect */
	/* counters */
	uint64_t frames;  /* sent: completed by the device; received: whole packets */
	uint64_t bytes;	  /* frame bytes, headers not counted */
	uint64_t buffers; /* receive buffers the device used */
	uint64_t merged;  /* received packets that spanned more than one buffer */
};

/*
 * Is @rx_buf a receive buffer size the device may be given with the
 * @features about to be acked?  At least the header; without MRG_RXBUF
 * header + 1514 (spec "Setting Up Receive Buffers").  VHU_OK or
 * VHU_E_USAGE with the message in @s.
 */
int vhu_net_check_rx_buf(struct vhu_session *s, uint64_t features, uint32_t rx_buf);

/*
 * Pools for the started queues @rx and @tx in guest memory (vhu_drv_alloc):
 * at most VHU_NET_POOL buffers each and no more than a ring holds;
 * receive buffers of @rx_buf bytes (at least the header; without
 * MRG_RXBUF at least header + 1514: VHU_E_USAGE).  VHU_OK, VHU_E_USAGE
 * (guest memory too small) or VHU_E_IO (out of memory).
 */
int vhu_net_init(struct vhu_net *n, struct vhu_drv *d, struct vhu_drv_queue *rx, struct vhu_drv_queue *tx,
		 uint32_t rx_buf);
void vhu_net_fini(struct vhu_net *n);

/*
 * Send @count frames, frame k being @frames[k % @nframes], and wait until
 * the device has used them all.  n->frames and n->bytes count what the
 * device took.  VHU_E_TIMEOUT when the device takes nothing for
 * --timeout, VHU_E_PROTO, VHU_E_IO (a closed connection, unless
 * n->reconnect makes it again).
 */
int vhu_net_send(struct vhu_net *n, const struct vhu_net_frame *frames, size_t nframes, uint64_t count);

/*
 * Receive callback: one whole frame (header stripped), in arrival order.
 * VHU_OK, or a vhu_rc (message set in the session) that ends the run.
 */
typedef int (*vhu_net_rx_fn)(void *arg, const uint8_t *frame, uint32_t len);

/* Post the receive buffers and take @count frames. */
int vhu_net_recv(struct vhu_net *n, uint64_t count, vhu_net_rx_fn fn, void *arg);

#endif
