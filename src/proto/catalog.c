/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Catalog rows, restated from docs/interop/vhost-user.rst "Front-end
 * message types" and "Back-end message types".  Reply bounds are the exact
 * sizes the spec defines; the transport refuses anything outside them
 * before it reads a payload byte.
 */
#include "proto/catalog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/wire.h"

#define PF(x) .pf = VHOST_USER_PROTOCOL_F_##x, .pf_name = "VHOST_USER_PROTOCOL_F_" #x
#define NOPF .pf = -1, .pf_name = NULL
#define U64 8, 8
#define NONE0 0, 0

/* Sizes of composite payloads. */
#define SZ_MEM_MIN (8 + 32)
#define SZ_MEM_MAX (8 + 32 * VHOST_MEMORY_BASELINE_NREGIONS)
#define SZ_CFG_MIN VHOST_USER_CONFIG_HDR_SIZE
#define SZ_CFG_MAX (VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_MAX_CONFIG_SIZE)
#define SZ_SHMEM_CONFIG 2056
#define SZ_CRYPTO 1072

static const struct vhu_req_desc frontend[] = {
	{ 1, "GET_FEATURES", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_FEATURES, U64, 0, 0, NOPF, 0,
	  "virtio and vhost feature bits the back-end offers" },
	{ 2, "SET_FEATURES", VHU_SHAPE_FEATURES, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "feature bits the front-end accepts" },
	{ 3, "SET_OWNER", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "claim the session" },
	{ 4, "RESET_OWNER", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "deprecated: release the session" },
	{ 5, "SET_MEM_TABLE", VHU_SHAPE_MEMORY, SZ_MEM_MIN, SZ_MEM_MAX, 1, VHOST_MEMORY_BASELINE_NREGIONS,
	  VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0, "guest memory regions, one fd each" },
	/* Reply content is ignored: libvhost-user sends 8 bytes, rust-vmm 16,
	 * DPDK none at all.  Gated on LOG_SHMFD: libvhost-user and rust-vmm
	 * drop the connection on the fd-less legacy form (--force sends it). */
	{ 6, "SET_LOG_BASE", VHU_SHAPE_LOG, 8, 16, 0, 1, VHU_REPLY_LOG, VHU_SHAPE_OPAQUE, 0, 16, 0, 0, PF(LOG_SHMFD), 0,
	  "dirty-page log buffer" },
	{ 7, "SET_LOG_FD", VHU_SHAPE_NONE, NONE0, 1, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "eventfd signalled after log updates" },
	{ 8, "SET_VRING_NUM", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "ring size" },
	{ 9, "SET_VRING_ADDR", VHU_SHAPE_VRING_ADDR, 40, 40, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "ring addresses" },
	{ 10, "SET_VRING_BASE", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "next available index" },
	{ 11, "GET_VRING_BASE", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_VRING_STATE, U64, 0, 0,
	  NOPF, 0, "stop a ring and read its base" },
	{ 12, "SET_VRING_KICK", VHU_SHAPE_VRING_FD, U64, 0, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "kick eventfd; starts the ring" },
	{ 13, "SET_VRING_CALL", VHU_SHAPE_VRING_FD, U64, 0, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "call eventfd" },
	{ 14, "SET_VRING_ERR", VHU_SHAPE_VRING_FD, U64, 0, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "error eventfd" },
	{ 15, "GET_PROTOCOL_FEATURES", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_PROTOCOL, U64, 0, 0,
	  NOPF, VHU_GATE_BIT30_OFFERED, "protocol feature bits the back-end offers" },
	/* The seed never waits for an ack here: REPLY_ACK is only being
	 * negotiated by this very message. */
	{ 16, "SET_PROTOCOL_FEATURES", VHU_SHAPE_PROTOCOL, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF,
	  VHU_GATE_BIT30_OFFERED | VHU_GATE_NO_NEED_REPLY, "protocol feature bits the front-end accepts" },
	{ 17, "GET_QUEUE_NUM", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_U64, U64, 0, 0, PF(MQ), 0,
	  "maximum number of queues" },
	{ 18, "SET_VRING_ENABLE", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF,
	  VHU_GATE_BIT30_ACKED, "enable or disable a ring" },
	{ 19, "SEND_RARP", VHU_SHAPE_U64, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, PF(RARP), 0,
	  "broadcast a RARP for a guest MAC" },
	{ 20, "NET_SET_MTU", VHU_SHAPE_U64, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, PF(NET_MTU), 0,
	  "net device MTU" },
	{ 21, "SET_BACKEND_REQ_FD", VHU_SHAPE_NONE, NONE0, 1, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(BACKEND_REQ), 0, "back-end channel socket" },
	{ 22, "IOTLB_MSG", VHU_SHAPE_IOTLB, 32, 32, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "IOTLB update or invalidation" },
	{ 23, "SET_VRING_ENDIAN", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(CROSS_ENDIAN), 0, "ring endianness (legacy devices)" },
	{ 24, "GET_CONFIG", VHU_SHAPE_CONFIG, SZ_CFG_MIN, SZ_CFG_MAX, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_CONFIG, 0,
	  SZ_CFG_MAX, 0, 0, PF(CONFIG), 0, "read device config space" },
	{ 25, "SET_CONFIG", VHU_SHAPE_CONFIG, SZ_CFG_MIN + 1, SZ_CFG_MAX, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0,
	  0, PF(CONFIG), 0, "write device config space" },
	{ 26, "CREATE_CRYPTO_SESSION", VHU_SHAPE_OPAQUE, SZ_CRYPTO, SZ_CRYPTO, 0, 0, VHU_REPLY_ALWAYS,
	  VHU_SHAPE_OPAQUE, SZ_CRYPTO, SZ_CRYPTO, 0, 0, PF(CRYPTO_SESSION), 0, "create a crypto session" },
	{ 27, "CLOSE_CRYPTO_SESSION", VHU_SHAPE_U64, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(CRYPTO_SESSION), 0, "close a crypto session" },
	{ 28, "POSTCOPY_ADVISE", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_NONE, NONE0, 1, 1,
	  PF(PAGEFAULT), 0, "open a userfaultfd" },
	{ 29, "POSTCOPY_LISTEN", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(PAGEFAULT), 0, "enter postcopy" },
	{ 30, "POSTCOPY_END", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_ACK, U64, 0, 0, PF(PAGEFAULT),
	  0, "leave postcopy" },
	{ 31, "GET_INFLIGHT_FD", VHU_SHAPE_INFLIGHT, 24, 24, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_INFLIGHT, 24, 24, 0,
	  1, PF(INFLIGHT_SHMFD), 0, "get the inflight tracking buffer" },
	{ 32, "SET_INFLIGHT_FD", VHU_SHAPE_INFLIGHT, 24, 24, 1, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(INFLIGHT_SHMFD), 0, "hand back the inflight tracking buffer" },
	{ 33, "GPU_SET_SOCKET", VHU_SHAPE_NONE, NONE0, 1, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, 0,
	  "vhost-user-gpu display socket" },
	{ 34, "RESET_DEVICE", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(RESET_DEVICE), 0, "reset the device" },
	{ 35, "VRING_KICK", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(INBAND_NOTIFICATIONS), 0, "in-band kick" },
	{ 36, "GET_MAX_MEM_SLOTS", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_U64, U64, 0, 0,
	  PF(CONFIGURE_MEM_SLOTS), 0, "maximum number of memory slots" },
	{ 37, "ADD_MEM_REG", VHU_SHAPE_MEM_REG, 40, 40, 1, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(CONFIGURE_MEM_SLOTS), 0, "add one memory region" },
	{ 38, "REM_MEM_REG", VHU_SHAPE_MEM_REG, 40, 40, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(CONFIGURE_MEM_SLOTS), 0, "remove one memory region" },
	{ 39, "SET_STATUS", VHU_SHAPE_STATUS, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, PF(STATUS), 0,
	  "set the device status byte" },
	{ 40, "GET_STATUS", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_STATUS, U64, 0, 0, PF(STATUS), 0,
	  "read the device status byte" },
	{ 41, "GET_SHARED_OBJECT", VHU_SHAPE_SHARED, 16, 16, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_SHARED, 0, 16, 0, 1,
	  PF(SHARED_OBJECT), 0, "look up a shared object by UUID" },
	{ 42, "SET_DEVICE_STATE_FD", VHU_SHAPE_TRANSFER, U64, 1, 1, VHU_REPLY_ALWAYS, VHU_SHAPE_DEVICE_STATE_REPLY,
	  U64, 0, 1, PF(DEVICE_STATE), 0, "open a device-state transfer" },
	{ 43, "CHECK_DEVICE_STATE", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(DEVICE_STATE), 0, "check the last device-state transfer" },
	{ 44, "GET_SHMEM_CONFIG", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_SHMEM_CONFIG,
	  SZ_SHMEM_CONFIG, SZ_SHMEM_CONFIG, 0, 0, PF(SHMEM), 0, "VIRTIO shared memory region sizes" },
	{ 45, "GET_VRING_BASE_SKIP_DRAIN", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ALWAYS,
	  VHU_SHAPE_VRING_STATE, U64, 0, 0, PF(GET_VRING_BASE_SKIP_DRAIN), 0, "stop a ring without draining" },
	/* crosvm extension; reply = u64 count + count * 16-byte regions. */
	{ 1004, "GET_SHARED_MEMORY_REGIONS", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ALWAYS,
	  VHU_SHAPE_SHMEM_REGIONS, 8, 8 + 16 * 255, 0, 0, NOPF, VHU_GATE_EXTENSION,
	  "crosvm extension: shared memory regions" },
};

