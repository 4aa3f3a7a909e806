/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-fs requests: FUSE messages on descriptor chains (virtio spec
 * "File System Device", "Device Operation"), judged by decode/fuse.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev/fs.h"

/* Room for the largest input: a header and a LOOKUP name with its NUL. */
#define IN_BYTES 2048u
/* A FORGET: header and fuse_forget_in, in a 64-byte slot. */
#define FORGET_BYTES 64u

/* The shown path of the first @n components, for messages. */
#define SHOWN(f, n, buf) (vhu_fs_path_show((f)->path, (n), (buf), sizeof(buf)), (buf))

int vhu_fs_path_parse(struct vhu_fs_path *p, const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);
	char *s, *next;

	p->n = 0;
	if (len > VHU_FS_PATH_MAX) {
		snprintf(err, errlen, "PATH of %zu bytes is longer than %u", len, VHU_FS_PATH_MAX);
		return VHU_E_USAGE;
	}
	memcpy(p->buf, path, len + 1);
	for (s = p->buf; s; s = next) {
		size_t n;

		next = strchr(s, '/');
		if (next)
			*next++ = '\0';
		n = strlen(s);
		if (!n || !strcmp(s, "."))
			continue;
		/* The kernel resolves ".." itself (the dentry's parent); the
		 * device is never asked for it. */
		if (!strcmp(s, "..")) {
			if (p->n)
				p->n--;
			continue;
		}
		if (n > VHU_FUSE_NAME_MAX) {
			snprintf(err, errlen, "a PATH component of %zu bytes is longer than %u", n,
				 VHU_FUSE_NAME_MAX);
			return VHU_E_USAGE;
		}
		p->comp[p->n] = s;
		p->len[p->n] = (uint32_t)n;
		p->n++;
	}
	return VHU_OK;
}

void vhu_fs_path_show(const struct vhu_fs_path *p, unsigned n, char *out, size_t outlen)
{
	size_t at = 0;

	if (!outlen)
		return;
	out[0] = '\0';
	if (!p || !n) {
		snprintf(out, outlen, "/");
		return;
	}
	for (unsigned i = 0; i < n && at < outlen; i++) {
		int w = snprintf(out + at, outlen - at, "%s%s", i ? "/" : "", p->comp[i]);

		if (w < 0)
			break;
		at += (size_t)w;
	}
}

void vhu_fs_info(const uint8_t *cfg, uint32_t len, struct vhu_fs_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < VHU_FS_CONFIG_SIZE)
		return;
	out->have = true;
	memcpy(out->tag, cfg, VHU_FS_TAG_BYTES);
	out->num_request_queues = (uint32_t)cfg[36] | (uint32_t)cfg[37] << 8 | (uint32_t)cfg[38] << 16 |
				  (uint32_t)cfg[39] << 24;
}

int vhu_fs_init(struct vhu_fs *f, struct vhu_drv *d, struct vhu_drv_queue *hiprio, struct vhu_drv_queue *req)
{
	void *p;
	int rc;

	memset(f, 0, sizeof(*f));
	f->d = d;
	f->hiprio = hiprio;
	f->req = req;
	/* The kernel's unique ids step by 2 (bit 0 marks interrupts). */
	f->next_unique = 2;
	f->max_read = VHU_FS_DEFAULT_READ;
	/* A guest's requests carry the credentials of the process asking. */
	f->uid = (uint32_t)geteuid();
	f->gid = (uint32_t)getegid();
	f->pid = (uint32_t)getpid();
	f->forget_slots =
		hiprio->vq.cfg.size < VHU_FS_FORGET_SLOTS ? hiprio->vq.cfg.size : VHU_FS_FORGET_SLOTS;
	if ((rc = vhu_drv_alloc(d, IN_BYTES, 4096, &p, &f->in_gpa)))
		return rc;
	f->in = p;
	if ((rc = vhu_drv_alloc(d, sizeof(struct fuse_out_header) + VHU_FS_MAX_READ, 4096, &p, &f->out_gpa)))
		return rc;
	f->out = p;
	if ((rc = vhu_drv_alloc(d, (uint64_t)FORGET_BYTES * f->forget_slots, 4096, &p, &f->forget_gpa)))
		return rc;
	f->forget = p;
	return VHU_OK;
}

