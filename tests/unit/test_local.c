// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the local side of vhuctl's work: atomic output files
 * (src/util/outfile.c), interruption by signals (src/util/intr.c) and the
 * bounded decoding of an inflight buffer (vhu_inflight_read, src/proto/mem.c).
 * Each test works in a fresh temporary directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/mem.h"
#include "proto/session.h"
#include "util/intr.h"
#include "util/outfile.h"

struct fx {
	char dir[64];
	char path[PATH_MAX];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vhu-unit.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/out", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	vhu_intr_clear();
	free(f);
	return 0;
}

/* Entries of @dir, "." and ".." left out; the first name into @first. */
static int entries(const char *dir, char *first, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	if (first)
		first[0] = '\0';
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!n && first)
			snprintf(first, len, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void expect_content(const char *path, const char *text)
{
	char buf[256] = { 0 };
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(text));
	close(fd);
	assert_string_equal(buf, text);
}

static void write_str(int fd, const char *text)
{
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* ---- outfile ---- */

static void replace(struct fx *f, unsigned flags)
{
	struct vhu_outfile o;

	put(f->path, "old");
	assert_int_equal(vhu_outfile_create(&o, f->path, flags), VHU_OUTFILE_OK);
	assert_int_equal(o.named, (flags & VHU_OUTFILE_NAMED) != 0);
	/* Until commit, FILE is the old one; a named temporary is the only
	 * other entry, an unnamed one none at all. */
	expect_content(f->path, "old");
	assert_int_equal(entries(f->dir, NULL, 0), o.named ? 2 : 1);
	write_str(o.fd, "new content");
	assert_int_equal(vhu_outfile_commit(&o), VHU_OUTFILE_OK);
	vhu_outfile_abort(&o);
	vhu_outfile_abort(&o);
	expect_content(f->path, "new content");
	assert_int_equal(entries(f->dir, NULL, 0), 1);
}

static void test_replace_tmpfile(void **state)
{
	replace(*state, 0);
}

static void test_replace_named(void **state)
{
	replace(*state, VHU_OUTFILE_NAMED);
}

static void test_abort_leaves_file(void **state)
{
	struct fx *f = *state;
	struct vhu_outfile o;

	for (unsigned flags = 0; flags <= VHU_OUTFILE_NAMED; flags++) {
		put(f->path, "old");
		assert_int_equal(vhu_outfile_create(&o, f->path, flags), VHU_OUTFILE_OK);
		write_str(o.fd, "half");
		vhu_outfile_abort(&o);
		expect_content(f->path, "old");
		assert_int_equal(entries(f->dir, NULL, 0), 1);
	}
}

static void test_long_names(void **state)
{
	struct fx *f = *state;
	struct vhu_outfile o;
	char name[NAME_MAX + 1];

	for (unsigned flags = 0; flags <= VHU_OUTFILE_NAMED; flags++) {
		for (size_t len = 250; len <= NAME_MAX; len += 5) {
			memset(name, 'a' + (char)flags, len);
			name[len] = '\0';
			snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
			assert_int_equal(vhu_outfile_create(&o, f->path, flags), VHU_OUTFILE_OK);
			assert_true(strlen(o.tmp) <= NAME_MAX);
			write_str(o.fd, "x");
			assert_int_equal(vhu_outfile_commit(&o), VHU_OUTFILE_OK);
			vhu_outfile_abort(&o);
			expect_content(f->path, "x");
		}
	}
	assert_int_equal(entries(f->dir, NULL, 0), 4);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct vhu_outfile o;
	char p[PATH_MAX + 16];
	const char *cases[][2] = {
		{ "fifo", "is a FIFO" },	 { "dir", "is a directory" },
		{ "dangling", "leads nowhere" }, { "to-fifo", "is a symbolic link to a FIFO" },
		{ "dir/", "names a directory" }, { "missing/x", "cannot create a temporary file" },
	};

	snprintf(p, sizeof(p), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/dir", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/dangling", f->dir);
	assert_int_equal(symlink("nowhere", p), 0);
	snprintf(p, sizeof(p), "%s/to-fifo", f->dir);
	assert_int_equal(symlink("fifo", p), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, cases[i][0]);
		assert_int_equal(vhu_outfile_create(&o, p, 0), VHU_OUTFILE_BAD_TARGET);
		if (!strstr(o.err, cases[i][1]) || !strstr(o.err, p))
			fail_msg("%s: \"%s\"", cases[i][0], o.err);
		assert_int_equal(o.fd, -1);
		vhu_outfile_abort(&o);
	}
	assert_int_equal(vhu_outfile_create(&o, "", 0), VHU_OUTFILE_BAD_TARGET);
	assert_int_equal(entries(f->dir, NULL, 0), 4);
}

