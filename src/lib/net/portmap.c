/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/portmap.h"
#include "net/sql.h"
#include "util/cleanup.h"

static int
parse_port (const char *text, size_t len, bool zero_ok, uint16_t *ret)
{
  unsigned long v = 0;

  if (len == 0 || len > 5)
    return -1;
  for (size_t i = 0; i < len; i++)
    {
      if (text[i] < '0' || text[i] > '9')
        return -1;
      v = v * 10 + (unsigned long) (text[i] - '0');
    }
  if (v > 65535 || (v == 0 && !zero_ok))
    return -1;
  *ret = (uint16_t) v;
  return 0;
}

int
arca_port_spec_parse (const char *text, struct arca_port_spec *ret, arca_error **err)
{
  struct arca_port_spec s = { .proto = "tcp" };
  const char *end = text + strlen (text);
  const char *slash = strchr (text, '/');

  if (slash)
    {
      if (strcmp (slash + 1, "tcp") != 0 && strcmp (slash + 1, "udp") != 0)
        return arca_error_set (err, EINVAL, "--publish `%s`: protocol must be tcp or udp", text);
      memcpy (s.proto, slash + 1, 4);
      end = slash;
    }
  /* Split at the last two colons: IP, host port, container port. */
  const char *c2 = NULL, *c1 = NULL;
  for (const char *p = text; p < end; p++)
    if (*p == ':')
      {
        c1 = c2;
        c2 = p;
      }
  const char *cport = c2 ? c2 + 1 : text;
  if (parse_port (cport, (size_t) (end - cport), false, &s.container_port) < 0)
    goto bad;
  if (c2)
    {
      const char *hport = c1 ? c1 + 1 : text;
      if (c2 > hport && parse_port (hport, (size_t) (c2 - hport), false, &s.host_port) < 0)
        goto bad;
      if (c1)
        {
          char ip[INET_ADDRSTRLEN];
          if ((size_t) (c1 - text) >= sizeof ip)
            goto bad;
          memcpy (ip, text, (size_t) (c1 - text));
          ip[c1 - text] = '\0';
          if (*ip && inet_pton (AF_INET, ip, &s.host_ip) != 1)
            return arca_error_set (err, EINVAL, "--publish `%s`: `%s` is not an IPv4 address",
                                   text, ip);
        }
    }
  *ret = s;
  return 0;
bad:
  return arca_error_set (err, EINVAL,
                         "--publish `%s`: expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]",
                         text);
}

int
arca_portmap_init (sqlite3 *db, arca_error **err)
{
  /* Keyed by protocol and port only: a port published on one address
   * conflicts with the same port on every address, as with bind(2). */
  return arca_net_sql_exec (db,
                            "CREATE TABLE IF NOT EXISTS net_ports ("
                            " proto TEXT NOT NULL, host_port INTEGER NOT NULL,"
                            " host_ip INTEGER NOT NULL, container TEXT NOT NULL,"
                            " container_ip INTEGER NOT NULL, container_port INTEGER NOT NULL,"
                            " PRIMARY KEY (proto, host_port))",
                            err);
}

/* Binds the port briefly: a host process listening there would be shadowed
 * by the DNAT rule, so it is refused like Docker does.  Port 0 asks the
 * kernel for a free one. */
static int
probe_port (const char *proto, struct in_addr ip, uint16_t port, uint16_t *ret_port,
            arca_error **err)
{
  bool udp = strcmp (proto, "udp") == 0;
  cleanup_close int fd = socket (AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port), .sin_addr = ip };
  socklen_t len = sizeof sa;
  int one = 1;

  if (fd < 0)
    return arca_error_errno (err, "socket");
  /* TIME_WAIT leftovers are not a conflict; a listener is. */
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return arca_error_errno (err, "host port %u/%s", port, proto);
  if (getsockname (fd, (struct sockaddr *) &sa, &len) < 0)
    return arca_error_errno (err, "getsockname");
  *ret_port = ntohs (sa.sin_port);
  return 0;
}

