/* SPDX-License-Identifier: Apache-2.0 */
/* FUSE replies as `fs stat` shows them. */
#include "render/fuse.h"

#include <stdio.h>

#include "render/out.h"

static void show_time(const char *key, const char *label, uint64_t sec, uint32_t nsec)
{
	char buf[48];

	if (vhu_out_is_json()) {
		char nkey[32];

		vhu_out_uint(key, label, sec, NULL);
		snprintf(nkey, sizeof(nkey), "%s_nsec", key);
		vhu_out_uint(nkey, label, nsec, NULL);
		return;
	}
	snprintf(buf, sizeof(buf), "%llu.%09u", (unsigned long long)sec, nsec);
	vhu_out_string(key, label, buf);
}

void vhu_render_fuse_attr(const struct fuse_attr *at)
{
	char perm[8], mode[16];

	snprintf(perm, sizeof(perm), "%04o", at->mode & 07777);
	vhu_out_open("attributes", "Attributes");
	vhu_out_uint("ino", "Inode", at->ino, NULL);
	vhu_out_string("type", "Type", vhu_fuse_mode_type(at->mode));
	/* JSON: st_mode as a number; text: in octal, as people read it. */
	if (vhu_out_is_json()) {
		vhu_out_uint("mode", "Mode", at->mode, NULL);
	} else {
		snprintf(mode, sizeof(mode), "0%o", at->mode);
		vhu_out_string("mode", "Mode", mode);
	}
	vhu_out_string("permissions", "Permissions", perm);
	vhu_out_uint("size", "Size", at->size, "bytes");
	vhu_out_uint("blocks", "Blocks", at->blocks, "512-byte units");
	vhu_out_uint("blksize", "Block size", at->blksize, "bytes");
	vhu_out_uint("nlink", "Links", at->nlink, NULL);
	vhu_out_uint("uid", "UID", at->uid, NULL);
	vhu_out_uint("gid", "GID", at->gid, NULL);
	vhu_out_uint("rdev", "Device", at->rdev, NULL);
	show_time("atime", "Access", at->atime, at->atimensec);
	show_time("mtime", "Modify", at->mtime, at->mtimensec);
	show_time("ctime", "Change", at->ctime, at->ctimensec);
	vhu_out_close();
}
