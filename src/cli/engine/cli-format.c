/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --format: json, Docker's Go templates (util/template.h), and "table
 * TEMPLATE" with a header and aligned columns as `docker ps` prints them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/cleanup.h"
#include "util/template.h"

/* As Docker's CLI: the two characters \t and \n (what "\t" in a shell's
 * quotes passes) are a tab and a newline. */
static char *
unescape (const char *format)
{
  char *out = malloc (strlen (format) + 1), *o = out;

  for (const char *p = format; out && *p; p++)
    if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n'))
      *o++ = *++p == 't' ? '\t' : '\n';
    else
      *o++ = *p;
  if (out)
    *o = '\0';
  return out;
}

int
cli_format_each (const char *format, json_t *items, arca_error **err)
{
  _cleanup_ (arca_template_freep) arca_template *t = NULL;
  cleanup_free char *text_format = unescape (format);
  size_t i;
  json_t *item;

  if (text_format == NULL)
    return arca_error_set (err, ENOMEM, "--format");
  if (arca_template_parse (text_format, &t, err) < 0)
    return -1;
  json_array_foreach (items, i, item)
    {
      cleanup_free char *text = NULL;
      size_t len = 0;
      if (arca_template_render (t, item, &text, &len, err) < 0)
        return -1;
      fwrite (text, 1, len, stdout);
      fputc ('\n', stdout);
    }
  return 0;
}

/* Cells of one rendered row: its text split at tabs (in place). */
static size_t
split_cells (char *row, char **cells, size_t max)
{
  size_t n = 0;

  for (char *p = row; n < max;)
    {
      cells[n++] = p;
      p = strchr (p, '\t');
      if (p == NULL)
        break;
      *p++ = '\0';
    }
  return n;
}

#define MAX_COLUMNS 32

int
cli_format_table (const char *format, json_t *rows, json_t *headers, arca_error **err)
{
  _cleanup_ (arca_template_freep) arca_template *t = NULL;
  cleanup_free char *text_format = unescape (format);
  if (text_format == NULL)
    return arca_error_set (err, ENOMEM, "--format");
  format = text_format;
  bool table = strncmp (format, "table", 5) == 0;
  const char *body = table ? format + 5 : format;
  size_t n_rows = json_array_size (rows) + (table ? 1 : 0), i;
  json_t *row;

  while (table && (*body == ' ' || *body == '\t'))
    body++;
  if (table && *body == '\0')
    return arca_error_set (err, EINVAL, "--format table needs a template after it");
  if (arca_template_parse (body, &t, err) < 0)
    return -1;
  cleanup_free char **texts = calloc (n_rows ? n_rows : 1, sizeof *texts);
  if (texts == NULL)
    return arca_error_set (err, ENOMEM, "--format");
  int r = 0;
  size_t k = 0;
  /* The header is the same template over the columns' names. */
  if (table)
    r = arca_template_render (t, headers, &texts[k++], NULL, err);
  json_array_foreach (rows, i, row)
    if (r == 0)
      r = arca_template_render (t, row, &texts[k++], NULL, err);
  if (r == 0 && !table)
    for (size_t j = 0; j < k; j++)
      printf ("%s\n", texts[j]);
  else if (r == 0)
    {
      /* Columns as wide as their widest cell, three spaces apart. */
      size_t width[MAX_COLUMNS] = { 0 };
      char *cells[MAX_COLUMNS];
      cleanup_free char **copies = calloc (k ? k : 1, sizeof *copies);
      if (copies == NULL)
        r = arca_error_set (err, ENOMEM, "--format");
      for (size_t j = 0; r == 0 && j < k; j++)
        {
          copies[j] = strdup (texts[j]);
          if (copies[j] == NULL)
            {
              r = arca_error_set (err, ENOMEM, "--format");
              break;
            }
          size_t n = split_cells (copies[j], cells, MAX_COLUMNS);
          for (size_t c = 0; c + 1 < n; c++)
            if (strlen (cells[c]) > width[c])
              width[c] = strlen (cells[c]);
        }
      for (size_t j = 0; r == 0 && j < k; j++)
        {
          size_t n = split_cells (texts[j], cells, MAX_COLUMNS);
          for (size_t c = 0; c < n; c++)
            printf (c + 1 < n ? "%-*s   " : "%-*s", c + 1 < n ? (int) width[c] : 0, cells[c]);
          printf ("\n");
        }
      for (size_t j = 0; copies && j < k; j++)
        free (copies[j]);
    }
  for (size_t j = 0; j < k; j++)
    free (texts[j]);
  return r;
}
