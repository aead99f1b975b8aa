/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parser of the agent's configuration: NUL-terminated "key=value" records
 * (see engine/vm-proto.h).  Everything is bounded: total size, counts,
 * string lengths; unknown keys, repeated single keys and malformed values
 * are refused with a message naming the record. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/vm-proto.h"

#define PATH_MAX_LEN 4096
#define HOSTNAME_MAX ARCA_VM_NAME_MAX
#define MODULE_NAME_MAX 64

static int __attribute__ ((format (printf, 3, 4)))
fail (char *errbuf, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  if (errlen)
    vsnprintf (errbuf, errlen, fmt, ap);
  va_end (ap);
  return -1;
}

void
agent_config_free (struct agent_config *c)
{
  free (c->argv);
  free (c->env);
  free (c->groups);
  free (c->modules);
  free (c->dns);
  free (c->search);
  free (c->hosts);
  free (c->buf);
  memset (c, 0, sizeof *c);
}

static int
parse_u32 (const char *s, uint32_t *ret)
{
  uint64_t v = 0;

  if (*s == '\0' || strlen (s) > 10)
    return -1;
  for (; *s; s++)
    {
      if (*s < '0' || *s > '9')
        return -1;
      v = v * 10 + (uint64_t) (*s - '0');
    }
  /* (uint32_t) -1 means "unchanged" to setuid and friends. */
  if (v >= UINT32_MAX)
    return -1;
  *ret = (uint32_t) v;
  return 0;
}

static bool
valid_hostname (const char *s)
{
  return arca_vm_name_valid (s, false);
}

/* A name on a hosts line: a host name, or a container name ('_' too). */
static bool
valid_hosts_name (const char *s)
{
  return arca_vm_name_valid (s, true);
}

static bool
valid_module (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > MODULE_NAME_MAX)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '-' || *s == '_'))
      return false;
  return true;
}

static bool
valid_env (const char *s)
{
  const char *eq = strchr (s, '=');

  return eq != NULL && eq != s;
}

static bool
valid_root (const char *s)
{
  if (strcmp (s, "initramfs") == 0)
    return true;
  return strncmp (s, "/dev/vd", 7) == 0 && s[7] >= 'a' && s[7] <= 'z' && s[8] == '\0';
}

/* A dotted quad exactly (inet_pton alone takes no other forms, but be
 * explicit about the length). */
static bool
parse_ipv4 (const char *s, struct in_addr *ret)
{
  return strlen (s) <= 15 && inet_pton (AF_INET, s, ret) == 1;
}

/* "A.B.C.D/N" with N 1..32; for N <= 30 neither the network nor the
 * broadcast address. */
static bool
parse_cidr (char *s, struct in_addr *ret, unsigned *ret_prefix)
{
  char *slash = strchr (s, '/');
  uint32_t prefix;
  bool ok;

  if (slash == NULL)
    return false;
  *slash = '\0';
  ok = parse_ipv4 (s, ret) && parse_u32 (slash + 1, &prefix) == 0 && prefix >= 1 && prefix <= 32
       && strlen (slash + 1) <= 2;
  *slash = '/';
  if (!ok)
    return false;
  if (prefix <= 30)
    {
      uint32_t host = ntohl (ret->s_addr) & (0xffffffffu >> prefix);
      if (host == 0 || host == (0xffffffffu >> prefix))
        return false;
    }
  *ret_prefix = prefix;
  return true;
}

