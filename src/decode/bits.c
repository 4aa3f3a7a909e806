/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Name tables for virtio feature bits, vhost-user protocol feature bits and
 * the virtio device status byte.
 *
 * Sources: virtio spec (v1.4 era) "Device Status Field", "Feature Bits",
 * "Reserved Feature Bits" and each device's "Feature bits" section;
 * vhost-user spec "Protocol features".  Names and help text are our own
 * wording.
 *
 * Everything here is static const: the tables are shared read-only by every
 * caller and nothing is allocated or printed.
 */
#include "decode/bits.h"
#include "util/parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define VHU_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Device-independent feature bits (virtio "Reserved Feature Bits", plus the
 * vhost overlays that show up in VHOST_USER_GET_FEATURES replies).
 * Bits 28/29 keep the Linux VIRTIO_RING_F_ names; the spec spells them
 * VIRTIO_F_, which vhu_bit_parse() also accepts.
 */
static const struct vhu_bit_name vhu_indep_bits[] = {
	{ 24, "VIRTIO_F_NOTIFY_ON_EMPTY",
	  "legacy: notify when the available ring runs empty even if notifications are suppressed" },
	/* Not a virtio bit: vhost's dirty-log capability (linux vhost_types.h). */
	{ 26, "VHOST_F_LOG_ALL", "vhost: back-end can log dirty guest pages for live migration" },
	/* Kernel vhost-net reuses 27 as VHOST_NET_F_VIRTIO_NET_HDR. */
	{ 27, "VIRTIO_F_ANY_LAYOUT",
	  "legacy: device accepts any descriptor framing (kernel vhost-net: VHOST_NET_F_VIRTIO_NET_HDR)" },
	{ 28, "VIRTIO_RING_F_INDIRECT_DESC", "driver may use indirect descriptor tables" },
	{ 29, "VIRTIO_RING_F_EVENT_IDX", "used_event/avail_event notification suppression" },
	/*
	 * Bit 30 is "unused" in virtio (QEMU's old bad-feature probe), which
	 * is why vhost-user could take it (vhost-user spec, "Protocol
	 * features"); it is never shown to a guest driver.
	 */
	{ 30, "VHOST_USER_F_PROTOCOL_FEATURES", "vhost-user: GET/SET_PROTOCOL_FEATURES are available" },
	{ 32, "VIRTIO_F_VERSION_1", "modern (virtio 1.x) device, little-endian layouts" },
	{ 33, "VIRTIO_F_ACCESS_PLATFORM",
	  "device accesses memory through platform translation (IOMMU); old name IOMMU_PLATFORM" },
	{ 34, "VIRTIO_F_RING_PACKED", "packed virtqueue layout" },
	{ 35, "VIRTIO_F_IN_ORDER", "buffers are used in the order they were made available" },
	{ 36, "VIRTIO_F_ORDER_PLATFORM", "platform (hardware) memory ordering required" },
	{ 37, "VIRTIO_F_SR_IOV", "single root I/O virtualization capable (PCI only)" },
	{ 38, "VIRTIO_F_NOTIFICATION_DATA", "driver passes extra data in available buffer notifications" },
	{ 39, "VIRTIO_F_NOTIF_CONFIG_DATA",
	  "driver uses a device-supplied value as queue id in notifications" },
	{ 40, "VIRTIO_F_RING_RESET", "individual virtqueues can be reset" },
	/*
	 * The spec's allocation list makes 41/42 device-specific (legacy net
	 * GUEST_RSC4/6) while still defining ADMIN_VQ as 41; a device table
	 * naming 41 therefore wins (see vhu_bit_lookup()).
	 */
	{ 41, "VIRTIO_F_ADMIN_VQ", "administration virtqueues (PCI only)" },
	{ 43, "VIRTIO_F_SUSPEND", "driver may set the SUSPEND status bit" },
};

/* Old or alternative spellings, accepted by vhu_bit_parse() only. */
static const struct vhu_bit_name vhu_indep_alias[] = {
	{ 33, "VIRTIO_F_IOMMU_PLATFORM", NULL },
};

/*
 * vhost-user spec "Protocol features".  Bits 21-23 are recent additions
 * in the spec; not every back-end numbers them this way.
 */
