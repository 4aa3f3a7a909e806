/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mock's device side (tests only): with --blk FILE it maps the memory
 * the front-end hands over and serves virtio-blk requests on split and
 * packed rings, backed by FILE, with ring faults on demand (--ring-fault).
 * vhu-mock-backend.c calls these hooks; everything else lives here.
 */
#ifndef VHU_MOCK_DEV_H
#define VHU_MOCK_DEV_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mdev;

/* Options: "blk" FILE, "serial" STR, "blk-ro", "seg-max" N, "ring-fault"
 * KIND[:N].  False for a bad value. */
bool mdev_option(const char *name, const char *arg);
/* Finish option handling; false when --blk FILE cannot be used. */
bool mdev_setup(void (*log)(const char *fmt, ...));
bool mdev_enabled(void);
/* Default GET_FEATURES value and config space with --blk. */
uint64_t mdev_features(void);
size_t mdev_config(uint8_t *buf, size_t max, uint16_t queues);
/* Usage lines for --help. */
const char *mdev_usage(void);

struct mdev *mdev_new(void);
void mdev_free(struct mdev *d);
/*
 * Every front-end request after its payload was read: memory table, ring
 * setup, features.  fds it keeps are set to -1 in @fds (the caller closes
 * the rest).
 */
void mdev_request(struct mdev *d, uint32_t code, const uint8_t *payload, uint32_t size, int *fds,
		  unsigned nfds);
/* The inflight buffer behind @fd (borrowed: mapped, not kept), from
 * GET_INFLIGHT_FD (@init: version 1 and desc_num written, as
 * libvhost-user does) or SET_INFLIGHT_FD. */
void mdev_inflight(struct mdev *d, int fd, uint64_t size, uint64_t offset, uint16_t nq, uint16_t qs,
		   bool init);
/* GET_VRING_BASE: true with *@num when the device knows the ring (and
 * stops it). */
bool mdev_vring_base(struct mdev *d, uint32_t index, uint32_t *num);
/* The kick eventfds to poll; returns how many were put in @p. */
unsigned mdev_pollfds(struct mdev *d, struct pollfd *p, unsigned max);
/* A kick eventfd @fd became readable. */
void mdev_kicked(struct mdev *d, int fd);
/* With VIRTIO_F_ACCESS_PLATFORM: true once per ring address a kicked ring
 * could not find in the IOTLB (*@iova): the ring waits for the update. */
bool mdev_take_miss(struct mdev *d, uint64_t *iova);

#endif
