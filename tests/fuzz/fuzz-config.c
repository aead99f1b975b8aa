/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the config.json parser: every input goes through
 * arca_oci_config_parse, arca_oci_process_parse and
 * arca_oci_resources_parse.  A crash, a sanitizer report or a leak is a
 * bug; so is a result that breaks the parser's promises (checked below). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"
#include "util/cleanup.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int cond)
{
  if (!cond)
    abort ();
}

/* Touches every string so ASan sees a missing NUL or a freed buffer. */
static size_t
strv_len (char **v)
{
  size_t total = 0;

  for (; v != NULL && *v != NULL; v++)
    total += strlen (*v);
  return total;
}

static void
check_process (const struct arca_oci_process *p)
{
  check (p->args != NULL && p->args[0] != NULL);
  check (p->cwd != NULL && p->cwd[0] == '/');
  (void) strv_len (p->args);
  (void) strv_len (p->env);
  for (size_t i = 0; i < p->n_rlimits; i++)
    check (p->rlimits[i].soft <= p->rlimits[i].hard);
  for (size_t i = 0; i < p->user.n_additional_gids; i++)
    (void) p->user.additional_gids[i];
}

static void
check_config (const struct arca_oci_config *c)
{
  check (c->oci_version != NULL);
  if (c->has_process)
    check_process (&c->process);
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const struct arca_oci_mount *m = &c->mounts[i];
      check (m->destination != NULL && m->destination[0] == '/');
      (void) strv_len (m->options);
      if (m->data != NULL)
        (void) strlen (m->data);
    }
  for (size_t i = 0; i < c->linux_.n_namespaces; i++)
    {
      check ((unsigned) c->linux_.namespaces[i].type < ARCA_NS__COUNT);
      check (arca_oci_config_namespace (c, c->linux_.namespaces[i].type)
             == &c->linux_.namespaces[i]);
    }
  for (size_t i = 0; i < c->linux_.n_sysctl; i++)
    check (strstr (c->linux_.sysctl[i].key, "..") == NULL);
  if (c->linux_.seccomp != NULL)
    for (size_t i = 0; i < c->linux_.seccomp->n_syscalls; i++)
      {
        const struct arca_oci_seccomp_rule *r = &c->linux_.seccomp->syscalls[i];
        check (r->names != NULL && r->names[0] != NULL);
        for (size_t k = 0; k < r->n_args; k++)
          check (r->args[k].index < 6);
      }
  (void) strv_len (c->linux_.masked_paths);
  (void) strv_len (c->linux_.readonly_paths);
}

/* Messages reach terminals: no control characters from the input. */
static void
check_message (const arca_error *err)
{
  check (err != NULL && err->msg != NULL && err->msg[0] != '\0');
  for (const unsigned char *p = (const unsigned char *) err->msg; *p != '\0'; p++)
    check (*p >= 0x20 && *p != 0x7f);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *json = (const char *) data;

  {
    cleanup_config struct arca_oci_config *c = NULL;
    cleanup_error arca_error *err = NULL;

    if (arca_oci_config_parse (json, size, &c, &err) == 0)
      check_config (c);
    else
      {
        check (c == NULL);
        check_message (err);
      }
  }
  {
    cleanup_process struct arca_oci_process *p = NULL;
    cleanup_error arca_error *err = NULL;

    if (arca_oci_process_parse (json, size, &p, &err) == 0)
      check_process (p);
    else
      {
        check (p == NULL);
        check_message (err);
      }
  }
  {
    struct arca_oci_resources r = { 0 };
    cleanup_error arca_error *err = NULL;

    if (arca_oci_resources_parse (json, size, &r, &err) == 0)
      arca_oci_resources_clear (&r);
    else
      {
        check (!r.has_memory_limit && r.devices == NULL);
        check_message (err);
      }
  }
  return 0;
}
