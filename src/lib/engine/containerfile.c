/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containerfile parsing and word expansion (see containerfile.h). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/containerfile.h"
#include "util/cleanup.h"
#include "util/strv.h"

static const struct
{
  const char *name;
  enum arca_cf_kind kind;
} keywords[] = {
  { "FROM", ARCA_CF_FROM },
  { "RUN", ARCA_CF_RUN },
  { "COPY", ARCA_CF_COPY },
  { "ADD", ARCA_CF_ADD },
  { "ENV", ARCA_CF_ENV },
  { "ARG", ARCA_CF_ARG },
  { "WORKDIR", ARCA_CF_WORKDIR },
  { "USER", ARCA_CF_USER },
  { "EXPOSE", ARCA_CF_EXPOSE },
  { "VOLUME", ARCA_CF_VOLUME },
  { "CMD", ARCA_CF_CMD },
  { "ENTRYPOINT", ARCA_CF_ENTRYPOINT },
  { "LABEL", ARCA_CF_LABEL },
  { "SHELL", ARCA_CF_SHELL },
  { "STOPSIGNAL", ARCA_CF_STOPSIGNAL },
  { "MAINTAINER", ARCA_CF_MAINTAINER },
};

const char *
arca_cf_kind_name (enum arca_cf_kind kind)
{
  for (size_t i = 0; i < ARRAY_SIZE (keywords); i++)
    if (keywords[i].kind == kind)
      return keywords[i].name;
  return "?";
}

void
arca_containerfile_free (struct arca_containerfile *cf)
{
  if (cf == NULL)
    return;
  for (size_t i = 0; i < cf->n_instructions; i++)
    {
      free (cf->instructions[i].text);
      arca_strv_free (cf->instructions[i].flags);
      arca_strv_free (cf->instructions[i].args);
    }
  free (cf->instructions);
  free (cf->name);
  free (cf);
}

void
arca_containerfile_freep (struct arca_containerfile **cf)
{
  arca_containerfile_free (*cf);
  *cf = NULL;
}

/* ---- small string vectors ----------------------------------------------- */

static int
strv_push_len (char ***v, size_t *n, const char *s, size_t len)
{
  if (*n >= ARCA_CF_MAX_WORDS)
    {
      errno = E2BIG;
      return -1;
    }
  return arca_strv_append_len (v, n, s, len);
}

/* ---- expansion ------------------------------------------------------------ */

struct buf
{
  char *data;
  size_t len, cap;
};