static const struct vhu_bit_name vhu_proto_bits[] = {
	{ 0, "VHOST_USER_PROTOCOL_F_MQ", "back-end reports its maximum queue count (GET_QUEUE_NUM)" },
	{ 1, "VHOST_USER_PROTOCOL_F_LOG_SHMFD", "dirty log is a shared-memory fd sent with SET_LOG_BASE" },
	{ 2, "VHOST_USER_PROTOCOL_F_RARP", "back-end can broadcast a fake RARP after migration (SEND_RARP)" },
	{ 3, "VHOST_USER_PROTOCOL_F_REPLY_ACK", "NEED_REPLY is honoured with a u64 ack" },
	{ 4, "VHOST_USER_PROTOCOL_F_NET_MTU", "front-end may set the net MTU (NET_SET_MTU)" },
	{ 5, "VHOST_USER_PROTOCOL_F_BACKEND_REQ",
	  "back-end request channel (SET_BACKEND_REQ_FD); old name SLAVE_REQ" },
	{ 6, "VHOST_USER_PROTOCOL_F_CROSS_ENDIAN", "vring endianness can be set (SET_VRING_ENDIAN)" },
	{ 7, "VHOST_USER_PROTOCOL_F_CRYPTO_SESSION", "crypto sessions can be created and closed" },
	{ 8, "VHOST_USER_PROTOCOL_F_PAGEFAULT", "postcopy migration via userfaultfd" },
	{ 9, "VHOST_USER_PROTOCOL_F_CONFIG", "device config space access (GET/SET_CONFIG)" },
	{ 10, "VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD",
	  "back-end may attach fds on its channel; old name SLAVE_SEND_FD" },
	{ 11, "VHOST_USER_PROTOCOL_F_HOST_NOTIFIER",
	  "back-end may register mmap-able per-queue notify areas" },
	{ 12, "VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD", "inflight tracking buffer (GET/SET_INFLIGHT_FD)" },
	{ 13, "VHOST_USER_PROTOCOL_F_RESET_DEVICE", "device reset message (RESET_DEVICE)" },
	{ 14, "VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS",
	  "kick/call/err as messages; needs BACKEND_REQ and REPLY_ACK" },
	{ 15, "VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS",
	  "memory regions added/removed one at a time (ADD/REM_MEM_REG)" },
	{ 16, "VHOST_USER_PROTOCOL_F_STATUS", "device status byte (SET/GET_STATUS)" },
	{ 17, "VHOST_USER_PROTOCOL_F_XEN_MMAP", "memory regions carry Xen mmap flags and domain id" },
	{ 18, "VHOST_USER_PROTOCOL_F_SHARED_OBJECT", "shared objects (dma-buf UUIDs) between back-ends" },
	{ 19, "VHOST_USER_PROTOCOL_F_DEVICE_STATE",
	  "device state transfer (SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE)" },
	{ 20, "VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT",
	  "stopping a ring may suspend in-flight requests into the inflight buffer" },
	/*
	 * rust-vmm vhost <= 0.16 put its SHMEM bit here, so
	 * a back-end on that crate offering SHMEM shows up as bit 21.
	 */
	{ 21, "VHOST_USER_PROTOCOL_F_GPA_ADDRESSES",
	  "ring and region addresses are guest-physical; rust-vmm vhost <= 0.16 used this bit for SHMEM" },
	{ 22, "VHOST_USER_PROTOCOL_F_SHMEM",
	  "virtio shared memory regions (GET_SHMEM_CONFIG, SHMEM_MAP/UNMAP)" },
	{ 23, "VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN",
	  "GET_VRING_BASE_SKIP_DRAIN allowed; needs INFLIGHT_SHMFD and GET_VRING_BASE_INFLIGHT" },
};

static const struct vhu_bit_name vhu_proto_alias[] = {
	{ 4, "VHOST_USER_PROTOCOL_F_MTU", NULL },
	{ 5, "VHOST_USER_PROTOCOL_F_SLAVE_REQ", NULL },
	{ 10, "VHOST_USER_PROTOCOL_F_SLAVE_SEND_FD", NULL },
};

/* virtio spec "Device Status Field"; bit 5 is unassigned. */
static const struct vhu_bit_name vhu_status_bits[] = {
	{ 0, "VIRTIO_CONFIG_S_ACKNOWLEDGE", "guest found the device" },
	{ 1, "VIRTIO_CONFIG_S_DRIVER", "guest knows how to drive the device" },
	{ 2, "VIRTIO_CONFIG_S_DRIVER_OK", "driver is set up and ready" },
	{ 3, "VIRTIO_CONFIG_S_FEATURES_OK", "feature negotiation is complete" },
	{ 4, "VIRTIO_CONFIG_S_SUSPEND", "device is suspended (only with VIRTIO_F_SUSPEND)" },
	{ 6, "VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET", "device hit an error and needs a reset" },
	{ 7, "VIRTIO_CONFIG_S_FAILED", "driver gave up on the device" },
};

