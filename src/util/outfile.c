/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Atomic output files (see outfile.h): O_TMPFILE + linkat + rename where
 * the file system allows it, a named temporary elsewhere.
 */
#define _GNU_SOURCE /* O_TMPFILE, O_PATH, AT_EMPTY_PATH */
#include "util/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/intr.h"

#define TMP_SUFFIX ".XXXXXX"
/* Attempts at a free temporary name before giving up. */
#define TMP_TRIES 100

static int fail(struct vhu_outfile *f, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct vhu_outfile *f, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* "a directory", "a FIFO", ... for what is not a regular file. */
static const char *kind_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file";
	}
}

/* ".NAME.XXXXXX" with 6 random characters, NAME cut so that the whole
 * stays within NAME_MAX. */
static void tmp_name(struct vhu_outfile *f)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t keep = strlen(f->base), room = NAME_MAX - 1 - (sizeof(TMP_SUFFIX) - 1);
	uint8_t rnd[6];
	char *x;

	if (keep > room)
		keep = room;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;
		uint64_t v;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20 ^ (uint64_t)ts.tv_sec;
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(v >> (8 * i));
	}
	snprintf(f->tmp, sizeof(f->tmp), ".%.*s" TMP_SUFFIX, (int)keep, f->base);
	x = f->tmp + strlen(f->tmp) - 6;
	for (size_t i = 0; i < 6; i++)
		x[i] = set[rnd[i] % (sizeof(set) - 1)];
}

/* Split @target into f->dir and f->base. */
static int split(struct vhu_outfile *f, const char *target)
{
	const char *slash = strrchr(target, '/');

	if (!slash) {
		f->dir = strdup(".");
		f->base = strdup(target);
	} else {
		f->dir = slash == target ? strdup("/") : strndup(target, (size_t)(slash - target));
		f->base = strdup(slash + 1);
	}
	if (!f->dir || !f->base)
		return fail(f, VHU_OUTFILE_IO, "%s: out of memory", f->path);
	if (!*f->base || !strcmp(f->base, ".") || !strcmp(f->base, ".."))
		return fail(f, VHU_OUTFILE_BAD_TARGET, "%s: names a directory, not a file", f->path);
	return VHU_OUTFILE_OK;
}

/* FILE as it is now: missing or a regular file is fine. */
static int check_target(struct vhu_outfile *f, bool via_link)
{
	struct stat st;

	if (fstatat(f->dirfd, f->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return VHU_OUTFILE_OK;
		return fail(f, VHU_OUTFILE_BAD_TARGET, "%s: %s", f->path, strerror(errno));
	}
	if (S_ISREG(st.st_mode))
		return VHU_OUTFILE_OK;
	return fail(f, VHU_OUTFILE_BAD_TARGET, "%s: %s %s, not a regular file; left untouched", f->path,
		    via_link ? "is a symbolic link to" : "is", kind_of(st.st_mode));
}

void vhu_outfile_init(struct vhu_outfile *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = f->slot = -1;
}

int vhu_outfile_create(struct vhu_outfile *f, const char *path, unsigned flags)
{
	struct stat st;
	char *target = NULL;
	bool via_link = false;
	int rc;

	vhu_outfile_init(f);
	f->path = path;
	if (!path || !*path)
		return fail(f, VHU_OUTFILE_BAD_TARGET, "FILE is empty");
	if (path[strlen(path) - 1] == '/')
		return fail(f, VHU_OUTFILE_BAD_TARGET, "%s: names a directory, not a file", path);

	/* A symbolic link: the file it points to is the one replaced. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		via_link = true;
		target = realpath(path, NULL);
		if (!target)
			return fail(
				f, VHU_OUTFILE_BAD_TARGET,
				"%s: is a symbolic link that leads nowhere (%s); only an existing regular "
				"file behind a link is replaced",
				path, strerror(errno));
	}
	rc = split(f, target ? target : path);
	free(target);
	if (rc)
		goto bad;
	f->dirfd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0) {
		rc = fail(f, VHU_OUTFILE_BAD_TARGET, "%s: cannot create a temporary file in %s: %s", path,
			  f->dir, strerror(errno));
		goto bad;
	}
	rc = check_target(f, via_link);
	if (rc)
		goto bad;

	if (!(flags & VHU_OUTFILE_NAMED)) {
		f->fd = openat(f->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		/* EISDIR/EOPNOTSUPP/EINVAL: no O_TMPFILE here; anything else
		 * (EACCES, EROFS, ...) would fail a named file too. */
		if (f->fd < 0 && errno != EISDIR && errno != EOPNOTSUPP && errno != EINVAL) {
			rc = fail(f, VHU_OUTFILE_BAD_TARGET, "%s: cannot create a temporary file in %s: %s",
				  path, f->dir, strerror(errno));
			goto bad;
		}
	}
	if (f->fd < 0) {
		f->named = true;
		for (int i = 0; i < TMP_TRIES && f->fd < 0; i++) {
			tmp_name(f);
			f->fd = openat(f->dirfd, f->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
				       0600);
			if (f->fd < 0 && errno != EEXIST)
				break;
		}
		if (f->fd < 0) {
			rc = fail(f, VHU_OUTFILE_BAD_TARGET, "%s: cannot create a temporary file in %s: %s",
				  path, f->dir, strerror(errno));
			f->tmp[0] = '\0';
			goto bad;
		}
		f->slot = vhu_intr_register(f->dirfd, f->tmp);
	}
	return VHU_OUTFILE_OK;
bad:
	vhu_outfile_abort(f);
	return rc;
}

