/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On-wire constants and payload layouts of the vhost-user protocol.
 *
 * Names mirror docs/interop/vhost-user.rst ("Message types", "Protocol
 * features", "Message specification").  All payload integers are in host
 * byte order (spec: "machine native"); the contents of the device config
 * space are little-endian virtio fields and are decoded in src/decode.
 */
#ifndef VHU_WIRE_H
#define VHU_WIRE_H

#include <stdint.h>

/* Header: request(4) flags(4) size(4), spec "Message Specification". */
#define VHOST_USER_HDR_SIZE	   12u
#define VHOST_USER_VERSION	   0x1u
#define VHOST_USER_VERSION_MASK	   0x3u
#define VHOST_USER_REPLY_MASK	   (1u << 2)
#define VHOST_USER_NEED_REPLY_MASK (1u << 3)
#define VHOST_USER_RESERVED_MASK   0xfffffff0u

/* Our cap on any payload we accept; the largest legitimate message is
 * GET_SHMEM_CONFIG's 2056-byte reply (rust-vmm uses the same 4096 bound). */
#define VHU_MAX_PAYLOAD 4096u
/* Maximum fds we send or accept in one message (spec: 8 memory regions). */
#define VHOST_USER_MAX_FDS 8u
/* Baseline memory table size (spec: region0..region7). */
#define VHOST_MEMORY_BASELINE_NREGIONS 8u
/* Device config space bound (QEMU VHOST_USER_MAX_CONFIG_SIZE). */
#define VHOST_USER_MAX_CONFIG_SIZE 256u
/* Upper bound on GET_QUEUE_NUM accepted from a back-end (the seed client
 * and rust-vmm use 0x8000). */
#define VHOST_USER_MAX_VRINGS 0x8000u
/* Rings addressable by the vring-fd u64 of SET_VRING_KICK/CALL/ERR
 * (bits 0-7 carry the index). */
#define VHU_MAX_FD_VRINGS	   256u
#define VHOST_USER_VRING_IDX_MASK  0xffu
#define VHOST_USER_VRING_NOFD_MASK (1u << 8)

enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_GET_SHARED_OBJECT = 41,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_GET_SHMEM_CONFIG = 44,
	VHOST_USER_GET_VRING_BASE_SKIP_DRAIN = 45,
	/* crosvm's front-end extension, outside the common spec numbering. */
	VHOST_USER_GET_SHARED_MEMORY_REGIONS = 1004,
};

enum vhost_user_backend_request {
	VHOST_USER_BACKEND_NONE = 0,
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_VRING_CALL = 4,
	VHOST_USER_BACKEND_VRING_ERR = 5,
	VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6,
	VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
	VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
	VHOST_USER_BACKEND_SHMEM_MAP = 9,
	VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
};

/* Virtio feature bit that announces GET/SET_PROTOCOL_FEATURES (spec
 * "Protocol features"); bit 30 is UNUSED in virtio itself. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1	       32
#define VIRTIO_F_RING_PACKED	       34
#define VHOST_F_LOG_ALL		       26

/* Protocol feature bit numbers (not masks: use VHU_BIT()). */
enum vhost_user_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_NET_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
	VHOST_USER_PROTOCOL_F_XEN_MMAP = 17,
	VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
	VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT = 20,
	VHOST_USER_PROTOCOL_F_GPA_ADDRESSES = 21,
	VHOST_USER_PROTOCOL_F_SHMEM = 22,
	VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN = 23,
	VHOST_USER_PROTOCOL_F_COUNT = 24,
	/* crosvm's old numbering of its shared-memory-regions feature; the
	 * seed client refuses it without BACKEND_REQ. */
	VHOST_USER_PROTOCOL_F_SHARED_MEMORY_REGIONS = 31,
};

#define VHU_BIT(n) (UINT64_C(1) << (n))

/* Config flags: QEMU uses 0 = normal write, 1 = live-migration write;
 * rust-vmm models 0x1 WRITABLE, 0x2 LIVE_MIGRATION (VhostUserConfigFlags). */
#define VHOST_USER_CONFIG_FLAG_WRITABLE	 0x1u
#define VHOST_USER_CONFIG_FLAG_MIGRATION 0x2u
#define VHOST_USER_CONFIG_FLAGS_KNOWN	 0x3u

#define VHOST_VRING_F_LOG 0x1u

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vhost_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

struct vhost_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
} __attribute__((packed));

struct vhost_user_memory_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
} __attribute__((packed));

struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_memory_region regions[VHOST_MEMORY_BASELINE_NREGIONS];
} __attribute__((packed));

struct vhost_user_mem_reg_msg {
	uint64_t padding;
	struct vhost_user_memory_region region;
} __attribute__((packed));

struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
} __attribute__((packed));

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
} __attribute__((packed));
#define VHOST_USER_CONFIG_HDR_SIZE 12u

struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding; /* every implementation sends 24 bytes */
} __attribute__((packed));

struct vhost_user_vring_area {
	uint64_t u64;
	uint64_t size;
	uint64_t offset;
} __attribute__((packed));

/* vhost_iotlb_msg type and perm (spec "IOMMU support"; Linux vhost.h). */
enum {
	VHU_IOTLB_MISS = 1,
	VHU_IOTLB_UPDATE = 2,
	VHU_IOTLB_INVALIDATE = 3,
	VHU_IOTLB_ACCESS_FAIL = 4,
};
#define VHU_IOTLB_RO 1u
#define VHU_IOTLB_WO 2u
#define VHU_IOTLB_RW 3u

struct vhost_iotlb_msg_wire {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
	uint8_t padding[6];
} __attribute__((packed));

struct vhost_user_shared {
	uint8_t uuid[16];
} __attribute__((packed));

struct vhost_user_transfer_state {
	uint32_t direction; /* 0 SAVE, 1 LOAD */
	uint32_t phase;	    /* 0 STOPPED */
} __attribute__((packed));

struct vhost_user_mmap {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags;
} __attribute__((packed));

/* crosvm's GET_SHARED_MEMORY_REGIONS entry. */
struct vhost_shared_memory_region {
	uint8_t id;
	uint8_t padding[7];
	uint64_t length;
} __attribute__((packed));

#define VHOST_USER_DEVICE_STATE_SAVE	      0u
#define VHOST_USER_DEVICE_STATE_LOAD	      1u
#define VHOST_USER_DEVICE_STATE_PHASE_STOPPED 0u

_Static_assert(sizeof(struct vhost_user_hdr) == 12, "hdr");
_Static_assert(sizeof(struct vhost_vring_addr) == 40, "vring addr");
_Static_assert(sizeof(struct vhost_user_memory) == 8 + 32 * 8, "mem");
_Static_assert(sizeof(struct vhost_user_mem_reg_msg) == 40, "mem reg");
_Static_assert(sizeof(struct vhost_user_inflight) == 24, "inflight");
_Static_assert(sizeof(struct vhost_user_config) == 268, "config");
_Static_assert(sizeof(struct vhost_iotlb_msg_wire) == 32, "iotlb");
_Static_assert(sizeof(struct vhost_user_mmap) == 40, "mmap");

#endif
