/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A subset of Go's text/template over JSON (template.h): parsed once into a
 * tree of text, actions and if/range/with blocks, then rendered. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/template.h"

/* Nesting of blocks and parentheses: deeper is surely not a --format. */
#define MAX_DEPTH 64
/* What one render may produce: a script's line, not a disk's worth. */
#define MAX_OUTPUT (64u << 20)

enum arg_kind { A_DOT, A_FIELD, A_ROOT, A_LITERAL, A_FUNC, A_PIPE };
enum func { F_JSON, F_UPPER, F_LOWER, F_LEN, F_INDEX, F_JOIN, F_PRINTLN, F_PRINTF };

static const char *const func_names[] = {
  [F_JSON] = "json",   [F_UPPER] = "upper", [F_LOWER] = "lower",     [F_LEN] = "len",
  [F_INDEX] = "index", [F_JOIN] = "join",   [F_PRINTLN] = "println", [F_PRINTF] = "printf",
};

struct pipe;

struct arg {
  enum arg_kind kind;
  char **path;           /* A_FIELD / A_ROOT: the field names after . or $ */
  size_t n_path;
  json_t *literal;       /* A_LITERAL */
  enum func func;        /* A_FUNC */
  struct pipe *pipe;     /* A_PIPE: ( ... ) */
};

struct command {
  struct arg *args;
  size_t n;
};

struct pipe {
  struct command *cmds;
  size_t n;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct node;
struct list {
  struct node *nodes;
  size_t n;
};

struct node {
  enum node_kind kind;
  char *text;            /* N_TEXT */
  size_t len;
  struct pipe *pipe;     /* the rest */
  struct list body, alt; /* blocks: then / else */
};

struct arca_template {
  struct list root;
};

/* ---- freeing --------------------------------------------------------------- */

static void pipe_free (struct pipe *p);

static void
arg_free (struct arg *a)
{
  for (size_t i = 0; i < a->n_path; i++)
    free (a->path[i]);
  free (a->path);
  json_decref (a->literal);
  pipe_free (a->pipe);
}

static void
pipe_free (struct pipe *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    {
      for (size_t j = 0; j < p->cmds[i].n; j++)
        arg_free (&p->cmds[i].args[j]);
      free (p->cmds[i].args);
    }
  free (p->cmds);
  free (p);
}

static void
list_free (struct list *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      struct node *n = &l->nodes[i];
      free (n->text);
      pipe_free (n->pipe);
      list_free (&n->body);
      list_free (&n->alt);
    }
  free (l->nodes);
  l->nodes = NULL;
  l->n = 0;
}

void
arca_template_free (arca_template *t)
{
  if (t == NULL)
    return;
  list_free (&t->root);
  free (t);
}

void
arca_template_freep (arca_template **t)
{
  arca_template_free (*t);
  *t = NULL;
}

/* ---- lexing the template into text and actions ----------------------------- */

/* One piece of the template: text, or an action's inside (trimmed of its
 * braces, trim markers and surrounding blanks). */
struct item {
  bool action;
  const char *start;
  size_t len;
  size_t line, col;      /* of the action, for messages */
};

struct items {
  struct item *v;
  size_t n, cap;
};

static int
items_push (struct items *it, struct item item, arca_error **err)
{
  if (it->n == it->cap)
    {
      size_t cap = it->cap ? it->cap * 2 : 16;
      struct item *v = realloc (it->v, cap * sizeof *v);
      if (v == NULL)
        return arca_error_set (err, ENOMEM, "template");
      it->v = v;
      it->cap = cap;
    }
  it->v[it->n++] = item;
  return 0;
}

static void
position (const char *text, const char *at, size_t *line, size_t *col)
{
  *line = 1;
  *col = 1;
  for (const char *p = text; p < at; p++)
    {
      if (*p == '\n')
        {
          (*line)++;
          *col = 1;
        }
      else
        (*col)++;
    }
}

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of an action's inside: the "}}" outside a quoted string. */
static const char *
action_end (const char *p)
{
  while (*p)
    {
      if (*p == '"' || *p == '`')
        {
          char q = *p++;
          while (*p && *p != q)
            {
              if (q == '"' && *p == '\\' && p[1])
                p++;
              p++;
            }
          if (*p == '\0')
            return NULL;
          p++;
          continue;
        }
      if (p[0] == '}' && p[1] == '}')
        return p;
      p++;
    }
  return NULL;
}

