/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control API: HTTP/1.1 + JSON over a unix socket, Firecracker's
 * resource names.  One thread runs an event loop over the listening socket,
 * the clients and an eventfd that says the VM stopped; each request is
 * parsed, mapped to one typed action on the machine, and answered.  The
 * API is never on the guest's I/O path. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api-http.h"
#include "eventloop.h"
#include "jail.h"
#include "util/cleanup.h"
#include "vm.h"

#define MAX_CLIENTS 16

struct api_client {
  struct arca_vmm_api *api;
  int fd;
  size_t len;
  char buf[API_HTTP_MAX_REQUEST];
};

struct api_drive {
  char id[64];
  char path[PATH_MAX];
  bool read_only;
};

struct arca_vmm_api {
  struct event_loop loop;
  int listen_fd;
  int exited_fd;                /* the waiter thread writes it when the VM stopped */
  char sock_path[sizeof (((struct sockaddr_un *) 0)->sun_path)];   /* "": not ours to remove */
  bool jailed;                  /* --jail: request paths go through jail_path() */
  int jail_root_fd;             /* the jail's root with --jail-dir, else -1 */

  /* Configuration collected before InstanceStart. */
  struct arca_vm_config config;
  char kernel[PATH_MAX];
  char initrd[PATH_MAX];
  char cmdline[VM_CMDLINE_MAX];
  struct api_drive drives[ARCA_VM_MAX_DRIVES];
  char net_tap[16];
  char vsock_path[108];

  pthread_mutex_t lock;         /* guards vm against api_stop from other threads */
  struct arca_vm *vm;
  struct arca_vm *created;      /* built by arca_vmm_api_create, not started yet */
  pthread_t waiter;
  bool waiter_started;
  bool stop_requested;
  struct arca_vm_exit exit;
  struct api_client *clients[MAX_CLIENTS];
};

/* A handler returns the HTTP status and, for errors, a message. */
struct api_reply {
  int status;
  char *body;                   /* JSON, owned */
  char fault[512];
};

static int
fault (struct api_reply *r, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
fault (struct api_reply *r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (r->fault, sizeof (r->fault), fmt, ap);
  va_end (ap);
  r->status = 400;
  return -1;
}

static const char *
state_name (struct arca_vmm_api *api)
{
  if (api->vm == NULL)
    return "Not started";
  if (!arca_vm_is_running (api->vm))
    return "Stopped";
  return arca_vm_is_paused (api->vm) ? "Paused" : "Running";
}

static void *
waiter_thread (void *opaque)
{
  struct arca_vmm_api *api = opaque;
  cleanup_error arca_error *err = NULL;
  uint64_t one = 1;

  if (arca_vm_wait (api->vm, &api->exit, &err) < 0)
    {
      api->exit.reason = ARCA_VM_EXIT_ERROR;
      snprintf (api->exit.message, sizeof (api->exit.message), "%s", err->msg);
    }
  if (write (api->exited_fd, &one, sizeof (one)) < 0)
    return NULL;
  return NULL;
}

/* Takes ownership of vm: starts it (unless an incoming migration already
   did) and the thread that waits for it. */
static int
adopt_vm_started (struct arca_vmm_api *api, struct arca_vm *vm, bool started, arca_error **err)
{
  int r;

  pthread_mutex_lock (&api->lock);
  api->vm = vm;
  pthread_mutex_unlock (&api->lock);
  if (!started && arca_vm_start (vm, err) < 0)
    return -1;
  r = pthread_create (&api->waiter, NULL, waiter_thread, api);
  if (r != 0)
    {
      arca_vm_stop (vm);
      return arca_error_set (err, r, "start vm waiter thread");
    }
  api->waiter_started = true;
  /* From here on no other machine can be built by this process. */
  if (api->config.seccomp && arca_vm_sandbox (vm, err) < 0)
    {
      arca_vm_stop (vm);
      return -1;
    }
  return 0;
}

static int
adopt_vm (struct arca_vmm_api *api, struct arca_vm *vm, arca_error **err)
{
  return adopt_vm_started (api, vm, false, err);
}

static void
build_config (struct arca_vmm_api *api)
{
  struct arca_vm_config *c = &api->config;

  c->kernel_path = api->kernel[0] ? api->kernel : NULL;
  c->initrd_path = api->initrd[0] ? api->initrd : NULL;
  c->cmdline = api->cmdline[0] ? api->cmdline : NULL;
  c->net.tap = api->net_tap[0] ? api->net_tap : NULL;
  c->vsock.uds_path = api->vsock_path[0] ? api->vsock_path : NULL;
  for (unsigned i = 0; i < c->n_drives; i++)
    c->drives[i] = (struct arca_vm_drive_config){ .id = api->drives[i].id,
                                                  .path = api->drives[i].path,
                                                  .read_only = api->drives[i].read_only };
}

static int
instance_start (struct arca_vmm_api *api, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  struct arca_vm *vm = NULL;

  if (api->vm != NULL)
    return fault (reply, "the microVM is already started");
  if (api->kernel[0] == '\0')
    return fault (reply, "no boot source: PUT /boot-source first");
  build_config (api);
  if (arca_vm_create (&api->config, &vm, &err) < 0 || adopt_vm (api, vm, &err) < 0)
    {
      if (api->vm == NULL)
        arca_vm_free (vm);
      return fault (reply, "start the microVM: %s", err->msg);
    }
  return 0;
}

/* JSON field helpers: absent fields keep their value; wrong types fail. */
static int
get_string (json_t *obj, const char *key, char *dst, size_t size, bool required,
            struct api_reply *reply)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return required ? fault (reply, "missing field `%s`", key) : 0;
  if (!json_is_string (v))
    return fault (reply, "field `%s` must be a string", key);
  if (strlen (json_string_value (v)) >= size)
    return fault (reply, "field `%s` is too long", key);
  snprintf (dst, size, "%s", json_string_value (v));
  return 0;
}

