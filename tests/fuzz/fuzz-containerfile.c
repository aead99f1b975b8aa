/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the Containerfile parser and the builder's word
 * expansion (src/lib/engine/containerfile.c): `arca build` reads
 * Containerfiles from anywhere.  Every instruction's words are expanded
 * with a lookup that knows a few variables, as the builder does, and ENV /
 * LABEL go through the key=value splitter.  Besides crashes and sanitizer
 * reports, a parse result must keep the header's promises (checked). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/containerfile.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int cond)
{
  if (!cond)
    abort ();
}

static const char *
lookup (const char *name, size_t len, void *userdata)
{
  static const char *const vars[][2] = { { "A", "a" }, { "HOME", "/root" }, { "EMPTY", "" },
                                         { "LONG", "0123456789abcdef0123456789abcdef" } };
  (void) userdata;
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (strlen (vars[i][0]) == len && memcmp (vars[i][0], name, len) == 0)
      return vars[i][1];
  return NULL;
}

static void
free_strv (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_containerfile struct arca_containerfile *cf = NULL;
  arca_error *err = NULL;

  if (arca_containerfile_parse ("Containerfile", (const char *) data, size, &cf, &err) < 0)
    {
      /* Every syntax error names the file. */
      check (err != NULL && err->msg != NULL && strncmp (err->msg, "Containerfile", 13) == 0);
      arca_error_free (err);
      return 0;
    }
  check (cf != NULL && (cf->escape == '\\' || cf->escape == '`'));
  check (cf->n_instructions <= ARCA_CF_MAX_INSTRUCTIONS);
  for (size_t i = 0; i < cf->n_instructions; i++)
    {
      const struct arca_cf_instruction *ins = &cf->instructions[i];
      check (ins->text != NULL && ins->line >= 1);
      check (arca_cf_kind_name (ins->kind) != NULL);
      for (size_t j = 0; ins->args && ins->args[j]; j++)
        {
          char *out = NULL;
          if (arca_cf_expand (ins->args[j], cf->escape, lookup, NULL, &out, &err) == 0)
            {
              check (out != NULL && strlen (out) <= ARCA_CF_MAX_EXPANDED);
              free (out);
            }
          else
            {
              check (err != NULL);
              arca_error_free (err);
              err = NULL;
            }
        }
      if (ins->kind == ARCA_CF_ENV || ins->kind == ARCA_CF_LABEL)
        {
          char **kv = NULL;
          if (arca_cf_key_values (ins, cf->escape, lookup, NULL, &kv, &err) == 0)
            {
              for (size_t j = 0; kv && kv[j]; j++)
                check (strchr (kv[j], '=') != NULL);
              free_strv (kv);
            }
          else
            {
              check (err != NULL);
              arca_error_free (err);
              err = NULL;
            }
        }
      (void) arca_cf_flag (ins, "from");
    }
  return 0;
}