/* Give the unnamed temporary a name (f->tmp) in the directory. */
static int link_tmpfile(struct vhu_outfile *f)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	for (int i = 0; i < TMP_TRIES; i++) {
		int r;

		tmp_name(f);
		/* Through /proc needs no privilege; AT_EMPTY_PATH needs
		 * CAP_DAC_READ_SEARCH but works without /proc. */
		r = linkat(AT_FDCWD, proc, f->dirfd, f->tmp, AT_SYMLINK_FOLLOW);
		if (r < 0 && errno == ENOENT)
			r = linkat(f->fd, "", f->dirfd, f->tmp, AT_EMPTY_PATH);
		if (r == 0)
			return VHU_OUTFILE_OK;
		if (errno != EEXIST)
			break;
	}
	f->tmp[0] = '\0';
	return fail(f, VHU_OUTFILE_IO, "%s: cannot link the new file into %s: %s", f->path, f->dir,
		    strerror(errno));
}

int vhu_outfile_commit(struct vhu_outfile *f)
{
	sigset_t old;
	int rc, dfd, err;

	if (f->fd < 0 || f->dirfd < 0) {
		vhu_outfile_abort(f);
		return fail(f, VHU_OUTFILE_IO, "%s: no temporary file to commit", f->path);
	}
	/* Data on disk before the name points at it: a crash leaves either
	 * the old FILE or the complete new one. */
	if (fsync(f->fd) < 0) {
		rc = fail(f, VHU_OUTFILE_IO, "%s: fsync: %s", f->path, strerror(errno));
		vhu_outfile_abort(f);
		return rc;
	}
	/* From the last look at the signals to the rename, none may come in
	 * between: a signal either aborts the commit or waits for its end. */
	vhu_intr_block(&old);
	if (vhu_intr_signo()) {
		rc = fail(f, VHU_OUTFILE_INTERRUPTED, "%s: interrupted by %s; left as it was", f->path,
			  vhu_intr_name(vhu_intr_signo()));
		goto out;
	}
	/* It may have changed since create. */
	rc = check_target(f, false);
	if (rc)
		goto out;
	if (!f->named) {
		rc = link_tmpfile(f);
		if (rc)
			goto out;
	}
	err = close(f->fd) < 0 ? errno : 0;
	f->fd = -1;
	if (err) {
		rc = fail(f, VHU_OUTFILE_IO, "%s: close: %s", f->path, strerror(err));
		goto out;
	}
	if (renameat(f->dirfd, f->tmp, f->dirfd, f->base) < 0) {
		rc = fail(f, VHU_OUTFILE_IO, "%s: cannot replace it: %s", f->path, strerror(errno));
		goto out;
	}
	f->tmp[0] = '\0';
	vhu_intr_unregister(f->slot);
	f->slot = -1;
	/* Make the rename itself durable; FILE is in place already, so a
	 * failure here is not reported. */
	dfd = openat(f->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = VHU_OUTFILE_OK;
out:
	if (rc)
		vhu_outfile_abort(f);
	vhu_intr_restore(&old);
	return rc;
}

void vhu_outfile_abort(struct vhu_outfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp[0] && f->dirfd >= 0)
		unlinkat(f->dirfd, f->tmp, 0);
	f->tmp[0] = '\0';
	vhu_intr_unregister(f->slot);
	f->slot = -1;
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->dirfd = -1;
	free(f->dir);
	free(f->base);
	f->dir = f->base = NULL;
}