static int
get_uint (json_t *obj, const char *key, uint64_t min, uint64_t max, uint64_t *dst,
          struct api_reply *reply)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 0 || (uint64_t) json_integer_value (v) < min
      || (uint64_t) json_integer_value (v) > max)
    return fault (reply, "field `%s` must be an integer in %llu..%llu", key,
                  (unsigned long long) min, (unsigned long long) max);
  *dst = (uint64_t) json_integer_value (v);
  return 0;
}

static int
get_bool (json_t *obj, const char *key, bool *dst, struct api_reply *reply)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_boolean (v))
    return fault (reply, "field `%s` must be a boolean", key);
  *dst = json_is_true (v);
  return 0;
}

static int
require_not_started (struct arca_vmm_api *api, struct api_reply *reply)
{
  if (api->vm != NULL)
    return fault (reply, "the microVM is started: this can only be set before InstanceStart");
  return 0;
}

/* --jail: a file a request names is a file of the jail's root, which is
   the --jail-dir (docs/vmm.md), resolved beneath it
   (arca_vmm_jail_resolve); without --jail-dir the jail has no files, and
   the fault says so rather than ENOENT.  dst gets the path from the
   jail's root ("/snaps/state"). */
static int
jail_path (struct arca_vmm_api *api, const char *field, const char *path, char *dst,
           size_t size, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  char rel[PATH_MAX];

  if (!api->jailed)
    {
      if (strlen (path) >= size)
        return fault (reply, "field `%s` is too long", field);
      if (dst != path)
        memcpy (dst, path, strlen (path) + 1);
      return 0;
    }
  if (api->jail_root_fd < 0)
    return fault (reply, "field `%s`: arca-vmm runs in --jail without --jail-dir, so the jail "
                  "has no files: start it with --jail-dir DIR to name files inside DIR", field);
  if (arca_vmm_jail_resolve (api->jail_root_fd, path, rel, sizeof (rel), &err) < 0)
    {
      /* EPERM: outside the jail, EINVAL: no file name; the message says it. */
      bool say_errno = err->errnum != EPERM && err->errnum != EINVAL;
      return fault (reply, "field `%s`: %s%s%s", field, err->msg, say_errno ? ": " : "",
                    say_errno ? strerror (err->errnum) : "");
    }
  if (snprintf (dst, size, "/%s", rel) >= (int) size)
    return fault (reply, "field `%s` is too long", field);
  return 0;
}

static int
put_machine_config (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  uint64_t vcpus = api->config.vcpu_count, mem = api->config.mem_size_mib;
  char transport[8] = "";
  bool acpi = api->config.acpi;

  if (require_not_started (api, reply) < 0
      || get_bool (body, "acpi", &acpi, reply) < 0
      || get_uint (body, "vcpu_count", 1, ARCA_VM_MAX_VCPUS, &vcpus, reply) < 0
      || get_uint (body, "mem_size_mib", 16, 1 << 20, &mem, reply) < 0
      || get_string (body, "transport", transport, sizeof (transport), false, reply) < 0)
    return -1;
  if (transport[0] != '\0' && strcmp (transport, "pci") != 0 && strcmp (transport, "mmio") != 0)
    return fault (reply, "field `transport` must be \"pci\" or \"mmio\"");
  api->config.vcpu_count = (unsigned) vcpus;
  api->config.mem_size_mib = mem;
  api->config.acpi = acpi;
  if (transport[0] != '\0')
    api->config.transport = strcmp (transport, "pci") == 0 ? ARCA_VM_TRANSPORT_PCI
                                                           : ARCA_VM_TRANSPORT_MMIO;
  return 0;
}