static int
split (const char *text, struct items *it, arca_error **err)
{
  const char *p = text;
  bool trim_next = false;
  size_t line, col;

  for (;;)
    {
      const char *open = strstr (p, "{{");
      const char *text_end = open ? open : p + strlen (p);
      const char *ts = p;
      if (trim_next)
        while (ts < text_end && is_space (*ts))
          ts++;
      const char *inner = open ? open + 2 : NULL;
      bool trim_before = inner && inner[0] == '-' && is_space (inner[1]);
      const char *te = text_end;
      if (trim_before)
        while (te > ts && is_space (te[-1]))
          te--;
      if (te > ts && items_push (it, (struct item){ .start = ts, .len = (size_t) (te - ts) }, err) < 0)
        return -1;
      if (open == NULL)
        return 0;
      position (text, open, &line, &col);
      if (trim_before)
        inner += 2;
      const char *close = action_end (inner);
      if (close == NULL)
        return arca_error_set (err, 0, "template: %zu:%zu: unclosed action", line, col);
      const char *ie = close;
      trim_next = ie - inner >= 2 && ie[-1] == '-' && is_space (ie[-2]);
      if (trim_next)
        ie -= 2;
      while (inner < ie && is_space (*inner))
        inner++;
      while (ie > inner && is_space (ie[-1]))
        ie--;
      /* A comment action (slash-star ... star-slash) prints nothing. */
      if (!(ie - inner >= 4 && inner[0] == '/' && inner[1] == '*' && ie[-2] == '*' && ie[-1] == '/')
          && items_push (it, (struct item){ .action = true, .start = inner, .len = (size_t) (ie - inner),
                                            .line = line, .col = col }, err) < 0)
        return -1;
      p = close + 2;
    }
}

/* ---- parsing an action's pipeline ------------------------------------------ */

struct lexer {
  const char *p, *end;
  const struct item *item;
  unsigned depth;
};

static int
syntax (struct lexer *lx, arca_error **err, const char *what)
{
  return arca_error_set (err, 0, "template: %zu:%zu: %s", lx->item->line, lx->item->col, what);
}

static void
skip_blanks (struct lexer *lx)
{
  while (lx->p < lx->end && is_space (*lx->p))
    lx->p++;
}

static bool
is_ident (char c)
{
  return isalnum ((unsigned char) c) || c == '_';
}

/* ".A.B" or "$.A.B": the names after the dots. */
static int
parse_path (struct lexer *lx, struct arg *a, arca_error **err)
{
  while (lx->p < lx->end && *lx->p == '.')
    {
      const char *s = ++lx->p;
      while (lx->p < lx->end && is_ident (*lx->p))
        lx->p++;
      if (lx->p == s)
        return syntax (lx, err, "a field name after `.`");
      char **path = realloc (a->path, (a->n_path + 1) * sizeof *path);
      if (path == NULL)
        return arca_error_set (err, ENOMEM, "template");
      a->path = path;
      a->path[a->n_path] = strndup (s, (size_t) (lx->p - s));
      if (a->path[a->n_path] == NULL)
        return arca_error_set (err, ENOMEM, "template");
      a->n_path++;
    }
  return 0;
}

static int
parse_string (struct lexer *lx, struct arg *a, arca_error **err)
{
  char q = *lx->p++;
  cleanup_free char *out = malloc ((size_t) (lx->end - lx->p) + 1);
  size_t n = 0;

  if (out == NULL)
    return arca_error_set (err, ENOMEM, "template");
  while (lx->p < lx->end && *lx->p != q)
    {
      char c = *lx->p++;
      if (q == '"' && c == '\\')
        {
          if (lx->p == lx->end)
            break;
          c = *lx->p++;
          switch (c)
            {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case '\\': case '"': break;
            default: return syntax (lx, err, "an unknown escape in a string");
            }
        }
      out[n++] = c;
    }
  if (lx->p == lx->end)
    return syntax (lx, err, "an unterminated string");
  lx->p++;
  a->kind = A_LITERAL;
  a->literal = json_stringn (out, n);
  return a->literal ? 0 : syntax (lx, err, "a string that is not UTF-8");
}

static int parse_pipe (struct lexer *lx, struct pipe **ret, bool in_parens, arca_error **err);

