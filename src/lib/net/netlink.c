/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink requests over libmnl, each one acknowledged before returning so
 * errors carry the kernel's errno. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/ethtool.h"
#include "util/cleanup.h"

/* Fits every request and one batch of replies (libmnl's MNL_SOCKET_BUFFER_SIZE
 * is computed at run time, which would make these arrays VLAs). */
#define NL_BUF 8192

struct arca_nl {
  struct mnl_socket *sock;
  unsigned portid;
  unsigned seq;
};

static int
nl_open_here (struct arca_nl **ret, arca_error **err)
{
  cleanup_free struct arca_nl *nl = calloc (1, sizeof *nl);

  if (nl == NULL)
    return arca_error_set (err, ENOMEM, "netlink");
  nl->sock = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl->sock == NULL)
    return arca_error_errno (err, "open rtnetlink socket");
  if (mnl_socket_bind (nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int saved = errno;
      mnl_socket_close (nl->sock);
      return arca_error_set (err, saved, "bind rtnetlink socket");
    }
  nl->portid = mnl_socket_get_portid (nl->sock);
  nl->seq = (unsigned) time (NULL);
  *ret = move_ptr (nl);
  return 0;
}

int
arca_nl_open (struct arca_nl **ret, arca_error **err)
{
  return nl_open_here (ret, err);
}

int
arca_nl_open_in (int netns_fd, struct arca_nl **ret, arca_error **err)
{
  cleanup_close int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

  if (self < 0)
    return arca_error_errno (err, "open `/proc/thread-self/ns/net`");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return arca_error_errno (err, "enter the container's network namespace");
  int r = nl_open_here (ret, err);
  /* Not returning to our own namespace would leave every later socket of
   * this thread in the container's: that is worse than aborting. */
  if (setns (self, CLONE_NEWNET) < 0)
    abort ();
  return r;
}

void
arca_nl_close (struct arca_nl *nl)
{
  if (nl == NULL)
    return;
  mnl_socket_close (nl->sock);
  free (nl);
}

void
arca_nl_closep (struct arca_nl **nl)
{
  arca_nl_close (*nl);
}

/* Sends nlh and reads replies until the ack; cb sees data messages. */
static int
nl_talk (struct arca_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what,
         arca_error **err)
{
  char buf[NL_BUF];

  nlh->nlmsg_seq = ++nl->seq;
  nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto (nl->sock, nlh, nlh->nlmsg_len) < 0)
    return arca_error_errno (err, "%s: netlink send", what);
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (nl->sock, buf, sizeof buf);
      if (n < 0)
        return arca_error_errno (err, "%s: netlink receive", what);
      int r = mnl_cb_run (buf, (size_t) n, nl->seq, nl->portid, cb, data);
      if (r < 0)
        return arca_error_errno (err, "%s", what);
      if (r == MNL_CB_STOP)
        return 0;
    }
}

static struct nlmsghdr *
link_msg (char *buf, uint16_t type, uint16_t flags, struct ifinfomsg **ret_ifm)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  if (ret_ifm)
    *ret_ifm = ifm;
  return nlh;
}

static int
link_index_cb (const struct nlmsghdr *nlh, void *data)
{
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload (nlh);
  *(unsigned *) data = (unsigned) ifm->ifi_index;
  return MNL_CB_OK;
}

int
arca_nl_link_index (struct arca_nl *nl, const char *name, unsigned *ret_index, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = link_msg (buf, RTM_GETLINK, 0, NULL);
  unsigned index = 0;
  cleanup_error arca_error *local = NULL;

  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (nl_talk (nl, nlh, link_index_cb, &index, "get link", &local) < 0)
    {
      if (local->errnum != ENODEV)
        return arca_error_set (err, local->errnum, "get link `%s`", name);
      index = 0;
    }
  *ret_index = index;
  return 0;
}

int
arca_nl_bridge_add (struct arca_nl *nl, const char *name, unsigned mtu, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, NULL);
  cleanup_error arca_error *local = NULL;

  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  struct nlattr *info = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, info);
  if (nl_talk (nl, nlh, NULL, NULL, "create bridge", &local) < 0 && local->errnum != EEXIST)
    return arca_error_set (err, local->errnum, "create bridge `%s`", name);
  return 0;
}

int
arca_nl_veth_add (struct arca_nl *nl, const char *name, const char *peer_name, int peer_netns_fd,
                  const unsigned char *peer_mac, unsigned mtu, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, NULL);

  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  struct nlattr *info = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  struct nlattr *peer = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  /* The peer's attributes follow its own ifinfomsg. */
  struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header (nlh, sizeof *pifm);
  pifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, peer_name);
  if (peer_mac)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, peer_mac);
  if (mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  if (peer_netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t) peer_netns_fd);
  mnl_attr_nest_end (nlh, peer);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, info);
  if (nl_talk (nl, nlh, NULL, NULL, "create veth", err) < 0)
    return arca_error_wrap (err, "veth `%s`", name);
  /* GRO (NAPI receive) on both ends is a speed-up, not a function: a kernel
   * that refuses it still has a working pair. */
  cleanup_error arca_error *ignored = NULL;
  if (arca_ethtool_gro_on (-1, name, &ignored) < 0)
    arca_error_freep (&ignored);
  if (arca_ethtool_gro_on (peer_netns_fd, peer_name, &ignored) < 0)
    arca_error_freep (&ignored);
  return 0;
}