static int
put_boot_source (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  char kernel[PATH_MAX], initrd[PATH_MAX] = "", cmdline[sizeof (api->cmdline)];
  bool has_initrd = json_object_get (body, "initrd_path") != NULL;

  snprintf (cmdline, sizeof (cmdline), "%s", api->cmdline);
  if (require_not_started (api, reply) < 0
      || get_string (body, "kernel_image_path", kernel, sizeof (kernel), true, reply) < 0
      || get_string (body, "boot_args", cmdline, sizeof (cmdline), false, reply) < 0
      || get_string (body, "initrd_path", initrd, sizeof (initrd), false, reply) < 0
      || jail_path (api, "kernel_image_path", kernel, kernel, sizeof (kernel), reply) < 0
      || (initrd[0] != '\0'
          && jail_path (api, "initrd_path", initrd, initrd, sizeof (initrd), reply) < 0))
    return -1;
  /* Nothing changes unless the whole request is valid. */
  snprintf (api->kernel, sizeof (api->kernel), "%s", kernel);
  snprintf (api->cmdline, sizeof (api->cmdline), "%s", cmdline);
  if (has_initrd)
    snprintf (api->initrd, sizeof (api->initrd), "%s", initrd);
  return 0;
}

static int
put_drive (struct arca_vmm_api *api, const char *id, json_t *body, struct api_reply *reply)
{
  struct api_drive d = { .read_only = false };
  char body_id[64] = "";
  unsigned i;

  if (require_not_started (api, reply) < 0
      || get_string (body, "drive_id", body_id, sizeof (body_id), true, reply) < 0
      || get_string (body, "path_on_host", d.path, sizeof (d.path), true, reply) < 0
      || get_bool (body, "is_read_only", &d.read_only, reply) < 0
      || jail_path (api, "path_on_host", d.path, d.path, sizeof (d.path), reply) < 0)
    return -1;
  if (strcmp (body_id, id) != 0)
    return fault (reply, "drive_id `%s` does not match the path `%s`", body_id, id);
  snprintf (d.id, sizeof (d.id), "%s", id);
  /* PUT replaces a drive of the same id. */
  for (i = 0; i < api->config.n_drives; i++)
    if (strcmp (api->drives[i].id, id) == 0)
      break;
  if (i == ARCA_VM_MAX_DRIVES)
    return fault (reply, "at most %d drives", ARCA_VM_MAX_DRIVES);
  api->drives[i] = d;
  if (i == api->config.n_drives)
    api->config.n_drives++;
  return 0;
}