static bool
parse_mac (const char *s, uint8_t ret[6])
{
  uint8_t m[6];

  if (strlen (s) != 17)
    return false;
  for (int i = 0; i < 6; i++)
    {
      uint8_t v = 0;
      for (int j = 0; j < 2; j++)
        {
          char ch = s[3 * i + j];
          v = (uint8_t) (v << 4);
          if (ch >= '0' && ch <= '9')
            v |= (uint8_t) (ch - '0');
          else if (ch >= 'a' && ch <= 'f')
            v |= (uint8_t) (ch - 'a' + 10);
          else if (ch >= 'A' && ch <= 'F')
            v |= (uint8_t) (ch - 'A' + 10);
          else
            return false;
        }
      if (i < 5 && s[3 * i + 2] != ':')
        return false;
      m[i] = v;
    }
  /* Multicast (and all-zero) addresses cannot be a NIC's. */
  if ((m[0] & 1) || (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0)
    return false;
  memcpy (ret, m, 6);
  return true;
}

/* "A.B.C.D NAME [ALIAS...]": at most 8 names, each a host name, one space
 * apart. */
static bool
valid_hosts_line (const char *s)
{
  char buf[16 + 8 * (HOSTNAME_MAX + 1)];
  struct in_addr a;
  size_t n = strlen (s), names = 0;

  if (n >= sizeof buf)
    return false;
  memcpy (buf, s, n + 1);
  char *sp = strchr (buf, ' ');
  if (sp == NULL)
    return false;
  *sp = '\0';
  if (!parse_ipv4 (buf, &a))
    return false;
  for (char *name = sp + 1, *next; name; name = next)
    {
      next = strchr (name, ' ');
      if (next)
        *next++ = '\0';
      if (!valid_hosts_name (name) || ++names > 8)
        return false;
    }
  return true;
}

/* Appends p to a NULL-terminated vector of at most max entries. */
static int
push (char ***v, size_t *n, size_t max, char *p)
{
  if (*n >= max)
    return -1;
  char **nv = realloc (*v, (*n + 2) * sizeof *nv);
  if (nv == NULL)
    return -1;
  nv[(*n)++] = p;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

/* "ROWSxCOLS", each 0..65535 (a struct winsize field). */
static int
parse_winsize (char *s, unsigned *ret_rows, unsigned *ret_cols)
{
  char *x = strchr (s, 'x');
  uint32_t rows, cols;
  int r;

  if (x == NULL || x - s > 5 || strlen (x + 1) > 5)
    return -1;
  *x = '\0';
  r = parse_u32 (s, &rows) < 0 || parse_u32 (x + 1, &cols) < 0 || rows > 65535 || cols > 65535 ? -1 : 0;
  *x = 'x';
  if (r == 0)
    {
      *ret_rows = rows;
      *ret_cols = cols;
    }
  return r;
}

int
agent_config_parse (const char *data, size_t len, struct agent_config *ret, char *errbuf,
                    size_t errlen)
{
  struct agent_config c = { 0 };
  size_t n_args = 0, n_env = 0, n_modules = 0, n_dns = 0, n_search = 0, n_hosts = 0, index = 0;
  bool have_uid = false, have_gid = false, have_mac = false, have_gateway = false;

  if (len == 0)
    return fail (errbuf, errlen, "config: empty");
  if (len > ARCA_VM_CONFIG_MAX)
    return fail (errbuf, errlen, "config: %zu bytes, more than %d", len, ARCA_VM_CONFIG_MAX);
  if (data[len - 1] != '\0')
    return fail (errbuf, errlen, "config: the last record is not NUL-terminated");
  c.buf = malloc (len);
  if (c.buf == NULL)
    return fail (errbuf, errlen, "config: out of memory");
  memcpy (c.buf, data, len);

  for (char *p = c.buf, *next; p < c.buf + len; p = next, index++)
    {
      char *eq = strchr (p, '=');

      next = p + strlen (p) + 1;
      const char *key = p;
      char *value;
      int r = 0;

      if (eq == NULL)
        {
          fail (errbuf, errlen, "config: record %zu: no `=`", index);
          goto error;
        }
      *eq = '\0';
      value = eq + 1;
      if (index == 0)
        {
          if (strcmp (key, "version") != 0 || strcmp (value, "1") != 0)
            {
              fail (errbuf, errlen, "config: record 0: expected version=1");
              goto error;
            }
          continue;
        }
      if (strcmp (key, "version") == 0)
        r = fail (errbuf, errlen, "config: record %zu: version repeated", index);
      else if (strcmp (key, "arg") == 0)
        {
          if (push (&c.argv, &n_args, ARCA_VM_CONFIG_MAX_ARGS, value) < 0)
            r = fail (errbuf, errlen, "config: record %zu: arg: more than %d arguments", index,
                      ARCA_VM_CONFIG_MAX_ARGS);
        }
      else if (strcmp (key, "env") == 0)
        {
          if (!valid_env (value))
            r = fail (errbuf, errlen, "config: record %zu: env: `%.64s` is not KEY=VALUE", index, value);
          else if (push (&c.env, &n_env, ARCA_VM_CONFIG_MAX_ENV, value) < 0)
            r = fail (errbuf, errlen, "config: record %zu: env: more than %d variables", index,
                      ARCA_VM_CONFIG_MAX_ENV);
        }
      else if (strcmp (key, "cwd") == 0)
        {
          if (c.cwd)
            r = fail (errbuf, errlen, "config: record %zu: cwd repeated", index);
          else if (value[0] != '/' || strlen (value) >= PATH_MAX_LEN)
            r = fail (errbuf, errlen, "config: record %zu: cwd: `%.64s` is not an absolute path", index, value);
          c.cwd = value;
        }
      else if (strcmp (key, "hostname") == 0)
        {
          if (c.hostname)
            r = fail (errbuf, errlen, "config: record %zu: hostname repeated", index);
          else if (!valid_hostname (value))
            r = fail (errbuf, errlen, "config: record %zu: hostname: `%.64s` is not a host name", index, value);
          c.hostname = value;
        }
      else if (strcmp (key, "uid") == 0 || strcmp (key, "gid") == 0)
        {
          bool uid = key[0] == 'u';
          if (uid ? have_uid : have_gid)
            r = fail (errbuf, errlen, "config: record %zu: %s repeated", index, key);
          else if (parse_u32 (value, uid ? &c.uid : &c.gid) < 0)
            r = fail (errbuf, errlen, "config: record %zu: %s: `%.16s` is not an id", index, key, value);
          if (uid)
            have_uid = true;
          else
            have_gid = true;
        }
      else if (strcmp (key, "group") == 0)
        {
          uint32_t g;
          if (parse_u32 (value, &g) < 0)
            r = fail (errbuf, errlen, "config: record %zu: group: `%.16s` is not an id", index, value);
          else if (c.n_groups >= ARCA_VM_CONFIG_MAX_GROUPS)
            r = fail (errbuf, errlen, "config: record %zu: group: more than %d groups", index,
                      ARCA_VM_CONFIG_MAX_GROUPS);
          else
            {
              uint32_t *ng = realloc (c.groups, (c.n_groups + 1) * sizeof *ng);
              if (ng == NULL)
                r = fail (errbuf, errlen, "config: out of memory");
              else
                {
                  c.groups = ng;
                  c.groups[c.n_groups++] = g;
                }
            }
        }
      else if (strcmp (key, "root") == 0)
        {
          if (c.root)
            r = fail (errbuf, errlen, "config: record %zu: root repeated", index);
          else if (!valid_root (value))
            r = fail (errbuf, errlen, "config: record %zu: root: `%.64s` is neither initramfs nor /dev/vd[a-z]", index, value);
          c.root = value;
        }
      else if (strcmp (key, "rootfstype") == 0)
        {
          if (c.rootfstype)
            r = fail (errbuf, errlen, "config: record %zu: rootfstype repeated", index);
          else if (strcmp (value, "ext4") != 0)
            r = fail (errbuf, errlen, "config: record %zu: rootfstype: `%.16s` is not ext4", index, value);
          c.rootfstype = value;
        }
      else if (strcmp (key, "module") == 0)
        {
          if (!valid_module (value))
            r = fail (errbuf, errlen, "config: record %zu: module: `%.64s` is not a module name", index, value);
          else if (push (&c.modules, &n_modules, ARCA_VM_CONFIG_MAX_MODULES, value) < 0)
            r = fail (errbuf, errlen, "config: record %zu: module: more than %d modules", index,
                      ARCA_VM_CONFIG_MAX_MODULES);
        }
      else if (strcmp (key, "address") == 0)
        {
          if (c.has_net)
            r = fail (errbuf, errlen, "config: record %zu: address repeated", index);
          else if (!parse_cidr (value, &c.address, &c.prefix))
            r = fail (errbuf, errlen, "config: record %zu: address: `%.32s` is not a host address A.B.C.D/N", index, value);
          c.has_net = true;
        }
      else if (strcmp (key, "mac") == 0)
        {
          if (have_mac)
            r = fail (errbuf, errlen, "config: record %zu: mac repeated", index);
          else if (!parse_mac (value, c.mac))
            r = fail (errbuf, errlen, "config: record %zu: mac: `%.32s` is not a unicast XX:XX:XX:XX:XX:XX", index, value);
          have_mac = true;
        }
      else if (strcmp (key, "gateway") == 0)
        {
          if (have_gateway)
            r = fail (errbuf, errlen, "config: record %zu: gateway repeated", index);
          else if (!parse_ipv4 (value, &c.gateway) || c.gateway.s_addr == 0)
            r = fail (errbuf, errlen, "config: record %zu: gateway: `%.32s` is not an IPv4 address", index, value);
          have_gateway = true;
        }
      else if (strcmp (key, "dns") == 0)
        {
          struct in_addr a;
          if (!parse_ipv4 (value, &a))
            r = fail (errbuf, errlen, "config: record %zu: dns: `%.32s` is not an IPv4 address", index, value);
          else if (push (&c.dns, &n_dns, ARCA_VM_CONFIG_MAX_DNS, value) < 0)
            r = fail (errbuf, errlen, "config: record %zu: dns: more than %d servers", index,
                      ARCA_VM_CONFIG_MAX_DNS);
        }
      else if (strcmp (key, "search") == 0)
        {
          if (!valid_hostname (value))
            r = fail (errbuf, errlen, "config: record %zu: search: `%.64s` is not a domain", index, value);
          else if (push (&c.search, &n_search, ARCA_VM_CONFIG_MAX_SEARCH, value) < 0)
            r = fail (errbuf, errlen, "config: record %zu: search: more than %d domains", index,
                      ARCA_VM_CONFIG_MAX_SEARCH);
        }
      else if (strcmp (key, "host") == 0)
        {
          if (!valid_hosts_line (value))
            r = fail (errbuf, errlen, "config: record %zu: host: `%.64s` is not `ADDRESS NAME [ALIAS...]`", index, value);
          else if (push (&c.hosts, &n_hosts, ARCA_VM_CONFIG_MAX_HOSTS, value) < 0)
            r = fail (errbuf, errlen, "config: record %zu: host: more than %d lines", index,
                      ARCA_VM_CONFIG_MAX_HOSTS);
        }
      else if (strcmp (key, "stdin") == 0)
        {
          if (c.stdin_frames)
            r = fail (errbuf, errlen, "config: record %zu: stdin repeated", index);
          else if (strcmp (value, "1") != 0)
            r = fail (errbuf, errlen, "config: record %zu: stdin: `%.8s` is not 1", index, value);
          c.stdin_frames = true;
        }
      else if (strcmp (key, "tty") == 0)
        {
          if (c.tty)
            r = fail (errbuf, errlen, "config: record %zu: tty repeated", index);
          else if (parse_winsize (value, &c.rows, &c.cols) < 0)
            r = fail (errbuf, errlen, "config: record %zu: tty: `%.16s` is not ROWSxCOLS", index, value);
          c.tty = true;
        }
      else
        r = fail (errbuf, errlen, "config: record %zu: unknown key `%.32s`", index, key);
      if (r < 0)
        goto error;
    }
  if (n_args == 0)
    {
      fail (errbuf, errlen, "config: no arg record (nothing to run)");
      goto error;
    }
  if (c.argv[0][0] == '\0')
    {
      fail (errbuf, errlen, "config: arg 0 is empty");
      goto error;
    }
  /* The network records belong to a NIC: none of them without one. */
  if (c.has_net != have_mac || (!c.has_net && (have_gateway || n_dns || n_search)))
    {
      fail (errbuf, errlen, "config: %s", c.has_net ? "address without mac (no NIC to configure)"
                                                    : "mac, gateway, dns or search without address");
      goto error;
    }
  if (have_gateway)
    {
      uint32_t mask = c.prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> c.prefix);
      if (((ntohl (c.gateway.s_addr) ^ ntohl (c.address.s_addr)) & mask) != 0
          || c.gateway.s_addr == c.address.s_addr)
        {
          fail (errbuf, errlen, "config: gateway is not another address of the address's subnet");
          goto error;
        }
    }
  if (c.env == NULL && push (&c.env, &n_env, 1, NULL) < 0)
    goto oom;
  if ((c.dns == NULL && push (&c.dns, &n_dns, 1, NULL) < 0)
      || (c.search == NULL && push (&c.search, &n_search, 1, NULL) < 0)
      || (c.hosts == NULL && push (&c.hosts, &n_hosts, 1, NULL) < 0))
    goto oom;
  if (c.modules == NULL && push (&c.modules, &n_modules, 1, NULL) < 0)
    goto oom;
  if (c.cwd == NULL)
    c.cwd = (char *) "/";
  if (c.root == NULL)
    c.root = (char *) "initramfs";
  if (c.rootfstype == NULL)
    c.rootfstype = (char *) "ext4";
  *ret = c;
  return 0;

oom:
  fail (errbuf, errlen, "config: out of memory");
error:
  agent_config_free (&c);
  return -1;
}