/* Message helpers: a FUSE error is a refusal, exit status 1. */
static int refused(struct vhu_fs *f, uint32_t opcode, const char *what, int32_t error)
{
	return vhu_fail(f->d->s, VHU_E_REFUSED, "%s %s: %s (%s)", vhu_fuse_opcode_name(opcode), what,
			strerror(-error), vhu_errno_name(-error));
}

/*
 * One request on the request queue: the header and up to two inputs in,
 * the header and @out_len bytes of output back, at least @min_out of them
 * on success.  VHU_OK with *@r (r->error may be set), or a failure with
 * f->broken set.
 */
static int call(struct vhu_fs *f, uint32_t opcode, uint64_t nodeid, const void *a1, uint32_t l1,
		const void *a2, uint32_t l2, uint32_t out_len, uint32_t min_out, const char *what,
		struct vhu_fuse_reply *r)
{
	struct fuse_in_header ih = {
		.len = (uint32_t)sizeof(ih) + l1 + l2,
		.opcode = opcode,
		.unique = f->next_unique,
		.nodeid = nodeid,
		.uid = f->uid,
		.gid = f->gid,
		.pid = f->pid,
	};
	struct vhu_vq_seg seg[3];
	struct vhu_vq_used used;
	struct fuse_out_header none = { 0 };
	unsigned n = 0, got = 0;
	char why[200];
	int rc;

	if (f->broken)
		return vhu_fail(f->d->s, VHU_E_PROTO, "queue %u: %s %s: the queue failed before",
				f->req->index, vhu_fuse_opcode_name(opcode), what);
	f->next_unique += 2;
	memcpy(f->in, &ih, sizeof(ih));
	if (l1)
		memcpy(f->in + sizeof(ih), a1, l1);
	if (l2)
		memcpy(f->in + sizeof(ih) + l1, a2, l2);
	/* A header the device never wrote must not pass for a reply:
	 * unique 0 is never a request's. */
	memcpy(f->out, &none, sizeof(none));
	seg[n++] = (struct vhu_vq_seg){ f->in_gpa, ih.len, false };
	seg[n++] = (struct vhu_vq_seg){ f->out_gpa, (uint32_t)sizeof(struct fuse_out_header), true };
	if (out_len)
		seg[n++] = (struct vhu_vq_seg){ f->out_gpa + sizeof(struct fuse_out_header), out_len, true };
	rc = vhu_vq_add(&f->req->vq, seg, n, f);
	if (rc == VHU_VQ_FULL)
		rc = vhu_fail(f->d->s, VHU_E_USAGE, "queue %u: no room for a request of %u descriptors",
			      f->req->index, n);
	else if (rc)
		rc = vhu_fail(f->d->s, rc, "%s", vhu_vq_error(&f->req->vq));
	if (!rc)
		rc = vhu_drv_kick(f->d, f->req);
	if (!rc)
		rc = vhu_drv_wait(f->d, f->req, &used, 1, &got);
	if (!rc && (got != 1 || used.token != f))
		rc = vhu_fail(f->d->s, VHU_E_PROTO, "queue %u: %s %s: a completion for another request",
			      f->req->index, vhu_fuse_opcode_name(opcode), what);
	if (!rc && vhu_fuse_reply_check(f->out, used.len, ih.unique, min_out, r, why, sizeof(why)))
		rc = vhu_fail(f->d->s, VHU_E_PROTO, "queue %u: %s %s: %s", f->req->index,
			      vhu_fuse_opcode_name(opcode), what, why);
	if (rc) {
		f->broken = true;
		return rc;
	}
	f->requests++;
	return VHU_OK;
}