#define BE VHU_GATE_BACKEND_CHANNEL
static const struct vhu_req_desc backend[] = {
	{ 1, "BACKEND_IOTLB_MSG", VHU_SHAPE_IOTLB, 32, 32, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, NOPF, BE,
	  "IOTLB miss or access failure" },
	{ 2, "BACKEND_CONFIG_CHANGE_MSG", VHU_SHAPE_NONE, NONE0, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(CONFIG), BE, "device config space changed" },
	{ 3, "BACKEND_VRING_HOST_NOTIFIER_MSG", VHU_SHAPE_VRING_AREA, 24, 24, 0, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK,
	  U64, 0, 0, PF(HOST_NOTIFIER), BE, "per-queue notify area" },
	{ 4, "BACKEND_VRING_CALL", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(INBAND_NOTIFICATIONS), BE, "in-band call" },
	{ 5, "BACKEND_VRING_ERR", VHU_SHAPE_VRING_STATE, U64, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(INBAND_NOTIFICATIONS), BE, "in-band error" },
	{ 6, "BACKEND_SHARED_OBJECT_ADD", VHU_SHAPE_SHARED, 16, 16, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(SHARED_OBJECT), BE, "shared object added" },
	{ 7, "BACKEND_SHARED_OBJECT_REMOVE", VHU_SHAPE_SHARED, 16, 16, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(SHARED_OBJECT), BE, "shared object removed" },
	{ 8, "BACKEND_SHARED_OBJECT_LOOKUP", VHU_SHAPE_SHARED, 16, 16, 0, 0, VHU_REPLY_ALWAYS, VHU_SHAPE_ACK, U64,
	  0, 1, PF(SHARED_OBJECT), BE, "shared object lookup" },
	{ 9, "BACKEND_SHMEM_MAP", VHU_SHAPE_MMAP, 40, 40, 1, 1, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0, PF(SHMEM),
	  BE, "map an fd into a shared memory region" },
	{ 10, "BACKEND_SHMEM_UNMAP", VHU_SHAPE_MMAP, 40, 40, 0, 0, VHU_REPLY_ACK, VHU_SHAPE_ACK, U64, 0, 0,
	  PF(SHMEM), BE, "unmap a shared memory range" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct vhu_req_desc *find_code(const struct vhu_req_desc *t, size_t n, uint32_t code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return &t[i];
	return NULL;
}

const struct vhu_req_desc *vhu_req_by_code(uint32_t code)
{
	return find_code(frontend, N(frontend), code);
}

const struct vhu_req_desc *vhu_backend_req_by_code(uint32_t code)
{
	return find_code(backend, N(backend), code);
}

/* "get-features" and "GET_FEATURES" name the same row. */
static bool name_eq(const char *spec, const char *word)
{
	for (; *spec && *word; spec++, word++) {
		char w = *word == '-' ? '_' : *word;
		if ((*spec | 0x20) != (w | 0x20))
			return false;
	}
	return *spec == '\0' && *word == '\0';
}

const struct vhu_req_desc *vhu_req_by_name(const char *name)
{
	if (strncasecmp(name, "VHOST_USER_", 11) == 0)
		name += 11;
	for (size_t i = 0; i < N(frontend); i++)
		if (name_eq(frontend[i].name, name))
			return &frontend[i];
	return NULL;
}

size_t vhu_req_count(void)
{
	return N(frontend);
}

const struct vhu_req_desc *vhu_req_at(size_t i)
{
	return i < N(frontend) ? &frontend[i] : NULL;
}

size_t vhu_backend_req_count(void)
{
	return N(backend);
}

const struct vhu_req_desc *vhu_backend_req_at(size_t i)
{
	return i < N(backend) ? &backend[i] : NULL;
}

const char *vhu_req_name(uint32_t code, char *buf, size_t len)
{
	const struct vhu_req_desc *d = vhu_req_by_code(code);

	if (d)
		return d->name;
	snprintf(buf, len, "REQ_%u", code);
	return buf;
}

const char *vhu_shape_name(enum vhu_shape shape)
{
	static const char *const names[] = {
		[VHU_SHAPE_NONE] = "none",
		[VHU_SHAPE_U64] = "u64",
		[VHU_SHAPE_FEATURES] = "features",
		[VHU_SHAPE_PROTOCOL] = "protocol_features",
		[VHU_SHAPE_STATUS] = "status",
		[VHU_SHAPE_ACK] = "ack",
		[VHU_SHAPE_VRING_STATE] = "vring_state",
		[VHU_SHAPE_VRING_ADDR] = "vring_addr",
		[VHU_SHAPE_VRING_FD] = "vring_fd",
		[VHU_SHAPE_MEMORY] = "memory",
		[VHU_SHAPE_MEM_REG] = "mem_reg",
		[VHU_SHAPE_LOG] = "log",
		[VHU_SHAPE_CONFIG] = "config",
		[VHU_SHAPE_INFLIGHT] = "inflight",
		[VHU_SHAPE_IOTLB] = "iotlb",
		[VHU_SHAPE_SHARED] = "shared_object",
		[VHU_SHAPE_TRANSFER] = "transfer",
		[VHU_SHAPE_DEVICE_STATE_REPLY] = "device_state_reply",
		[VHU_SHAPE_VRING_AREA] = "vring_area",
		[VHU_SHAPE_MMAP] = "mmap",
		[VHU_SHAPE_SHMEM_CONFIG] = "shmem_config",
		[VHU_SHAPE_SHMEM_REGIONS] = "shmem_regions",
		[VHU_SHAPE_OPAQUE] = "opaque",
	};
	if ((size_t)shape < N(names) && names[shape])
		return names[shape];
	return "?";
}
