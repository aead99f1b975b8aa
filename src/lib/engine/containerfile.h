/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containerfile (Dockerfile) parsing: parser directives (escape, syntax),
 * comments, line continuations, instructions with their flags and
 * arguments in shell or exec (JSON) form, and the variable expansion the
 * builder applies to the arguments of most instructions ($VAR, ${VAR},
 * ${VAR:-default}, ${VAR:+alternative}, quotes and the escape character).
 *
 * The input is untrusted: its size, line count, word count and expanded
 * lengths are bounded, and every syntax error names FILE:LINE. */
#ifndef ARCA_ENGINE_CONTAINERFILE_H
#define ARCA_ENGINE_CONTAINERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define ARCA_CF_MAX_SIZE (1 << 20)
#define ARCA_CF_MAX_INSTRUCTIONS 4096
#define ARCA_CF_MAX_WORDS 4096
#define ARCA_CF_MAX_EXPANDED (1 << 20)

enum arca_cf_kind
{
  ARCA_CF_FROM = 0,
  ARCA_CF_RUN,
  ARCA_CF_COPY,
  ARCA_CF_ADD,
  ARCA_CF_ENV,
  ARCA_CF_ARG,
  ARCA_CF_WORKDIR,
  ARCA_CF_USER,
  ARCA_CF_EXPOSE,
  ARCA_CF_VOLUME,
  ARCA_CF_CMD,
  ARCA_CF_ENTRYPOINT,
  ARCA_CF_LABEL,
  ARCA_CF_SHELL,
  ARCA_CF_STOPSIGNAL,
  ARCA_CF_MAINTAINER,
};

struct arca_cf_instruction
{
  enum arca_cf_kind kind;
  unsigned line;   /* where the instruction starts (1-based) */
  char *text;      /* "RUN echo hi": keyword upper-cased, continuations joined */
  char **flags;    /* "--from=build", as written (not expanded) */
  char **args;     /* exec form: the JSON strings; shell form of RUN, CMD and
                    * ENTRYPOINT: one element, the command line; others: the
                    * words, quotes kept for expansion */
  bool json;       /* exec form */
};

struct arca_containerfile
{
  char *name;      /* for messages */
  char escape;     /* '\\' or '`' */
  struct arca_cf_instruction *instructions;
  size_t n_instructions;
};

/* Parses text (len bytes, need not be NUL-terminated).  name appears in
 * error messages ("Containerfile:3: unknown instruction `FORM`"). */
int arca_containerfile_parse (const char *name, const char *text, size_t len,
                              struct arca_containerfile **ret, arca_error **err);
void arca_containerfile_free (struct arca_containerfile *cf);
void arca_containerfile_freep (struct arca_containerfile **cf);
#define cleanup_containerfile __attribute__ ((cleanup (arca_containerfile_freep)))

const char *arca_cf_kind_name (enum arca_cf_kind kind);

/* The value of a variable, or NULL when it is not set. */
typedef const char *(*arca_cf_lookup_fn) (const char *name, size_t len, void *userdata);

/* Expands one word: variables replaced, quotes removed, the escape
 * character taken literally for the next character.  Errors (unterminated
 * quote or ${, bad modifier, too long) say what went wrong; the caller adds
 * FILE:LINE. */
int arca_cf_expand (const char *word, char escape, arca_cf_lookup_fn lookup, void *userdata,
                    char **ret, arca_error **err);

/* Splits "K=V K2='v 2'" / "K V" argument words into a newly allocated
 * NULL-terminated KEY=VALUE vector, expanding values (ENV, LABEL).  The
 * legacy "ENV KEY the rest" form is recognised when the first word has no
 * '='. */
int arca_cf_key_values (const struct arca_cf_instruction *ins, char escape,
                        arca_cf_lookup_fn lookup, void *userdata, char ***ret, arca_error **err);

/* The value of flag "--name=value" of ins, or NULL. */
const char *arca_cf_flag (const struct arca_cf_instruction *ins, const char *name);

#endif