static int
parse_arg (struct lexer *lx, struct arg *a, arca_error **err)
{
  const char *s = lx->p;
  char c = *lx->p;

  memset (a, 0, sizeof *a);
  if (c == '.')
    {
      a->kind = lx->p + 1 < lx->end && is_ident (lx->p[1]) ? A_FIELD : A_DOT;
      if (a->kind == A_DOT)
        {
          lx->p++;
          return 0;
        }
      return parse_path (lx, a, err);
    }
  if (c == '$')
    {
      lx->p++;
      a->kind = A_ROOT;
      return parse_path (lx, a, err);
    }
  if (c == '"' || c == '`')
    return parse_string (lx, a, err);
  if (c == '(')
    {
      if (++lx->depth > MAX_DEPTH)
        return syntax (lx, err, "parentheses nested too deeply");
      lx->p++;
      a->kind = A_PIPE;
      if (parse_pipe (lx, &a->pipe, true, err) < 0)
        return -1;
      lx->depth--;
      if (lx->p == lx->end || *lx->p != ')')
        return syntax (lx, err, "a missing `)`");
      lx->p++;
      return 0;
    }
  if (c == '-' || isdigit ((unsigned char) c))
    {
      char buf[32];
      size_t n = 0;
      if (*lx->p == '-')
        buf[n++] = *lx->p++;
      while (lx->p < lx->end && isdigit ((unsigned char) *lx->p) && n < sizeof buf - 1)
        buf[n++] = *lx->p++;
      buf[n] = '\0';
      if (n == 0 || (n == 1 && buf[0] == '-') || (lx->p < lx->end && is_ident (*lx->p)))
        return syntax (lx, err, "a malformed number");
      errno = 0;
      long long v = strtoll (buf, NULL, 10);
      if (errno != 0)
        return syntax (lx, err, "a number out of range");
      a->kind = A_LITERAL;
      a->literal = json_integer (v);
      return a->literal ? 0 : arca_error_set (err, ENOMEM, "template");
    }
  if (isalpha ((unsigned char) c))
    {
      while (lx->p < lx->end && is_ident (*lx->p))
        lx->p++;
      size_t n = (size_t) (lx->p - s);
      if ((n == 4 && strncmp (s, "true", 4) == 0) || (n == 5 && strncmp (s, "false", 5) == 0))
        {
          a->kind = A_LITERAL;
          a->literal = json_boolean (n == 4);
          return 0;
        }
      for (size_t i = 0; i < ARRAY_SIZE (func_names); i++)
        if (strlen (func_names[i]) == n && strncmp (s, func_names[i], n) == 0)
          {
            a->kind = A_FUNC;
            a->func = (enum func) i;
            return 0;
          }
      char what[96];
      snprintf (what, sizeof what, "function \"%.*s\" not defined", (int) (n > 40 ? 40 : n), s);
      return syntax (lx, err, what);
    }
  char what[64];
  snprintf (what, sizeof what, "unexpected `%c` in an action", c);
  return syntax (lx, err, what);
}

static int
parse_pipe (struct lexer *lx, struct pipe **ret, bool in_parens, arca_error **err)
{
  struct pipe *p = calloc (1, sizeof *p);

  if (p == NULL)
    return arca_error_set (err, ENOMEM, "template");
  *ret = p;
  for (;;)
    {
      struct command cmd = { 0 };
      for (;;)
        {
          skip_blanks (lx);
          if (lx->p == lx->end || *lx->p == '|' || (*lx->p == ')' && in_parens))
            break;
          struct arg *args = realloc (cmd.args, (cmd.n + 1) * sizeof *args);
          if (args == NULL)
            {
              free (cmd.args);
              return arca_error_set (err, ENOMEM, "template");
            }
          cmd.args = args;
          if (parse_arg (lx, &cmd.args[cmd.n], err) < 0)
            {
              arg_free (&cmd.args[cmd.n]);
              for (size_t i = 0; i < cmd.n; i++)
                arg_free (&cmd.args[i]);
              free (cmd.args);
              return -1;
            }
          cmd.n++;
        }
      struct command *cmds = cmd.n ? realloc (p->cmds, (p->n + 1) * sizeof *cmds) : NULL;
      if (cmds == NULL)
        {
          for (size_t i = 0; i < cmd.n; i++)
            arg_free (&cmd.args[i]);
          free (cmd.args);
          return cmd.n ? arca_error_set (err, ENOMEM, "template")
                       : syntax (lx, err, "missing value for command");
        }
      p->cmds = cmds;
      p->cmds[p->n++] = cmd;
      for (size_t i = 1; i < cmd.n; i++)
        if (cmd.args[0].kind != A_FUNC)
          return syntax (lx, err, "can't give an argument to a non-function");
      if (p->n > 1 && cmd.args[0].kind != A_FUNC)
        return syntax (lx, err, "a non-function after `|`");
      if (lx->p == lx->end || *lx->p != '|')
        return 0;
      lx->p++;
    }
}