/*
 * Device-specific tables.  Only bits below 64 are listed: net defines
 * 64-70 too, but VHOST_USER_GET_FEATURES carries a single u64, so a
 * vhost-user back-end cannot report them.
 */

/* "Network Device: Feature bits"; 4, 43-49, 58 unused. */
static const struct vhu_bit_name vhu_net_bits[] = {
	{ 0, "VIRTIO_NET_F_CSUM", "device handles packets with partial checksum (tx offload)" },
	{ 1, "VIRTIO_NET_F_GUEST_CSUM", "driver handles packets with partial checksum (rx)" },
	{ 2, "VIRTIO_NET_F_CTRL_GUEST_OFFLOADS", "offloads can be reconfigured via the control queue" },
	{ 3, "VIRTIO_NET_F_MTU", "mtu config field is valid" },
	{ 5, "VIRTIO_NET_F_MAC", "mac config field is valid" },
	{ 6, "VIRTIO_NET_F_GSO", "legacy: any GSO type" },
	{ 7, "VIRTIO_NET_F_GUEST_TSO4", "driver can receive TSOv4" },
	{ 8, "VIRTIO_NET_F_GUEST_TSO6", "driver can receive TSOv6" },
	{ 9, "VIRTIO_NET_F_GUEST_ECN", "driver can receive TSO with ECN" },
	{ 10, "VIRTIO_NET_F_GUEST_UFO", "driver can receive UFO" },
	{ 11, "VIRTIO_NET_F_HOST_TSO4", "device can receive TSOv4" },
	{ 12, "VIRTIO_NET_F_HOST_TSO6", "device can receive TSOv6" },
	{ 13, "VIRTIO_NET_F_HOST_ECN", "device can receive TSO with ECN" },
	{ 14, "VIRTIO_NET_F_HOST_UFO", "device can receive UFO" },
	{ 15, "VIRTIO_NET_F_MRG_RXBUF", "driver can merge receive buffers" },
	{ 16, "VIRTIO_NET_F_STATUS", "status config field is valid" },
	{ 17, "VIRTIO_NET_F_CTRL_VQ", "control virtqueue present" },
	{ 18, "VIRTIO_NET_F_CTRL_RX", "rx mode control (promiscuous, all-multicast)" },
	{ 19, "VIRTIO_NET_F_CTRL_VLAN", "vlan filtering control" },
	{ 20, "VIRTIO_NET_F_CTRL_RX_EXTRA", "extra rx mode control" },
	{ 21, "VIRTIO_NET_F_GUEST_ANNOUNCE", "driver can send gratuitous packets" },
	{ 22, "VIRTIO_NET_F_MQ", "multiqueue with automatic receive steering" },
	{ 23, "VIRTIO_NET_F_CTRL_MAC_ADDR", "mac address can be set via the control queue" },
	/* Legacy Windows-driver bits; they shadow VIRTIO_F_ADMIN_VQ for net. */
	{ 41, "VIRTIO_NET_F_GUEST_RSC4",
	  "legacy: receive segment coalescing for IPv4 (else VIRTIO_F_ADMIN_VQ)" },
	{ 42, "VIRTIO_NET_F_GUEST_RSC6", "legacy: receive segment coalescing for IPv6" },
	{ 50, "VIRTIO_NET_F_DEVICE_STATS", "device statistics via the control queue" },
	{ 51, "VIRTIO_NET_F_HASH_TUNNEL", "hash on inner headers of tunnelled packets" },
	{ 52, "VIRTIO_NET_F_VQ_NOTF_COAL", "per-virtqueue notification coalescing" },
	{ 53, "VIRTIO_NET_F_NOTF_COAL", "notification coalescing" },
	{ 54, "VIRTIO_NET_F_GUEST_USO4", "driver can receive USO over IPv4" },
	{ 55, "VIRTIO_NET_F_GUEST_USO6", "driver can receive USO over IPv6" },
	{ 56, "VIRTIO_NET_F_HOST_USO", "device can receive USO" },
	{ 57, "VIRTIO_NET_F_HASH_REPORT", "device reports the packet hash in the header" },
	{ 59, "VIRTIO_NET_F_GUEST_HDRLEN", "driver supplies the exact header length" },
	{ 60, "VIRTIO_NET_F_RSS", "receive side scaling (Toeplitz)" },
	{ 61, "VIRTIO_NET_F_RSC_EXT", "device reports receive segment coalescing info" },
	{ 62, "VIRTIO_NET_F_STANDBY", "standby for a primary device with the same mac" },
	{ 63, "VIRTIO_NET_F_SPEED_DUPLEX", "speed and duplex config fields are valid" },
};

