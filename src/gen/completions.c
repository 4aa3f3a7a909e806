/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhu-gen-completions: a build-time tool, not installed.  It links the
 * command table and writes shell completions generated from it, so a
 * command added to the table is completed without editing a script:
 *
 *   vhu-gen-completions DIR
 *
 * writes DIR/vhuctl (bash), DIR/_vhuctl (zsh), DIR/vhuctl.fish (fish) and
 * DIR/commands (one command name per line, for the JSON schema test).
 *
 * Every command parses its arguments with vhu_cmd_parse() before it
 * connects (so that --help needs no socket); with vhu_cmd_introspect set,
 * that call hands over the command's argp instead, whose options and
 * args_doc are what the completions offer.  Values: an option argument or
 * operand named FILE or PATH completes file names, TYPE the device types,
 * REQUEST the request names, and lower-case words (on|off, save, memfd)
 * complete as themselves.
 */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/cmd.h"
#include "decode/bits.h"
#include "proto/catalog.h"

#define MAX_OPTS  64
#define MAX_SLOTS 8
#define MAX_WORDS 128

/* What a value (option argument or operand) completes to. */
struct values {
	bool files;
	size_t nwords;
	const char *words[MAX_WORDS];
};

struct opt {
	const char *lname; /* long name or NULL */
	int key;	   /* short option when printable */
	const char *arg;   /* argument name or NULL */
	bool arg_optional;
	const char *doc;
	struct values v;
};

struct cmd_info {
	const struct vhu_cmd *cmd;
	size_t nopts;
	struct opt opts[MAX_OPTS];
	size_t nslots; /* operand positions */
	struct values slots[MAX_SLOTS];
	int seen; /* vhu_cmd_parse calls: exactly one expected */
};

static struct cmd_info *cur;
static struct cmd_info globals;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vhu-gen-completions: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void add_word(struct values *v, const char *w)
{
	for (size_t i = 0; i < v->nwords; i++)
		if (!strcmp(v->words[i], w))
			return;
	if (v->nwords == MAX_WORDS)
		die("too many words for one value (raise MAX_WORDS)");
	v->words[v->nwords++] = w;
}

/* Interned copies of words cut out of args_doc; freed at exit. */
static char *pool[1024];
static size_t npool;

static const char *intern(const char *s, size_t n)
{
	for (size_t i = 0; i < npool; i++)
		if (strlen(pool[i]) == n && !strncmp(pool[i], s, n))
			return pool[i];
	if (npool == sizeof(pool) / sizeof(pool[0]))
		die("too many words (raise the pool)");
	pool[npool] = strndup(s, n);
	if (!pool[npool])
		die("out of memory");
	return pool[npool++];
}

static bool is_literal(const char *s, size_t n)
{
	if (!n || !islower((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != ':')
			return false;
	return true;
}

/* One alternative of a value name: "FILE", "on", "file:PATH", "-". */
static void add_alternative(struct values *v, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);

	if (n == 1 && *s == '-') {
		add_word(v, "-"); /* standard input */
	} else if ((n == 4 && !strncmp(s, "FILE", 4)) || (n == 4 && !strncmp(s, "PATH", 4))) {
		v->files = true;
	} else if (n == 4 && !strncmp(s, "TYPE", 4)) {
		for (size_t i = 0; i < vhu_dev_count(); i++)
			add_word(v, vhu_dev_at(i)->name);
	} else if (n == 7 && !strncmp(s, "REQUEST", 7)) {
		for (size_t i = 0; i < vhu_req_count(); i++)
			add_word(v, vhu_req_at(i)->name);
	} else if (colon && is_literal(s, (size_t)(colon - s) + 1)) {
		add_word(v, intern(s, (size_t)(colon - s) + 1)); /* "file:" of file:PATH */
	} else if (is_literal(s, n)) {
		add_word(v, intern(s, n));
	}
}

/* A value name as argp prints it: "TYPE", "memfd|file:PATH", "[FILE|-]". */
static void parse_value(struct values *v, const char *s, size_t n)
{
	while (n && (*s == '[' || *s == '(')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ']' || s[n - 1] == ')' || s[n - 1] == '.'))
		n--;
	while (n) {
		size_t k = 0;

		while (k < n && s[k] != '|')
			k++;
		add_alternative(v, s, k);
		if (k == n)
			break;
		s += k + 1;
		n -= k + 1;
	}
}

