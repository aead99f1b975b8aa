/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/signals.h"

#define INPUT_MAX (16 * 1024 * 1024)

int
cli_help (const char *text)
{
  fputs (text, stdout);
  return 0;
}

int
cli_positional (int argc, char **argv, int first, int n, const char *usage, arca_error **err)
{
  if (argc - first != n)
    return arca_error_set (err, EINVAL, "%s: expected %d argument%s, got %d (usage: %s)", argv[0],
                           n, n == 1 ? "" : "s", argc - first, usage);
  return 0;
}

int
cli_parse_signal (const char *text)
{
  return arca_signal_parse (text);
}

int
cli_parse_uint (const char *flag, const char *text, uint64_t max, uint64_t *ret, arca_error **err)
{
  char *end;

  errno = 0;
  if (!isdigit ((unsigned char) text[0]))
    return arca_error_set (err, EINVAL, "%s: `%s` is not a number", flag, text);
  unsigned long long v = strtoull (text, &end, 10);
  if (errno || *end || v > max)
    return arca_error_set (err, EINVAL, "%s: `%s` is not a number in 0..%llu", flag, text,
                           (unsigned long long) max);
  *ret = v;
  return 0;
}

int
cli_parse_size (const char *flag, const char *text, int64_t *ret, arca_error **err)
{
  char *end;

  if (strcmp (text, "-1") == 0)
    {
      *ret = -1;
      return 0;
    }
  errno = 0;
  if (!isdigit ((unsigned char) text[0]))
    return arca_error_set (err, EINVAL, "%s: `%s` is not a size", flag, text);
  unsigned long long v = strtoull (text, &end, 10);
  unsigned shift = 0;
  if (*end)
    {
      switch (tolower ((unsigned char) *end))
        {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        case 'b': shift = 0; break;
        default: return arca_error_set (err, EINVAL, "%s: `%s` is not a size", flag, text);
        }
      end++;
      if (*end == 'b' || *end == 'B')
        end++;
    }
  if (errno || *end || v > ((unsigned long long) INT64_MAX >> shift))
    return arca_error_set (err, EINVAL, "%s: `%s` is not a size", flag, text);
  *ret = (int64_t) (v << shift);
  return 0;
}

int
cli_read_input (const char *flag, const char *path, char **ret_text, size_t *ret_len,
                arca_error **err)
{
  if (strcmp (path, "-") == 0)
    {
      size_t cap = 4096, len = 0;
      cleanup_free char *buf = malloc (cap);
      if (buf == NULL)
        return arca_error_set (err, ENOMEM, "%s", flag);
      for (;;)
        {
          if (len + 1 >= cap)
            {
              if (cap >= INPUT_MAX)
                return arca_error_set (err, EFBIG, "%s: input larger than %d bytes", flag,
                                       INPUT_MAX);
              char *grown = realloc (buf, cap * 2);
              if (grown == NULL)
                return arca_error_set (err, ENOMEM, "%s", flag);
              buf = grown;
              cap *= 2;
            }
          ssize_t n = read (0, buf + len, cap - 1 - len);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return arca_error_errno (err, "%s: read stdin", flag);
          if (n == 0)
            break;
          len += (size_t) n;
        }
      buf[len] = '\0';
      *ret_len = len;
      *ret_text = move_ptr (buf);
      return 0;
    }
  if (arca_read_file_at (AT_FDCWD, path, INPUT_MAX, ret_text, ret_len, err) < 0)
    return arca_error_wrap (err, "%s", flag);
  return 0;
}

unsigned
cli_preserve_fds (unsigned flag_value)
{
  const char *listen = getenv ("LISTEN_FDS");

  if (listen && *listen)
    {
      char *end;
      unsigned long n = strtoul (listen, &end, 10);
      if (*end == '\0' && n < 1024)
        return flag_value + (unsigned) n;
    }
  return flag_value;
}
