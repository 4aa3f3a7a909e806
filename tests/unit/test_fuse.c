/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/decode/fuse.c (FUSE reply checks, directory entries)
 * and the PATH handling of src/dev/fs.c: every lie a device can tell in
 * a reply header, every malformed entry, and the lexical path walk.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decode/fuse.h"
#include "dev/fs.h"
#include "util/rc.h"

/* A reply buffer: header then @arg_len bytes of 0xab. */
static uint32_t reply(uint8_t *buf, uint32_t len, int32_t error, uint64_t unique, uint32_t arg_len)
{
	struct fuse_out_header oh = { .len = len, .error = error, .unique = unique };

	memcpy(buf, &oh, sizeof(oh));
	memset(buf + sizeof(oh), 0xab, arg_len);
	return (uint32_t)sizeof(oh) + arg_len;
}

static void test_reply_ok(void **state)
{
	uint8_t buf[256];
	struct vhu_fuse_reply r;
	char err[200] = "";
	uint32_t used = reply(buf, 16 + 128, 0, 42, 128);

	(void)state;
	assert_int_equal(vhu_fuse_reply_check(buf, used, 42, 128, &r, err, sizeof(err)), VHU_OK);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.arg_len, 128);
	assert_ptr_equal(r.arg, buf + 16);
	/* More than the fixed output is fine (a newer server's longer struct). */
	used = reply(buf, 16 + 200, 0, 42, 200);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 42, 128, &r, err, sizeof(err)), VHU_OK);
	assert_int_equal(r.arg_len, 200);
	/* A header alone: fine where no output is expected (RELEASE). */
	used = reply(buf, 16, 0, 42, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 42, 0, &r, err, sizeof(err)), VHU_OK);
	assert_int_equal(r.arg_len, 0);
}

static void test_reply_errno(void **state)
{
	uint8_t buf[64];
	struct vhu_fuse_reply r;
	char err[200];
	uint32_t used;

	(void)state;
	/* An errno is no violation, and needs no output. */
	used = reply(buf, 16, -ENOENT, 8, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 8, 128, &r, err, sizeof(err)), VHU_OK);
	assert_int_equal(r.error, -ENOENT);
	assert_null(r.arg);
	/* The largest the kernel accepts. */
	used = reply(buf, 16, -511, 8, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 8, 0, &r, err, sizeof(err)), VHU_OK);
	/* Output after an error is ignored. */
	used = reply(buf, 24, -EIO, 8, 8);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 8, 0, &r, err, sizeof(err)), VHU_OK);
	assert_int_equal(r.arg_len, 0);
}

static void test_reply_lies(void **state)
{
	uint8_t buf[256];
	struct vhu_fuse_reply r;
	char err[200];
	uint32_t used;

	(void)state;
	/* Shorter than the header. */
	reply(buf, 8, 0, 4, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, 8, 4, 0, &r, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "shorter than fuse_out_header"));
	assert_int_equal(vhu_fuse_reply_check(buf, 0, 4, 0, &r, err, sizeof(err)), VHU_E_PROTO);
	/* out.len above and below what the device wrote. */
	used = reply(buf, 16 + 104 + 4096, 0, 4, 104);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 104, &r, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "says 4216 bytes (out.len) but the device wrote 120"));
	used = reply(buf, 16, 0, 4, 104);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 104, &r, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "says 16 bytes"));
	/* Another request's unique, and 0 (a notification). */
	used = reply(buf, 16, 0, 6, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 0, &r, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "reply for unique 6, but the request's unique is 4"));
	used = reply(buf, 16, 0, 0, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 0, &r, err, sizeof(err)), VHU_E_PROTO);
	/* Errors outside -511..0. */
	used = reply(buf, 16, 5, 4, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 0, &r, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "reply error 5"));
	used = reply(buf, 16, -512, 4, 0);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 0, &r, err, sizeof(err)), VHU_E_PROTO);
	/* A success too short for its opcode's output. */
	used = reply(buf, 16 + 100, 0, 4, 100);
	assert_int_equal(vhu_fuse_reply_check(buf, used, 4, 104, &r, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "100 bytes after the header, less than the 104"));
}

/* Append a directory entry; returns the new length. */
static uint32_t dirent(uint8_t *buf, uint32_t at, uint64_t ino, uint64_t off, uint32_t type, const char *name,
		       uint32_t namelen)
{
	struct fuse_dirent d = { .ino = ino, .off = off, .namelen = namelen, .type = type };
	size_t rec = FUSE_DIRENT_SIZE(&d);

	memset(buf + at, 0, rec);
	memcpy(buf + at, &d, FUSE_NAME_OFFSET);
	memcpy(buf + at + FUSE_NAME_OFFSET, name, namelen);
	return at + (uint32_t)rec;
}

static void test_dirents(void **state)
{
	uint8_t buf[4096];
	struct vhu_fuse_dirent e;
	char err[200];
	uint32_t len = 0, pos = 0;

	(void)state;
	len = dirent(buf, len, 10, 1, 4, ".", 1);
	len = dirent(buf, len, 11, 2, 8, "file-with-a-longer-name", 23);
	len = dirent(buf, len, 12, 3, 10, "12345678", 8); /* exactly aligned */
	assert_int_equal(len, 32 + 48 + 32);
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), 1);
	assert_int_equal(e.ino, 10);
	assert_int_equal(e.namelen, 1);
	assert_memory_equal(e.name, ".", 1);
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), 1);
	assert_int_equal(e.off, 2);
	assert_int_equal(e.type, 8);
	assert_memory_equal(e.name, "file-with-a-longer-name", 23);
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), 1);
	assert_memory_equal(e.name, "12345678", 8);
	assert_int_equal(pos, len);
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), 0);
	/* A record cut short by the end of the buffer ends the entries, as
	 * in the kernel; the padding counts. */
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, 32 + 47, &pos, &e, err, sizeof(err)), 1);
	assert_int_equal(vhu_fuse_dirent_next(buf, 32 + 47, &pos, &e, err, sizeof(err)), 0);
	assert_int_equal(pos, 32);
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, 20, &pos, &e, err, sizeof(err)), 0);
	assert_int_equal(vhu_fuse_dirent_next(buf, 0, &pos, &e, err, sizeof(err)), 0);
}