static int
parse_action_pipe (const struct item *it, size_t skip, struct pipe **ret, arca_error **err)
{
  struct lexer lx = { .p = it->start + skip, .end = it->start + it->len, .item = it };

  if (parse_pipe (&lx, ret, false, err) < 0)
    return -1;
  if (lx.p != lx.end)
    return syntax (&lx, err, "unexpected `)`");
  return 0;
}

/* ---- parsing the block structure ------------------------------------------- */

enum stop { S_EOF, S_END, S_ELSE, S_ELSE_IF };

/* Does the action start with keyword (followed by a blank or its end)? */
static bool
keyword (const struct item *it, const char *kw)
{
  size_t n = strlen (kw);
  return it->len >= n && strncmp (it->start, kw, n) == 0 && (it->len == n || is_space (it->start[n]));
}

static int
list_push (struct list *l, struct node **ret, arca_error **err)
{
  struct node *v = realloc (l->nodes, (l->n + 1) * sizeof *v);
  if (v == NULL)
    return arca_error_set (err, ENOMEM, "template");
  l->nodes = v;
  *ret = memset (&l->nodes[l->n++], 0, sizeof (struct node));
  return 0;
}

static int parse_list (const struct items *it, size_t *i, struct list *l, unsigned depth,
                       enum stop *ret_stop, arca_error **err);

/* The block after an if/range/with at it->v[*i - 1], up to its end. */
static int
parse_block (const struct items *it, size_t *i, struct node *n, const struct item *head,
             unsigned depth, arca_error **err)
{
  enum stop stop;
  struct lexer lx = { .item = head };

  if (depth > MAX_DEPTH)
    return syntax (&lx, err, "blocks nested too deeply");
  if (parse_list (it, i, &n->body, depth, &stop, err) < 0)
    return -1;
  if (stop == S_ELSE_IF)
    {
      /* else if P: an if block alone in the else branch, sharing our end. */
      if (n->kind != N_IF)
        return syntax (&lx, err, "`else if` in a range or with");
      const struct item *elif = &it->v[*i - 1];
      struct node *inner;
      if (list_push (&n->alt, &inner, err) < 0)
        return -1;
      inner->kind = N_IF;
      if (parse_action_pipe (elif, strlen ("else if"), &inner->pipe, err) < 0)
        return -1;
      return parse_block (it, i, inner, elif, depth + 1, err);
    }
  if (stop == S_ELSE)
    {
      if (parse_list (it, i, &n->alt, depth, &stop, err) < 0)
        return -1;
      if (stop != S_END)
        return syntax (&lx, err, stop == S_EOF ? "unexpected EOF: a block without {{end}}"
                                               : "a second {{else}}");
      return 0;
    }
  if (stop != S_END)
    return syntax (&lx, err, "unexpected EOF: a block without {{end}}");
  return 0;
}

static int
parse_list (const struct items *it, size_t *i, struct list *l, unsigned depth,
            enum stop *ret_stop, arca_error **err)
{
  while (*i < it->n)
    {
      const struct item *cur = &it->v[(*i)++];
      struct node *n;
      if (!cur->action)
        {
          if (list_push (l, &n, err) < 0)
            return -1;
          n->kind = N_TEXT;
          n->len = cur->len;
          n->text = strndup (cur->start, cur->len);
          if (n->text == NULL)
            return arca_error_set (err, ENOMEM, "template");
          continue;
        }
      if (keyword (cur, "end") && cur->len == 3)
        return *ret_stop = S_END, 0;
      if (keyword (cur, "else") && cur->len == 4)
        return *ret_stop = S_ELSE, 0;
      if (keyword (cur, "else") && cur->len > 4)
        {
          const char *rest = cur->start + 4;
          while (is_space (*rest))
            rest++;
          struct lexer lx = { .item = cur };
          if (strncmp (rest, "if", 2) != 0 || !is_space (rest[2]))
            return syntax (&lx, err, "`else` followed by something other than `if`");
          return *ret_stop = S_ELSE_IF, 0;
        }
      static const struct { const char *kw; enum node_kind kind; } blocks[] = {
        { "if", N_IF }, { "range", N_RANGE }, { "with", N_WITH },
      };
      enum node_kind kind = N_ACTION;
      size_t skip = 0;
      for (size_t b = 0; b < ARRAY_SIZE (blocks); b++)
        if (keyword (cur, blocks[b].kw))
          {
            kind = blocks[b].kind;
            skip = strlen (blocks[b].kw);
          }
      if (list_push (l, &n, err) < 0)
        return -1;
      n->kind = kind;
      if (parse_action_pipe (cur, skip, &n->pipe, err) < 0)
        return -1;
      if (kind != N_ACTION && parse_block (it, i, n, cur, depth + 1, err) < 0)
        return -1;
    }
  *ret_stop = S_EOF;
  return 0;
}