/* args_doc: one usage per line, operands separated by blanks. */
static void parse_args_doc(struct cmd_info *ci, const char *doc)
{
	const char *p = doc;

	if (!doc)
		return;
	while (*p) {
		size_t slot = 0;
		size_t eol = strcspn(p, "\n");
		const char *end = p + eol;

		while (p < end) {
			size_t n;

			while (p < end && *p == ' ')
				p++;
			n = strcspn(p, " \n");
			if (!n)
				break;
			if (slot < MAX_SLOTS) {
				parse_value(&ci->slots[slot], p, n);
				if (slot + 1 > ci->nslots)
					ci->nslots = slot + 1;
			}
			slot++;
			p += n;
		}
		p = *end ? end + 1 : end;
	}
}

static bool option_is_end(const struct argp_option *o)
{
	return !o->key && !o->name && !o->doc && !o->group;
}

static void add_options(struct cmd_info *ci, const struct argp *argp)
{
	const struct argp_option *o;
	struct opt *prev = NULL;

	for (o = argp->options; o && !option_is_end(o); o++) {
		struct opt *op;

		if (o->flags & (OPTION_DOC | OPTION_HIDDEN))
			continue;
		if (!o->name && !(o->key > 0 && o->key < 0x100 && isalnum(o->key)))
			continue; /* a group header */
		if (ci->nopts == MAX_OPTS)
			die("too many options for %s (raise MAX_OPTS)", ci->cmd ? ci->cmd->name : "vhuctl");
		op = &ci->opts[ci->nopts++];
		memset(op, 0, sizeof(*op));
		op->lname = o->name;
		op->key = (o->key > 0 && o->key < 0x100 && isalnum(o->key)) ? o->key : 0;
		op->arg = o->arg;
		op->arg_optional = o->flags & OPTION_ARG_OPTIONAL;
		op->doc = o->doc;
		/* An alias shares the argument and doc of the option before it. */
		if ((o->flags & OPTION_ALIAS) && prev) {
			op->arg = prev->arg;
			op->doc = prev->doc;
		}
		if (op->arg)
			parse_value(&op->v, op->arg, strlen(op->arg));
		if (!(o->flags & OPTION_ALIAS))
			prev = op;
	}
	for (const struct argp_child *c = argp->children; c && c->argp; c++)
		add_options(ci, c->argp);
}

static void introspect(const struct argp *argp)
{
	cur->seen++;
	add_options(cur, argp);
	parse_args_doc(cur, argp->args_doc);
}

/* ---- shell quoting ---- */

/* One line of a doc string (argp docs may hold \n or \v). */
static void doc_line(char *buf, size_t len, const char *doc)
{
	size_t n = doc ? strcspn(doc, "\n\v") : 0;

	snprintf(buf, len, "%.*s", (int)n, doc ? doc : "");
}

/* ---- bash ---- */

static void bash_words(FILE *f, const struct values *v, const char *indent)
{
	if (v->nwords) {
		fprintf(f, "%sCOMPREPLY+=($(compgen -W '", indent);
		for (size_t i = 0; i < v->nwords; i++)
			fprintf(f, "%s%s", i ? " " : "", v->words[i]);
		fputs("' -- \"$cur\"))\n", f);
	}
	if (v->files)
		fprintf(f, "%s_vhuctl_files\n", indent);
}

static void bash_optnames(FILE *f, const struct opt *o, const char *sep)
{
	bool first = true;

	if (o->lname) {
		fprintf(f, "--%s", o->lname);
		first = false;
	}
	if (o->key)
		fprintf(f, "%s-%c", first ? "" : sep, o->key);
}

