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

/*
 * Row helpers.  ROW()/BROW() derive the code and the printed name from one
 * wire.h identifier, so the two cannot disagree; PF() sets the gating bit
 * and its name together.  A field left out is 0: no payload, no fds, no
 * gate besides .pf, which every row sets explicitly (NOPF or PF()) since
 * bit 0 is MQ.  tests/unit/test_catalog.c checks every row.
 */
#define ROW(x)		   .code = VHOST_USER_##x, .name = #x
#define BROW(x)		   .code = VHOST_USER_BACKEND_##x, .name = "BACKEND_" #x
#define PF(x)		   .pf = VHOST_USER_PROTOCOL_F_##x, .pf_name = "VHOST_USER_PROTOCOL_F_" #x
#define NOPF		   .pf = -1, .pf_name = NULL
#define REQ(shape, lo, hi) .req_shape = VHU_SHAPE_##shape, .req_min = (lo), .req_max = (hi)
#define REQ_FDS(lo, hi)	   .fds_min = (lo), .fds_max = (hi)
#define REPLY(kind, shape, lo, hi)                                                                           \
	.reply = VHU_REPLY_##kind, .reply_shape = VHU_SHAPE_##shape, .reply_min = (lo), .reply_max = (hi)
#define REPLY_FDS(lo, hi) .rfds_min = (lo), .rfds_max = (hi)
/* The u64 status of REPLY_ACK, when asked for with NEED_REPLY. */
#define ACKED REPLY(ACK, ACK, U64, U64)

#define U64	    sizeof(uint64_t)
#define VRING_STATE sizeof(struct vhost_vring_state)
/* SET_MEM_TABLE: nregions, padding, then 1..8 regions. */
#define MEM_MIN (8 + sizeof(struct vhost_user_memory_region))
#define MEM_MAX sizeof(struct vhost_user_memory)
#define CFG_MIN VHOST_USER_CONFIG_HDR_SIZE
#define CFG_MAX sizeof(struct vhost_user_config)
/* VhostUserShMemConfig: nregions u32, padding u32, 256 u64 sizes. */
#define SHMEM_CONFIG (8 + 8 * 256)
/* QEMU's VhostUserCryptoSession on LP64, opaque to us: op_code u64, a
 * 1056-byte union of the symmetric and asymmetric session set-ups, then
 * session_id i64.  The spec does not lay it out. */
#define CRYPTO_SESSION (8 + 1056 + 8)
/* crosvm: u64 count, then up to 255 regions. */
#define SHM_REGIONS_MAX (8 + sizeof(struct vhost_shared_memory_region) * 255)