int
arca_nl_link_del (struct arca_nl *nl, const char *name, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = link_msg (buf, RTM_DELLINK, 0, NULL);
  cleanup_error arca_error *local = NULL;

  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  /* Already gone (deleting one veth end removes the other) is success. */
  if (nl_talk (nl, nlh, NULL, NULL, "delete link", &local) < 0 && local->errnum != ENODEV)
    return arca_error_set (err, local->errnum, "delete link `%s`", name);
  return 0;
}

int
arca_nl_link_set (struct arca_nl *nl, unsigned index, const struct arca_nl_link_change *c,
                  arca_error **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, 0, &ifm);

  ifm->ifi_index = (int) index;
  if (c->up)
    {
      ifm->ifi_change = IFF_UP;
      ifm->ifi_flags = IFF_UP;
    }
  if (c->new_name)
    mnl_attr_put_strz (nlh, IFLA_IFNAME, c->new_name);
  if (c->master)
    mnl_attr_put_u32 (nlh, IFLA_MASTER, c->master);
  if (c->mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, c->mtu);
  if (c->netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t) c->netns_fd);
  if (nl_talk (nl, nlh, NULL, NULL, "change link", err) < 0)
    return arca_error_wrap (err, "link %u", index);
  return 0;
}

int
arca_nl_bridge_port_hairpin (struct arca_nl *nl, unsigned index, arca_error **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_msg (buf, RTM_SETLINK, 0, &ifm);

  ifm->ifi_family = AF_BRIDGE;
  ifm->ifi_index = (int) index;
  struct nlattr *pi = mnl_attr_nest_start (nlh, IFLA_PROTINFO);
  mnl_attr_put_u8 (nlh, IFLA_BRPORT_MODE, 1);
  mnl_attr_nest_end (nlh, pi);
  if (nl_talk (nl, nlh, NULL, NULL, "bridge port hairpin", err) < 0)
    return arca_error_wrap (err, "link %u", index);
  return 0;
}

static int
addr_add (struct arca_nl *nl, unsigned index, struct in_addr addr, unsigned prefix,
          uint32_t flags, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  cleanup_error arca_error *local = NULL;

  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char) prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put (nlh, IFA_LOCAL, sizeof addr, &addr);
  mnl_attr_put (nlh, IFA_ADDRESS, sizeof addr, &addr);
  if (prefix < 31)
    {
      struct in_addr bcast = { .s_addr = addr.s_addr | htonl (0xffffffffu >> prefix) };
      mnl_attr_put (nlh, IFA_BROADCAST, sizeof bcast, &bcast);
    }
  if (flags)
    mnl_attr_put_u32 (nlh, IFA_FLAGS, flags);
  if (nl_talk (nl, nlh, NULL, NULL, "add address", &local) < 0 && local->errnum != EEXIST)
    return arca_error_set (err, local->errnum, "add address to link %u", index);
  return 0;
}

int
arca_nl_addr_add (struct arca_nl *nl, unsigned index, struct in_addr addr, unsigned prefix,
                  arca_error **err)
{
  return addr_add (nl, index, addr, prefix, 0, err);
}

int
arca_nl_addr_add_noprefixroute (struct arca_nl *nl, unsigned index, struct in_addr addr,
                                unsigned prefix, arca_error **err)
{
  return addr_add (nl, index, addr, prefix, IFA_F_NOPREFIXROUTE, err);
}

int
arca_nl_route_add (struct arca_nl *nl, const struct arca_nl_route *r, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = (unsigned char) r->prefix;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = r->gateway.s_addr ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  if (r->prefix)
    mnl_attr_put (nlh, RTA_DST, sizeof r->dst, &r->dst);
  if (r->gateway.s_addr)
    mnl_attr_put (nlh, RTA_GATEWAY, sizeof r->gateway, &r->gateway);
  if (r->oif)
    mnl_attr_put_u32 (nlh, RTA_OIF, r->oif);
  if (r->prefsrc.s_addr)
    mnl_attr_put (nlh, RTA_PREFSRC, sizeof r->prefsrc, &r->prefsrc);
  if (r->mtu)
    {
      struct nlattr *metrics = mnl_attr_nest_start (nlh, RTA_METRICS);
      mnl_attr_put_u32 (nlh, RTAX_MTU, r->mtu);
      mnl_attr_nest_end (nlh, metrics);
    }
  char dst[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &r->dst, dst, sizeof dst);
  if (nl_talk (nl, nlh, NULL, NULL, "add route", err) < 0)
    return arca_error_wrap (err, "route %s/%u", dst, r->prefix);
  return 0;
}

int
arca_nl_route_del (struct arca_nl *nl, const struct arca_nl_route *r, arca_error **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = RTM_DELROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = (unsigned char) r->prefix;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_scope = RT_SCOPE_NOWHERE;
  if (r->prefix)
    mnl_attr_put (nlh, RTA_DST, sizeof r->dst, &r->dst);
  if (r->oif)
    mnl_attr_put_u32 (nlh, RTA_OIF, r->oif);
  char dst[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &r->dst, dst, sizeof dst);
  if (nl_talk (nl, nlh, NULL, NULL, "delete route", err) < 0)
    {
      if ((*err)->errnum != ESRCH && (*err)->errnum != ENOENT)
        return arca_error_wrap (err, "route %s/%u", dst, r->prefix);
      arca_error_freep (err); /* already gone */
    }
  return 0;
}

int
arca_nl_route_default (struct arca_nl *nl, struct in_addr gateway, arca_error **err)
{
  const struct arca_nl_route r = { .gateway = gateway };
  return arca_nl_route_add (nl, &r, err);
}