/* "Block Device: Feature bits"; 3 and 8 unused. */
static const struct vhu_bit_name vhu_blk_bits[] = {
	{ 0, "VIRTIO_BLK_F_BARRIER", "legacy: request barriers" },
	{ 1, "VIRTIO_BLK_F_SIZE_MAX", "size_max config field is valid" },
	{ 2, "VIRTIO_BLK_F_SEG_MAX", "seg_max config field is valid" },
	{ 4, "VIRTIO_BLK_F_GEOMETRY", "geometry config fields are valid" },
	{ 5, "VIRTIO_BLK_F_RO", "device is read-only" },
	{ 6, "VIRTIO_BLK_F_BLK_SIZE", "blk_size config field is valid" },
	{ 7, "VIRTIO_BLK_F_SCSI", "legacy: SCSI passthrough requests" },
	{ 9, "VIRTIO_BLK_F_FLUSH", "flush command supported (legacy name WCE)" },
	{ 10, "VIRTIO_BLK_F_TOPOLOGY", "topology config fields are valid" },
	{ 11, "VIRTIO_BLK_F_CONFIG_WCE", "writeback config field is valid and writable" },
	{ 12, "VIRTIO_BLK_F_MQ", "num_queues config field is valid" },
	{ 13, "VIRTIO_BLK_F_DISCARD", "discard command supported" },
	{ 14, "VIRTIO_BLK_F_WRITE_ZEROES", "write zeroes command supported" },
	{ 15, "VIRTIO_BLK_F_LIFETIME", "device lifetime query supported" },
	{ 16, "VIRTIO_BLK_F_SECURE_ERASE", "secure erase command supported" },
	{ 17, "VIRTIO_BLK_F_ZONED", "zoned block device" },
};

static const struct vhu_bit_name vhu_blk_alias[] = {
	{ 9, "VIRTIO_BLK_F_WCE", NULL },
};

/* "Console Device: Feature bits". */
static const struct vhu_bit_name vhu_console_bits[] = {
	{ 0, "VIRTIO_CONSOLE_F_SIZE", "cols and rows config fields are valid" },
	{ 1, "VIRTIO_CONSOLE_F_MULTIPORT", "multiple ports and control queues" },
	{ 2, "VIRTIO_CONSOLE_F_EMERG_WRITE", "emergency write config field is usable" },
};

/* "SCSI Host Device: Feature bits". */
static const struct vhu_bit_name vhu_scsi_bits[] = {
	{ 0, "VIRTIO_SCSI_F_INOUT", "requests may carry both read and write data" },
	{ 1, "VIRTIO_SCSI_F_HOTPLUG", "device reports hotplug events" },
	{ 2, "VIRTIO_SCSI_F_CHANGE", "device reports parameter change events" },
	{ 3, "VIRTIO_SCSI_F_T10_PI", "requests carry T10 protection information" },
};

/* "GPU Device: Feature bits". */
static const struct vhu_bit_name vhu_gpu_bits[] = {
	{ 0, "VIRTIO_GPU_F_VIRGL", "3D mode (virgl)" },
	{ 1, "VIRTIO_GPU_F_EDID", "EDID queries supported" },
	{ 2, "VIRTIO_GPU_F_RESOURCE_UUID", "resources can be assigned UUIDs" },
	{ 3, "VIRTIO_GPU_F_RESOURCE_BLOB", "blob resources supported" },
	{ 4, "VIRTIO_GPU_F_CONTEXT_INIT", "contexts can be created with a capset and flags" },
	{ 5, "VIRTIO_GPU_F_BLOB_ALIGNMENT", "blob_alignment config field is valid" },
};

/* "Socket Device: Feature bits". */
static const struct vhu_bit_name vhu_vsock_bits[] = {
	{ 0, "VIRTIO_VSOCK_F_STREAM", "stream sockets supported" },
	{ 1, "VIRTIO_VSOCK_F_SEQPACKET", "seqpacket sockets supported" },
	{ 2, "VIRTIO_VSOCK_F_NO_IMPLIED_STREAM", "stream support is not implied when no type bit is set" },
};

