/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Atomic output files: a command that writes FILE builds the new content
 * in a temporary next to it and puts it in place with one rename(2), and
 * only once everything went well.  Until then FILE keeps its old content;
 * on any failure, or on SIGINT, SIGTERM, SIGHUP or SIGQUIT (util/intr.h),
 * the temporary goes away, so nobody ever sees a half-written FILE.
 *
 *	struct vhu_outfile f;
 *
 *	if (vhu_outfile_create(&f, path, 0))      message in f.err
 *		...;
 *	write(f.fd, ...);                         as often as needed
 *	if (vhu_outfile_commit(&f))               message in f.err
 *		...;
 *	vhu_outfile_abort(&f);                    always; a no-op after commit
 *
 * What FILE may be:
 *  - missing: it is created;
 *  - a regular file: it is replaced (other hard links keep the old
 *    content, as with any rename);
 *  - a symbolic link to a regular file: that file is replaced (the
 *    temporary lives in its directory), the link stays;
 * anything else (a directory, a FIFO, a character or block device, a
 * socket, a dangling link) is refused with VHU_OUTFILE_BAD_TARGET and
 * left untouched; nothing is ever opened for writing under FILE's name.
 * The new file has mode 0600 (less what the umask removes).
 *
 * The temporary, in the target's directory so that the rename stays on
 * one file system:
 *  - where the file system supports it, an unnamed O_TMPFILE file: it
 *    vanishes by itself however the process ends (even SIGKILL) and gets
 *    a name only inside vhu_outfile_commit(), with the four signals
 *    blocked, for the linkat(2) + rename(2);
 *  - elsewhere (or with VHU_OUTFILE_NAMED), ".NAME.XXXXXX", NAME
 *    shortened so that the temporary name never exceeds NAME_MAX: any
 *    legal FILE name works, 255 bytes included.  It is registered with
 *    vhu_intr_register(), so even an emergency exit on a second signal
 *    unlinks it.
 *
 * Ownership: every fd and buffer in the struct belongs to it; abort
 * releases them all and may be called any number of times.
 */
#ifndef VHU_UTIL_OUTFILE_H
#define VHU_UTIL_OUTFILE_H

#include <limits.h>
#include <stdbool.h>

enum vhu_outfile_rc {
	VHU_OUTFILE_OK = 0,
	/* FILE is not something we replace, or its directory takes no
	 * temporary (missing, not writable): the user's to fix. */
	VHU_OUTFILE_BAD_TARGET,
	/* Writing, syncing, linking or renaming failed. */
	VHU_OUTFILE_IO,
	/* Commit found a signal pending (vhu_intr_status()): aborted. */
	VHU_OUTFILE_INTERRUPTED,
};

/* Flags of vhu_outfile_create(). */
#define VHU_OUTFILE_NAMED 0x1u /* a named temporary even where O_TMPFILE works (tests) */

struct vhu_outfile {
	int fd;			  /* the temporary, read-write, at offset 0; -1 when closed */
	bool named;		  /* the temporary has a name (no O_TMPFILE) */
	char err[PATH_MAX + 256]; /* "FILE: problem" after a failure */
	/* private */
	const char *path;	/* as given, for messages; borrowed */
	char *dir;		/* malloc'd: the target's directory, for messages */
	char *base;		/* malloc'd: the target's name in it */
	int dirfd;		/* O_PATH of that directory, -1 = none */
	char tmp[NAME_MAX + 1]; /* the temporary's name while it has one */
	int slot;		/* vhu_intr_register() slot, -1 = none */
};

/* A closed outfile, which vhu_outfile_abort() accepts (for a struct that
 * may never reach vhu_outfile_create()). */
void vhu_outfile_init(struct vhu_outfile *f);

/* Check FILE, then create the temporary.  VHU_OUTFILE_OK, or
 * VHU_OUTFILE_BAD_TARGET / VHU_OUTFILE_IO with f->err set and nothing
 * left behind. */
int vhu_outfile_create(struct vhu_outfile *f, const char *path, unsigned flags);

/* fsync the temporary, then (signals blocked, none pending, FILE still
 * missing or a regular file) give it FILE's name with rename(2), and
 * fsync the directory.  On failure the temporary is gone and FILE is as
 * it was: VHU_OUTFILE_IO, VHU_OUTFILE_BAD_TARGET or
 * VHU_OUTFILE_INTERRUPTED with f->err set. */
int vhu_outfile_commit(struct vhu_outfile *f);

/* Close and remove the temporary if it still exists; release all.  Safe
 * after commit, after a failed create and more than once. */
void vhu_outfile_abort(struct vhu_outfile *f);

#endif
