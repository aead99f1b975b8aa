/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's network and the files naming it: lo up; the NIC that has the
 * configured MAC (virtio-net) becomes eth0 with its address, netmask and the
 * default route, through the classic ioctls (the agent is static and has no
 * netlink library); then /etc/hostname, /etc/hosts and /etc/resolv.conf
 * of the image's root. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/* virtio_net probes when its module loads, but give a slow nested guest
 * time: 10 s. */
#define NIC_WAIT_TICKS 500
#define NIC_TICK_NS (20 * 1000 * 1000)

static int __attribute__ ((format (printf, 3, 4)))
fail (char *errbuf, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  int e = errno;

  va_start (ap, fmt);
  vsnprintf (errbuf, errlen, fmt, ap);
  va_end (ap);
  errno = e;
  return -1;
}

static void
set_name (struct ifreq *ifr, const char *name)
{
  memset (ifr, 0, sizeof *ifr);
  snprintf (ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
}

static struct sockaddr_in *
sin_of (struct sockaddr *sa, struct in_addr a)
{
  struct sockaddr_in *sin = (struct sockaddr_in *) (void *) sa;

  memset (sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr = a;
  return sin;
}

static int
link_up (int s, const char *name)
{
  struct ifreq ifr;

  set_name (&ifr, name);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return -1;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ioctl (s, SIOCSIFFLAGS, &ifr);
}

/* The name of the link whose MAC is mac (sysfs), waiting for it to appear. */
static int
find_nic (const uint8_t mac[6], char ret[IF_NAMESIZE])
{
  char want[18];
  struct timespec tick = { 0, NIC_TICK_NS };

  snprintf (want, sizeof want, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
            mac[4], mac[5]);
  for (int i = 0; i < NIC_WAIT_TICKS; i++)
    {
      DIR *d = opendir ("/sys/class/net");
      for (struct dirent *de; d && (de = readdir (d)) != NULL;)
        {
          char path[64 + sizeof de->d_name], addr[32] = "";
          if (de->d_name[0] == '.' || strlen (de->d_name) >= IF_NAMESIZE)
            continue;
          snprintf (path, sizeof path, "/sys/class/net/%s/address", de->d_name);
          int fd = open (path, O_RDONLY | O_CLOEXEC);
          if (fd < 0)
            continue;
          ssize_t n = read (fd, addr, sizeof addr - 1);
          close (fd);
          if (n >= 17 && strncmp (addr, want, 17) == 0)
            {
              snprintf (ret, IF_NAMESIZE, "%s", de->d_name);
              closedir (d);
              return 0;
            }
        }
      if (d)
        closedir (d);
      nanosleep (&tick, NULL);
    }
  errno = ENODEV;
  return -1;
}

int
agent_net_up (const struct agent_config *c, char *errbuf, size_t errlen)
{
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char nic[IF_NAMESIZE];
  struct ifreq ifr;
  int r = -1;

  if (s < 0)
    return fail (errbuf, errlen, "network: socket");
  if (link_up (s, "lo") < 0)
    {
      fail (errbuf, errlen, "network: bring lo up");
      goto out;
    }
  if (!c->has_net)
    {
      r = 0;
      goto out;
    }
  if (find_nic (c->mac, nic) < 0)
    {
      fail (errbuf, errlen, "network: no NIC with MAC %02x:%02x:%02x:%02x:%02x:%02x (virtio_net)",
            c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
      goto out;
    }
  /* The engine and the user know it as eth0. */
  if (strcmp (nic, "eth0") != 0)
    {
      set_name (&ifr, nic);
      snprintf (ifr.ifr_newname, sizeof ifr.ifr_newname, "eth0");
      if (ioctl (s, SIOCSIFNAME, &ifr) < 0)
        {
          fail (errbuf, errlen, "network: rename %s to eth0", nic);
          goto out;
        }
    }
  uint32_t mask = c->prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> c->prefix);
  struct in_addr netmask = { htonl (mask) };
  struct in_addr brd = { c->address.s_addr | htonl (~mask) };
  set_name (&ifr, "eth0");
  sin_of (&ifr.ifr_addr, c->address);
  if (ioctl (s, SIOCSIFADDR, &ifr) < 0)
    {
      fail (errbuf, errlen, "network: eth0: set address");
      goto out;
    }
  set_name (&ifr, "eth0");
  sin_of (&ifr.ifr_netmask, netmask);
  if (ioctl (s, SIOCSIFNETMASK, &ifr) < 0)
    {
      fail (errbuf, errlen, "network: eth0: set netmask /%u", c->prefix);
      goto out;
    }
  set_name (&ifr, "eth0");
  sin_of (&ifr.ifr_broadaddr, brd);
  if (c->prefix <= 30 && ioctl (s, SIOCSIFBRDADDR, &ifr) < 0)
    {
      fail (errbuf, errlen, "network: eth0: set broadcast address");
      goto out;
    }
  if (link_up (s, "eth0") < 0)
    {
      fail (errbuf, errlen, "network: bring eth0 up");
      goto out;
    }
  if (c->gateway.s_addr)
    {
      struct rtentry rt;
      struct in_addr any = { 0 };
      memset (&rt, 0, sizeof rt);
      sin_of (&rt.rt_dst, any);
      sin_of (&rt.rt_genmask, any);
      sin_of (&rt.rt_gateway, c->gateway);
      rt.rt_flags = RTF_UP | RTF_GATEWAY;
      if (ioctl (s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
        {
          char gw[INET_ADDRSTRLEN];
          inet_ntop (AF_INET, &c->gateway, gw, sizeof gw);
          fail (errbuf, errlen, "network: default route via %s", gw);
          goto out;
        }
    }
  r = 0;
out:
  close (s);
  return r;
}

/* Replaces path (a symlink of the image is replaced too, not followed). */
static int
put_file (const char *path, const char *text, char *errbuf, size_t errlen)
{
  size_t len = strlen (text);

  if (unlink (path) < 0 && errno != ENOENT && errno != EISDIR)
    return fail (errbuf, errlen, "replace `%s`", path);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail (errbuf, errlen, "create `%s`", path);
  for (const char *p = text; len > 0;)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          close (fd);
          return fail (errbuf, errlen, "write `%s`", path);
        }
      p += n;
      len -= (size_t) n;
    }
  close (fd);
  return 0;
}

int
agent_net_write_etc (const struct agent_config *c, char *errbuf, size_t errlen)
{
  char *text = NULL;
  size_t len = 0;
  char addr[INET_ADDRSTRLEN];
  int r = 0;

  if (mkdir ("/etc", 0755) < 0 && errno != EEXIST)
    return fail (errbuf, errlen, "mkdir `/etc`");
  if (c->hostname)
    {
      FILE *f = open_memstream (&text, &len);
      if (f == NULL)
        return fail (errbuf, errlen, "hostname: out of memory");
      fprintf (f, "%s\n", c->hostname);
      fclose (f);
      r = text ? put_file ("/etc/hostname", text, errbuf, errlen) : -1;
      free (text);
      text = NULL;
      if (r < 0)
        return -1;
    }
  FILE *f = open_memstream (&text, &len);
  if (f == NULL)
    return fail (errbuf, errlen, "hosts: out of memory");
  fputs ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", f);
  if (c->has_net && c->hostname)
    fprintf (f, "%s\t%s\n", inet_ntop (AF_INET, &c->address, addr, sizeof addr), c->hostname);
  for (size_t i = 0; c->hosts[i]; i++)
    {
      const char *sp = strchr (c->hosts[i], ' ');
      fprintf (f, "%.*s\t%s\n", (int) (sp - c->hosts[i]), c->hosts[i], sp + 1);
    }
  fclose (f);
  r = text ? put_file ("/etc/hosts", text, errbuf, errlen) : -1;
  free (text);
  text = NULL;
  if (r < 0 || !c->has_net)
    return r;
  f = open_memstream (&text, &len);
  if (f == NULL)
    return fail (errbuf, errlen, "resolv.conf: out of memory");
  for (size_t i = 0; c->dns[i]; i++)
    fprintf (f, "nameserver %s\n", c->dns[i]);
  for (size_t i = 0; c->search[i]; i++)
    fprintf (f, "%s%s", i ? " " : "search ", c->search[i]);
  if (c->search[0])
    fputc ('\n', f);
  fclose (f);
  r = text ? put_file ("/etc/resolv.conf", text, errbuf, errlen) : -1;
  free (text);
  return r;
}