/* "Crypto Device: Feature bits"; 1-5 need REVISION_1. */
static const struct vhu_bit_name vhu_crypto_bits[] = {
	{ 0, "VIRTIO_CRYPTO_F_REVISION_1", "revision 1 request formats" },
	{ 1, "VIRTIO_CRYPTO_F_CIPHER_STATELESS_MODE", "stateless cipher requests" },
	{ 2, "VIRTIO_CRYPTO_F_HASH_STATELESS_MODE", "stateless hash requests" },
	{ 3, "VIRTIO_CRYPTO_F_MAC_STATELESS_MODE", "stateless mac requests" },
	{ 4, "VIRTIO_CRYPTO_F_AEAD_STATELESS_MODE", "stateless aead requests" },
	{ 5, "VIRTIO_CRYPTO_F_AKCIPHER_STATELESS_MODE", "stateless akcipher requests" },
};

/* "Sound Device: Feature bits". */
static const struct vhu_bit_name vhu_sound_bits[] = {
	{ 0, "VIRTIO_SND_F_CTLS", "control elements; controls config field is valid" },
};

/* "File System Device: Feature bits". */
static const struct vhu_bit_name vhu_fs_bits[] = {
	{ 0, "VIRTIO_FS_F_NOTIFICATION", "notification queue present" },
};

/* "SCMI Device: Feature bits". */
static const struct vhu_bit_name vhu_scmi_bits[] = {
	{ 0, "VIRTIO_SCMI_F_P2A_CHANNELS", "notifications and delayed responses (eventq)" },
	{ 1, "VIRTIO_SCMI_F_SHARED_MEMORY", "statistics shared memory region" },
};

/* "I2C Adapter Device: Feature bits". */
static const struct vhu_bit_name vhu_i2c_bits[] = {
	{ 0, "VIRTIO_I2C_F_ZERO_LENGTH_REQUEST", "zero-length requests supported (mandatory)" },
};

/* "CAN Device: Feature bits". */
static const struct vhu_bit_name vhu_can_bits[] = {
	{ 0, "VIRTIO_CAN_F_CAN_CLASSIC", "classic CAN frames" },
	{ 1, "VIRTIO_CAN_F_CAN_FD", "CAN FD frames" },
	{ 2, "VIRTIO_CAN_F_RTR_FRAMES", "remote transmission request frames" },
	{ 3, "VIRTIO_CAN_F_LATE_TX_ACK", "tx is acknowledged only after the frame was sent" },
};

/* "GPIO Device: Feature bits". */
static const struct vhu_bit_name vhu_gpio_bits[] = {
	{ 0, "VIRTIO_GPIO_F_IRQ", "interrupts supported (eventq)" },
};

/*
 * The public vhu_dev_info plus the naming prefix of the device's bits,
 * which vhu_bit_parse() needs for short names.  vhu_dev_at() and friends
 * hand out &entry->info.
 */
struct vhu_dev_entry {
	struct vhu_dev_info info;
	const char *prefix;
	const struct vhu_bit_name *alias;
	size_t nalias;
};

#define VHU_DEV(id_, name_, desc_, tab_, prefix_)                                                            \
	{                                                                                                    \
		{ (id_), (name_), (desc_), (tab_), VHU_ARRAY_SIZE(tab_) }, (prefix_), NULL, 0                \
	}
#define VHU_DEV_NOBITS(id_, name_, desc_)                                                                    \
	{                                                                                                    \
		{ (id_), (name_), (desc_), NULL, 0 }, NULL, NULL, 0                                          \
	}