static const struct vhu_req_desc frontend[] = {
	{ ROW(GET_FEATURES), REQ(NONE, 0, 0), REPLY(ALWAYS, FEATURES, U64, U64), NOPF,
	  .help = "virtio and vhost feature bits the back-end offers" },
	{ ROW(SET_FEATURES), REQ(FEATURES, U64, U64), ACKED, NOPF,
	  .help = "feature bits the front-end accepts" },
	{ ROW(SET_OWNER), REQ(NONE, 0, 0), ACKED, NOPF, .help = "claim the session" },
	{ ROW(RESET_OWNER), REQ(NONE, 0, 0), ACKED, NOPF, .help = "deprecated: release the session" },
	{ ROW(SET_MEM_TABLE), REQ(MEMORY, MEM_MIN, MEM_MAX), REQ_FDS(1, VHOST_MEMORY_BASELINE_NREGIONS),
	  ACKED, NOPF, .help = "guest memory regions, one fd each" },
	/* Reply content is ignored: libvhost-user sends 8 bytes, rust-vmm 16,
	 * DPDK none at all.  Gated on LOG_SHMFD: libvhost-user and rust-vmm
	 * drop the connection on the fd-less legacy form (--force sends it). */
	{ ROW(SET_LOG_BASE), REQ(LOG, U64, sizeof(struct vhost_user_log)), REQ_FDS(0, 1),
	  REPLY(LOG, OPAQUE, 0, sizeof(struct vhost_user_log)), PF(LOG_SHMFD),
	  .help = "dirty-page log buffer" },
	{ ROW(SET_LOG_FD), REQ(NONE, 0, 0), REQ_FDS(1, 1), ACKED, NOPF,
	  .help = "eventfd signalled after log updates" },
	{ ROW(SET_VRING_NUM), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, NOPF, .help = "ring size" },
	{ ROW(SET_VRING_ADDR),
	  REQ(VRING_ADDR, sizeof(struct vhost_vring_addr), sizeof(struct vhost_vring_addr)), ACKED, NOPF,
	  .help = "ring addresses" },
	{ ROW(SET_VRING_BASE), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, NOPF,
	  .help = "next available index" },
	{ ROW(GET_VRING_BASE), REQ(VRING_STATE, VRING_STATE, VRING_STATE),
	  REPLY(ALWAYS, VRING_STATE, VRING_STATE, VRING_STATE), NOPF,
	  .help = "stop a ring and read its base" },
	{ ROW(SET_VRING_KICK), REQ(VRING_FD, U64, U64), REQ_FDS(0, 1), ACKED, NOPF,
	  .help = "kick eventfd; starts the ring" },
	{ ROW(SET_VRING_CALL), REQ(VRING_FD, U64, U64), REQ_FDS(0, 1), ACKED, NOPF, .help = "call eventfd" },
	{ ROW(SET_VRING_ERR), REQ(VRING_FD, U64, U64), REQ_FDS(0, 1), ACKED, NOPF, .help = "error eventfd" },
	{ ROW(GET_PROTOCOL_FEATURES), REQ(NONE, 0, 0), REPLY(ALWAYS, PROTOCOL, U64, U64), NOPF,
	  .gate = VHU_GATE_BIT30_OFFERED, .help = "protocol feature bits the back-end offers" },
	/* The seed never waits for an ack here: REPLY_ACK is only being
	 * negotiated by this very message. */
	{ ROW(SET_PROTOCOL_FEATURES), REQ(PROTOCOL, U64, U64), ACKED, NOPF,
	  .gate = VHU_GATE_BIT30_OFFERED | VHU_GATE_NO_NEED_REPLY,
	  .help = "protocol feature bits the front-end accepts" },
	{ ROW(GET_QUEUE_NUM), REQ(NONE, 0, 0), REPLY(ALWAYS, U64, U64, U64), PF(MQ),
	  .help = "maximum number of queues" },
	{ ROW(SET_VRING_ENABLE), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, NOPF,
	  .gate = VHU_GATE_BIT30_ACKED, .help = "enable or disable a ring" },
	{ ROW(SEND_RARP), REQ(U64, U64, U64), ACKED, PF(RARP), .help = "broadcast a RARP for a guest MAC" },
	{ ROW(NET_SET_MTU), REQ(U64, U64, U64), ACKED, PF(NET_MTU), .help = "net device MTU" },
	{ ROW(SET_BACKEND_REQ_FD), REQ(NONE, 0, 0), REQ_FDS(1, 1), ACKED, PF(BACKEND_REQ),
	  .help = "back-end channel socket" },
	{ ROW(IOTLB_MSG),
	  REQ(IOTLB, sizeof(struct vhost_iotlb_msg_wire), sizeof(struct vhost_iotlb_msg_wire)),
	  REPLY(ALWAYS, ACK, U64, U64), NOPF, .help = "IOTLB update or invalidation" },
	{ ROW(SET_VRING_ENDIAN), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, PF(CROSS_ENDIAN),
	  .help = "ring endianness (legacy devices)" },
	{ ROW(GET_CONFIG), REQ(CONFIG, CFG_MIN, CFG_MAX), REPLY(ALWAYS, CONFIG, 0, CFG_MAX), PF(CONFIG),
	  .help = "read device config space" },
	{ ROW(SET_CONFIG), REQ(CONFIG, CFG_MIN + 1, CFG_MAX), ACKED, PF(CONFIG),
	  .help = "write device config space" },
	{ ROW(CREATE_CRYPTO_SESSION), REQ(OPAQUE, CRYPTO_SESSION, CRYPTO_SESSION),
	  REPLY(ALWAYS, OPAQUE, CRYPTO_SESSION, CRYPTO_SESSION), PF(CRYPTO_SESSION),
	  .help = "create a crypto session" },
	{ ROW(CLOSE_CRYPTO_SESSION), REQ(U64, U64, U64), ACKED, PF(CRYPTO_SESSION),
	  .help = "close a crypto session" },
	{ ROW(POSTCOPY_ADVISE), REQ(NONE, 0, 0), REPLY(ALWAYS, NONE, 0, 0), REPLY_FDS(1, 1), PF(PAGEFAULT),
	  .help = "open a userfaultfd" },
	{ ROW(POSTCOPY_LISTEN), REQ(NONE, 0, 0), ACKED, PF(PAGEFAULT), .help = "enter postcopy" },
	{ ROW(POSTCOPY_END), REQ(NONE, 0, 0), REPLY(ALWAYS, ACK, U64, U64), PF(PAGEFAULT),
	  .help = "leave postcopy" },
	{ ROW(GET_INFLIGHT_FD),
	  REQ(INFLIGHT, sizeof(struct vhost_user_inflight), sizeof(struct vhost_user_inflight)),
	  REPLY(ALWAYS, INFLIGHT, sizeof(struct vhost_user_inflight), sizeof(struct vhost_user_inflight)),
	  REPLY_FDS(0, 1), PF(INFLIGHT_SHMFD), .help = "get the inflight tracking buffer" },
	{ ROW(SET_INFLIGHT_FD),
	  REQ(INFLIGHT, sizeof(struct vhost_user_inflight), sizeof(struct vhost_user_inflight)),
	  REQ_FDS(1, 1), ACKED, PF(INFLIGHT_SHMFD), .help = "hand back the inflight tracking buffer" },
	{ ROW(GPU_SET_SOCKET), REQ(NONE, 0, 0), REQ_FDS(1, 1), ACKED, NOPF,
	  .help = "vhost-user-gpu display socket" },
	{ ROW(RESET_DEVICE), REQ(NONE, 0, 0), ACKED, PF(RESET_DEVICE), .help = "reset the device" },
	{ ROW(VRING_KICK), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, PF(INBAND_NOTIFICATIONS),
	  .help = "in-band kick" },
	{ ROW(GET_MAX_MEM_SLOTS), REQ(NONE, 0, 0), REPLY(ALWAYS, U64, U64, U64), PF(CONFIGURE_MEM_SLOTS),
	  .help = "maximum number of memory slots" },
	{ ROW(ADD_MEM_REG),
	  REQ(MEM_REG, sizeof(struct vhost_user_mem_reg_msg), sizeof(struct vhost_user_mem_reg_msg)),
	  REQ_FDS(1, 1), ACKED, PF(CONFIGURE_MEM_SLOTS), .help = "add one memory region" },
	{ ROW(REM_MEM_REG),
	  REQ(MEM_REG, sizeof(struct vhost_user_mem_reg_msg), sizeof(struct vhost_user_mem_reg_msg)), ACKED,
	  PF(CONFIGURE_MEM_SLOTS), .help = "remove one memory region" },
	{ ROW(SET_STATUS), REQ(STATUS, U64, U64), ACKED, PF(STATUS), .help = "set the device status byte" },
	{ ROW(GET_STATUS), REQ(NONE, 0, 0), REPLY(ALWAYS, STATUS, U64, U64), PF(STATUS),
	  .help = "read the device status byte" },
	{ ROW(GET_SHARED_OBJECT),
	  REQ(SHARED, sizeof(struct vhost_user_shared), sizeof(struct vhost_user_shared)),
	  REPLY(ALWAYS, SHARED, 0, sizeof(struct vhost_user_shared)), REPLY_FDS(0, 1), PF(SHARED_OBJECT),
	  .help = "look up a shared object by UUID" },
	{ ROW(SET_DEVICE_STATE_FD),
	  REQ(TRANSFER, sizeof(struct vhost_user_transfer_state), sizeof(struct vhost_user_transfer_state)),
	  REQ_FDS(1, 1), REPLY(ALWAYS, DEVICE_STATE_REPLY, U64, U64), REPLY_FDS(0, 1), PF(DEVICE_STATE),
	  .help = "open a device-state transfer" },
	{ ROW(CHECK_DEVICE_STATE), REQ(NONE, 0, 0), REPLY(ALWAYS, ACK, U64, U64), PF(DEVICE_STATE),
	  .help = "check the last device-state transfer" },
	{ ROW(GET_SHMEM_CONFIG), REQ(NONE, 0, 0), REPLY(ALWAYS, SHMEM_CONFIG, SHMEM_CONFIG, SHMEM_CONFIG),
	  PF(SHMEM), .help = "VIRTIO shared memory region sizes" },
	{ ROW(GET_VRING_BASE_SKIP_DRAIN), REQ(VRING_STATE, VRING_STATE, VRING_STATE),
	  REPLY(ALWAYS, VRING_STATE, VRING_STATE, VRING_STATE), PF(GET_VRING_BASE_SKIP_DRAIN),
	  .help = "stop a ring without draining" },
	/* crosvm extension; reply = u64 count + count * 16-byte regions. */
	{ ROW(GET_SHARED_MEMORY_REGIONS), REQ(NONE, 0, 0), REPLY(ALWAYS, SHMEM_REGIONS, U64, SHM_REGIONS_MAX),
	  NOPF, .gate = VHU_GATE_EXTENSION, .help = "crosvm extension: shared memory regions" },
};