static void test_symlink_target_replaced(void **state)
{
	struct fx *f = *state;
	struct vhu_outfile o;
	char link[PATH_MAX + 16];
	struct stat st;

	put(f->path, "old");
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink("out", link), 0);
	assert_int_equal(vhu_outfile_create(&o, link, 0), VHU_OUTFILE_OK);
	write_str(o.fd, "via link");
	assert_int_equal(vhu_outfile_commit(&o), VHU_OUTFILE_OK);
	vhu_outfile_abort(&o);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	expect_content(f->path, "via link");
}

/* The target turned into a FIFO between create and commit. */
static void test_target_changed_before_commit(void **state)
{
	struct fx *f = *state;
	struct vhu_outfile o;
	struct stat st;

	assert_int_equal(vhu_outfile_create(&o, f->path, VHU_OUTFILE_NAMED), VHU_OUTFILE_OK);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(vhu_outfile_commit(&o), VHU_OUTFILE_BAD_TARGET);
	assert_non_null(strstr(o.err, "is a FIFO"));
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(entries(f->dir, NULL, 0), 1);
}

/* ---- signals ---- */

static void test_signal_refuses_commit(void **state)
{
	struct fx *f = *state;
	struct vhu_outfile o;

	assert_int_equal(vhu_intr_install(), 0);
	for (unsigned flags = 0; flags <= VHU_OUTFILE_NAMED; flags++) {
		put(f->path, "old");
		assert_int_equal(vhu_outfile_create(&o, f->path, flags), VHU_OUTFILE_OK);
		write_str(o.fd, "new");
		raise(SIGTERM);
		assert_int_equal(vhu_intr_signo(), SIGTERM);
		assert_int_equal(vhu_intr_status(), 143);
		assert_true(vhu_intr_is_status(143));
		assert_int_equal(vhu_outfile_commit(&o), VHU_OUTFILE_INTERRUPTED);
		assert_non_null(strstr(o.err, "interrupted by SIGTERM"));
		vhu_outfile_abort(&o);
		expect_content(f->path, "old");
		assert_int_equal(entries(f->dir, NULL, 0), 1);
		vhu_intr_clear();
		assert_int_equal(vhu_intr_signo(), 0);
	}
}

/* A pending signal wakes a wait at once, through the self-pipe. */
static void test_signal_ends_wait(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(vhu_intr_install(), 0);
	assert_int_equal(pipe(p), 0);
	raise(SIGINT);
	assert_int_equal(vhu_wait_fd(p[0], POLLIN, vhu_now_ms() + 60000, NULL), 130);
	vhu_intr_clear();
	assert_int_equal(vhu_wait_fd(p[0], POLLIN, vhu_now_ms() + 10, NULL), VHU_E_TIMEOUT);
	close(p[0]);
	close(p[1]);
}

/* A second signal exits at once (128 + N) and unlinks the registered
 * (named) temporary; FILE keeps its content. */
static void test_second_signal_exits_and_cleans(void **state)
{
	struct fx *f = *state;
	int st;
	pid_t pid;

	put(f->path, "old");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vhu_outfile o;

		vhu_intr_install();
		if (vhu_outfile_create(&o, f->path, VHU_OUTFILE_NAMED) || write(o.fd, "new", 3) != 3)
			_exit(99);
		raise(SIGHUP);	/* recorded */
		raise(SIGQUIT); /* stuck unwinding: out at once */
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 128 + SIGQUIT);
	expect_content(f->path, "old");
	assert_int_equal(entries(f->dir, NULL, 0), 1);
}