/* Ordered by virtio device ID (virtio spec "Device Types"). */
static const struct vhu_dev_entry vhu_devs[] = {
	VHU_DEV(VHU_DEV_NET, "net", "network device", vhu_net_bits, "VIRTIO_NET_F_"),
	{ { VHU_DEV_BLK, "blk", "block device", vhu_blk_bits, VHU_ARRAY_SIZE(vhu_blk_bits) },
	  "VIRTIO_BLK_F_",
	  vhu_blk_alias,
	  VHU_ARRAY_SIZE(vhu_blk_alias) },
	VHU_DEV(VHU_DEV_CONSOLE, "console", "console device", vhu_console_bits, "VIRTIO_CONSOLE_F_"),
	/* Entropy and input define no feature bits. */
	VHU_DEV_NOBITS(VHU_DEV_RNG, "rng", "entropy device"),
	VHU_DEV(VHU_DEV_SCSI, "scsi", "SCSI host device", vhu_scsi_bits, "VIRTIO_SCSI_F_"),
	VHU_DEV(VHU_DEV_GPU, "gpu", "GPU device", vhu_gpu_bits, "VIRTIO_GPU_F_"),
	VHU_DEV_NOBITS(VHU_DEV_INPUT, "input", "input device"),
	VHU_DEV(VHU_DEV_VSOCK, "vsock", "socket device", vhu_vsock_bits, "VIRTIO_VSOCK_F_"),
	VHU_DEV(VHU_DEV_CRYPTO, "crypto", "crypto device", vhu_crypto_bits, "VIRTIO_CRYPTO_F_"),
	VHU_DEV(VHU_DEV_SOUND, "sound", "sound device", vhu_sound_bits, "VIRTIO_SND_F_"),
	VHU_DEV(VHU_DEV_FS, "fs", "file system device", vhu_fs_bits, "VIRTIO_FS_F_"),
	VHU_DEV(VHU_DEV_SCMI, "scmi", "SCMI device", vhu_scmi_bits, "VIRTIO_SCMI_F_"),
	VHU_DEV(VHU_DEV_I2C, "i2c", "I2C adapter", vhu_i2c_bits, "VIRTIO_I2C_F_"),
	VHU_DEV(VHU_DEV_CAN, "can", "CAN device", vhu_can_bits, "VIRTIO_CAN_F_"),
	VHU_DEV(VHU_DEV_GPIO, "gpio", "GPIO device", vhu_gpio_bits, "VIRTIO_GPIO_F_"),
};

/*
 * One searchable table: names, parse-only aliases and the prefixes that
 * may be left out (or swapped among themselves) when parsing.
 */
struct vhu_bit_table {
	const struct vhu_bit_name *bits;
	size_t nbits;
	const struct vhu_bit_name *alias;
	size_t nalias;
	const char *const *prefixes; /* NULL terminated */
};

/*
 * VIRTIO_F_ and VIRTIO_RING_F_ are interchangeable so that the spec's
 * VIRTIO_F_INDIRECT_DESC finds Linux's VIRTIO_RING_F_INDIRECT_DESC.
 */
static const char *const vhu_indep_prefixes[] = {
	"VIRTIO_F_", "VIRTIO_RING_F_", "VHOST_F_", "VHOST_USER_F_", NULL,
};
static const char *const vhu_proto_prefixes[] = {
	"VHOST_USER_PROTOCOL_F_",
	NULL,
};
static const char *const vhu_status_prefixes[] = {
	"VIRTIO_CONFIG_S_",
	NULL,
};

static const struct vhu_bit_table vhu_indep_table = {
	vhu_indep_bits,	    VHU_ARRAY_SIZE(vhu_indep_bits), vhu_indep_alias, VHU_ARRAY_SIZE(vhu_indep_alias),
	vhu_indep_prefixes,
};
static const struct vhu_bit_table vhu_proto_table = {
	vhu_proto_bits,	    VHU_ARRAY_SIZE(vhu_proto_bits), vhu_proto_alias, VHU_ARRAY_SIZE(vhu_proto_alias),
	vhu_proto_prefixes,
};
static const struct vhu_bit_table vhu_status_table = {
	vhu_status_bits, VHU_ARRAY_SIZE(vhu_status_bits), NULL, 0, vhu_status_prefixes,
};

/* ASCII only: bit names never depend on the locale. */
static int vhu_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool vhu_ieq(const char *a, const char *b)
{
	while (*a && vhu_lower((unsigned char)*a) == vhu_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* Returns the rest of @s after @prefix (case-insensitive), or NULL. */
static const char *vhu_skip_prefix(const char *s, const char *prefix)
{
	while (*prefix) {
		if (vhu_lower((unsigned char)*s) != vhu_lower((unsigned char)*prefix))
			return NULL;
		s++;
		prefix++;
	}
	return s;
}

static const struct vhu_dev_entry *vhu_dev_entry(enum vhu_dev_type id)
{
	size_t i;

	for (i = 0; i < VHU_ARRAY_SIZE(vhu_devs); i++)
		if (vhu_devs[i].info.id == id)
			return &vhu_devs[i];
	return NULL;
}

const struct vhu_dev_info *vhu_dev_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < VHU_ARRAY_SIZE(vhu_devs); i++)
		if (vhu_ieq(name, vhu_devs[i].info.name))
			return &vhu_devs[i].info;
	return NULL;
}