static void test_dirent_lies(void **state)
{
	uint8_t buf[4096];
	struct vhu_fuse_dirent e;
	char err[200];
	uint32_t len, pos;

	(void)state;
	/* Empty name. */
	len = dirent(buf, 0, 1, 1, 8, "", 0);
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, len + 8, &pos, &e, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "name length 0"));
	/* Longer than FUSE_NAME_MAX, even with the bytes there. */
	memset(buf, 'x', sizeof(buf));
	len = dirent(buf, 0, 1, 1, 8, (const char *)buf + 2048, VHU_FUSE_NAME_MAX + 1);
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "name length 1025"));
	/* Exactly FUSE_NAME_MAX is fine. */
	len = dirent(buf, 0, 1, 1, 8, (const char *)buf + 2048, VHU_FUSE_NAME_MAX);
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), 1);
	/* A name with '/' or NUL, the second entry: nothing past the first. */
	len = dirent(buf, 0, 1, 1, 8, "ok", 2);
	len = dirent(buf, len, 2, 2, 8, "a/b", 3);
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), 1);
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "directory entry at byte 32: the name holds '/'"));
	assert_int_equal(pos, 32);
	len = dirent(buf, 0, 1, 1, 8, "a\0b", 3);
	pos = 0;
	assert_int_equal(vhu_fuse_dirent_next(buf, len, &pos, &e, err, sizeof(err)), VHU_E_PROTO);
	assert_non_null(strstr(err, "NUL"));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vhu_fuse_opcode_name(FUSE_LOOKUP), "LOOKUP");
	assert_string_equal(vhu_fuse_opcode_name(FUSE_READDIR), "READDIR");
	assert_string_equal(vhu_fuse_opcode_name(9999), "?");
	assert_string_equal(vhu_fuse_dtype_name(4), "directory");
	assert_string_equal(vhu_fuse_mode_type(0100644), "regular");
	assert_string_equal(vhu_fuse_mode_type(0120777), "symlink");
	assert_string_equal(vhu_errno_name(ENOENT), "ENOENT");
	assert_string_equal(vhu_errno_name(ENOTDIR), "ENOTDIR");
}

/* PATH as components, joined for messages. */
static const char *walk(const char *path)
{
	static struct vhu_fs_path p;
	static char out[VHU_FS_PATH_MAX + 2];
	char err[200];

	assert_int_equal(vhu_fs_path_parse(&p, path, err, sizeof(err)), VHU_OK);
	vhu_fs_path_show(&p, p.n, out, sizeof(out));
	return out;
}

static void test_path(void **state)
{
	static struct vhu_fs_path p;
	static char big[VHU_FS_PATH_MAX + 2];
	char err[200];

	(void)state;
	assert_string_equal(walk(""), "/");
	assert_string_equal(walk("/"), "/");
	assert_string_equal(walk("a"), "a");
	assert_string_equal(walk("/a//b/./c/"), "a/b/c");
	assert_string_equal(walk("a/b/../c"), "a/c");
	assert_string_equal(walk("../../a"), "a");
	assert_string_equal(walk("a/.."), "/");
	assert_string_equal(walk("..."), "...");
	assert_int_equal(vhu_fs_path_parse(&p, "x/y", err, sizeof(err)), VHU_OK);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.len[1], 1);
	assert_string_equal(p.comp[1], "y");
	/* Limits: the whole PATH, and one component. */
	memset(big, 'a', VHU_FS_PATH_MAX + 1);
	big[VHU_FS_PATH_MAX + 1] = '\0';
	assert_int_equal(vhu_fs_path_parse(&p, big, err, sizeof(err)), VHU_E_USAGE);
	assert_non_null(strstr(err, "longer than 4096"));
	big[VHU_FUSE_NAME_MAX + 1] = '\0';
	assert_int_equal(vhu_fs_path_parse(&p, big, err, sizeof(err)), VHU_E_USAGE);
	assert_non_null(strstr(err, "component of 1025 bytes"));
	big[VHU_FUSE_NAME_MAX] = '\0';
	assert_int_equal(vhu_fs_path_parse(&p, big, err, sizeof(err)), VHU_OK);
	/* The deepest PATH that fits: 2048 one-byte components. */
	for (unsigned i = 0; i < VHU_FS_PATH_MAX; i += 2)
		big[i] = 'd', big[i + 1] = '/';
	big[VHU_FS_PATH_MAX] = '\0';
	assert_int_equal(vhu_fs_path_parse(&p, big, err, sizeof(err)), VHU_OK);
	assert_int_equal(p.n, VHU_FS_MAX_DEPTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_ok),    cmocka_unit_test(test_reply_errno),
		cmocka_unit_test(test_reply_lies),  cmocka_unit_test(test_dirents),
		cmocka_unit_test(test_dirent_lies), cmocka_unit_test(test_names),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