static void bash_opts_list(FILE *f, const struct cmd_info *ci)
{
	for (size_t i = 0; i < ci->nopts; i++) {
		if (i)
			fputc(' ', f);
		bash_optnames(f, &ci->opts[i], " ");
	}
}

/* Cases "CMD:OPTION" (or "*:OPTION" for the global ones) for the options
 * that take an argument in the next word: @complete adds what completes
 * the argument, else the case only returns true. */
static void bash_argopt_cases(FILE *f, const struct cmd_info *ci, const char *cmd, bool complete)
{
	for (size_t i = 0; i < ci->nopts; i++) {
		const struct opt *o = &ci->opts[i];

		if (!o->arg || o->arg_optional)
			continue;
		fputc('\t', f);
		if (o->lname)
			fprintf(f, "%s:--%s", cmd, o->lname);
		if (o->key)
			fprintf(f, "%s%s:-%c", o->lname ? " | " : "", cmd, o->key);
		fputs(")\n", f);
		if (complete)
			bash_words(f, &o->v, "\t\t");
		fputs("\t\treturn 0 ;;\n", f);
	}
}

static void write_bash(FILE *f, struct cmd_info *cmds, size_t n)
{
	fputs("# bash completion for vhuctl                                -*- shell-script -*-\n"
	      "# SPDX-License-Identifier: Apache-2.0\n"
	      "# Generated from the command table by vhu-gen-completions: do not edit.\n"
	      "# Install as /usr/share/bash-completion/completions/vhuctl (bash-completion\n"
	      "# loads it on first use), or source it.\n\n",
	      f);
	fputs("_vhuctl_files()\n{\n"
	      "\tlocal IFS=$'\\n'\n"
	      "\tcompopt -o filenames 2>/dev/null\n"
	      "\tCOMPREPLY+=($(compgen -f -- \"$cur\"))\n"
	      "}\n\n",
	      f);

	/* True when option $2 of command $1 takes a value ("_": no command yet). */
	fputs("_vhuctl_takes_value()\n{\n\tcase \"$1:$2\" in\n", f);
	bash_argopt_cases(f, &globals, "*", false);
	for (size_t i = 0; i < n; i++)
		bash_argopt_cases(f, &cmds[i], cmds[i].cmd->name, false);
	fputs("\tesac\n\treturn 1\n}\n\n", f);
	/* Complete the value of option $2 of command $1. */
	fputs("_vhuctl_value()\n{\n\tcase \"$1:$2\" in\n", f);
	bash_argopt_cases(f, &globals, "*", true);
	for (size_t i = 0; i < n; i++)
		bash_argopt_cases(f, &cmds[i], cmds[i].cmd->name, true);
	fputs("\tesac\n\treturn 1\n}\n\n", f);

	fputs("_vhuctl_options()\n{\n\tcase $1 in\n", f);
	for (size_t i = 0; i < n; i++) {
		if (!cmds[i].nopts)
			continue;
		fprintf(f, "\t%s) echo '", cmds[i].cmd->name);
		bash_opts_list(f, &cmds[i]);
		fputs("' ;;\n", f);
	}
	fputs("\tesac\n}\n\n", f);

	fputs("_vhuctl_operand()\n{\n\tcase \"$1:$2\" in\n", f);
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < cmds[i].nslots; s++) {
			const struct values *v = &cmds[i].slots[s];

			if (!v->nwords && !v->files)
				continue;
			fprintf(f, "\t%s:%zu)\n", cmds[i].cmd->name, s);
			bash_words(f, v, "\t\t");
			fputs("\t\t;;\n", f);
		}
	}
	fputs("\tesac\n}\n\n", f);

	fputs("_vhuctl()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmd= opt= w i nops=0\n"
	      "\tlocal global='",
	      f);
	bash_opts_list(f, &globals);
	fputs(" --version -V'\n"
	      "\tlocal commands='",
	      f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", cmds[i].cmd->name);
	fputs("'\n"
	      "\tCOMPREPLY=()\n"
	      "\t# Walk the words before the cursor: options, their values (also\n"
	      "\t# \"--opt = value\", as bash splits at =), the command, its operands.\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n"
	      "\t\tif [[ -n $opt ]]; then\n"
	      "\t\t\t[[ $w == = ]] && continue\n"
	      "\t\t\topt=\n"
	      "\t\telif [[ $w == -* && $w != - ]]; then\n"
	      "\t\t\tif [[ ${COMP_WORDS[i + 1]} == = ]] || _vhuctl_takes_value \"${cmd:-_}\" \"$w\"; then\n"
	      "\t\t\t\topt=$w\n"
	      "\t\t\tfi\n"
	      "\t\telif [[ -z $cmd ]]; then\n"
	      "\t\t\tcmd=$w\n"
	      "\t\telse\n"
	      "\t\t\tnops=$((nops + 1))\n"
	      "\t\tfi\n"
	      "\tdone\n"
	      "\tif [[ -n $opt ]]; then\n"
	      "\t\t[[ $cur == = ]] && cur=\n"
	      "\t\t_vhuctl_value \"${cmd:-_}\" \"$opt\"\n"
	      "\t\treturn 0\n"
	      "\tfi\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$global $(_vhuctl_options \"$cmd\")\" -- \"$cur\"))\n"
	      "\t\treturn 0\n"
	      "\tfi\n"
	      "\tif [[ -z $cmd ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
	      "\t\treturn 0\n"
	      "\tfi\n"
	      "\t_vhuctl_operand \"$cmd\" \"$nops\"\n"
	      "\treturn 0\n"
	      "}\n\n"
	      "complete -F _vhuctl vhuctl\n",
	      f);
}