static int
buf_add (struct buf *b, const char *s, size_t len, arca_error **err)
{
  if (b->len + len + 1 > ARCA_CF_MAX_EXPANDED)
    return arca_error_set (err, E2BIG, "expanded word longer than %d bytes", ARCA_CF_MAX_EXPANDED);
  if (b->len + len + 1 > b->cap)
    {
      size_t cap = b->cap ? b->cap : 64;
      while (cap < b->len + len + 1)
        cap *= 2;
      char *grown = realloc (b->data, cap);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "expand");
      b->data = grown;
      b->cap = cap;
    }
  memcpy (b->data + b->len, s, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

static bool
name_start (char c)
{
  return isalpha ((unsigned char) c) || c == '_';
}

static bool
name_char (char c)
{
  return isalnum ((unsigned char) c) || c == '_';
}

static int expand_into (const char *s, size_t len, char escape, arca_cf_lookup_fn lookup,
                        void *userdata, unsigned depth, struct buf *out, arca_error **err);

/* s points after "${"; parses up to the matching '}' and appends the value.
 * Returns the bytes consumed (the '}' included). */
static int
expand_braced (const char *s, size_t len, char escape, arca_cf_lookup_fn lookup, void *userdata,
               unsigned depth, struct buf *out, size_t *consumed, arca_error **err)
{
  size_t i = 0;

  if (i >= len || !name_start (s[i]))
    return arca_error_set (err, EINVAL, "bad substitution: `${%.*s`", (int) (len > 20 ? 20 : len), s);
  while (i < len && name_char (s[i]))
    i++;
  size_t name_len = i;
  char op = 0;
  bool colon = false;
  if (i < len && s[i] == ':')
    {
      colon = true;
      i++;
    }
  if (i < len && (s[i] == '-' || s[i] == '+'))
    op = s[i++];
  else if (colon)
    return arca_error_set (err, EINVAL, "bad substitution: `${%.*s:` (only :- and :+)",
                           (int) name_len, s);
  /* The word runs to the matching brace; nested ${...} count. */
  size_t word_start = i;
  int nest = 0;
  for (; i < len; i++)
    {
      if (s[i] == escape && i + 1 < len)
        {
          i++;
          continue;
        }
      if (s[i] == '$' && i + 1 < len && s[i + 1] == '{')
        nest++;
      else if (s[i] == '}')
        {
          if (nest == 0)
            break;
          nest--;
        }
    }
  if (i >= len)
    return arca_error_set (err, EINVAL, "missing `}` in `${%.*s`", (int) name_len, s);
  if (op == 0 && i != word_start)
    return arca_error_set (err, EINVAL, "bad substitution: `${%.*s`", (int) (i - 0), s);
  const char *value = lookup (s, name_len, userdata);
  bool set = value != NULL && (!colon || *value != '\0');
  *consumed = i + 1;
  if (op == '-' && !set)
    return expand_into (s + word_start, i - word_start, escape, lookup, userdata, depth + 1, out,
                        err);
  if (op == '+')
    return set ? expand_into (s + word_start, i - word_start, escape, lookup, userdata, depth + 1,
                              out, err)
               : 0;
  return value ? buf_add (out, value, strlen (value), err) : 0;
}

static int
expand_into (const char *s, size_t len, char escape, arca_cf_lookup_fn lookup, void *userdata,
             unsigned depth, struct buf *out, arca_error **err)
{
  bool dq = false;

  if (depth > 16)
    return arca_error_set (err, EINVAL, "substitutions nested too deeply");
  for (size_t i = 0; i < len;)
    {
      char c = s[i];
      if (c == escape)
        {
          if (i + 1 >= len)
            return buf_add (out, &c, 1, err);
          char next = s[i + 1];
          /* Inside double quotes only the quote, `$` and the escape itself
           * are escaped, as in a shell. */
          if (dq && next != '"' && next != '$' && next != escape)
            {
              if (buf_add (out, &c, 1, err) < 0)
                return -1;
              i++;
              continue;
            }
          if (buf_add (out, &next, 1, err) < 0)
            return -1;
          i += 2;
          continue;
        }
      if (c == '\'' && !dq)
        {
          const char *end = memchr (s + i + 1, '\'', len - i - 1);
          if (end == NULL)
            return arca_error_set (err, EINVAL, "unterminated single quote");
          if (buf_add (out, s + i + 1, (size_t) (end - s - i - 1), err) < 0)
            return -1;
          i = (size_t) (end - s) + 1;
          continue;
        }
      if (c == '"')
        {
          dq = !dq;
          i++;
          continue;
        }
      if (c == '$' && i + 1 < len && s[i + 1] == '{')
        {
          size_t used = 0;
          if (expand_braced (s + i + 2, len - i - 2, escape, lookup, userdata, depth, out, &used,
                             err)
              < 0)
            return -1;
          i += 2 + used;
          continue;
        }
      if (c == '$' && i + 1 < len && name_start (s[i + 1]))
        {
          size_t j = i + 1;
          while (j < len && name_char (s[j]))
            j++;
          const char *value = lookup (s + i + 1, j - i - 1, userdata);
          if (value && buf_add (out, value, strlen (value), err) < 0)
            return -1;
          i = j;
          continue;
        }
      if (buf_add (out, &c, 1, err) < 0)
        return -1;
      i++;
    }
  if (dq)
    return arca_error_set (err, EINVAL, "unterminated double quote");
  return 0;
}

int
arca_cf_expand (const char *word, char escape, arca_cf_lookup_fn lookup, void *userdata,
                char **ret, arca_error **err)
{
  struct buf b = { 0 };

  if (expand_into (word, strlen (word), escape, lookup, userdata, 0, &b, err) < 0
      || buf_add (&b, "", 0, err) < 0)
    {
      free (b.data);
      return -1;
    }
  *ret = b.data;
  return 0;
}

int
arca_cf_key_values (const struct arca_cf_instruction *ins, char escape, arca_cf_lookup_fn lookup,
                    void *userdata, char ***ret, arca_error **err)
{
  cleanup_strv char **v = NULL;
  size_t n = 0;

  if (ins->args == NULL || ins->args[0] == NULL)
    return arca_error_set (err, EINVAL, "%s needs at least one argument",
                           arca_cf_kind_name (ins->kind));
  if (strchr (ins->args[0], '=') == NULL)
    {
      /* Legacy "ENV KEY value with spaces". */
      struct buf b = { 0 };
      if (buf_add (&b, ins->args[0], strlen (ins->args[0]), err) < 0 || buf_add (&b, "=", 1, err) < 0)
        {
          free (b.data);
          return -1;
        }
      for (size_t i = 1; ins->args[i]; i++)
        {
          cleanup_free char *x = NULL;
          if (arca_cf_expand (ins->args[i], escape, lookup, userdata, &x, err) < 0
              || (i > 1 && buf_add (&b, " ", 1, err) < 0) || buf_add (&b, x, strlen (x), err) < 0)
            {
              free (b.data);
              return -1;
            }
        }
      if (strv_push_len (&v, &n, b.data, b.len) < 0)
        {
          free (b.data);
          return arca_error_errno (err, "%s", arca_cf_kind_name (ins->kind));
        }
      free (b.data);
      *ret = move_ptr (v);
      return 0;
    }
  for (size_t i = 0; ins->args[i]; i++)
    {
      cleanup_free char *key = NULL, *value = NULL, *kv = NULL;
      const char *eq = strchr (ins->args[i], '=');
      if (eq == NULL || eq == ins->args[i])
        return arca_error_set (err, EINVAL, "%s: `%s` is not KEY=VALUE",
                               arca_cf_kind_name (ins->kind), ins->args[i]);
      /* The key may be quoted too (LABEL "a b"=c). */
      cleanup_free char *raw_key = strndup (ins->args[i], (size_t) (eq - ins->args[i]));
      if (raw_key == NULL)
        return arca_error_set (err, ENOMEM, "expand");
      if (arca_cf_expand (raw_key, escape, lookup, userdata, &key, err) < 0
          || arca_cf_expand (eq + 1, escape, lookup, userdata, &value, err) < 0)
        return -1;
      if (asprintf (&kv, "%s=%s", key, value) < 0 || strv_push_len (&v, &n, kv, strlen (kv)) < 0)
        return arca_error_set (err, ENOMEM, "expand");
    }
  *ret = move_ptr (v);
  return 0;
}

const char *
arca_cf_flag (const struct arca_cf_instruction *ins, const char *name)
{
  size_t len = strlen (name);

  for (size_t i = 0; ins->flags && ins->flags[i]; i++)
    {
      const char *f = ins->flags[i] + 2;
      if (strncmp (f, name, len) == 0 && f[len] == '=')
        return f + len + 1;
      if (strcmp (f, name) == 0)
        return "";
    }
  return NULL;
}

/* ---- parsing -------------------------------------------------------------- */

struct parser
{
  const char *name;
  char escape;
  unsigned line;
};

#define syntax_error(p, line, ...)                                                      \
  ({                                                                                 \
    arca_error_set (err, EINVAL, __VA_ARGS__);                                        \
    arca_error_wrap (err, "%s:%u", (p)->name, (line));                                \
  })

/* Splits s into words at unquoted blanks; quotes and escapes are kept. */
static int
split_words (const struct parser *p, unsigned line, const char *s, char ***ret, size_t *ret_n,
             arca_error **err)
{
  cleanup_strv char **v = calloc (1, sizeof *v);
  size_t n = 0;

  if (v == NULL)
    return arca_error_set (err, ENOMEM, "parse");
  for (size_t i = 0; s[i];)
    {
      while (s[i] == ' ' || s[i] == '\t')
        i++;
      if (s[i] == '\0')
        break;
      size_t start = i;
      char quote = 0;
      for (; s[i]; i++)
        {
          if (s[i] == p->escape && s[i + 1] != '\0' && quote != '\'')
            {
              i++;
              continue;
            }
          if (quote)
            {
              if (s[i] == quote)
                quote = 0;
              continue;
            }
          if (s[i] == '\'' || s[i] == '"')
            quote = s[i];
          else if (s[i] == ' ' || s[i] == '\t')
            break;
        }
      if (quote)
        return syntax_error (p, line, "unterminated %s quote", quote == '"' ? "double" : "single");
      if (strv_push_len (&v, &n, s + start, i - start) < 0)
        return errno == E2BIG ? syntax_error (p, line, "more than %d words", ARCA_CF_MAX_WORDS)
                              : arca_error_set (err, ENOMEM, "parse");
    }
  *ret = move_ptr (v);
  *ret_n = n;
  return 0;
}

/* The exec form: a JSON array of strings.  0 when s is not one (then it
 * is the shell form), 1 when it is. */
static int
parse_json_args (const char *s, char ***ret, size_t *ret_n)
{
  json_error_t jerr;
  json_t *doc;
  size_t i, n = 0;
  json_t *item;
  cleanup_strv char **v = calloc (1, sizeof *v);

  if (s[0] != '[' || v == NULL)
    return 0;
  doc = json_loads (s, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_array (doc))
    {
      json_decref (doc);
      return 0;
    }
  json_array_foreach (doc, i, item)
    if (!json_is_string (item) || strv_push_len (&v, &n, json_string_value (item), json_string_length (item)) < 0)
      {
        json_decref (doc);
        return 0;
      }
  json_decref (doc);
  *ret = move_ptr (v);
  *ret_n = n;
  return 1;
}

static bool
valid_stage_name (const char *s)
{
  if (!isalpha ((unsigned char) s[0]))
    return false;
  for (; *s; s++)
    if (!isalnum ((unsigned char) *s) && *s != '_' && *s != '.' && *s != '-')
      return false;
  return true;
}

static const char *const *
allowed_flags (enum arca_cf_kind kind)
{
  static const char *const from[] = { "platform", NULL };
  static const char *const copy[] = { "from", "chown", "chmod", "link", NULL };
  static const char *const add[] = { "chown", "chmod", "link", NULL };
  static const char *const none[] = { NULL };
  switch (kind)
    {
    case ARCA_CF_FROM: return from;
    case ARCA_CF_COPY: return copy;
    case ARCA_CF_ADD: return add;
    default: return none;
    }
}

static int
parse_instruction (struct parser *p, unsigned line, const char *logical,
                   struct arca_cf_instruction *ins, arca_error **err)
{
  const char *s = logical;
  size_t i;

  while (*s == ' ' || *s == '\t')
    s++;
  size_t kw_len = strcspn (s, " \t");
  for (i = 0; i < ARRAY_SIZE (keywords); i++)
    if (strlen (keywords[i].name) == kw_len && strncasecmp (keywords[i].name, s, kw_len) == 0)
      break;
  if (i == ARRAY_SIZE (keywords))
    {
      if (kw_len == 7 && strncasecmp (s, "ONBUILD", 7) == 0)
        return syntax_error (p, line, "ONBUILD is not supported");
      if (kw_len == 11 && strncasecmp (s, "HEALTHCHECK", 11) == 0)
        return syntax_error (p, line, "HEALTHCHECK is not supported");
      return syntax_error (p, line, "unknown instruction `%.*s`", (int) (kw_len > 40 ? 40 : kw_len), s);
    }
  ins->kind = keywords[i].kind;
  ins->line = line;
  const char *kw = keywords[i].name;
  s += kw_len;
  while (*s == ' ' || *s == '\t')
    s++;
  /* The rest, trailing blanks dropped. */
  cleanup_free char *rest = strdup (s);
  if (rest == NULL)
    return arca_error_set (err, ENOMEM, "parse");
  for (size_t l = strlen (rest); l && (rest[l - 1] == ' ' || rest[l - 1] == '\t'); l--)
    rest[l - 1] = '\0';
  if (asprintf (&ins->text, "%s %s", kw, rest) < 0)
    return arca_error_set (err, ENOMEM, "parse");

  /* Leading --flags. */
  const char *body = rest;
  size_t n_flags = 0;
  ins->flags = calloc (1, sizeof *ins->flags);
  if (ins->flags == NULL)
    return arca_error_set (err, ENOMEM, "parse");
  bool takes_flags = ins->kind == ARCA_CF_FROM || ins->kind == ARCA_CF_COPY
                     || ins->kind == ARCA_CF_ADD || ins->kind == ARCA_CF_RUN;
  while (takes_flags && strncmp (body, "--", 2) == 0)
    {
      size_t flen = strcspn (body, " \t");
      const char *const *ok = allowed_flags (ins->kind);
      size_t nlen = strcspn (body + 2, "= \t");
      bool known = false;
      for (size_t k = 0; ok[k]; k++)
        known |= strlen (ok[k]) == nlen && strncmp (ok[k], body + 2, nlen) == 0;
      if (!known)
        return syntax_error (p, line, "%s: flag `%.*s` is not supported", kw, (int) flen, body);
      if (strv_push_len (&ins->flags, &n_flags, body, flen) < 0)
        return arca_error_set (err, ENOMEM, "parse");
      body += flen;
      while (*body == ' ' || *body == '\t')
        body++;
    }

  size_t n = 0;
  switch (ins->kind)
    {
    case ARCA_CF_RUN:
    case ARCA_CF_CMD:
    case ARCA_CF_ENTRYPOINT:
    case ARCA_CF_SHELL:
      if (parse_json_args (body, &ins->args, &n) == 1)
        {
          ins->json = true;
          if (n == 0 && ins->kind != ARCA_CF_CMD && ins->kind != ARCA_CF_ENTRYPOINT)
            return syntax_error (p, line, "%s needs at least one argument", kw);
          break;
        }
      if (ins->kind == ARCA_CF_SHELL)
        return syntax_error (p, line, "SHELL needs a JSON array: SHELL [\"executable\", \"param\"]");
      if (*body == '\0')
        return syntax_error (p, line, "%s needs a command", kw);
      ins->args = calloc (2, sizeof *ins->args);
      if (ins->args == NULL || (ins->args[0] = strdup (body)) == NULL)
        return arca_error_set (err, ENOMEM, "parse");
      break;
    case ARCA_CF_WORKDIR:
    case ARCA_CF_USER:
    case ARCA_CF_STOPSIGNAL:
    case ARCA_CF_MAINTAINER:
      if (*body == '\0')
        return syntax_error (p, line, "%s needs an argument", kw);
      ins->args = calloc (2, sizeof *ins->args);
      if (ins->args == NULL || (ins->args[0] = strdup (body)) == NULL)
        return arca_error_set (err, ENOMEM, "parse");
      break;
    case ARCA_CF_COPY:
    case ARCA_CF_ADD:
    case ARCA_CF_VOLUME:
      if (parse_json_args (body, &ins->args, &n) == 1)
        ins->json = true;
      else if (split_words (p, line, body, &ins->args, &n, err) < 0)
        return -1;
      if (ins->kind != ARCA_CF_VOLUME && n < 2)
        return syntax_error (p, line, "%s needs a source and a destination", kw);
      if (n < 1)
        return syntax_error (p, line, "VOLUME needs at least one path");
      break;
    default:
      if (split_words (p, line, body, &ins->args, &n, err) < 0)
        return -1;
      if (n == 0)
        return syntax_error (p, line, "%s needs at least one argument", kw);
      break;
    }

  switch (ins->kind)
    {
    case ARCA_CF_FROM:
      if (n == 3 && strcasecmp (ins->args[1], "AS") == 0)
        {
          for (char *c = ins->args[2]; *c; c++)
            *c = (char) tolower ((unsigned char) *c);
          if (!valid_stage_name (ins->args[2]))
            return syntax_error (p, line, "invalid stage name `%s`", ins->args[2]);
        }
      else if (n != 1)
        return syntax_error (p, line, "FROM takes IMAGE [AS NAME]");
      break;
    case ARCA_CF_ARG:
      if (n != 1)
        return syntax_error (p, line, "ARG takes one NAME[=DEFAULT]");
      {
        size_t nl = strcspn (ins->args[0], "=");
        if (nl == 0 || !name_start (ins->args[0][0]))
          return syntax_error (p, line, "ARG: invalid name in `%s`", ins->args[0]);
        for (size_t k = 0; k < nl; k++)
          if (!name_char (ins->args[0][k]))
            return syntax_error (p, line, "ARG: invalid name in `%s`", ins->args[0]);
      }
      break;
    case ARCA_CF_ENV:
    case ARCA_CF_LABEL:
      if (strchr (ins->args[0], '=') == NULL)
        {
          if (n < 2)
            return syntax_error (p, line, "%s %s needs a value (KEY=VALUE or KEY VALUE)", kw,
                                 ins->args[0]);
        }
      else
        for (size_t k = 0; k < n; k++)
          if (strchr (ins->args[k], '=') == NULL || ins->args[k][0] == '=')
            return syntax_error (p, line, "%s: `%s` is not KEY=VALUE", kw, ins->args[k]);
      break;
    default:
      break;
    }
  return 0;
}

/* "# escape=`" and friends: only before anything else. */
static bool
parse_directive (const char *line, size_t len, struct parser *p, bool *ret_escape_seen)
{
  size_t i = 0;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  if (i >= len || line[i] != '#')
    return false;
  i++;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  size_t key = i;
  while (i < len && (isalnum ((unsigned char) line[i]) || line[i] == '_'))
    i++;
  size_t key_len = i - key;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  if (key_len == 0 || i >= len || line[i] != '=')
    return false;
  i++;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  size_t end = len;
  while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r'))
    end--;
  if (key_len == 6 && strncasecmp (line + key, "escape", 6) == 0)
    {
      if (*ret_escape_seen || end - i != 1 || (line[i] != '\\' && line[i] != '`'))
        return false;
      p->escape = line[i];
      *ret_escape_seen = true;
      return true;
    }
  /* syntax= and check= are accepted and ignored. */
  return (key_len == 6 && strncasecmp (line + key, "syntax", 6) == 0)
         || (key_len == 5 && strncasecmp (line + key, "check", 5) == 0);
}

static bool
blank_or_comment (const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
    i++;
  return i == len || s[i] == '#';
}

int
arca_containerfile_parse (const char *name, const char *text, size_t len,
                          struct arca_containerfile **ret, arca_error **err)
{
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = calloc (1, sizeof *cf);
  struct parser p = { .name = name, .escape = '\\' };
  bool directives = true, escape_seen = false, seen_from = false;
  struct buf logical = { 0 };
  unsigned start_line = 0, line = 0;
  bool in_instruction = false;

  if (cf == NULL || (cf->name = strdup (name)) == NULL)
    return arca_error_set (err, ENOMEM, "parse");
  if (len > ARCA_CF_MAX_SIZE)
    return arca_error_set (err, EFBIG, "%s: larger than %d bytes", name, ARCA_CF_MAX_SIZE);
  if (memchr (text, '\0', len))
    return arca_error_set (err, EINVAL, "%s: contains a NUL byte", name);
  for (size_t off = 0; off <= len;)
    {
      const char *nl = memchr (text + off, '\n', len - off);
      size_t l = nl ? (size_t) (nl - text - off) : len - off;
      const char *s = text + off;
      bool last = nl == NULL;
      line++;
      off += l + 1;
      if (l && s[l - 1] == '\r')
        l--;
      if (directives && parse_directive (s, l, &p, &escape_seen))
        continue;
      directives = false;
      bool finished = false;
      if (!blank_or_comment (s, l))
        {
          if (!in_instruction)
            {
              in_instruction = true;
              start_line = line;
              logical.len = 0;
            }
          size_t e = l;
          while (e && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
          bool cont = e && s[e - 1] == p.escape;
          if (buf_add (&logical, s, cont ? e - 1 : l, err) < 0)
            {
              free (logical.data);
              return arca_error_wrap (err, "%s:%u", name, line);
            }
          finished = !cont;
        }
      if (in_instruction && (finished || last))
        {
          in_instruction = false;
          if (cf->n_instructions >= ARCA_CF_MAX_INSTRUCTIONS)
            {
              free (logical.data);
              return syntax_error (&p, start_line, "more than %d instructions",
                                   ARCA_CF_MAX_INSTRUCTIONS);
            }
          struct arca_cf_instruction *grown
              = realloc (cf->instructions, (cf->n_instructions + 1) * sizeof *grown);
          if (grown == NULL)
            {
              free (logical.data);
              return arca_error_set (err, ENOMEM, "parse");
            }
          cf->instructions = grown;
          struct arca_cf_instruction *ins = &grown[cf->n_instructions++];
          memset (ins, 0, sizeof *ins);
          if (parse_instruction (&p, start_line, logical.data ? logical.data : "", ins, err) < 0)
            {
              free (logical.data);
              return -1;
            }
          if (ins->kind == ARCA_CF_FROM)
            seen_from = true;
          else if (!seen_from && ins->kind != ARCA_CF_ARG)
            {
              free (logical.data);
              return syntax_error (&p, start_line, "%s before the first FROM",
                                   arca_cf_kind_name (ins->kind));
            }
        }
      if (last)
        break;
    }
  free (logical.data);
  if (!seen_from)
    return arca_error_set (err, EINVAL, "%s: no FROM instruction", name);
  cf->escape = p.escape;
  *ret = move_ptr (cf);
  return 0;
}