static int
put_network (struct arca_vmm_api *api, const char *id, json_t *body, struct api_reply *reply)
{
  static const uint8_t default_mac[6] = { 0x02, 0xa7, 0xca, 0x00, 0x00, 0x01 };
  char body_id[64] = "", tap[sizeof (api->net_tap)] = "", mac[32] = "";
  unsigned m[6];

  /* A tap is attached through /dev/net/tun, a device the jail has none
     of, and TUNSETIFF needs CAP_NET_ADMIN unless the tap was made for
     arca-vmm's user: only the command line's --net, opened before the
     jail closes, works there (docs/vmm.md). */
  if (api->jailed)
    return fault (reply, "network interfaces cannot be added to a jailed arca-vmm (--jail): "
                  "it has no /dev/net/tun and no CAP_NET_ADMIN; give the tap on the command "
                  "line (--net TAP with --kernel), which opens it before the jail closes");
  if (require_not_started (api, reply) < 0
      || get_string (body, "iface_id", body_id, sizeof (body_id), true, reply) < 0
      || get_string (body, "host_dev_name", tap, sizeof (tap), true, reply) < 0
      || get_string (body, "guest_mac", mac, sizeof (mac), false, reply) < 0)
    return -1;
  if (strcmp (body_id, id) != 0)
    return fault (reply, "iface_id `%s` does not match the path `%s`", body_id, id);
  if (api->net_tap[0] != '\0' && strcmp (api->net_tap, tap) != 0)
    return fault (reply, "only one network interface is supported");
  memcpy (api->config.net.mac, default_mac, sizeof (default_mac));
  if (mac[0] != '\0')
    {
      if (sscanf (mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        return fault (reply, "guest_mac `%s` is not XX:XX:XX:XX:XX:XX", mac);
      for (int i = 0; i < 6; i++)
        api->config.net.mac[i] = (uint8_t) m[i];
    }
  snprintf (api->net_tap, sizeof (api->net_tap), "%s", tap);
  return 0;
}

/* Firecracker's body: {"guest_cid": N, "uds_path": PATH}. */
static int
put_vsock (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  char path[sizeof (api->vsock_path)] = "";
  uint64_t cid = 0;

  if (require_not_started (api, reply) < 0
      || get_string (body, "uds_path", path, sizeof (path) - 12, true, reply) < 0
      || jail_path (api, "uds_path", path, path, sizeof (path) - 12, reply) < 0)
    return -1;
  if (json_object_get (body, "guest_cid") == NULL)
    return fault (reply, "missing field `guest_cid`");
  if (get_uint (body, "guest_cid", 3, UINT32_MAX - 1, &cid, reply) < 0)
    return -1;
  api->config.vsock.cid = cid;
  snprintf (api->vsock_path, sizeof (api->vsock_path), "%s", path);
  return 0;
}

static int
put_actions (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  char action[64];

  if (get_string (body, "action_type", action, sizeof (action), true, reply) < 0)
    return -1;
  if (strcmp (action, "InstanceStart") == 0)
    return instance_start (api, reply);
  if (strcmp (action, "SendCtrlAltDel") == 0)
    {
      if (api->vm == NULL)
        return fault (reply, "the microVM is not started");
      if (arca_vm_send_ctrl_alt_del (api->vm, &err) < 0)
        return fault (reply, "%s", err->msg);
      return 0;
    }
  return fault (reply, "unknown action_type `%s`", action);
}

static int
patch_vm (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  char state[32];

  if (get_string (body, "state", state, sizeof (state), true, reply) < 0)
    return -1;
  if (api->vm == NULL)
    return fault (reply, "the microVM is not started");
  if (strcmp (state, "Paused") == 0)
    return arca_vm_pause (api->vm, &err) < 0 ? fault (reply, "%s", err->msg) : 0;
  if (strcmp (state, "Resumed") == 0)
    return arca_vm_resume (api->vm, &err) < 0 ? fault (reply, "%s", err->msg) : 0;
  return fault (reply, "state must be `Paused` or `Resumed`, not `%s`", state);
}

static int
put_snapshot (struct arca_vmm_api *api, bool create, json_t *body, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  char state_arg[PATH_MAX], mem_arg[PATH_MAX], state_path[PATH_MAX], mem_path[PATH_MAX];
  bool resume = false;

  if (get_string (body, "snapshot_path", state_arg, sizeof (state_arg), true, reply) < 0
      || get_string (body, "mem_file_path", mem_arg, sizeof (mem_arg), true, reply) < 0
      || get_bool (body, "resume_vm", &resume, reply) < 0
      || jail_path (api, "snapshot_path", state_arg, state_path, sizeof (state_path), reply) < 0
      || jail_path (api, "mem_file_path", mem_arg, mem_path, sizeof (mem_path), reply) < 0)
    return -1;
  if (create)
    {
      if (api->vm == NULL || !arca_vm_is_paused (api->vm))
        return fault (reply, "the microVM must be paused to snapshot it");
      if (arca_vm_snapshot (api->vm, state_path, mem_path, &err) < 0)
        return fault (reply, "%s", err->msg);
      return 0;
    }
  else
    {
      struct arca_vm *vm = NULL;
      if (require_not_started (api, reply) < 0)
        return -1;
      if (arca_vm_restore (&api->config, state_path, mem_path, &vm, &err) < 0)
        return fault (reply, "%s", err->msg);
      if (!resume && arca_vm_pause_before_start (vm, &err) < 0)
        {
          arca_vm_free (vm);
          return fault (reply, "%s", err->msg);
        }
      if (adopt_vm (api, vm, &err) < 0)
        return fault (reply, "%s", err->msg);
      return 0;
    }
}

static char *
migrate_stats_json (const struct arca_vm_migrate_stats *st)
{
  json_t *rounds = json_array (), *o;
  char *s;

  for (unsigned i = 0; i < st->n_rounds; i++)
    json_array_append_new (rounds, json_pack ("{s:I, s:I}", "pages", (json_int_t) st->round_pages[i],
                                              "us", (json_int_t) st->round_us[i]));
  const struct arca_vm_migrate_downtime *d = &st->downtime;
  json_t *down = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                            "pause_us", (json_int_t) d->pause_us,
                            "kvm_dirty_log_us", (json_int_t) d->kvm_dirty_log_us,
                            "final_send_us", (json_int_t) d->final_send_us,
                            "kvm_state_us", (json_int_t) d->kvm_state_us,
                            "state_save_us", (json_int_t) d->state_save_us,
                            "state_send_us", (json_int_t) d->state_send_us,
                            "wait_us", (json_int_t) d->wait_us,
                            "dst_receive_us", (json_int_t) d->dst_receive_us,
                            "dst_kvm_state_us", (json_int_t) d->dst_kvm_state_us,
                            "dst_apply_us", (json_int_t) d->dst_apply_us,
                            "dst_start_us", (json_int_t) d->dst_start_us);
  o = json_pack ("{s:o, s:I, s:I, s:I, s:I, s:o}", "rounds", rounds,
                 "final_pages", (json_int_t) st->final_pages,
                 "state_bytes", (json_int_t) st->state_bytes,
                 "downtime_us", (json_int_t) st->downtime_us,
                 "total_us", (json_int_t) st->total_us, "downtime", down);
  s = o != NULL ? json_dumps (o, JSON_COMPACT) : NULL;
  json_decref (o);
  return s;
}

/* Blocks the API thread for the whole migration: the VM is going away
   (or staying as it was), nothing else is worth serving meanwhile. */
static int
put_migrate (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  struct arca_vm_migrate_stats st;
  struct arca_vm_migrate_params p = { 0 };
  char dest[PATH_MAX];
  uint64_t down = 0, rounds = 0;

  if (get_string (body, "destination", dest, sizeof (dest), true, reply) < 0
      || get_uint (body, "max_downtime_ms", 1, 60000, &down, reply) < 0
      || get_uint (body, "max_rounds", 1, ARCA_VM_MIGRATE_MAX_ROUNDS, &rounds, reply) < 0)
    return -1;
  if (api->vm == NULL || !arca_vm_is_running (api->vm))
    return fault (reply, "the microVM is not running");
  if (api->jailed && strncmp (dest, "unix:", 5) == 0)
    {
      char path[PATH_MAX - 5];
      if (jail_path (api, "destination", dest + 5, path, sizeof (path), reply) < 0)
        return -1;
      snprintf (dest, sizeof (dest), "unix:%s", path);
    }
  p.destination = dest;
  p.max_downtime_ms = down;
  p.max_rounds = (unsigned) rounds;
  if (arca_vm_migrate (api->vm, &p, &st, &err) < 0)
    return fault (reply, "%s", err->msg);
  reply->body = migrate_stats_json (&st);
  reply->status = 200;
  return 0;
}

#define BALLOON_STATS_MAX_S 86400

static int
balloon_req (struct arca_vmm_api *api, bool patch, json_t *body, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  uint64_t mib = 0, interval = 0;

  if (json_object_get (body, "amount_mib") == NULL)
    return fault (reply, "missing field `amount_mib`");
  if (get_uint (body, "amount_mib", 0, 1 << 20, &mib, reply) < 0)
    return -1;
  if (!patch)
    {
      if (require_not_started (api, reply) < 0
          || get_uint (body, "stats_polling_interval_s", 0, BALLOON_STATS_MAX_S, &interval, reply) < 0)
        return -1;
      api->config.balloon = true;
      api->config.balloon_mib = mib;
      api->config.balloon_stats_interval_s = (uint32_t) interval;
      return 0;
    }
  if (api->vm == NULL)
    return fault (reply, "the microVM is not started");
  if (arca_vm_set_balloon (api->vm, mib, &err) < 0)
    return fault (reply, "%s", err->msg);
  return 0;
}

/* GET /balloon/statistics: Firecracker's names, fields the driver did not
   report left out. */
static int
balloon_stats_get (struct arca_vmm_api *api, struct api_reply *reply)
{
  static const char *const names[ARCA_VM_BALLOON_STATS] = {
    "swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
    "available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures",
  };
  cleanup_error arca_error *err = NULL;
  struct arca_vm_balloon_stats st;
  json_t *o;

  if (api->vm == NULL)
    return fault (reply, "the microVM is not started");
  if (arca_vm_balloon_stats (api->vm, &st, &err) < 0)
    return fault (reply, "%s", err->msg);
  o = json_pack ("{s:I, s:I, s:I, s:I, s:i, s:I}", "target_pages", (json_int_t) st.target_pages,
                 "actual_pages", (json_int_t) st.actual_pages, "target_mib",
                 (json_int_t) (st.target_pages >> 8), "actual_mib", (json_int_t) (st.actual_pages >> 8),
                 "stats_polling_interval_s", (int) st.interval_s, "updates", (json_int_t) st.updates);
  for (unsigned i = 0; i < ARCA_VM_BALLOON_STATS; i++)
    if (st.valid & (1U << i))
      json_object_set_new (o, names[i], json_integer ((json_int_t) st.value[i]));
  reply->body = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  reply->status = 200;
  return 0;
}

static int
balloon_stats_patch (struct arca_vmm_api *api, json_t *body, struct api_reply *reply)
{
  cleanup_error arca_error *err = NULL;
  uint64_t interval = 0;

  if (json_object_get (body, "stats_polling_interval_s") == NULL)
    return fault (reply, "missing field `stats_polling_interval_s`");
  if (get_uint (body, "stats_polling_interval_s", 0, BALLOON_STATS_MAX_S, &interval, reply) < 0)
    return -1;
  if (api->vm == NULL)
    {
      /* Before boot this is the configured interval. */
      if (!api->config.balloon)
        return fault (reply, "no balloon configured");
      api->config.balloon_stats_interval_s = (uint32_t) interval;
      return 0;
    }
  if (arca_vm_set_balloon_stats_interval (api->vm, (uint32_t) interval, &err) < 0)
    return fault (reply, "%s", err->msg);
  return 0;
}

static char *
metrics_json (struct arca_vmm_api *api)
{
  struct arca_vm_metrics m = { 0 };
  json_t *o, *markers;
  char *s;

  if (api->vm != NULL)
    arca_vm_get_metrics (api->vm, &m);
  markers = json_array ();
  for (unsigned i = 0; i < m.n_boot_markers; i++)
    json_array_append_new (markers, json_integer ((json_int_t) (m.boot_marker_ns[i] / 1000)));
  o = json_pack ("{s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                 "state", state_name (api),
                 "first_serial_byte_us", (json_int_t) (m.first_serial_byte_ns / 1000),
                 "boot_markers_us", markers,
                 "serial_bytes_out", (json_int_t) m.serial_bytes_out,
                 "pio_exits", (json_int_t) m.pio_exits, "mmio_exits", (json_int_t) m.mmio_exits,
                 "unhandled_pio", (json_int_t) m.unhandled_pio,
                 "unhandled_mmio", (json_int_t) m.unhandled_mmio,
                 "virtio_requests", (json_int_t) m.virtio_requests,
                 "virtio_errors", (json_int_t) m.virtio_errors,
                 "blk_read_bytes", (json_int_t) m.blk_read_bytes,
                 "blk_write_bytes", (json_int_t) m.blk_write_bytes,
                 "balloon_target_pages", (json_int_t) m.balloon_target_pages,
                 "balloon_actual_pages", (json_int_t) m.balloon_actual_pages,
                 "balloon_inflated_pages", (json_int_t) m.balloon_inflated_pages,
                 "balloon_deflated_pages", (json_int_t) m.balloon_deflated_pages);
  s = o != NULL ? json_dumps (o, JSON_COMPACT) : NULL;
  json_decref (o);
  return s;
}

static void
route (struct arca_vmm_api *api, const struct api_http_request *req, struct api_reply *reply)
{
  json_t *body = NULL;
  json_error_t jerr;
  bool get = strcmp (req->method, "GET") == 0;
  bool put = strcmp (req->method, "PUT") == 0;
  bool patch = strcmp (req->method, "PATCH") == 0;
  int r = -1;

  reply->status = 204;
  if (put || patch)
    {
      body = json_loadb (req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
      if (body == NULL || !json_is_object (body))
        {
          json_decref (body);
          fault (reply, "request body is not a JSON object: %s", body ? "" : jerr.text);
          return;
        }
    }
  if (get && strcmp (req->path, "/") == 0)
    {
      json_t *o = json_pack ("{s:s, s:s}", "id", "arca-vmm", "state", state_name (api));
      reply->body = json_dumps (o, JSON_COMPACT);
      json_decref (o);
      reply->status = 200;
      r = 0;
    }
  else if (get && strcmp (req->path, "/metrics") == 0)
    {
      reply->body = metrics_json (api);
      reply->status = 200;
      r = 0;
    }
  else if (get && strcmp (req->path, "/machine-config") == 0)
    {
      json_t *o = json_pack ("{s:i, s:I, s:s, s:b}", "vcpu_count", (int) api->config.vcpu_count,
                             "mem_size_mib", (json_int_t) api->config.mem_size_mib, "transport",
                             api->config.transport == ARCA_VM_TRANSPORT_PCI ? "pci" : "mmio",
                             "acpi", api->config.acpi);
      reply->body = json_dumps (o, JSON_COMPACT);
      json_decref (o);
      reply->status = 200;
      r = 0;
    }
  else if (put && strcmp (req->path, "/machine-config") == 0)
    r = put_machine_config (api, body, reply);
  else if (put && strcmp (req->path, "/boot-source") == 0)
    r = put_boot_source (api, body, reply);
  else if (put && strncmp (req->path, "/drives/", 8) == 0 && req->path[8] != '\0'
           && strchr (req->path + 8, '/') == NULL)
    r = put_drive (api, req->path + 8, body, reply);
  else if (put && strncmp (req->path, "/network-interfaces/", 20) == 0 && req->path[20] != '\0'
           && strchr (req->path + 20, '/') == NULL)
    r = put_network (api, req->path + 20, body, reply);
  else if (get && strcmp (req->path, "/balloon/statistics") == 0)
    r = balloon_stats_get (api, reply);
  else if (patch && strcmp (req->path, "/balloon/statistics") == 0)
    r = balloon_stats_patch (api, body, reply);
  else if ((put || patch) && strcmp (req->path, "/balloon") == 0)
    r = balloon_req (api, patch, body, reply);
  else if (put && strcmp (req->path, "/vsock") == 0)
    r = put_vsock (api, body, reply);
  else if (put && strcmp (req->path, "/entropy") == 0)
    r = require_not_started (api, reply) < 0 ? -1 : (api->config.rng = true, 0);
  else if (put && strcmp (req->path, "/actions") == 0)
    r = put_actions (api, body, reply);
  else if (patch && strcmp (req->path, "/vm") == 0)
    r = patch_vm (api, body, reply);
  else if (put && strcmp (req->path, "/snapshot/create") == 0)
    r = put_snapshot (api, true, body, reply);
  else if (put && strcmp (req->path, "/snapshot/load") == 0)
    r = put_snapshot (api, false, body, reply);
  else if (put && strcmp (req->path, "/migrate") == 0)
    r = put_migrate (api, body, reply);
  else
    {
      reply->status = 404;
      snprintf (reply->fault, sizeof (reply->fault), "no resource %s %s", req->method, req->path);
    }
  if (r < 0 && reply->status < 400)
    reply->status = 400;
  json_decref (body);
}

static void
drop_client (struct api_client *c)
{
  struct arca_vmm_api *api = c->api;
  for (unsigned i = 0; i < MAX_CLIENTS; i++)
    if (api->clients[i] == c)
      api->clients[i] = NULL;
  event_loop__remove (&api->loop, c->fd);
  arca_closep (&c->fd);
  free (c);
}

static bool
send_all (int fd, const char *s, size_t len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, s, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      s += n;
      len -= (size_t) n;
    }
  return true;
}

static void
on_client (void *opaque, int fd, uint32_t events)
{
  struct api_client *c = opaque;
  ssize_t n = recv (fd, c->buf + c->len, sizeof (c->buf) - c->len, MSG_DONTWAIT);

  if (n <= 0)
    {
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      drop_client (c);
      return;
    }
  c->len += (size_t) n;
  for (;;)
    {
      struct api_http_request req;
      struct api_reply reply = { .status = 500 };
      cleanup_free char *out = NULL;
      const char *why = NULL;
      int r = api_http__parse (c->buf, c->len, &req, &why);

      if (r == 0)
        return;
      if (r < 0)
        {
          json_t *o = json_pack ("{s:s}", "fault_message", why);
          cleanup_free char *body = json_dumps (o, JSON_COMPACT);
          json_decref (o);
          out = api_http__response (400, body);
          if (out != NULL)
            send_all (fd, out, strlen (out));
          drop_client (c);
          return;
        }
      route (c->api, &req, &reply);
      if (reply.status >= 400)
        {
          json_t *o = json_pack ("{s:s}", "fault_message", reply.fault);
          free (reply.body);
          reply.body = json_dumps (o, JSON_COMPACT);
          json_decref (o);
        }
      out = api_http__response (reply.status, reply.body);
      free (reply.body);
      memmove (c->buf, c->buf + req.total_len, c->len - req.total_len);
      c->len -= req.total_len;
      if (out == NULL || !send_all (fd, out, strlen (out)))
        {
          drop_client (c);
          return;
        }
    }
  (void) events;
}

static void
on_accept (void *opaque, int fd, uint32_t events)
{
  struct arca_vmm_api *api = opaque;
  cleanup_error arca_error *err = NULL;
  cleanup_close int cfd = accept4 (fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  struct api_client *c;
  unsigned i;

  if (cfd < 0)
    return;
  for (i = 0; i < MAX_CLIENTS && api->clients[i] != NULL; i++)
    ;
  if (i == MAX_CLIENTS)
    return;   /* too many clients: this one is closed */
  c = calloc (1, sizeof (*c));
  if (c == NULL)
    return;
  c->api = api;
  c->fd = cfd;
  if (event_loop__add (&api->loop, cfd, EPOLLIN, on_client, c, &err) < 0)
    {
      free (c);
      return;
    }
  cfd = -1;
  api->clients[i] = c;
  (void) events;
}

static void
on_exited (void *opaque, int fd, uint32_t events)
{
  struct arca_vmm_api *api = opaque;
  event_loop__stop (&api->loop);
  (void) fd;
  (void) events;
}

int
arca_vmm_api_listen (const char *sock_path, int *ret_fd, arca_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  if (strlen (sock_path) >= sizeof (addr.sun_path))
    return arca_error_set (err, ENAMETOOLONG, "api socket path `%s` is too long", sock_path);
  snprintf (addr.sun_path, sizeof (addr.sun_path), "%s", sock_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return arca_error_errno (err, "api socket");
  if (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return arca_error_errno (err, "bind api socket `%s`", sock_path);
  if (listen (fd, 16) < 0)
    {
      unlink (sock_path);
      return arca_error_errno (err, "listen on `%s`", sock_path);
    }
  *ret_fd = move_fd (fd);
  return 0;
}

int
arca_vmm_api_new_fd (int listen_fd, const struct arca_vm_config *config,
                     struct arca_vmm_api **ret_api, arca_error **err)
{
  cleanup_free struct arca_vmm_api *api = NULL;
  cleanup_close int fd = listen_fd;
  cleanup_close int efd = -1;

  api = calloc (1, sizeof (*api));
  if (api == NULL)
    return arca_error_errno (err, "allocate api");
  api->jail_root_fd = -1;
  api->config = *config;
  /* Strings are copied: the API owns everything it may change later. */
  snprintf (api->kernel, sizeof (api->kernel), "%s", config->kernel_path ? config->kernel_path : "");
  snprintf (api->initrd, sizeof (api->initrd), "%s", config->initrd_path ? config->initrd_path : "");
  snprintf (api->cmdline, sizeof (api->cmdline), "%s", config->cmdline ? config->cmdline : "");
  for (unsigned i = 0; i < config->n_drives && i < ARCA_VM_MAX_DRIVES; i++)
    {
      snprintf (api->drives[i].id, sizeof (api->drives[i].id), "%s",
                config->drives[i].id ? config->drives[i].id : "");
      snprintf (api->drives[i].path, sizeof (api->drives[i].path), "%s", config->drives[i].path);
      api->drives[i].read_only = config->drives[i].read_only;
    }
  if (config->net.tap != NULL)
    snprintf (api->net_tap, sizeof (api->net_tap), "%s", config->net.tap);
  if (config->vsock.uds_path != NULL)
    snprintf (api->vsock_path, sizeof (api->vsock_path), "%s", config->vsock.uds_path);

  efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0)
    return arca_error_errno (err, "eventfd");
  if (event_loop__init (&api->loop, err) < 0
      || event_loop__add (&api->loop, fd, EPOLLIN, on_accept, api, err) < 0
      || event_loop__add (&api->loop, efd, EPOLLIN, on_exited, api, err) < 0)
    {
      event_loop__fini (&api->loop);
      return -1;
    }
  pthread_mutex_init (&api->lock, NULL);
  api->listen_fd = move_fd (fd);
  api->exited_fd = move_fd (efd);
  *ret_api = move_ptr (api);
  return 0;
}

int
arca_vmm_api_new (const char *sock_path, const struct arca_vm_config *config,
                  struct arca_vmm_api **ret_api, arca_error **err)
{
  struct arca_vmm_api *api = NULL;
  int fd;

  if (arca_vmm_api_listen (sock_path, &fd, err) < 0)
    return -1;
  if (arca_vmm_api_new_fd (fd, config, &api, err) < 0)
    {
      unlink (sock_path);
      return -1;
    }
  snprintf (api->sock_path, sizeof (api->sock_path), "%s", sock_path);
  *ret_api = api;
  return 0;
}

int
arca_vmm_api_jail (struct arca_vmm_api *api, bool files, arca_error **err)
{
  api->jailed = true;
  if (files)
    {
      api->jail_root_fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (api->jail_root_fd < 0)
        return arca_error_errno (err, "open the jail's root");
    }
  return 0;
}

int
arca_vmm_api_create (struct arca_vmm_api *api, arca_error **err)
{
  if (api->vm != NULL || api->created != NULL)
    return arca_error_set (err, EBUSY, "the microVM is already built");
  build_config (api);
  return arca_vm_create (&api->config, &api->created, err);
}

int
arca_vmm_api_boot (struct arca_vmm_api *api, arca_error **err)
{
  struct arca_vm *vm = move_ptr (api->created);

  if (vm == NULL)
    {
      build_config (api);
      if (arca_vm_create (&api->config, &vm, err) < 0)
        return -1;
    }
  if (adopt_vm (api, vm, err) < 0)
    {
      if (api->vm == NULL)
        arca_vm_free (vm);
      return -1;
    }
  return 0;
}

int
arca_vmm_api_incoming (struct arca_vmm_api *api, const char *address, bool paused, arca_error **err)
{
  struct arca_vm *vm = NULL;

  if (api->vm != NULL)
    return arca_error_set (err, EBUSY, "the microVM is already started");
  build_config (api);
  if (arca_vm_migrate_incoming (&api->config, address, paused, &vm, err) < 0)
    return -1;
  if (adopt_vm_started (api, vm, true, err) < 0)
    {
      if (api->vm == NULL)
        arca_vm_free (vm);
      return -1;
    }
  return 0;
}

int
arca_vmm_api_run (struct arca_vmm_api *api, struct arca_vm_exit *ret_exit, arca_error **err)
{
  pthread_mutex_lock (&api->lock);
  if (api->stop_requested)
    {
      pthread_mutex_unlock (&api->lock);
      *ret_exit = (struct arca_vm_exit){ .reason = ARCA_VM_EXIT_STOPPED };
      return 0;
    }
  pthread_mutex_unlock (&api->lock);
  if (event_loop__run (&api->loop, err) < 0)
    return -1;
  if (api->waiter_started)
    {
      pthread_join (api->waiter, NULL);
      api->waiter_started = false;
      *ret_exit = api->exit;
    }
  else
    *ret_exit = (struct arca_vm_exit){ .reason = ARCA_VM_EXIT_STOPPED };
  return 0;
}

void
arca_vmm_api_stop (struct arca_vmm_api *api)
{
  pthread_mutex_lock (&api->lock);
  api->stop_requested = true;
  if (api->vm != NULL)
    arca_vm_stop (api->vm);   /* the waiter then ends the loop */
  else
    event_loop__stop (&api->loop);
  pthread_mutex_unlock (&api->lock);
}

struct arca_vm *
arca_vmm_api_vm (struct arca_vmm_api *api)
{
  return api->vm;
}

void
arca_vmm_api_free (struct arca_vmm_api *api)
{
  if (api == NULL)
    return;
  if (api->vm != NULL)
    arca_vm_stop (api->vm);
  if (api->waiter_started)
    pthread_join (api->waiter, NULL);
  arca_vm_free (api->vm);
  arca_vm_free (api->created);
  for (unsigned i = 0; i < MAX_CLIENTS; i++)
    if (api->clients[i] != NULL)
      {
        arca_closep (&api->clients[i]->fd);
        free (api->clients[i]);
      }
  event_loop__fini (&api->loop);
  arca_closep (&api->listen_fd);
  arca_closep (&api->exited_fd);
  if (api->jail_root_fd >= 0)
    arca_closep (&api->jail_root_fd);
  if (api->sock_path[0] != '\0')
    unlink (api->sock_path);
  pthread_mutex_destroy (&api->lock);
  free (api);
}

void
arca_vmm_api_freep (struct arca_vmm_api **api)
{
  arca_vmm_api_free (*api);
}