const struct vhu_dev_info *vhu_dev_by_id(enum vhu_dev_type id)
{
	const struct vhu_dev_entry *e = vhu_dev_entry(id);

	return e ? &e->info : NULL;
}

size_t vhu_dev_count(void)
{
	return VHU_ARRAY_SIZE(vhu_devs);
}

const struct vhu_dev_info *vhu_dev_at(size_t i)
{
	return i < VHU_ARRAY_SIZE(vhu_devs) ? &vhu_devs[i].info : NULL;
}

/* virtio spec "Feature Bits": 0-23, 41, 42 and 50-127 belong to the device. */
bool vhu_feature_is_device_specific(unsigned bit)
{
	return bit <= 23 || bit == 41 || bit == 42 || (bit >= 50 && bit <= 63);
}

/* The device's table, or false when @dev is unknown (incl. NONE). */
static bool vhu_dev_table(enum vhu_dev_type dev, struct vhu_bit_table *t, const char **prefixes)
{
	const struct vhu_dev_entry *e = vhu_dev_entry(dev);

	if (!e)
		return false;
	prefixes[0] = e->prefix;
	prefixes[1] = NULL;
	t->bits = e->info.features;
	t->nbits = e->info.nfeatures;
	t->alias = e->alias;
	t->nalias = e->nalias;
	t->prefixes = prefixes;
	return true;
}

static const struct vhu_bit_name *vhu_table_find(const struct vhu_bit_name *v, size_t n, unsigned bit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].bit == bit)
			return &v[i];
	return NULL;
}

static const struct vhu_bit_name *vhu_dev_find(enum vhu_dev_type dev, unsigned bit)
{
	const struct vhu_dev_entry *e = vhu_dev_entry(dev);

	return e ? vhu_table_find(e->info.features, e->info.nfeatures, bit) : NULL;
}

static const struct vhu_bit_name *vhu_bit_lookup(enum vhu_bit_space space, enum vhu_dev_type dev,
						 unsigned bit)
{
	const struct vhu_bit_name *b;

	switch (space) {
	case VHU_BITS_FEATURES:
		if (vhu_feature_is_device_specific(bit)) {
			b = vhu_dev_find(dev, bit);
			/* 41 falls back to ADMIN_VQ; see vhu_indep_bits. */
			if (b || bit != 41)
				return b;
		}
		return vhu_table_find(vhu_indep_bits, VHU_ARRAY_SIZE(vhu_indep_bits), bit);
	case VHU_BITS_PROTOCOL: return vhu_table_find(vhu_proto_bits, VHU_ARRAY_SIZE(vhu_proto_bits), bit);
	case VHU_BITS_STATUS: return vhu_table_find(vhu_status_bits, VHU_ARRAY_SIZE(vhu_status_bits), bit);
	}
	return NULL;
}

const char *vhu_bit_name(enum vhu_bit_space space, enum vhu_dev_type dev, unsigned bit)
{
	const struct vhu_bit_name *b = vhu_bit_lookup(space, dev, bit);

	return b ? b->name : NULL;
}

const char *vhu_bit_help(enum vhu_bit_space space, enum vhu_dev_type dev, unsigned bit)
{
	const struct vhu_bit_name *b = vhu_bit_lookup(space, dev, bit);

	return b ? b->help : NULL;
}

/* @name without whichever of @prefixes it starts with. */
static const char *vhu_short_name(const char *name, const char *const *prefixes)
{
	const char *rest;

	for (; *prefixes; prefixes++) {
		rest = vhu_skip_prefix(name, *prefixes);
		if (rest)
			return rest;
	}
	return name;
}

/* @word is @name, @name without its prefix, or another prefix + short name. */
static bool vhu_name_matches(const char *word, const char *name, const char *const *prefixes)
{
	const char *short_name = vhu_short_name(name, prefixes);
	const char *const *p;
	const char *rest;

	if (vhu_ieq(word, name) || vhu_ieq(word, short_name))
		return true;
	for (p = prefixes; *p; p++) {
		rest = vhu_skip_prefix(word, *p);
		if (rest && vhu_ieq(rest, short_name))
			return true;
	}
	return false;
}