static const char *
static_proto (const char *p)
{
  return strcmp (p, "udp") == 0 ? "udp" : "tcp";
}

int
arca_portmap_reserve (sqlite3 *db, const char *container, const struct arca_port_spec *specs,
                      size_t n, struct in_addr container_ip, struct arca_nft_port *ret,
                      arca_error **err)
{
  cleanup_sql_tx sqlite3 *tx = NULL;

  if (n == 0)
    return 0;
  if (arca_net_sql_begin (db, &tx, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_sql sqlite3_stmt *st = NULL;
      const struct arca_port_spec *s = &specs[i];
      uint16_t port = 0;
      int rc = SQLITE_CONSTRAINT;

      /* A kernel-chosen port may still be one another container published
       * (DNAT does not hold a socket): try a few. */
      for (int attempt = 0; attempt < (s->host_port ? 1 : 16) && rc != SQLITE_DONE; attempt++)
        {
          if (probe_port (s->proto, s->host_ip, s->host_port, &port, err) < 0)
            return arca_error_wrap (err, "publish %s", container);
          sqlite3_finalize (st);
          st = NULL;
          if (arca_net_sql_prepare (db,
                                    "INSERT INTO net_ports (proto, host_port, host_ip, container,"
                                    " container_ip, container_port) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                    &st, err) < 0)
            return -1;
          sqlite3_bind_text (st, 1, s->proto, -1, SQLITE_STATIC);
          sqlite3_bind_int (st, 2, port);
          sqlite3_bind_int64 (st, 3, ntohl (s->host_ip.s_addr));
          sqlite3_bind_text (st, 4, container, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (st, 5, ntohl (container_ip.s_addr));
          sqlite3_bind_int (st, 6, s->container_port);
          rc = sqlite3_step (st);
          if (rc != SQLITE_DONE && (sqlite3_extended_errcode (db) & 0xff) != SQLITE_CONSTRAINT)
            return arca_net_sql_fail (db, "reserve port", err);
        }
      if (rc != SQLITE_DONE)
        return arca_error_set (err, EADDRINUSE,
                               "host port %u/%s is already published by another container",
                               port, s->proto);
      ret[i] = (struct arca_nft_port){ .proto = static_proto (s->proto), .host_ip = s->host_ip,
                                       .host_port = port, .container_ip = container_ip,
                                       .container_port = s->container_port };
    }
  return arca_net_sql_commit (&tx, err);
}

int
arca_portmap_list (sqlite3 *db, const char *container, struct arca_nft_port **ret, size_t *ret_n,
                   arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;
  cleanup_free struct arca_nft_port *v = NULL;
  size_t n = 0;

  if (arca_net_sql_prepare (db,
                            "SELECT proto, host_ip, host_port, container_ip, container_port "
                            "FROM net_ports WHERE container = ?1 ORDER BY proto, host_port",
                            &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, container, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      struct arca_nft_port *grown = realloc (v, (n + 1) * sizeof *v);
      if (grown == NULL)
        return arca_error_set (err, ENOMEM, "ports");
      v = grown;
      v[n++] = (struct arca_nft_port){
        .proto = static_proto ((const char *) sqlite3_column_text (st, 0)),
        .host_ip.s_addr = htonl ((uint32_t) sqlite3_column_int64 (st, 1)),
        .host_port = (uint16_t) sqlite3_column_int (st, 2),
        .container_ip.s_addr = htonl ((uint32_t) sqlite3_column_int64 (st, 3)),
        .container_port = (uint16_t) sqlite3_column_int (st, 4),
      };
    }
  *ret = move_ptr (v);
  *ret_n = n;
  return 0;
}

int
arca_portmap_release (sqlite3 *db, const char *container, arca_error **err)
{
  cleanup_sql sqlite3_stmt *st = NULL;

  if (arca_net_sql_prepare (db, "DELETE FROM net_ports WHERE container = ?1", &st, err) < 0)
    return -1;
  sqlite3_bind_text (st, 1, container, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    return arca_net_sql_fail (db, "release ports", err);
  return 0;
}