int
arca_template_parse (const char *text, arca_template **ret, arca_error **err)
{
  struct items it = { 0 };
  arca_template *t = calloc (1, sizeof *t);
  size_t i = 0;
  enum stop stop = S_EOF;
  int r = t ? 0 : arca_error_set (err, ENOMEM, "template");

  if (r == 0)
    r = split (text, &it, err);
  if (r == 0)
    r = parse_list (&it, &i, &t->root, 0, &stop, err);
  if (r == 0 && stop != S_EOF)
    {
      struct lexer lx = { .item = &it.v[i - 1] };
      r = syntax (&lx, err, stop == S_END ? "unexpected {{end}}" : "unexpected {{else}}");
    }
  free (it.v);
  if (r < 0)
    {
      arca_template_free (t);
      return -1;
    }
  *ret = t;
  return 0;
}

/* ---- rendering ------------------------------------------------------------- */

struct out {
  char *buf;
  size_t len, cap;
};

static int
out_add (struct out *o, const char *s, size_t n, arca_error **err)
{
  if (o->len + n + 1 > MAX_OUTPUT)
    return arca_error_set (err, EFBIG, "template: the output is over %u MiB", MAX_OUTPUT >> 20);
  if (o->len + n + 1 > o->cap)
    {
      size_t cap = o->cap ? o->cap : 256;
      while (cap < o->len + n + 1)
        cap *= 2;
      char *b = realloc (o->buf, cap);
      if (b == NULL)
        return arca_error_set (err, ENOMEM, "template");
      o->buf = b;
      o->cap = cap;
    }
  memcpy (o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
  return 0;
}

static int
out_str (struct out *o, const char *s, arca_error **err)
{
  return out_add (o, s, strlen (s), err);
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* An object's keys, sorted as Go sorts a map's. */
static const char **
sorted_keys (json_t *obj, size_t *ret_n)
{
  size_t n = json_object_size (obj), i = 0;
  const char **keys = malloc ((n ? n : 1) * sizeof *keys);
  const char *k;
  json_t *v;

  if (keys == NULL)
    return NULL;
  json_object_foreach (obj, k, v)
    keys[i++] = k;
  qsort (keys, n, sizeof *keys, cmp_keys);
  *ret_n = n;
  return keys;
}

/* v as Go's fmt %v prints the value json.Unmarshal made of it; NULL is a
 * missing field. */
static int
print_value (struct out *o, json_t *v, unsigned depth, arca_error **err)
{
  char num[64];

  if (depth > MAX_DEPTH)
    return out_str (o, "...", err);
  if (v == NULL)
    return out_str (o, "<no value>", err);
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return out_add (o, json_string_value (v), json_string_length (v), err);
    case JSON_INTEGER:
      snprintf (num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      return out_str (o, num, err);
    case JSON_REAL:
      {
        double d = json_real_value (v);
        if (d > -1e15 && d < 1e15 && d == (double) (long long) d)
          snprintf (num, sizeof num, "%lld", (long long) d);
        else
          snprintf (num, sizeof num, "%g", d);
        return out_str (o, num, err);
      }
    case JSON_TRUE:
      return out_str (o, "true", err);
    case JSON_FALSE:
      return out_str (o, "false", err);
    case JSON_NULL:
      return out_str (o, "<nil>", err);
    case JSON_ARRAY:
      {
        size_t i;
        json_t *e;
        if (out_str (o, "[", err) < 0)
          return -1;
        json_array_foreach (v, i, e)
          if ((i && out_str (o, " ", err) < 0) || print_value (o, e, depth + 1, err) < 0)
            return -1;
        return out_str (o, "]", err);
      }
    case JSON_OBJECT:
      {
        size_t n = 0;
        cleanup_free const char **keys = sorted_keys (v, &n);
        if (keys == NULL)
          return arca_error_set (err, ENOMEM, "template");
        if (out_str (o, "map[", err) < 0)
          return -1;
        for (size_t i = 0; i < n; i++)
          if ((i && out_str (o, " ", err) < 0) || out_str (o, keys[i], err) < 0
              || out_str (o, ":", err) < 0
              || print_value (o, json_object_get (v, keys[i]), depth + 1, err) < 0)
            return -1;
        return out_str (o, "]", err);
      }
    }
  return 0;
}

static bool
truth (json_t *v)
{
  if (v == NULL)
    return false;
  switch (json_typeof (v))
    {
    case JSON_NULL: case JSON_FALSE: return false;
    case JSON_TRUE: return true;
    case JSON_INTEGER: return json_integer_value (v) != 0;
    case JSON_REAL: return json_real_value (v) != 0;
    case JSON_STRING: return json_string_length (v) != 0;
    case JSON_ARRAY: return json_array_size (v) != 0;
    case JSON_OBJECT: return json_object_size (v) != 0;
    }
  return false;
}

struct scope {
  json_t *dot, *root;
};

/* Values are new references; NULL with *err unset is "no value". */
typedef json_t *value;

static int eval_pipe (const struct pipe *p, const struct scope *s, value *ret, arca_error **err);

static int
eval_path (json_t *v, char **path, size_t n, value *ret, arca_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      if (v == NULL || json_is_null (v))
        {
          *ret = NULL;
          return 0;
        }
      if (!json_is_object (v))
        return arca_error_set (err, 0, "template: can't evaluate field %s in a %s", path[i],
                               json_is_array (v) ? "list" : json_is_string (v) ? "string"
                                                                               : "scalar");
      v = json_object_get (v, path[i]);
    }
  *ret = json_incref (v);
  return 0;
}

static int
eval_arg (const struct arg *a, const struct scope *s, value *ret, arca_error **err)
{
  switch (a->kind)
    {
    case A_DOT:
      *ret = json_incref (s->dot);
      return 0;
    case A_FIELD:
      return eval_path (s->dot, a->path, a->n_path, ret, err);
    case A_ROOT:
      return eval_path (s->root, a->path, a->n_path, ret, err);
    case A_LITERAL:
      *ret = json_incref (a->literal);
      return 0;
    case A_PIPE:
      return eval_pipe (a->pipe, s, ret, err);
    case A_FUNC:
      break;
    }
  return arca_error_set (err, 0, "template: %s is a function, not a value",
                         func_names[a->func]);
}

static void
values_free (value *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    json_decref (v[i]);
}

/* The text of v as print_value makes it (for upper, join, printf %s). */
static int
text_of (json_t *v, char **ret, arca_error **err)
{
  struct out o = { 0 };

  if (print_value (&o, v, 0, err) < 0)
    {
      free (o.buf);
      return -1;
    }
  *ret = o.buf ? o.buf : strdup ("");
  return *ret ? 0 : arca_error_set (err, ENOMEM, "template");
}

static int
func_printf (value *argv, size_t argc, value *ret, arca_error **err)
{
  struct out o = { 0 };
  size_t next = 1;
  int r = 0;

  if (argc < 1 || !json_is_string (argv[0]))
    return arca_error_set (err, 0, "template: printf takes a format string");
  const char *f = json_string_value (argv[0]);
  for (const char *p = f; *p && r == 0; p++)
    {
      if (*p != '%')
        {
          r = out_add (&o, p, 1, err);
          continue;
        }
      char verb = *++p;
      if (verb == '\0')
        {
          r = out_str (&o, "%!(NOVERB)", err);
          break;
        }
      if (verb == '%')
        {
          r = out_str (&o, "%", err);
          continue;
        }
      if (next >= argc)
        {
          char miss[32];
          snprintf (miss, sizeof miss, "%%!%c(MISSING)", verb);
          r = out_str (&o, miss, err);
          continue;
        }
      json_t *a = argv[next++];
      if (verb == 'q')
        {
          cleanup_free char *t = NULL;
          json_t *s = NULL;
          if ((r = text_of (a, &t, err)) == 0)
            {
              s = json_string (t);
              cleanup_free char *q = s ? json_dumps (s, JSON_ENCODE_ANY) : NULL;
              json_decref (s);
              r = q ? out_str (&o, q, err) : arca_error_set (err, ENOMEM, "template");
            }
        }
      else if (verb == 's' || verb == 'v' || verb == 'd')
        r = print_value (&o, a, 0, err);
      else
        {
          char bad[32];
          snprintf (bad, sizeof bad, "%%!%c(unsupported)", verb);
          r = out_str (&o, bad, err);
        }
    }
  if (r == 0)
    {
      *ret = json_stringn (o.buf ? o.buf : "", o.len);
      if (*ret == NULL)
        r = arca_error_set (err, 0, "template: printf made text that is not UTF-8");
    }
  free (o.buf);
  return r;
}

static int
call (enum func f, value *argv, size_t argc, value *ret, arca_error **err)
{
  /* 0: any number (checked by the function). */
  static const size_t arity[ARRAY_SIZE (func_names)] = { [F_JSON] = 1, [F_UPPER] = 1,
                                                         [F_LOWER] = 1, [F_LEN] = 1, [F_JOIN] = 2 };

  *ret = NULL;
  if (arity[f] && argc != arity[f])
    return arca_error_set (err, 0, "template: %s takes %zu argument%s, not %zu",
                           func_names[f], arity[f], arity[f] == 1 ? "" : "s", argc);
  switch (f)
    {
    case F_JSON:
      {
        cleanup_free char *s = argv[0] ? json_dumps (argv[0], JSON_ENCODE_ANY | JSON_COMPACT
                                                                  | JSON_PRESERVE_ORDER)
                                       : strdup ("null");
        if (s == NULL)
          return arca_error_set (err, ENOMEM, "template");
        *ret = json_string (s);
        return 0;
      }
    case F_UPPER:
    case F_LOWER:
      {
        cleanup_free char *s = NULL;
        if (text_of (argv[0], &s, err) < 0)
          return -1;
        for (char *p = s; *p; p++)
          *p = (char) (f == F_UPPER ? toupper ((unsigned char) *p) : tolower ((unsigned char) *p));
        *ret = json_string (s);
        return 0;
      }
    case F_LEN:
      {
        json_t *v = argv[0];
        if (v != NULL && (json_is_array (v) || json_is_object (v) || json_is_string (v)))
          {
            size_t n = json_is_array (v) ? json_array_size (v)
                       : json_is_object (v) ? json_object_size (v) : json_string_length (v);
            *ret = json_integer ((json_int_t) n);
            return 0;
          }
        return arca_error_set (err, 0, "template: len of a value that has no length");
      }
    case F_INDEX:
      {
        if (argc < 1)
          return arca_error_set (err, 0, "template: index takes a value and keys");
        json_t *v = argv[0];
        for (size_t i = 1; i < argc; i++)
          {
            if (v == NULL || json_is_null (v))
              return arca_error_set (err, 0, "template: index of a missing value");
            if (json_is_object (v) && json_is_string (argv[i]))
              v = json_object_get (v, json_string_value (argv[i]));
            else if (json_is_array (v) && json_is_integer (argv[i]))
              {
                json_int_t k = json_integer_value (argv[i]);
                if (k < 0 || (size_t) k >= json_array_size (v))
                  return arca_error_set (err, 0, "template: index out of range: %" JSON_INTEGER_FORMAT, k);
                v = json_array_get (v, (size_t) k);
              }
            else
              return arca_error_set (err, 0, "template: can't index a %s with that key",
                                     json_is_array (v) ? "list" : json_is_object (v) ? "map" : "scalar");
          }
        *ret = json_incref (v);
        return 0;
      }
    case F_JOIN:
      {
        if (!json_is_array (argv[0]) || !json_is_string (argv[1]))
          return arca_error_set (err, 0, "template: join takes a list and a separator");
        struct out o = { 0 };
        size_t i;
        json_t *e;
        int r = 0;
        json_array_foreach (argv[0], i, e)
          if (r == 0 && ((i && (r = out_str (&o, json_string_value (argv[1]), err)) < 0)
                         || (r = print_value (&o, e, 0, err)) < 0))
            break;
        if (r == 0)
          *ret = json_stringn (o.buf ? o.buf : "", o.len);
        free (o.buf);
        return r;
      }
    case F_PRINTLN:
      {
        struct out o = { 0 };
        int r = 0;
        for (size_t i = 0; i < argc && r == 0; i++)
          if ((i && (r = out_str (&o, " ", err)) < 0) || (r = print_value (&o, argv[i], 0, err)) < 0)
            break;
        if (r == 0 && (r = out_str (&o, "\n", err)) == 0)
          *ret = json_stringn (o.buf, o.len);
        free (o.buf);
        return r;
      }
    case F_PRINTF:
      return func_printf (argv, argc, ret, err);
    }
  return arca_error_set (err, 0, "template: unknown function");
}

static int
eval_command (const struct command *c, const struct scope *s, value piped, bool has_piped,
              value *ret, arca_error **err)
{
  if (c->args[0].kind != A_FUNC)
    return eval_arg (&c->args[0], s, ret, err);
  size_t argc = c->n - 1 + (has_piped ? 1 : 0);
  value *argv = calloc (argc ? argc : 1, sizeof *argv);
  int r = 0;

  if (argv == NULL)
    return arca_error_set (err, ENOMEM, "template");
  for (size_t i = 1; i < c->n && r == 0; i++)
    r = eval_arg (&c->args[i], s, &argv[i - 1], err);
  if (r == 0 && has_piped)
    argv[argc - 1] = json_incref (piped);
  if (r == 0)
    r = call (c->args[0].func, argv, argc, ret, err);
  values_free (argv, argc);
  free (argv);
  return r;
}

static int
eval_pipe (const struct pipe *p, const struct scope *s, value *ret, arca_error **err)
{
  value v = NULL;

  for (size_t i = 0; i < p->n; i++)
    {
      value next = NULL;
      int r = eval_command (&p->cmds[i], s, v, i > 0, &next, err);
      json_decref (v);
      if (r < 0)
        return -1;
      v = next;
    }
  *ret = v;
  return 0;
}

static int render_list (const struct list *l, const struct scope *s, struct out *o,
                        arca_error **err);

static int
render_node (const struct node *n, const struct scope *s, struct out *o, arca_error **err)
{
  value v = NULL;
  int r;

  if (n->kind == N_TEXT)
    return out_add (o, n->text, n->len, err);
  if (eval_pipe (n->pipe, s, &v, err) < 0)
    return -1;
  switch (n->kind)
    {
    case N_ACTION:
      r = print_value (o, v, 0, err);
      break;
    case N_IF:
      r = render_list (truth (v) ? &n->body : &n->alt, s, o, err);
      break;
    case N_WITH:
      if (truth (v))
        {
          struct scope inner = { .dot = v, .root = s->root };
          r = render_list (&n->body, &inner, o, err);
        }
      else
        r = render_list (&n->alt, s, o, err);
      break;
    case N_RANGE:
      if (v == NULL || json_is_null (v) || (json_is_array (v) && json_array_size (v) == 0)
          || (json_is_object (v) && json_object_size (v) == 0))
        r = render_list (&n->alt, s, o, err);
      else if (json_is_array (v))
        {
          size_t i;
          json_t *e;
          r = 0;
          json_array_foreach (v, i, e)
            {
              struct scope inner = { .dot = e, .root = s->root };
              if ((r = render_list (&n->body, &inner, o, err)) < 0)
                break;
            }
        }
      else if (json_is_object (v))
        {
          size_t k = 0;
          cleanup_free const char **keys = sorted_keys (v, &k);
          r = keys ? 0 : arca_error_set (err, ENOMEM, "template");
          for (size_t i = 0; r == 0 && i < k; i++)
            {
              struct scope inner = { .dot = json_object_get (v, keys[i]), .root = s->root };
              r = render_list (&n->body, &inner, o, err);
            }
        }
      else
        r = arca_error_set (err, 0, "template: range can't iterate over a scalar");
      break;
    default:
      r = 0;
    }
  json_decref (v);
  return r;
}

static int
render_list (const struct list *l, const struct scope *s, struct out *o, arca_error **err)
{
  for (size_t i = 0; i < l->n; i++)
    if (render_node (&l->nodes[i], s, o, err) < 0)
      return -1;
  return 0;
}

int
arca_template_render (const arca_template *t, json_t *data, char **ret, size_t *ret_len,
                      arca_error **err)
{
  struct out o = { 0 };
  struct scope s = { .dot = data, .root = data };

  if (render_list (&t->root, &s, &o, err) < 0 || out_add (&o, "", 0, err) < 0)
    {
      free (o.buf);
      return -1;
    }
  *ret = o.buf;
  if (ret_len)
    *ret_len = o.len;
  return 0;
}
