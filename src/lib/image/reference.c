/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Grammar from docker/distribution's reference package (regexp.go), written
 * as small hand checks so every refusal can say what is wrong. */
#include "reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "util/cleanup.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static const char *
check_component (const char *c, size_t len)
{
  size_t i = 0;

  if (len == 0)
    return "empty path component";
  for (size_t j = 0; j < len; j++)
    if (c[j] >= 'A' && c[j] <= 'Z')
      return "repository name must be lowercase";
  while (i < len)
    {
      size_t start = i;
      while (i < len && is_lower_alnum (c[i]))
        i++;
      if (i == start)
        return "path component must start and end with a letter or digit, "
               "separated only by '.', '_', '__' or '-'";
      if (i == len)
        return NULL;
      /* separator */
      if (c[i] == '.')
        i++;
      else if (c[i] == '_')
        i += (i + 1 < len && c[i + 1] == '_') ? 2 : 1;
      else if (c[i] == '-')
        while (i < len && c[i] == '-')
          i++;
      else
        return "invalid character in repository name";
      if (i == len)
        return "path component must start and end with a letter or digit, "
               "separated only by '.', '_', '__' or '-'";
    }
  return NULL;
}

/* host[:port] with host a dotted name of [a-zA-Z0-9-] labels (no label
 * starting or ending with '-'), or an IPv6 address in brackets. */
static const char *
check_domain (const char *d, size_t len)
{
  const char *colon = NULL;
  size_t hostlen = len;

  if (len > 0 && d[0] == '[')
    {
      const char *close = memchr (d, ']', len);
      if (close == NULL)
        return "unterminated IPv6 address in registry";
      for (const char *p = d + 1; p < close; p++)
        if (!isxdigit ((unsigned char)*p) && *p != ':')
          return "invalid IPv6 address in registry";
      if (close + 1 < d + len && close[1] != ':')
        return "invalid registry";
      colon = close + 1 < d + len ? close + 1 : NULL;
      hostlen = (size_t)(close + 1 - d);
    }
  else
    {
      colon = memchr (d, ':', len);
      if (colon)
        hostlen = (size_t)(colon - d);
      if (hostlen == 0)
        return "empty registry host";
      for (size_t i = 0; i < hostlen;)
        {
          size_t start = i;
          while (i < hostlen && d[i] != '.')
            {
              if (!isalnum ((unsigned char)d[i]) && d[i] != '-')
                return "invalid character in registry host";
              i++;
            }
          if (i == start || d[start] == '-' || d[i - 1] == '-')
            return "invalid registry host label";
          if (i < hostlen)
            i++;
          if (i == hostlen && d[i - 1] == '.')
            return "registry host ends with '.'";
        }
    }
  if (colon)
    {
      const char *p = colon + 1, *end = d + len;
      if (p == end)
        return "empty registry port";
      if (end - p > 5)
        return "registry port out of range";
      for (; p < end; p++)
        if (!isdigit ((unsigned char)*p))
          return "registry port must be a number";
    }
  return NULL;
}

static const char *
check_tag (const char *t)
{
  size_t len = strlen (t);

  if (len == 0)
    return "empty tag";
  if (len > TAG_MAX_LEN)
    return "tag longer than 128 characters";
  for (size_t i = 0; i < len; i++)
    {
      char c = t[i];
      bool word = isalnum ((unsigned char)c) || c == '_';
      if (!word && (i == 0 || (c != '.' && c != '-')))
        return i == 0 ? "tag must start with a letter, digit or '_'" : "invalid character in tag";
    }
  return NULL;
}

