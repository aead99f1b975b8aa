/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca run --vm` on a bridge (see vm-net.h): the tap, its endpoint row and
 * address, and what the guest's /etc files say (nameservers, host lines). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/network-bridge.h"
#include "engine/network-internal.h"
#include "engine/vm-net.h"
#include "engine/vm-proto.h"
#include "image/db-internal.h" /* the engine's sqlite handle */
#include "net/hostdb.h"
#include "net/ipam.h"
#include "net/netlink.h"
#include "net/sql.h"
#include "net/tap.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define TAP_PREFIX "vmt"
#define MAX_LINES 256

bool
arca_vm_net_is_tap (const char *link)
{
  return strncmp (link, TAP_PREFIX, strlen (TAP_PREFIX)) == 0;
}

bool
arca_vm_run_alive (struct arca_engine *e, const char *id)
{
  cleanup_free char *path = NULL;

  if (strchr (id, '/') != NULL
      || asprintf (&path, "%s/vm/runs/%s/" ARCA_VM_RUN_LOCK, e->root, id) < 0)
    return true; /* when in doubt, keep it */
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno != ENOENT;
  return flock (fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* The guest's eth0 stays at 1500 (arca-vmm's virtio-net gives it
 * 1500-byte receive buffers) while the bridge and its taps may run at up to
 * 65520 (network-bridge.h): the host's own packets to the guest take a /32
 * route at the guest's MTU, so a big UDP datagram leaves in fragments
 * instead of one frame the guest drops.  Replaces a stale one. */
static int
guest_route_add (struct arca_nl *nl, unsigned bridge, struct in_addr address, arca_error **err)
{
  const struct arca_nl_route r = { .dst = address, .prefix = 32, .oif = bridge,
                                   .mtu = ARCA_NET_ROUTE_MTU };

  if (arca_nl_route_del (nl, &r, err) < 0 || arca_nl_route_add (nl, &r, err) < 0)
    return arca_error_wrap (err, "host route to the guest");
  return 0;
}

int
arca_vm_net_route_forget (const char *bridge, struct in_addr address, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  unsigned index = 0;

  if (address.s_addr == 0 || arca_nl_open (&nl, err) < 0
      || arca_nl_link_index (nl, bridge, &index, err) < 0)
    return address.s_addr == 0 ? 0 : -1;
  if (index == 0)
    return 0; /* the bridge went, and its routes with it */
  const struct arca_nl_route r = { .dst = address, .prefix = 32, .oif = index };
  return arca_nl_route_del (nl, &r, err);
}

static void
strv_free (char ***v)
{
  arca_strv_free (*v);
  *v = NULL;
}

void
arca_vm_net_free (struct arca_vm_net *n)
{
  strv_free (&n->dns);
  strv_free (&n->search);
  strv_free (&n->hosts);
}

static int
push (char ***v, size_t max, const char *s, arca_error **err)
{
  if (arca_strv_length (*v) >= max)
    return 0; /* more than the guest takes: the rest are left out */
  return arca_strv_append (v, NULL, s) < 0 ? arca_error_errno (err, "vm network") : 0;
}

static int
add_host (struct arca_vm_net *n, struct in_addr a, const char *name, arca_error **err)
{
  char ip[INET_ADDRSTRLEN], line[INET_ADDRSTRLEN + 8 * (ARCA_VM_NAME_MAX + 1)];

  inet_ntop (AF_INET, &a, ip, sizeof ip);
  snprintf (line, sizeof line, "%s %s", ip, name);
  return push (&n->hosts, MAX_LINES, line, err);
}

/* The word after keyword at the start of line (as the resolver reads
 * resolv.conf), NULL when line is not that keyword's. */
static char *
keyword_value (char *line, const char *keyword)
{
  size_t k = strlen (keyword);

  if (strncmp (line, keyword, k) != 0 || (line[k] != ' ' && line[k] != '\t'))
    return NULL;
  return line + k;
}

/* The guest's resolver is the container's (arca_network_resolv_conf): its
 * nameserver lines, IPv4 only, and the domains of its last search or
 * domain line (the one the resolver uses), within what the guest takes. */
static int
resolver (struct arca_vm_net *n, const struct arca_run_spec *s, arca_error **err)
{
  cleanup_free char *conf = NULL;
  struct in_addr a;
  char *value;

  for (size_t i = 0; s->dns && s->dns[i]; i++)
    if (inet_pton (AF_INET, s->dns[i], &a) != 1)
      return arca_error_set (err, EINVAL, "--dns `%s`: not an IPv4 address", s->dns[i]);
  if (arca_network_resolv_conf (s->dns, &conf, err) < 0)
    return -1;
  for (char *save = NULL, *line = strtok_r (conf, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    if ((value = keyword_value (line, "nameserver")) != NULL)
      {
        char *save2 = NULL, *ns = strtok_r (value, " \t", &save2);
        if (ns && inet_pton (AF_INET, ns, &a) == 1 && push (&n->dns, 8, ns, err) < 0)
          return -1;
      }
    else if ((value = keyword_value (line, "search")) != NULL
             || (value = keyword_value (line, "domain")) != NULL)
      {
        bool domain = line[0] == 'd';
        strv_free (&n->search);
        for (char *save2 = NULL, *d = strtok_r (value, " \t", &save2); d;
             d = domain ? NULL : strtok_r (NULL, " \t", &save2))
          if (arca_vm_name_valid (d, false) && push (&n->search, 6, d, err) < 0)
            return -1;
      }
  return 0;
}

struct peer_hosts
{
  struct arca_vm_net *net;
  int r;
  arca_error *err;
};

/* A peer by name and its --network-alias names, on one hosts line as a
 * container's /etc/hosts has them (the agent takes 8 names a line; names
 * it would refuse are left out). */
static void
add_peer_host (struct in_addr address, const char *name, json_t *aliases, void *userdata)
{
  struct peer_hosts *ph = userdata;
  char line[8 * (ARCA_VM_NAME_MAX + 1)];
  size_t len, names = 1, i;
  json_t *alias;

  if (ph->r != 0 || !arca_vm_name_valid (name, true))
    return;
  len = (size_t) snprintf (line, sizeof line, "%s", name);
  json_array_foreach (aliases, i, alias)
    {
      const char *a = json_string_value (alias);
      if (names == 8)
        break;
      if (a == NULL || !arca_vm_name_valid (a, true) || strcmp (a, name) == 0
          || len + 1 + strlen (a) >= sizeof line)
        continue;
      len += (size_t) snprintf (line + len, sizeof line - len, " %s", a);
      names++;
    }
  ph->r = add_host (ph->net, address, line, &ph->err);
}

/* --add-host NAME:IP, and on a user network its running containers by
 * name, as containers of that network see each other. */
static int
host_lines (struct arca_engine *e, sqlite3 *hdb, struct arca_vm_net *n,
            const struct arca_run_spec *s, bool user, arca_error **err)
{
  struct in_addr a;

  for (size_t i = 0; s->add_hosts && s->add_hosts[i]; i++)
    {
      const char *colon = strchr (s->add_hosts[i], ':');
      char name[65];
      if (colon == NULL || (size_t) (colon - s->add_hosts[i]) >= sizeof name
          || inet_pton (AF_INET, colon + 1, &a) != 1)
        return arca_error_set (err, EINVAL, "--add-host `%s`: expected NAME:IPv4", s->add_hosts[i]);
      snprintf (name, sizeof name, "%.*s", (int) (colon - s->add_hosts[i]), s->add_hosts[i]);
      if (!arca_vm_name_valid (name, true))
        return arca_error_set (err, EINVAL, "--add-host `%s`: not a host name", s->add_hosts[i]);
      if (add_host (n, a, name, err) < 0)
        return -1;
    }
  struct peer_hosts ph = { .net = n };
  if (user)
    arca_network_each_peer (e, hdb, n->id, add_peer_host, &ph);
  if (ph.r < 0)
    *err = ph.err;
  return ph.r;
}

/* Endpoints a crashed `run --vm` of this root left (its lock is free). */
static void
reclaim_dead_runs (struct arca_engine *e, sqlite3 *hdb)
{
  struct arca_endpoint *eps = NULL;
  size_t n = 0;
  cleanup_error arca_error *ignored = NULL;

  if (arca_endpoint_list (hdb, e->root, NULL, NULL, &eps, &n, &ignored) < 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (arca_vm_net_is_tap (eps[i].veth) && !arca_vm_run_alive (e, eps[i].container))
      {
        cleanup_nl struct arca_nl *nl = NULL;
        char table[32];
        arca_bridge_table_name (eps[i].bridge, table);
        arca_bridge_unpublish (e, eps[i].container, table, &ignored);
        arca_vm_net_route_forget (eps[i].bridge, eps[i].address, &ignored);
        arca_error_freep (&ignored);
        if (arca_nl_open (&nl, &ignored) == 0)
          arca_nl_link_del (nl, eps[i].veth, &ignored);
        arca_endpoint_forget (hdb, eps[i].container, eps[i].network, eps[i].bridge, &ignored);
      }
  arca_endpoints_free (eps, n);
}

/* -p and -P to the run's address, reserved under its id (all or none). */
static int
publish (struct arca_engine *e, const struct arca_run_spec *s, char **exposed_ports,
         struct arca_vm_net *n, bool internal, arca_error **err)
{
  if (s->publish == NULL && !(s->publish_all && exposed_ports && exposed_ports[0]))
    return 0;
  if (internal)
    return arca_error_set (err, EINVAL, "network %s is internal: ports cannot be published",
                           n->network);
  json_t *opts = arca_bridge_options_json (s, exposed_ports);
  if (opts == NULL)
    return arca_error_set (err, ENOMEM, "vm network");
  int r = arca_bridge_publish (e, n->id, opts, n->table, n->address, err);
  json_decref (opts);
  return r < 0 ? arca_error_wrap (err, "publish") : 0;
}

static int
attach (struct arca_engine *e, sqlite3 *hdb, const struct arca_run_spec *s, char **exposed_ports,
        struct arca_vm_net *n, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  struct arca_subnet subnet;
  struct in_addr want = { 0 };
  unsigned bridge = 0, tap = 0, mtu = 0;
  char mac_text[18] = "";
  bool user = s->network_name != NULL, internal = false;

  if (s->ip && inet_pton (AF_INET, s->ip, &want) != 1)
    return arca_error_set (err, EINVAL, "--ip `%s`: not an IPv4 address", s->ip);
  if (arca_nl_open (&nl, err) < 0)
    return -1;
  if (user)
    {
      struct user_net un;
      if (user_net_load (e, s->network_name, &un, err) < 0 || user_net_realize (&un, err) < 0
          || arca_nl_link_index (nl, un.bridge, &bridge, err) < 0)
        return -1;
      if (bridge == 0)
        return arca_error_set (err, ENODEV, "network %s: bridge `%s` missing", un.name, un.bridge);
      snprintf (n->network, sizeof n->network, "%s", un.name);
      memcpy (n->bridge, un.bridge, sizeof n->bridge);
      subnet = un.subnet;
      internal = un.internal;
      mtu = un.mtu;
      n->gateway = un.internal ? (struct in_addr) { 0 } : un.gateway;
      arca_bridge_table_name (un.bridge, n->table);
    }
  else
    {
      if (arca_bridge_realize (e, nl, n->bridge, n->table, &subnet, &n->gateway, &bridge, &mtu,
                               err) < 0)
        return -1;
      snprintf (n->network, sizeof n->network, "bridge");
    }
  n->prefix = subnet.prefix;
  snprintf (n->tap, sizeof n->tap, TAP_PREFIX "%.12s", n->id);
  /* The row first: a crash after it leaves what the reclaim finds. */
  struct arca_endpoint ep = { .container = n->id, .network = n->network, .root = e->root,
                              .bridge = n->bridge, .veth = n->tap, .ifname = (char *) "eth0",
                              .mac = mac_text };
  if (arca_endpoint_put (hdb, &ep, err) < 0)
    return -1;
  n->attached = true;
  if (arca_ipam_allocate (hdb, n->bridge, &subnet, n->id, want, &n->address, err) < 0
      || arca_bridge_mac (n->address, s->mac_address, n->mac, err) < 0)
    return -1;
  snprintf (mac_text, sizeof mac_text, "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
            n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
  ep.address = n->address;
  /* The tap takes the network's link MTU: a smaller port would lower the
   * bridge's own MTU (the kernel keeps a bridge at its ports' minimum) and
   * with it the host's path to every container.  The guest's eth0 keeps
   * 1500: TCP's MSS and the containers' subnet route (ARCA_NET_ROUTE_MTU)
   * take care of the difference. */
  struct arca_nl_link_change to_bridge = { .master = bridge, .netns_fd = -1, .up = true,
                                           .mtu = arca_net_link_mtu (mtu) };
  if (arca_endpoint_put (hdb, &ep, err) < 0 || publish (e, s, exposed_ports, n, internal, err) < 0
      || arca_tap_create (n->tap, err) < 0
      || arca_nl_link_index (nl, n->tap, &tap, err) < 0)
    return -1;
  if (tap == 0)
    return arca_error_set (err, ENODEV, "tap `%s` vanished", n->tap);
  if (arca_nl_link_set (nl, tap, &to_bridge, err) < 0)
    return -1;
  if (to_bridge.mtu > ARCA_NET_ROUTE_MTU && guest_route_add (nl, bridge, n->address, err) < 0)
    return -1;
  return resolver (n, s, err) < 0 || host_lines (e, hdb, n, s, user, err) < 0 ? -1 : 0;
}

int
arca_vm_net_attach (struct arca_engine *e, const char *id, const struct arca_run_spec *spec,
                    char **exposed_ports, struct arca_vm_net *n, arca_error **err)
{
  cleanup_hostdb sqlite3 *hdb = NULL;

  snprintf (n->id, sizeof n->id, "%s", id);
  n->engine = e;
  switch (spec->network)
    {
    case ARCA_NET_NONE:
      return 0;
    case ARCA_NET_BRIDGE:
      break;
    default:
      return arca_error_set (err, ENOTSUP,
                             "--vm: --network host, container: and --pod are not supported "
                             "(bridge, a user network or none)");
    }
  if (arca_net_hostdb_open (&hdb, err) < 0)
    return -1;
  reclaim_dead_runs (e, hdb);
  if (attach (e, hdb, spec, exposed_ports, n, err) == 0)
    return 0;
  cleanup_error arca_error *ignored = NULL;
  arca_vm_net_detach (n, &ignored);
  /* A user network's errors name it already. */
  return arca_error_wrap (err, spec->network_name ? "--vm" : "--vm: network bridge");
}

int
arca_vm_net_detach (struct arca_vm_net *n, arca_error **err)
{
  cleanup_nl struct arca_nl *nl = NULL;
  cleanup_hostdb sqlite3 *hdb = NULL;
  arca_error *step[4] = { NULL };

  if (!n->attached)
    return 0;
  /* Every step runs even when one fails, so as much as possible goes;
   * the endpoint row last, as what a crash in between leaves is found
   * from it.  The first failure is the one reported. */
  if (n->table[0])
    arca_bridge_unpublish (n->engine, n->id, n->table, &step[0]);
  arca_vm_net_route_forget (n->bridge, n->address, &step[1]);
  if (arca_nl_open (&nl, &step[2]) == 0)
    arca_nl_link_del (nl, n->tap, &step[2]);
  if (arca_net_hostdb_open (&hdb, &step[3]) == 0)
    arca_endpoint_forget (hdb, n->id, n->network, n->bridge, &step[3]);
  int r = 0;
  for (size_t i = 0; i < ARRAY_SIZE (step); i++)
    if (step[i] != NULL)
      {
        if (r == 0)
          *err = step[i];
        else
          arca_error_free (step[i]);
        r = -1;
      }
  if (r == 0)
    n->attached = false;
  return r;
}

void
arca_vm_net_cleanup (struct arca_vm_net *n)
{
  cleanup_error arca_error *ignored = NULL;

  arca_vm_net_detach (n, &ignored);
  arca_vm_net_free (n);
}