int vhu_fs_handshake(struct vhu_fs *f)
{
	struct fuse_init_in in = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
		/* max_pages in the reply: READs as large as it allows. */
		.flags = FUSE_MAX_PAGES,
	};
	struct fuse_init_out out = { 0 };
	struct vhu_fuse_reply r;
	uint64_t pages;
	int rc;
	char ver[16];

	/* virtio-fs came with FUSE 7.31; QEMU's virtiofsd refuses older
	 * drivers with EPROTO. */
	_Static_assert(FUSE_KERNEL_MINOR_VERSION >= 31, "<linux/fuse.h> older than 7.31");
	snprintf(ver, sizeof(ver), "%u.%u", in.major, in.minor);
	if ((rc = call(f, FUSE_INIT, 0, &in, sizeof(in), NULL, 0, sizeof(out), FUSE_COMPAT_INIT_OUT_SIZE, ver,
		       &r)))
		return rc;
	if (r.error)
		return refused(f, FUSE_INIT, ver, r.error);
	memcpy(&out, r.arg, r.arg_len < sizeof(out) ? r.arg_len : sizeof(out));
	f->major = out.major;
	f->minor = out.minor;
	f->init_flags = out.flags;
	f->max_write = out.max_write;
	/* Spec of FUSE_INIT: a device with a newer major answers with its
	 * own and waits for an INIT of that version; vhuctl has only 7. */
	if (out.major != FUSE_KERNEL_VERSION || out.minor < 31)
		return vhu_fail(f->d->s, VHU_E_UNSUPPORTED,
				"INIT: the device speaks FUSE %u.%u; vhuctl needs 7.31 or later (virtio-fs)",
				out.major, out.minor);
	f->max_pages = (out.flags & FUSE_MAX_PAGES) ? out.max_pages : 0;
	pages = f->max_pages ? f->max_pages : VHU_FS_DEFAULT_READ / 4096;
	f->max_read = pages * 4096 > VHU_FS_MAX_READ ? VHU_FS_MAX_READ : (uint32_t)(pages * 4096);
	return VHU_OK;
}

int vhu_fs_walk(struct vhu_fs *f, const struct vhu_fs_path *p, uint64_t *nodeid)
{
	uint64_t node = FUSE_ROOT_ID;
	char shown[VHU_FS_PATH_MAX + 2];

	f->path = p;
	for (unsigned i = 0; i < p->n; i++) {
		struct fuse_entry_out e;
		struct vhu_fuse_reply r;
		char nul = '\0';
		int rc;

		SHOWN(f, i + 1, shown);
		if ((rc = call(f, FUSE_LOOKUP, node, p->comp[i], p->len[i], &nul, 1, sizeof(e), sizeof(e),
			       shown, &r)))
			return rc;
		if (r.error)
			return refused(f, FUSE_LOOKUP, shown, r.error);
		memcpy(&e, r.arg, sizeof(e));
		/* A negative entry (node id 0) caches "no such name". */
		if (!e.nodeid)
			return refused(f, FUSE_LOOKUP, shown, -ENOENT);
		f->node[f->nnodes++] = e.nodeid;
		node = e.nodeid;
	}
	*nodeid = node;
	return VHU_OK;
}

int vhu_fs_getattr(struct vhu_fs *f, uint64_t nodeid, struct fuse_attr *attr)
{
	struct fuse_getattr_in in = { 0 };
	struct fuse_attr_out out;
	struct vhu_fuse_reply r;
	char shown[VHU_FS_PATH_MAX + 2];
	int rc;

	SHOWN(f, f->path ? f->path->n : 0, shown);
	if ((rc = call(f, FUSE_GETATTR, nodeid, &in, sizeof(in), NULL, 0, sizeof(out), sizeof(out), shown,
		       &r)))
		return rc;
	if (r.error)
		return refused(f, FUSE_GETATTR, shown, r.error);
	memcpy(&out, r.arg, sizeof(out));
	*attr = out.attr;
	return VHU_OK;
}

