/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The line editor of an interactive batch (libedit): a prompt on stderr,
 * emacs-style editing, history of the session's lines, and completion
 * (TAB) of command names, `set` options and device types.
 */
#ifndef VHU_CMDS_EDIT_H
#define VHU_CMDS_EDIT_H

struct vhu_edit;

/* The options `set` takes, NULL terminated (cmd_batch.c). */
extern const char *const vhu_batch_set_options[];

/* An editor on the terminal of stdin, drawing on stderr; NULL when it
 * cannot be set up (the caller then reads lines itself).  The terminal
 * is restored by vhu_edit_close(). */
struct vhu_edit *vhu_edit_open(const char *prompt);

/*
 * The next line, without its newline; the editor owns it until the next
 * call.  NULL at the end of input (*@err 0), on a read error (*@err the
 * errno), or when a signal arrived (util/intr: *@err 0, and
 * vhu_intr_signo() says which).  Non-empty lines go to the history.
 */
const char *vhu_edit_line(struct vhu_edit *e, int *err);

/* Restore the terminal and free @e (NULL is fine). */
void vhu_edit_close(struct vhu_edit *e);

#endif