#define BE VHU_GATE_BACKEND_CHANNEL
static const struct vhu_req_desc backend[] = {
	{ BROW(IOTLB_MSG),
	  REQ(IOTLB, sizeof(struct vhost_iotlb_msg_wire), sizeof(struct vhost_iotlb_msg_wire)), ACKED, NOPF,
	  .gate = BE, .help = "IOTLB miss or access failure" },
	{ BROW(CONFIG_CHANGE_MSG), REQ(NONE, 0, 0), ACKED, PF(CONFIG), .gate = BE,
	  .help = "device config space changed" },
	{ BROW(VRING_HOST_NOTIFIER_MSG),
	  REQ(VRING_AREA, sizeof(struct vhost_user_vring_area), sizeof(struct vhost_user_vring_area)),
	  REQ_FDS(0, 1), ACKED, PF(HOST_NOTIFIER), .gate = BE, .help = "per-queue notify area" },
	{ BROW(VRING_CALL), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, PF(INBAND_NOTIFICATIONS),
	  .gate = BE, .help = "in-band call" },
	{ BROW(VRING_ERR), REQ(VRING_STATE, VRING_STATE, VRING_STATE), ACKED, PF(INBAND_NOTIFICATIONS),
	  .gate = BE, .help = "in-band error" },
	{ BROW(SHARED_OBJECT_ADD),
	  REQ(SHARED, sizeof(struct vhost_user_shared), sizeof(struct vhost_user_shared)), ACKED,
	  PF(SHARED_OBJECT), .gate = BE, .help = "shared object added" },
	{ BROW(SHARED_OBJECT_REMOVE),
	  REQ(SHARED, sizeof(struct vhost_user_shared), sizeof(struct vhost_user_shared)), ACKED,
	  PF(SHARED_OBJECT), .gate = BE, .help = "shared object removed" },
	{ BROW(SHARED_OBJECT_LOOKUP),
	  REQ(SHARED, sizeof(struct vhost_user_shared), sizeof(struct vhost_user_shared)),
	  REPLY(ALWAYS, ACK, U64, U64), REPLY_FDS(0, 1), PF(SHARED_OBJECT), .gate = BE,
	  .help = "shared object lookup" },
	{ BROW(SHMEM_MAP), REQ(MMAP, sizeof(struct vhost_user_mmap), sizeof(struct vhost_user_mmap)),
	  REQ_FDS(1, 1), ACKED, PF(SHMEM), .gate = BE, .help = "map an fd into a shared memory region" },
	{ BROW(SHMEM_UNMAP), REQ(MMAP, sizeof(struct vhost_user_mmap), sizeof(struct vhost_user_mmap)), ACKED,
	  PF(SHMEM), .gate = BE, .help = "unmap a shared memory range" },
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

enum vhu_expect vhu_reply_expected(const struct vhu_req_desc *d, bool chan, uint64_t protocol, uint32_t flags)
{
	bool need = flags & VHOST_USER_NEED_REPLY_MASK;
	bool ack = need && (chan || (protocol & VHU_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK)));

	if (flags & VHOST_USER_REPLY_MASK)
		return VHU_EXPECT_NONE;
	switch (d ? d->reply : VHU_REPLY_ACK) {
	case VHU_REPLY_ALWAYS: return VHU_EXPECT_OWN;
	case VHU_REPLY_LOG:
		if (protocol & VHU_BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD))
			return VHU_EXPECT_OWN;
		return ack ? VHU_EXPECT_ACK : VHU_EXPECT_NONE;
	case VHU_REPLY_ACK: return ack ? VHU_EXPECT_ACK : VHU_EXPECT_NONE;
	case VHU_REPLY_NONE: break;
	}
	return VHU_EXPECT_NONE;
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