static bool vhu_table_parse(const struct vhu_bit_table *t, const char *word, unsigned *bit)
{
	size_t i;

	for (i = 0; i < t->nbits; i++) {
		if (vhu_name_matches(word, t->bits[i].name, t->prefixes)) {
			*bit = t->bits[i].bit;
			return true;
		}
	}
	for (i = 0; i < t->nalias; i++) {
		if (vhu_name_matches(word, t->alias[i].name, t->prefixes)) {
			*bit = t->alias[i].bit;
			return true;
		}
	}
	return false;
}

/* Plain decimal, no sign or spaces; rejects anything >= @limit. */
static int vhu_parse_number(const char *s, unsigned limit, unsigned *bit)
{
	unsigned v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		/* Stop before v * 10 could wrap on absurdly long input. */
		if (v >= limit)
			return -1;
	}
	*bit = v;
	return 0;
}

int vhu_bit_parse(enum vhu_bit_space space, enum vhu_dev_type dev, const char *word, unsigned *bit)
{
	const char *dev_prefixes[2];
	struct vhu_bit_table dt;
	const struct vhu_bit_table *t;
	unsigned limit = space == VHU_BITS_STATUS ? 8 : 64;
	const char *rest;
	unsigned v;

	if (!word || !bit || !*word)
		return -1;

	if (*word >= '0' && *word <= '9')
		return vhu_parse_number(word, limit, bit);
	rest = vhu_skip_prefix(word, "bit_");
	if (rest)
		return vhu_parse_number(rest, limit, bit);

	switch (space) {
	case VHU_BITS_FEATURES:
		/* Device names first: a short name used by both means the device's. */
		if (vhu_dev_table(dev, &dt, dev_prefixes) && vhu_table_parse(&dt, word, &v))
			break;
		if (vhu_table_parse(&vhu_indep_table, word, &v))
			break;
		return -1;
	case VHU_BITS_PROTOCOL:
	case VHU_BITS_STATUS:
		t = space == VHU_BITS_PROTOCOL ? &vhu_proto_table : &vhu_status_table;
		if (vhu_table_parse(t, word, &v))
			break;
		return -1;
	default: return -1;
	}
	*bit = v;
	return 0;
}

void vhu_bit_foreach(enum vhu_bit_space space, enum vhu_dev_type dev,
		     void (*fn)(const struct vhu_bit_name *b, void *arg), void *arg)
{
	const struct vhu_dev_entry *e;
	size_t i;

	if (!fn)
		return;
	switch (space) {
	case VHU_BITS_FEATURES:
		e = vhu_dev_entry(dev);
		for (i = 0; i < VHU_ARRAY_SIZE(vhu_indep_bits); i++) {
			/*
			 * Skip an independent bit the device table overrides
			 * (net's 41), so listing agrees with vhu_bit_name().
			 */
			if (vhu_feature_is_device_specific(vhu_indep_bits[i].bit) &&
			    vhu_dev_find(dev, vhu_indep_bits[i].bit))
				continue;
			fn(&vhu_indep_bits[i], arg);
		}
		if (e)
			for (i = 0; i < e->info.nfeatures; i++)
				fn(&e->info.features[i], arg);
		break;
	case VHU_BITS_PROTOCOL:
		for (i = 0; i < VHU_ARRAY_SIZE(vhu_proto_bits); i++)
			fn(&vhu_proto_bits[i], arg);
		break;
	case VHU_BITS_STATUS:
		for (i = 0; i < VHU_ARRAY_SIZE(vhu_status_bits); i++)
			fn(&vhu_status_bits[i], arg);
		break;
	}
}

int vhu_parse_mask(const char *s, enum vhu_bit_space space, enum vhu_dev_type dev, uint64_t offered,
		   uint64_t *out, char *bad, size_t badlen)
{
	char word[96];
	uint64_t mask = 0;
	const char *p = s;

	if (!s || !*s) {
		snprintf(bad, badlen, "(empty)");
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (vhu_parse_u64(s, UINT64_MAX, out)) {
			snprintf(bad, badlen, "%s", s);
			return -1;
		}
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ",|+ ");
		unsigned bit;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(word)) {
			snprintf(bad, badlen, "%.*s", (int)n, p);
			return -1;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		if (!strcasecmp(word, "offered") || !strcasecmp(word, "all"))
			mask |= offered;
		else if (!strcasecmp(word, "none"))
			;
		else if (vhu_bit_parse(space, dev, word, &bit) == 0)
			mask |= UINT64_C(1) << bit;
		else {
			snprintf(bad, badlen, "%s", word);
			return -1;
		}
	}
	*out = mask;
	return 0;
}