/* OPEN or OPENDIR: the file handle. */
static int open_node(struct vhu_fs *f, uint32_t opcode, uint64_t nodeid, uint32_t flags, const char *shown,
		     uint64_t *fh)
{
	struct fuse_open_in in = { .flags = flags };
	struct fuse_open_out out;
	struct vhu_fuse_reply r;
	int rc;

	if ((rc = call(f, opcode, nodeid, &in, sizeof(in), NULL, 0, sizeof(out), sizeof(out), shown, &r)))
		return rc;
	if (r.error)
		return refused(f, opcode, shown, r.error);
	memcpy(&out, r.arg, sizeof(out));
	*fh = out.fh;
	return VHU_OK;
}

/* RELEASE or RELEASEDIR after @first (the outcome so far): a failure of
 * its own is told only when everything before went well. */
static int release_node(struct vhu_fs *f, uint32_t opcode, uint64_t nodeid, uint32_t flags, uint64_t fh,
			const char *shown, int first)
{
	struct fuse_release_in in = { .fh = fh, .flags = flags };
	struct vhu_fuse_reply r;
	char keep[sizeof(f->d->s->err)];
	int rc;

	if (f->broken)
		return first;
	memcpy(keep, f->d->s->err, sizeof(keep));
	rc = call(f, opcode, nodeid, &in, sizeof(in), NULL, 0, 0, 0, shown, &r);
	if (!rc && r.error)
		rc = refused(f, opcode, shown, r.error);
	if (first) {
		memcpy(f->d->s->err, keep, sizeof(keep));
		return first;
	}
	return rc;
}

int vhu_fs_readdir(struct vhu_fs *f, uint64_t nodeid, vhu_fs_dirent_fn fn, void *arg)
{
	const uint32_t flags = O_RDONLY | O_DIRECTORY;
	char shown[VHU_FS_PATH_MAX + 2];
	uint64_t fh, off = 0;
	int rc;

	SHOWN(f, f->path ? f->path->n : 0, shown);
	if ((rc = open_node(f, FUSE_OPENDIR, nodeid, flags, shown, &fh)))
		return rc;
	for (;;) {
		struct fuse_read_in in = {
			.fh = fh, .offset = off, .size = VHU_FS_READDIR_BYTES, .flags = flags
		};
		struct vhu_fuse_reply r;
		struct vhu_fuse_dirent e;
		uint32_t pos = 0;
		unsigned entries = 0;
		char why[160];
		int got;

		if ((rc = call(f, FUSE_READDIR, nodeid, &in, sizeof(in), NULL, 0, VHU_FS_READDIR_BYTES, 0,
			       shown, &r)))
			break;
		if (r.error) {
			rc = refused(f, FUSE_READDIR, shown, r.error);
			break;
		}
		if (!r.arg_len)
			break; /* the end of the directory */
		while ((got = vhu_fuse_dirent_next(r.arg, r.arg_len, &pos, &e, why, sizeof(why))) == 1) {
			entries++;
			off = e.off;
			if ((rc = fn(arg, &e)))
				break;
		}
		if (rc)
			break;
		/* Without a whole entry, or with an offset that does not
		 * move, the next READDIR would ask the same again. */
		if (got < 0 || !entries || off == in.offset) {
			if (got >= 0 && !entries)
				snprintf(why, sizeof(why), "a reply of %u bytes holds no whole entry",
					 r.arg_len);
			else if (got >= 0)
				snprintf(why, sizeof(why),
					 "the entries end at offset %llu, where they started",
					 (unsigned long long)off);
			f->broken = true;
			rc = vhu_fail(f->d->s, VHU_E_PROTO, "queue %u: READDIR %s: %s", f->req->index, shown,
				      why);
			break;
		}
	}
	return release_node(f, FUSE_RELEASEDIR, nodeid, flags, fh, shown, rc);
}

