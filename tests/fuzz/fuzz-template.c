/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the --format template parser and renderer
 * (src/lib/util/template.c): a --format comes from scripts and users.  The
 * input is the template, rendered over a fixed inspect-like document.  A
 * parse or render either fails with a message or succeeds with output of
 * the length it reports (checked). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/template.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int cond)
{
  if (!cond)
    abort ();
}

static const char document[] =
  "{\"Id\": \"4f2a\", \"Name\": \"/web\", \"N\": 2, \"R\": 1.5, \"T\": true, \"Z\": null,"
  " \"State\": {\"Status\": \"running\", \"Pid\": 4242},"
  " \"Env\": [\"A=1\", \"B=2\", [1, {\"x\": []}]],"
  " \"Labels\": {\"b\": \"2\", \"a\": \"x\", \"n\": {\"deep\": [1, 2, 3]}}}";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = malloc (size + 1);
  json_t *doc = json_loads (document, 0, NULL);
  arca_template *t = NULL;
  arca_error *err = NULL;

  check (text != NULL && doc != NULL);
  memcpy (text, data, size);
  text[size] = '\0';
  if (arca_template_parse (text, &t, &err) == 0)
    {
      char *out = NULL;
      size_t len = 0;
      check (err == NULL && t != NULL);
      if (arca_template_render (t, doc, &out, &len, &err) == 0)
        {
          check (out != NULL && strlen (out) <= len);
          free (out);
        }
      else
        check (err != NULL && err->msg != NULL);
      arca_template_free (t);
    }
  else
    check (err != NULL && err->msg != NULL && t == NULL);
  arca_error_free (err);
  json_decref (doc);
  free (text);
  return 0;
}