static bool
looks_like_domain (const char *c, size_t len)
{
  if (len == 9 && memcmp (c, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < len; i++)
    if (c[i] == '.' || c[i] == ':' || c[i] == '[' || (c[i] >= 'A' && c[i] <= 'Z'))
      return true;
  return false;
}

static bool
is_hex64 (const char *s)
{
  if (strlen (s) != 64)
    return false;
  for (; *s; s++)
    if (!isxdigit ((unsigned char)*s) || (*s >= 'A' && *s <= 'F'))
      return false;
  return true;
}

void
arca_reference_free (struct arca_reference *ref)
{
  if (ref == NULL)
    return;
  free (ref->domain);
  free (ref->path);
  free (ref->tag);
  free (ref->digest);
  free (ref);
}

void
arca_reference_freep (struct arca_reference **ref)
{
  arca_reference_free (*ref);
}

static int
bad (arca_error **err, const char *text, const char *why)
{
  return arca_error_set (err, EINVAL, "invalid image reference `%.300s`: %s", text, why);
}

int
arca_reference_parse (const char *text, enum arca_reference_mode mode,
                      struct arca_reference **ret_ref, arca_error **err)
{
  cleanup_reference struct arca_reference *ref = NULL;
  cleanup_free char *name = NULL;
  const char *at, *slash, *colon, *why, *path;
  size_t first_len;

  if (text == NULL || *text == '\0')
    return arca_error_set (err, EINVAL, "invalid image reference: empty");
  if (strlen (text) > 4096)
    return bad (err, text, "too long");
  ref = calloc (1, sizeof (*ref));
  if (ref == NULL)
    return arca_error_errno (err, "parse image reference");

  at = strchr (text, '@');
  if (at)
    {
      if (strncmp (at + 1, ARCA_DIGEST_PREFIX, strlen (ARCA_DIGEST_PREFIX)) != 0)
        return bad (err, text, "only sha256 digests are supported");
      if (!arca_digest_is_valid (at + 1))
        return bad (err, text, "digest must be sha256: and 64 lowercase hex digits");
      ref->digest = strdup (at + 1);
      name = strndup (text, (size_t)(at - text));
    }
  else
    name = strdup (text);
  if (name == NULL || (at && ref->digest == NULL))
    return arca_error_errno (err, "parse image reference");

  /* The tag is after the last ':' that follows the last '/' (an earlier
   * ':' is a registry port). */
  slash = strrchr (name, '/');
  colon = strrchr (slash ? slash : name, ':');
  if (colon)
    {
      if ((why = check_tag (colon + 1)) != NULL)
        return bad (err, text, why);
      ref->tag = strdup (colon + 1);
      if (ref->tag == NULL)
        return arca_error_errno (err, "parse image reference");
      name[colon - name] = '\0';
    }
  if (*name == '\0')
    return bad (err, text, "empty repository name");
  if (strlen (name) > NAME_MAX_LEN)
    return bad (err, text, "repository name longer than 255 characters");

  slash = strchr (name, '/');
  first_len = slash ? (size_t)(slash - name) : strlen (name);
  path = name;
  if (slash && looks_like_domain (name, first_len))
    {
      if ((why = check_domain (name, first_len)) != NULL)
        return bad (err, text, why);
      ref->domain = strndup (name, first_len);
      ref->domain_explicit = true;
      path = slash + 1;
    }
  for (const char *c = path;;)
    {
      const char *e = strchr (c, '/');
      size_t len = e ? (size_t)(e - c) : strlen (c);
      if ((why = check_component (c, len)) != NULL)
        return bad (err, text, why);
      if (e == NULL)
        break;
      c = e + 1;
    }
  if (!ref->domain_explicit && is_hex64 (path))
    return bad (err, text, "a 64-digit hex string is an image id, not a repository name");

  /* Docker Hub has one canonical spelling whatever the mode. */
  if (ref->domain && strcmp (ref->domain, "index.docker.io") == 0)
    {
      free (ref->domain);
      ref->domain = strdup ("docker.io");
    }
  else if (ref->domain == NULL)
    ref->domain = strdup (mode == ARCA_REFERENCE_DOCKER ? "docker.io" : "localhost");
  if (ref->domain == NULL)
    return arca_error_errno (err, "parse image reference");
  if (strcmp (ref->domain, "docker.io") == 0 && strchr (path, '/') == NULL)
    {
      if (asprintf (&ref->path, "library/%s", path) < 0)
        ref->path = NULL;
    }
  else
    ref->path = strdup (path);
  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = strdup ("latest");
  if (ref->domain == NULL || ref->path == NULL || (ref->tag == NULL && ref->digest == NULL))
    return arca_error_errno (err, "parse image reference");
  /* The limit is on the full name: one accepted here as "name" but longer
   * than 255 once its implied domain is added could be stored, yet never
   * be named again. */
  if (strlen (ref->domain) + 1 + strlen (ref->path) > NAME_MAX_LEN)
    return bad (err, text, "repository name longer than 255 characters with its registry");
  *ret_ref = move_ptr (ref);
  return 0;
}

char *
arca_reference_name (const struct arca_reference *ref)
{
  char *s;
  if (asprintf (&s, "%s/%s", ref->domain, ref->path) < 0)
    return NULL;
  return s;
}

char *
arca_reference_string (const struct arca_reference *ref)
{
  char *s;
  if (asprintf (&s, "%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                ref->tag ? ref->tag : "", ref->digest ? "@" : "", ref->digest ? ref->digest : "")
      < 0)
    return NULL;
  return s;
}