int vhu_fs_read(struct vhu_fs *f, uint64_t nodeid, vhu_fs_data_fn fn, void *arg)
{
	char shown[VHU_FS_PATH_MAX + 2], what[VHU_FS_PATH_MAX + 64];
	uint64_t fh, off = 0;
	int rc;

	SHOWN(f, f->path ? f->path->n : 0, shown);
	if ((rc = open_node(f, FUSE_OPEN, nodeid, O_RDONLY, shown, &fh)))
		return rc;
	for (;;) {
		struct fuse_read_in in = { .fh = fh, .offset = off, .size = f->max_read, .flags = O_RDONLY };
		struct vhu_fuse_reply r;

		snprintf(what, sizeof(what), "%s at offset %llu", shown, (unsigned long long)off);
		if ((rc = call(f, FUSE_READ, nodeid, &in, sizeof(in), NULL, 0, f->max_read, 0, what, &r)))
			break;
		if (r.error) {
			rc = refused(f, FUSE_READ, what, r.error);
			break;
		}
		/* A short READ is not the end: only an empty one is (the
		 * file may be growing, or the device chose less). */
		if (!r.arg_len)
			break;
		f->bytes += r.arg_len;
		off += r.arg_len;
		if ((rc = fn(arg, r.arg, r.arg_len)))
			break;
	}
	return release_node(f, FUSE_RELEASE, nodeid, O_RDONLY, fh, shown, rc);
}

int vhu_fs_forget(struct vhu_fs *f)
{
	struct vhu_drv_queue *q = f->hiprio;
	unsigned next = f->nnodes;
	int rc;

	if (f->broken)
		return vhu_fail(f->d->s, VHU_E_PROTO, "queue %u: FORGET: the request queue failed before",
				q->index);
	while (next) {
		unsigned batch = 0, done = 0;

		/* Children first, as the kernel evicts them. */
		for (; next && batch < f->forget_slots; batch++) {
			uint8_t *slot = f->forget + (size_t)batch * FORGET_BYTES;
			struct fuse_in_header ih = {
				.len = sizeof(ih) + sizeof(struct fuse_forget_in),
				.opcode = FUSE_FORGET,
				.unique = f->next_unique,
				.nodeid = f->node[--next],
				.uid = f->uid,
				.gid = f->gid,
				.pid = f->pid,
			};
			struct fuse_forget_in fi = { .nlookup = 1 };
			struct vhu_vq_seg seg = { f->forget_gpa + (uint64_t)batch * FORGET_BYTES, ih.len,
						  false };

			f->next_unique += 2;
			memcpy(slot, &ih, sizeof(ih));
			memcpy(slot + sizeof(ih), &fi, sizeof(fi));
			/* No reply: the chain has no device-writable part. */
			rc = vhu_vq_add(&q->vq, &seg, 1, slot);
			if (rc == VHU_VQ_FULL && batch) {
				next++;
				break;
			}
			if (rc) {
				if (rc == VHU_VQ_FULL)
					rc = vhu_fail(f->d->s, VHU_E_USAGE, "queue %u: no room for a FORGET",
						      q->index);
				else
					rc = vhu_fail(f->d->s, rc, "%s", vhu_vq_error(&q->vq));
				f->broken = true;
				return rc;
			}
		}
		if ((rc = vhu_drv_kick(f->d, q))) {
			f->broken = true;
			return rc;
		}
		while (done < batch) {
			struct vhu_vq_used used[VHU_FS_FORGET_SLOTS];
			unsigned got;

			if ((rc = vhu_drv_wait(f->d, q, used, batch - done, &got))) {
				f->broken = true;
				return rc;
			}
			done += got;
			f->forgets += got;
		}
	}
	f->nnodes = 0;
	return VHU_OK;
}