/* ---- zsh ---- */

/* Text inside [...] of an _arguments spec, itself inside '...'. */
static void zsh_bracket_text(FILE *f, const char *doc)
{
	char line[512];

	doc_line(line, sizeof(line), doc);
	for (const char *p = line; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else if (*p == ']' || *p == '[' || *p == ':' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
}

static void zsh_action(FILE *f, const struct values *v)
{
	if (v->files && !v->nwords) {
		fputs("_files", f);
		return;
	}
	if (v->nwords) {
		if (v->files)
			fputs("{_files; _values word", f);
		else
			fputs("(", f);
		for (size_t i = 0; i < v->nwords; i++) {
			fputc(' ', f);
			for (const char *p = v->words[i]; *p; p++) {
				if (*p == ':' || *p == '\\' || *p == '(' || *p == ')' || *p == ' ')
					fputc('\\', f);
				fputc(*p, f);
			}
		}
		fputs(v->files ? "}" : " )", f);
		return;
	}
	fputs(" ", f);
}

static void zsh_argname(FILE *f, const char *arg)
{
	for (const char *p = arg; *p; p++) {
		if (*p == ':' || *p == '\\')
			fputc('\\', f);
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
}

static void zsh_opt(FILE *f, const struct opt *o)
{
	const char *suffix = o->arg ? (o->arg_optional ? "=-" : "=") : "";
	const char *ssuffix = o->arg ? (o->arg_optional ? "-" : "+") : "";

	fputs("\t\t", f);
	if (o->lname && o->key) {
		fprintf(f, "'(-%c --%s)'{-%c%s,--%s%s}'", o->key, o->lname, o->key, ssuffix, o->lname,
			suffix);
	} else if (o->lname) {
		fprintf(f, "'--%s%s", o->lname, suffix);
	} else {
		fprintf(f, "'-%c%s", o->key, ssuffix);
	}
	fputc('[', f);
	zsh_bracket_text(f, o->doc);
	fputc(']', f);
	if (o->arg) {
		fputc(':', f);
		zsh_argname(f, o->arg);
		fputc(':', f);
		zsh_action(f, &o->v);
	}
	fputs("'\n", f);
}

static void write_zsh(FILE *f, struct cmd_info *cmds, size_t n)
{
	fputs("#compdef vhuctl\n"
	      "# SPDX-License-Identifier: Apache-2.0\n"
	      "# zsh completion for vhuctl, generated from the command table by\n"
	      "# vhu-gen-completions: do not edit.  Install as _vhuctl in a directory of\n"
	      "# $fpath (Debian: /usr/share/zsh/vendor-completions).\n\n"
	      "_vhuctl() {\n"
	      "\tlocal curcontext=$curcontext state line ret=1\n"
	      "\tlocal -a global_opts=(\n",
	      f);
	for (size_t i = 0; i < globals.nopts; i++)
		zsh_opt(f, &globals.opts[i]);
	fputs("\t)\n"
	      "\t_arguments -C $global_opts '(- *)'{-V,--version}'[print the program version]' \\\n"
	      "\t\t'1:command:->command' '*::argument:->argument' && ret=0\n"
	      "\tcase $state in\n"
	      "\tcommand)\n"
	      "\t\tlocal -a commands=(\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		char line[512];

		doc_line(line, sizeof(line), cmds[i].cmd->summary);
		fprintf(f, "\t\t\t'%s:", cmds[i].cmd->name);
		for (const char *p = line; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		}
		fputs("'\n", f);
	}
	fputs("\t\t)\n"
	      "\t\t_describe -t commands 'vhuctl command' commands && ret=0\n"
	      "\t\t;;\n"
	      "\targument)\n"
	      "\t\tcurcontext=${curcontext%:*:*}:vhuctl-$line[1]:\n"
	      "\t\tlocal -a opts\n"
	      "\t\tcase $line[1] in\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const struct cmd_info *ci = &cmds[i];

		fprintf(f, "\t\t%s)\n\t\t\topts=(\n", ci->cmd->name);
		for (size_t j = 0; j < ci->nopts; j++) {
			fputs("\t\t", f);
			zsh_opt(f, &ci->opts[j]);
		}
		for (size_t s = 0; s < ci->nslots; s++) {
			fprintf(f, "\t\t\t\t'%zu:operand %zu:", s + 1, s + 1);
			zsh_action(f, &ci->slots[s]);
			fputs("'\n", f);
		}
		fputs("\t\t\t) ;;\n", f);
	}
	fputs("\t\tesac\n"
	      "\t\t_arguments $global_opts $opts && ret=0\n"
	      "\t\t;;\n"
	      "\tesac\n"
	      "\treturn ret\n"
	      "}\n\n"
	      "_vhuctl \"$@\"\n",
	      f);
}

/* ---- fish ---- */

/* Single-quoted for fish: \ and ' are escaped with \. */
static void fq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static void fish_words(FILE *f, const struct values *v)
{
	char buf[8192];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->nwords && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", v->words[i]);
	if (len >= sizeof(buf))
		die("fish word list too long");
	fq(f, buf);
}

static void fish_opt(FILE *f, const struct opt *o, const char *cond)
{
	char line[512];

	fputs("complete -c vhuctl", f);
	if (cond) {
		fputs(" -n ", f);
		fq(f, cond);
	}
	if (o->key)
		fprintf(f, " -s %c", o->key);
	if (o->lname)
		fprintf(f, " -l %s", o->lname);
	if (o->arg) {
		fputs(o->v.files ? " -r -F" : " -x", f);
		if (o->v.nwords) {
			fputs(" -a ", f);
			fish_words(f, &o->v);
		}
	}
	doc_line(line, sizeof(line), o->doc);
	fputs(" -d ", f);
	fq(f, line);
	fputc('\n', f);
}

static void write_fish(FILE *f, struct cmd_info *cmds, size_t n)
{
	char names[4096], cond[4200];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? " " : "",
					cmds[i].cmd->name);
	if (len >= sizeof(names))
		die("command list too long");
	fputs("# SPDX-License-Identifier: Apache-2.0\n"
	      "# fish completion for vhuctl, generated from the command table by\n"
	      "# vhu-gen-completions: do not edit.  Install in\n"
	      "# /usr/share/fish/vendor_completions.d.\n\n"
	      "complete -c vhuctl -f\n",
	      f);
	snprintf(cond, sizeof(cond), "not __fish_seen_subcommand_from %s", names);
	for (size_t i = 0; i < n; i++) {
		char line[512];

		doc_line(line, sizeof(line), cmds[i].cmd->summary);
		fputs("complete -c vhuctl -n ", f);
		fq(f, cond);
		fprintf(f, " -a %s -d ", cmds[i].cmd->name);
		fq(f, line);
		fputc('\n', f);
	}
	fputs("\n# Global options, before or after the command.\n", f);
	for (size_t i = 0; i < globals.nopts; i++)
		fish_opt(f, &globals.opts[i], NULL);
	fputs("complete -c vhuctl -n ", f);
	fq(f, cond);
	fputs(" -s V -l version -d 'print the program version'\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct cmd_info *ci = &cmds[i];
		struct values all = { 0 };

		snprintf(cond, sizeof(cond), "__fish_seen_subcommand_from %s", ci->cmd->name);
		fprintf(f, "\n# %s\n", ci->cmd->name);
		for (size_t j = 0; j < ci->nopts; j++)
			fish_opt(f, &ci->opts[j], cond);
		for (size_t s = 0; s < ci->nslots; s++) {
			all.files |= ci->slots[s].files;
			for (size_t w = 0; w < ci->slots[s].nwords; w++)
				add_word(&all, ci->slots[s].words[w]);
		}
		if (all.nwords || all.files) {
			fputs("complete -c vhuctl -n ", f);
			fq(f, cond);
			if (all.files)
				fputs(" -F", f);
			if (all.nwords) {
				fputs(" -a ", f);
				fish_words(f, &all);
			}
			fputc('\n', f);
		}
	}
}

/* ---- main ---- */

static FILE *open_out(const char *dir, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s.tmp", dir, name);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

static void close_out(FILE *f, const char *dir, const char *name, const char *tmp)
{
	char path[4096];

	if (ferror(f) | fclose(f))
		die("%s: write error", tmp);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rename(tmp, path))
		die("%s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	size_t n = vhu_cmd_count();
	struct cmd_info *cmds = calloc(n, sizeof(*cmds));
	struct vhu_ctx ctx;
	char tmp[4096];
	FILE *f;

	if (argc != 2)
		die("usage: vhu-gen-completions DIR");
	if (!cmds)
		die("out of memory");
	globals.cmd = NULL;
	add_options(&globals, &vhu_global_argp);
	vhu_cmd_introspect = introspect;
	for (size_t i = 0; i < n; i++) {
		char name[128];
		char *args[2] = { name, NULL };
		int rc;

		cmds[i].cmd = vhu_cmd_at(i);
		snprintf(name, sizeof(name), "%s", cmds[i].cmd->name);
		memset(&ctx, 0, sizeof(ctx));
		ctx.s.fd = -1;
		cur = &cmds[i];
		rc = vhu_dispatch(&ctx, 1, args);
		if (rc >= 0 || cmds[i].seen != 1)
			die("command %s did not hand its parser over exactly once (rc %d, %d parsers): "
			    "every command must call vhu_cmd_parse() before anything else",
			    cmds[i].cmd->name, rc, cmds[i].seen);
	}

	f = open_out(argv[1], "vhuctl", tmp, sizeof(tmp));
	write_bash(f, cmds, n);
	close_out(f, argv[1], "vhuctl", tmp);
	f = open_out(argv[1], "_vhuctl", tmp, sizeof(tmp));
	write_zsh(f, cmds, n);
	close_out(f, argv[1], "_vhuctl", tmp);
	f = open_out(argv[1], "vhuctl.fish", tmp, sizeof(tmp));
	write_fish(f, cmds, n);
	close_out(f, argv[1], "vhuctl.fish", tmp);
	f = open_out(argv[1], "commands", tmp, sizeof(tmp));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", cmds[i].cmd->name);
	close_out(f, argv[1], "commands", tmp);

	for (size_t i = 0; i < npool; i++)
		free(pool[i]);
	free(cmds);
	return 0;
}
