/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-fs requests over the driver (virtio spec "File System Device"):
 * FUSE messages, one per descriptor chain, [fuse_in_header + input,
 * device-readable] [fuse_out_header, then the output, device-writable].
 * Queue 0 is hiprio (FORGET only, no reply), the request queue is 1 by
 * default (no notification queue is negotiated).
 *
 *   vhu_fs_path_parse()  PATH into components, before anything is sent
 *   vhu_fs_init()        buffers in guest memory on the started queues
 *   vhu_fs_handshake()   FUSE_INIT (7.31 or later: virtio-fs's FUSE)
 *   vhu_fs_walk()        LOOKUP per component; each success owes a FORGET
 *   vhu_fs_getattr()     GETATTR
 *   vhu_fs_readdir()     OPENDIR, READDIR until an empty reply, RELEASEDIR
 *   vhu_fs_read()        OPEN, READ until an empty reply, RELEASE
 *   vhu_fs_forget()      FORGET every node looked up, on hiprio
 *
 * One request is in flight on the request queue at a time; FORGETs go
 * out in batches.  Nothing is allocated after vhu_fs_init(): requests are
 * built in guest memory, data and directory entries are handed to the
 * caller's callback straight from there.
 *
 * Replies are judged by decode/fuse.h after the ring checks (used id,
 * used length): a lie is VHU_E_PROTO naming the queue and the request.
 * A FUSE error (a negative errno) is VHU_E_REFUSED with a message naming
 * the request, the path and the errno ("LOOKUP dir/missing: No such file
 * or directory (ENOENT)").  After a failure of the device or the ring
 * (VHU_E_PROTO, VHU_E_TIMEOUT, VHU_E_IO from the wait) f->broken is set
 * and nothing more is sent; after a FUSE error or a callback's failure
 * the cleanup requests (RELEASE, RELEASEDIR, FORGET) still go out.
 * Nothing here prints; messages go to the session (vhu_fail()).
 */
#ifndef VHU_DEV_FS_H
#define VHU_DEV_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/fuse.h"
#include "driver/driver.h"

/* Config bytes read when CONFIG is negotiated: tag, num_request_queues. */
#define VHU_FS_CONFIG_SIZE 40u
#define VHU_FS_TAG_BYTES   36u
#define VHU_FS_HIPRIO	   0u
/* The first request queue (spec: 1 without the notification queue). */
#define VHU_FS_REQUEST 1u
/* Longest PATH, and so at most half as many components. */
#define VHU_FS_PATH_MAX	 4096u
#define VHU_FS_MAX_DEPTH (VHU_FS_PATH_MAX / 2)
/* READDIR output per request: a page, as the kernel asks. */
#define VHU_FS_READDIR_BYTES 4096u
/* READ size without FUSE_MAX_PAGES: the kernel's 32 pages. */
#define VHU_FS_DEFAULT_READ (32u * 4096u)
/* The largest READ vhuctl asks for, whatever max_pages allows. */
#define VHU_FS_MAX_READ (1024u * 1024u)
/* FORGETs in flight at once on hiprio. */
#define VHU_FS_FORGET_SLOTS 32u

/* PATH relative to the shared directory's root, as components. */
struct vhu_fs_path {
	char buf[VHU_FS_PATH_MAX + 1]; /* the components, NUL terminated each */
	const char *comp[VHU_FS_MAX_DEPTH];
	uint32_t len[VHU_FS_MAX_DEPTH];
	unsigned n; /* 0: the root */
};

/*
 * Split @path at '/' ("" and "/" are the root), drop empty and "."
 * components, and take ".." back one component (never above the root),
 * as the kernel's path walk would before asking the device.  VHU_OK, or
 * VHU_E_USAGE with @err set (longer than VHU_FS_PATH_MAX, a component
 * longer than VHU_FUSE_NAME_MAX).
 */
int vhu_fs_path_parse(struct vhu_fs_path *p, const char *path, char *err, size_t errlen);
/* Components [0, @n) joined by '/' into @out ("/" for none). */
void vhu_fs_path_show(const struct vhu_fs_path *p, unsigned n, char *out, size_t outlen);

/* What the config space says (CONFIG negotiated), else have = false. */
struct vhu_fs_info {
	bool have;
	char tag[VHU_FS_TAG_BYTES + 1]; /* NUL terminated; bytes as sent */
	uint32_t num_request_queues;
};

void vhu_fs_info(const uint8_t *cfg, uint32_t len, struct vhu_fs_info *out);

struct vhu_fs {
	struct vhu_drv *d;		/* borrowed */
	struct vhu_drv_queue *hiprio;	/* borrowed */
	struct vhu_drv_queue *req;	/* borrowed */
	const struct vhu_fs_path *path; /* borrowed: for messages */
	uint64_t next_unique;
	uint32_t uid, gid, pid; /* in every request header */
	/* FUSE_INIT reply */
	uint32_t major, minor, init_flags, max_write;
	uint16_t max_pages;
	uint32_t max_read; /* bytes per READ */
	/* guest memory */
	uint8_t *in, *out;
	uint64_t in_gpa, out_gpa;
	uint8_t *forget;
	uint64_t forget_gpa;
	unsigned forget_slots;
	/* looked-up nodes, each owed a FORGET of 1 */
	uint64_t node[VHU_FS_MAX_DEPTH];
	unsigned nnodes;
	bool broken; /* the device or the ring failed: send nothing more */
	/* counters */
	uint64_t requests; /* completed on the request queue */
	uint64_t forgets;  /* FORGETs the device took back */
	uint64_t bytes;	   /* file data read */
};

/* Buffers in guest memory.  VHU_OK or VHU_E_USAGE (guest memory too
 * small, the message names --memory). */
int vhu_fs_init(struct vhu_fs *f, struct vhu_drv *d, struct vhu_drv_queue *hiprio, struct vhu_drv_queue *req);

/* FUSE_INIT.  VHU_E_UNSUPPORTED when the device answers with another
 * major version or a minor below 31. */
int vhu_fs_handshake(struct vhu_fs *f);

/* LOOKUP each component of @p from the root; *@nodeid the last one (the
 * root, 1, for no components).  A successful LOOKUP with node id 0 (a
 * negative entry) is ENOENT. */
int vhu_fs_walk(struct vhu_fs *f, const struct vhu_fs_path *p, uint64_t *nodeid);

int vhu_fs_getattr(struct vhu_fs *f, uint64_t nodeid, struct fuse_attr *attr);

/* Each entry, "." and ".." included, in the device's order; the name
 * points into guest memory until the callback returns.  A VHU_* from the
 * callback ends the listing (RELEASEDIR still goes out). */
typedef int (*vhu_fs_dirent_fn)(void *arg, const struct vhu_fuse_dirent *e);
int vhu_fs_readdir(struct vhu_fs *f, uint64_t nodeid, vhu_fs_dirent_fn fn, void *arg);

/* The file's data in offset order, @len bytes at a time from guest
 * memory.  A VHU_* from the callback ends the reading (RELEASE still goes
 * out). */
typedef int (*vhu_fs_data_fn)(void *arg, const uint8_t *buf, uint32_t len);
int vhu_fs_read(struct vhu_fs *f, uint64_t nodeid, vhu_fs_data_fn fn, void *arg);

/* FORGET every node vhu_fs_walk() looked up, last first; the device
 * returns each without a reply (used length 0). */
int vhu_fs_forget(struct vhu_fs *f);

#endif