static void test_finish_status(void **state)
{
	char msg[64] = "earlier failure";

	(void)state;
	assert_int_equal(vhu_intr_install(), 0);
	assert_int_equal(vhu_intr_finish(VHU_E_IO, msg, sizeof(msg)), VHU_E_IO);
	assert_string_equal(msg, "earlier failure");
	raise(SIGHUP);
	assert_int_equal(vhu_intr_finish(129, msg, sizeof(msg)), 129);
	assert_string_equal(msg, "earlier failure");
	assert_int_equal(vhu_intr_finish(VHU_OK, msg, sizeof(msg)), 129);
	assert_string_equal(msg, "interrupted by SIGHUP");
}

/* ---- inflight decoding bounds ---- */

/* A buffer claimed to be 1 TiB (sparse): only queue headers and the
 * entries desc_num covers are read; a past deadline stops the work. */
static void test_inflight_read_bounded(void **state)
{
	struct vhu_session s;
	struct vhost_user_inflight in = { .mmap_size = UINT64_C(1) << 40,
					  .num_queues = 4,
					  .queue_size = 256 };
	struct vhu_inflight_queue q;
	uint8_t hdr[16] = { 0 }, ent[16] = { 1 };
	int fd = memfd_create("vhu-unit", MFD_CLOEXEC);

	(void)state;
	vhu_session_init(&s);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)in.mmap_size), 0);
	/* Queue 1: desc_num 256, descriptors 3 and 255 inflight. */
	hdr[10] = 0;
	hdr[11] = 1;
	assert_int_equal(pwrite(fd, hdr, 16, (off_t)vhu_inflight_stride(256)), 16);
	assert_int_equal(pwrite(fd, ent, 16, (off_t)(vhu_inflight_stride(256) + 16 + 16 * 3)), 16);
	assert_int_equal(pwrite(fd, ent, 16, (off_t)(vhu_inflight_stride(256) + 16 + 16 * 255)), 16);

	assert_int_equal(vhu_inflight_read(&s, fd, &in, 1, vhu_now_ms() + 10000, &q), VHU_OK);
	assert_true(q.present);
	assert_int_equal(q.desc_num, 256);
	assert_int_equal(q.inflight, 2);
	assert_int_equal(q.heads[0], 3);
	assert_int_equal(q.heads[1], 255);
	assert_false(q.truncated);
	assert_int_equal(vhu_inflight_read(&s, fd, &in, 0, -1, &q), VHU_OK);
	assert_true(q.present);
	assert_int_equal(q.inflight, 0);

	/* --timeout holds for local work: a passed deadline is a timeout. */
	assert_int_equal(vhu_inflight_read(&s, fd, &in, 1, vhu_now_ms() - 1, &q), VHU_E_TIMEOUT);
	assert_non_null(strstr(s.err, "GET_INFLIGHT_FD: decoding the buffer took longer than --timeout"));

	/* The file is shorter than claimed: truncated, not an error. */
	assert_int_equal(ftruncate(fd, (off_t)(vhu_inflight_stride(256) + 16 + 16 * 100)), 0);
	assert_int_equal(vhu_inflight_read(&s, fd, &in, 1, -1, &q), VHU_OK);
	assert_true(q.truncated);
	assert_int_equal(q.inflight, 1);
	assert_int_equal(vhu_inflight_read(&s, fd, &in, 2, -1, &q), VHU_OK);
	assert_false(q.present);
	close(fd);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_replace_tmpfile),
		T(test_replace_named),
		T(test_abort_leaves_file),
		T(test_long_names),
		T(test_refusals),
		T(test_symlink_target_replaced),
		T(test_target_changed_before_commit),
		T(test_signal_refuses_commit),
		T(test_signal_ends_wait),
		T(test_second_signal_exits_and_cleans),
		T(test_finish_status),
		T(test_inflight_read_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
