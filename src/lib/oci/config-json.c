/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading config.json text, and the one place jansson falls short of the
 * spec: uint64 fields.
 *
 * jansson keeps integers in an int64 and refuses larger literals as
 * invalid JSON, but the spec's uint64 fields reach UINT64_MAX in real
 * configs: Docker and Podman write RLIM_INFINITY (18446744073709551615) for
 * an unlimited rlimit, and seccomp argument values are full 64-bit.  Before
 * jansson sees the text, every integer literal between INT64_MAX and
 * UINT64_MAX becomes a string that starts with a NUL ("\u0000" + digits),
 * which no genuine string can be: "\u0000" in the input is refused first.
 * oci_check_type() counts such a string as an integer, never as a string,
 * and only oci_parse_u64() accepts its value. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "util/cleanup.h"

#define CONFIG_MAX_SIZE (4u << 20)

/* "9223372036854775808" .. "18446744073709551615", digits only, no sign,
 * no leading zero. */
static bool
parse_big_uint (const char *s, size_t n, uint64_t *ret)
{
  uint64_t v = 0;

  if (n < 19 || n > 20 || s[0] == '0')
    return false;
  for (size_t i = 0; i < n; i++)
    {
      unsigned d;

      if (s[i] < '0' || s[i] > '9')
        return false;
      d = (unsigned) (s[i] - '0');
      if (v > (UINT64_MAX - d) / 10)
        return false;
      v = v * 10 + d;
    }
  if (v <= INT64_MAX)
    return false;
  *ret = v;
  return true;
}

bool
oci_json_big_uint (json_t *v, uint64_t *ret)
{
  uint64_t dummy;

  if (!json_is_string (v) || json_string_length (v) < 1 || json_string_value (v)[0] != '\0')
    return false;
  return parse_big_uint (json_string_value (v) + 1, json_string_length (v) - 1,
                         ret ? ret : &dummy);
}

static bool
is_number_char (char c)
{
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Returns a copy of json with big integer literals quoted in *ret (NULL
 * when there is none, the common case). */
static int
quote_big_integers (const char *json, size_t len, char **ret, size_t *ret_len,
                    arca_error **err)
{
  cleanup_free char *out = NULL;
  bool in_string = false, escaped = false, changed = false;
  size_t o = 0;

  /* Each literal has at least 19 digits and grows by 8: "\u0000". */
  out = malloc (len + 8 * (len / 19 + 1) + 1);
  if (out == NULL)
    return arca_error_errno (err, "load JSON");
  for (size_t i = 0; i < len; i++)
    {
      char c = json[i];
      size_t j;
      uint64_t v;

      if (in_string)
        {
          if (escaped && c == 'u' && len - i > 4 && memcmp (json + i + 1, "0000", 4) == 0)
            return arca_error_set (err, EINVAL, "invalid JSON: \\u0000 in a string");
          if (escaped)
            escaped = false;
          else if (c == '\\')
            escaped = true;
          else if (c == '"')
            in_string = false;
          out[o++] = c;
          continue;
        }
      if (c == '"')
        in_string = true;
      if (c < '0' || c > '9' || (i > 0 && is_number_char (json[i - 1])))
        {
          out[o++] = c;
          continue;
        }
      /* The start of an unsigned literal: its digits run to j. */
      for (j = i; j < len && json[j] >= '0' && json[j] <= '9'; j++)
        ;
      if ((j == len || !is_number_char (json[j])) && parse_big_uint (json + i, j - i, &v))
        {
          memcpy (out + o, "\"\\u0000", 7);
          o += 7;
          memcpy (out + o, json + i, j - i);
          o += j - i;
          out[o++] = '"';
          changed = true;
        }
      else
        {
          memcpy (out + o, json + i, j - i);
          o += j - i;
        }
      i = j - 1;
    }
  out[o] = '\0';
  if (changed)
    {
      *ret = move_ptr (out);
      *ret_len = o;
    }
  else
    *ret = NULL;
  return 0;
}

/* Duplicate keys are refused: two readers of an ambiguous document could
 * disagree on which value counts. */
int
oci_load_json (const char *json, size_t len, json_t **ret, arca_error **err)
{
  cleanup_free char *quoted = NULL;
  size_t quoted_len = 0;
  json_error_t jerr;
  json_t *root;

  if (json == NULL)
    return arca_error_set (err, EINVAL, "no JSON input");
  if (len > CONFIG_MAX_SIZE)
    return arca_error_set (err, EFBIG, "JSON input of %zu bytes, at most %u", len,
                           CONFIG_MAX_SIZE);
  if (quote_big_integers (json, len, &quoted, &quoted_len, err) < 0)
    return -1;
  if (quoted != NULL)
    root = json_loadb (quoted, quoted_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  else
    root = json_loadb (json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    {
      /* jansson quotes the offending token, raw */
      oci_defang (jerr.text);
      return arca_error_set (err, EINVAL, "invalid JSON at line %d column %d: %s", jerr.line,
                             jerr.column, jerr.text);
    }
  *ret = root;
  return 0;
}
