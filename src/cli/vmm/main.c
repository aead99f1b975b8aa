/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca-vmm: boots one microVM and exits with the guest's status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/log.h"
#include "vmm/jail.h"
#include "vmm/vmm.h"

enum {
  OPT_KERNEL = 256, OPT_CMDLINE, OPT_INITRD, OPT_MEMORY, OPT_CPUS, OPT_DRIVE, OPT_API_SOCK,
  OPT_SERIAL, OPT_ENTRY, OPT_RNG, OPT_RESTORE, OPT_MEM_FILE, OPT_PAUSED, OPT_INCOMING, OPT_NO_SECCOMP, OPT_NET, OPT_VSOCK, OPT_BALLOON, OPT_TRANSPORT, OPT_ACPI, OPT_DEBUG, OPT_METRICS, OPT_HELP,
  OPT_JAIL, OPT_JAIL_CGROUP, OPT_JAIL_MEMORY, OPT_JAIL_PIDS, OPT_JAIL_DIR,
};

static const struct option options[] = {
  { "kernel", required_argument, NULL, OPT_KERNEL },
  { "cmdline", required_argument, NULL, OPT_CMDLINE },
  { "initrd", required_argument, NULL, OPT_INITRD },
  { "memory", required_argument, NULL, OPT_MEMORY },
  { "cpus", required_argument, NULL, OPT_CPUS },
  { "drive", required_argument, NULL, OPT_DRIVE },
  { "api-sock", required_argument, NULL, OPT_API_SOCK },
  { "serial", required_argument, NULL, OPT_SERIAL },
  { "entry", required_argument, NULL, OPT_ENTRY },
  { "rng", no_argument, NULL, OPT_RNG },
  { "restore", required_argument, NULL, OPT_RESTORE },
  { "mem-file", required_argument, NULL, OPT_MEM_FILE },
  { "paused", no_argument, NULL, OPT_PAUSED },
  { "incoming", required_argument, NULL, OPT_INCOMING },
  { "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
  { "net", required_argument, NULL, OPT_NET },
  { "vsock", required_argument, NULL, OPT_VSOCK },
  { "balloon", required_argument, NULL, OPT_BALLOON },
  { "transport", required_argument, NULL, OPT_TRANSPORT },
  { "acpi", no_argument, NULL, OPT_ACPI },
  { "debug", no_argument, NULL, OPT_DEBUG },
  { "metrics", no_argument, NULL, OPT_METRICS },
  { "help", no_argument, NULL, OPT_HELP },
  { "jail", no_argument, NULL, OPT_JAIL },
  { "jail-cgroup", required_argument, NULL, OPT_JAIL_CGROUP },
  { "jail-memory", required_argument, NULL, OPT_JAIL_MEMORY },
  { "jail-pids", required_argument, NULL, OPT_JAIL_PIDS },
  { "jail-dir", required_argument, NULL, OPT_JAIL_DIR },
  { NULL, 0, NULL, 0 },
};

struct cli {
  struct arca_vm_config config;
  const char *serial;
  const char *api_sock;
  const char *restore;
  const char *mem_file;
  const char *incoming;
  bool paused;
  bool metrics;
  bool jail;
  struct arca_vmm_jail jail_config;
  int api_fd;                   /* --jail --api-sock: bound before the fork */
  int incoming_fd;              /* --jail --incoming: bound before the fork */
  char incoming_inherited[24];  /* ... and "fd:N" for the jailed VMM */
  char vsock_rel[108];          /* --jail: --vsock's path in --jail-dir */
  char restore_in_jail[PATH_MAX], mem_file_in_jail[PATH_MAX];
  struct arca_log log;
};

static void
usage (FILE *f)
{
  fprintf (f,
           "usage: arca-vmm --kernel FILE [--cmdline S] [--initrd FILE] [--memory MiB]\n"
           "                [--cpus N] [--drive PATH[,ro]] [--api-sock PATH]\n"
           "                [--serial stdio|none|file:PATH] [--entry auto|linux64|pvh]\n"
           "                [--rng] [--net TAP[,mac=MAC]] [--vsock CID,PATH] [--balloon MiB[,stats=S]]\n"
           "                [--transport mmio|pci] [--acpi] [--no-seccomp] [--metrics] [--debug]\n"
           "                [--jail [--jail-memory MiB] [--jail-pids N] [--jail-cgroup PATH]\n"
           "                       [--jail-dir DIR]]\n"
           "       arca-vmm --restore STATE --mem-file MEM [--paused] [--api-sock PATH] ...\n"
           "       arca-vmm --incoming unix:PATH|tcp:HOST:PORT|fd:N [--paused] [--api-sock PATH] ...\n"
           "Boots a microVM; exits with the status the guest wrote to the debug-exit\n"
           "port, 0 when it reset itself, 1 on an error or a triple fault.\n");
}

static int
parse_uint (const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *ret,
            arca_error **err)
{
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return arca_error_set (err, EINVAL, "%s: `%s` is not a number in %llu..%llu", what, s,
                           (unsigned long long) min, (unsigned long long) max);
  *ret = v;
  return 0;
}

static int
parse_drive (struct arca_vm_config *c, const char *arg, arca_error **err)
{
  struct arca_vm_drive_config *d;
  char *comma;

  if (c->n_drives == ARCA_VM_MAX_DRIVES)
    return arca_error_set (err, E2BIG, "--drive: at most %d drives", ARCA_VM_MAX_DRIVES);
  d = &c->drives[c->n_drives];
  d->path = strdup (arg);
  if (d->path == NULL)
    return arca_error_errno (err, "--drive");
  comma = strchr (d->path, ',');
  if (comma != NULL)
    {
      *comma = '\0';
      if (strcmp (comma + 1, "ro") != 0)
        {
          arca_error_set (err, EINVAL, "--drive: unknown option `%s`", comma + 1);
          free (d->path);
          d->path = NULL;
          return -1;
        }
      d->read_only = true;
    }
  c->n_drives++;
  return 0;
}

/* --vsock CID,PATH */
static int
parse_vsock (struct arca_vm_config *c, char *arg, arca_error **err)
{
  char *comma = strchr (arg, ','), *end;
  unsigned long long cid;

  if (comma == NULL || comma[1] == '\0')
    return arca_error_set (err, EINVAL, "--vsock: `%s` is not CID,PATH", arg);
  *comma = '\0';
  errno = 0;
  cid = strtoull (arg, &end, 10);
  if (errno != 0 || *end != '\0' || cid < 3 || cid > 0xfffffffeULL)
    return arca_error_set (err, EINVAL, "--vsock: guest CID `%s` is not in 3..4294967294", arg);
  c->vsock.cid = cid;
  c->vsock.uds_path = comma + 1;
  return 0;
}

static int
parse_net (struct arca_vm_config *c, char *arg, arca_error **err)
{
  static const uint8_t default_mac[6] = { 0x02, 0xa7, 0xca, 0x00, 0x00, 0x01 };
  char *comma = strchr (arg, ',');
  unsigned m[6];

  memcpy (c->net.mac, default_mac, sizeof (default_mac));
  if (comma != NULL)
    {
      *comma = '\0';
      if (sscanf (comma + 1, "mac=%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4],
                  &m[5]) != 6)
        return arca_error_set (err, EINVAL, "--net: `%s` is not mac=XX:XX:XX:XX:XX:XX", comma + 1);
      for (int i = 0; i < 6; i++)
        c->net.mac[i] = (uint8_t) m[i];
    }
  if (*arg == '\0')
    return arca_error_set (err, EINVAL, "--net: no tap name");
  c->net.tap = arg;
  return 0;
}

static int
parse_args (struct cli *cli, int argc, char **argv, arca_error **err)
{
  struct arca_vm_config *c = &cli->config;
  uint64_t v;
  int opt;

  while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1)
    switch (opt)
      {
      case OPT_KERNEL:
        c->kernel_path = optarg;
        break;
      case OPT_CMDLINE:
        c->cmdline = optarg;
        break;
      case OPT_INITRD:
        c->initrd_path = optarg;
        break;
      case OPT_MEMORY:
        if (parse_uint (optarg, "--memory", 16, 1 << 20, &v, err) < 0)
          return -1;
        c->mem_size_mib = v;
        break;
      case OPT_CPUS:
        if (parse_uint (optarg, "--cpus", 1, ARCA_VM_MAX_VCPUS, &v, err) < 0)
          return -1;
        c->vcpu_count = (unsigned) v;
        break;
      case OPT_DRIVE:
        if (parse_drive (c, optarg, err) < 0)
          return -1;
        break;
      case OPT_TRANSPORT:
        if (strcmp (optarg, "pci") == 0)
          c->transport = ARCA_VM_TRANSPORT_PCI;
        else if (strcmp (optarg, "mmio") == 0)
          c->transport = ARCA_VM_TRANSPORT_MMIO;
        else
          return arca_error_set (err, EINVAL, "--transport: \"%s\" is not mmio or pci", optarg);
        break;
      case OPT_ACPI:
        c->acpi = true;
        break;
      case OPT_API_SOCK:
        cli->api_sock = optarg;
        break;
      case OPT_SERIAL:
        cli->serial = optarg;
        break;
      case OPT_ENTRY:
        if (strcmp (optarg, "auto") == 0)
          c->entry = ARCA_VM_ENTRY_AUTO;
        else if (strcmp (optarg, "linux64") == 0)
          c->entry = ARCA_VM_ENTRY_LINUX64;
        else if (strcmp (optarg, "pvh") == 0)
          c->entry = ARCA_VM_ENTRY_PVH;
        else
          return arca_error_set (err, EINVAL, "--entry: `%s` is not auto, linux64 or pvh", optarg);
        break;
      case OPT_RESTORE:
        cli->restore = optarg;
        break;
      case OPT_MEM_FILE:
        cli->mem_file = optarg;
        break;
      case OPT_INCOMING:
        cli->incoming = optarg;
        break;
      case OPT_PAUSED:
        cli->paused = true;
        break;
      case OPT_BALLOON:
        {
          /* MiB[,stats=SECONDS] */
          cleanup_free char *arg = strdup (optarg);
          char *stats = arg != NULL ? strchr (arg, ',') : NULL;
          if (arg == NULL)
            return arca_error_errno (err, "--balloon");
          if (stats != NULL)
            {
              *stats++ = '\0';
              if (strncmp (stats, "stats=", 6) != 0)
                return arca_error_set (err, EINVAL, "--balloon: unknown option \"%s\"", stats);
              if (parse_uint (stats + 6, "--balloon stats", 1, 86400, &v, err) < 0)
                return -1;
              c->balloon_stats_interval_s = (uint32_t) v;
            }
          if (parse_uint (arg, "--balloon", 0, 1 << 20, &v, err) < 0)
            return -1;
          c->balloon = true;
          c->balloon_mib = v;
        }
        break;
      case OPT_VSOCK:
        if (parse_vsock (c, optarg, err) < 0)
          return -1;
        break;
      case OPT_NET:
        if (parse_net (c, optarg, err) < 0)
          return -1;
        break;
      case OPT_NO_SECCOMP:
        c->seccomp = false;
        break;
      case OPT_JAIL:
        cli->jail = true;
        break;
      case OPT_JAIL_CGROUP:
        cli->jail_config.cgroup = optarg;
        break;
      case OPT_JAIL_MEMORY:
        if (parse_uint (optarg, "--jail-memory", 1, 1 << 20, &v, err) < 0)
          return -1;
        cli->jail_config.memory_mib = v;
        break;
      case OPT_JAIL_DIR:
        cli->jail_config.dir = optarg;
        break;
      case OPT_JAIL_PIDS:
        if (parse_uint (optarg, "--jail-pids", 1, 1 << 22, &v, err) < 0)
          return -1;
        cli->jail_config.pids = v;
        break;
      case OPT_RNG:
        c->rng = true;
        break;
      case OPT_DEBUG:
        cli->log.level = ARCA_LOG_DEBUG;
        break;
      case OPT_METRICS:
        cli->metrics = true;
        break;
      case OPT_HELP:
      case 'h':
        usage (stdout);
        exit (0);
      default:
        usage (stderr);
        exit (2);
      }
  if (optind != argc)
    return arca_error_set (err, EINVAL, "unexpected argument `%s`", argv[optind]);
  if ((cli->restore == NULL) != (cli->mem_file == NULL))
    return arca_error_set (err, EINVAL, "--restore and --mem-file go together");
  if (cli->restore != NULL && c->kernel_path != NULL)
    return arca_error_set (err, EINVAL, "--restore and --kernel exclude each other");
  if (cli->incoming != NULL && (c->kernel_path != NULL || cli->restore != NULL))
    return arca_error_set (err, EINVAL, "--incoming excludes --kernel and --restore");
  if (c->kernel_path == NULL && cli->api_sock == NULL && cli->restore == NULL && cli->incoming == NULL)
    return arca_error_set (err, EINVAL, "--kernel is required");
  if (cli->jail_config.dir != NULL && !cli->jail)
    return arca_error_set (err, EINVAL, "--jail-dir needs --jail");
  return 0;
}

static int
open_serial (struct cli *cli, arca_error **err)
{
  struct arca_vm_config *c = &cli->config;
  const char *s = cli->serial != NULL ? cli->serial : "stdio";

  c->serial_in_fd = c->serial_out_fd = -1;
  if (strcmp (s, "stdio") == 0)
    {
      c->serial_in_fd = STDIN_FILENO;
      c->serial_out_fd = STDOUT_FILENO;
    }
  else if (strncmp (s, "file:", 5) == 0)
    {
      c->serial_out_fd = open (s + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (c->serial_out_fd < 0)
        return arca_error_errno (err, "--serial: open `%s`", s + 5);
    }
  else if (strcmp (s, "none") != 0)
    return arca_error_set (err, EINVAL, "--serial: `%s` is not stdio, none or file:PATH", s);
  return 0;
}

/* SIGINT/SIGTERM stop the VM cleanly from a thread of their own, so no
   signal handler has to touch VM state. */
struct stopper {
  struct arca_vm *vm;
  struct arca_vmm_api *api;
};

static void *
signal_thread (void *opaque)
{
  struct stopper *s = opaque;
  sigset_t set;
  int sig;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  if (sigwait (&set, &sig) == 0)
    {
      struct arca_vmm_api *api = __atomic_load_n (&s->api, __ATOMIC_ACQUIRE);
      struct arca_vm *vm = __atomic_load_n (&s->vm, __ATOMIC_ACQUIRE);
      if (api != NULL)
        arca_vmm_api_stop (api);
      else if (vm != NULL)
        arca_vm_stop (vm);
      else
        _exit (128 + sig);   /* --incoming still waiting: no machine to stop */
    }
  return NULL;
}

/* A restored VM's setup phases (us), then how long from the machine being
   ready to the first console byte (thread start, KVM_RUN, the guest's
   first page faults on the memory file).  kvm_* is KVM ioctl time;
   kvm_vm_us ran in a thread beside state_us and mem_map_us, the setup
   waited kvm_vm_wait_us of it. */
static void
print_restore_metrics (const struct arca_vm_metrics *m)
{
  const struct arca_vm_restore_times *r = &m->restore;

  if (r->total_ns == 0)
    return;
  fprintf (stderr,
           ", \"restore\": {\"state_us\": %" PRIu64 ", \"kvm_vm_us\": %" PRIu64
           ", \"kvm_vm_wait_us\": %" PRIu64 ", \"mem_map_us\": %" PRIu64
           ", \"kvm_slots_us\": %" PRIu64
           ", \"devices_us\": %" PRIu64 ", \"kvm_vcpus_us\": %" PRIu64
           ", \"kvm_state_us\": %" PRIu64 ", \"state_apply_us\": %" PRIu64
           ", \"total_us\": %" PRIu64 ", \"ready_us\": %" PRIu64
           ", \"ready_to_first_byte_us\": %" PRIu64 "}",
           r->state_ns / 1000, r->kvm_vm_ns / 1000, r->kvm_vm_wait_ns / 1000, r->mem_map_ns / 1000,
           r->kvm_slots_ns / 1000,
           r->devices_ns / 1000, r->kvm_vcpus_ns / 1000, r->kvm_state_ns / 1000,
           r->state_apply_ns / 1000, r->total_ns / 1000, r->ready_ns / 1000,
           m->first_serial_byte_ns > r->ready_ns ? (m->first_serial_byte_ns - r->ready_ns) / 1000 : 0);
}

static void
print_metrics (struct arca_vm *vm)
{
  struct arca_vm_metrics m;

  arca_vm_get_metrics (vm, &m);
  fprintf (stderr, "{\"first_serial_byte_us\": %" PRIu64 ", \"boot_markers_us\": [", m.first_serial_byte_ns / 1000);
  for (unsigned i = 0; i < m.n_boot_markers; i++)
    fprintf (stderr, "%s%" PRIu64, i ? ", " : "", m.boot_marker_ns[i] / 1000);
  fprintf (stderr,
           "], \"serial_bytes_out\": %" PRIu64 ", \"pio_exits\": %" PRIu64
           ", \"mmio_exits\": %" PRIu64 ", \"unhandled_pio\": %" PRIu64
           ", \"unhandled_mmio\": %" PRIu64 ", \"virtio_requests\": %" PRIu64
           ", \"virtio_errors\": %" PRIu64 ", \"blk_read_bytes\": %" PRIu64
           ", \"blk_write_bytes\": %" PRIu64 ", \"balloon_inflated_pages\": %" PRIu64
           ", \"balloon_deflated_pages\": %" PRIu64,
           m.serial_bytes_out, m.pio_exits, m.mmio_exits, m.unhandled_pio, m.unhandled_mmio,
           m.virtio_requests, m.virtio_errors, m.blk_read_bytes, m.blk_write_bytes,
           m.balloon_inflated_pages, m.balloon_deflated_pages);
  print_restore_metrics (&m);
  fputs ("}\n", stderr);
}

static int
exit_status (const struct arca_vm_exit *ex)
{
  switch (ex->reason)
    {
    case ARCA_VM_EXIT_DEBUG:
      return ex->code;
    case ARCA_VM_EXIT_RESET:
    case ARCA_VM_EXIT_STOPPED:
      return 0;
    default:
      fprintf (stderr, "arca-vmm: guest stopped: %s%s%s\n", arca_vm_exit_reason_name (ex->reason),
               ex->message[0] ? ": " : "", ex->message);
      return 1;
    }
}

static void
start_signal_thread (struct stopper *s)
{
  pthread_t t;
  if (pthread_create (&t, NULL, signal_thread, s) == 0)
    pthread_detach (t);
}

/* A host path the child opens after its chdir into --jail-dir. */
static int
make_absolute (char **path, arca_error **err)
{
  cleanup_free char *cwd = NULL;
  char *abs;

  if (*path == NULL || (*path)[0] == '/')
    return 0;
  cwd = getcwd (NULL, 0);
  if (cwd == NULL)
    return arca_error_errno (err, "getcwd");
  if (asprintf (&abs, "%s/%s", cwd, *path) < 0)
    return arca_error_set (err, ENOMEM, "`%s`", *path);
  *path = abs;   /* lives as long as the process, as --drive's copies do */
  return 0;
}

/* --jail, before the fork (a mistake costs nothing yet): what the command
   line names inside the jail is resolved beneath --jail-dir, what the
   jailed VMM could not open is refused. */
static int
jail_paths (struct cli *cli, arca_error **err)
{
  struct arca_vm_config *c = &cli->config;
  cleanup_close int root = -1;
  char *dir;

  if (c->kernel_path == NULL && (c->n_drives > 0 || c->initrd_path != NULL || c->net.tap != NULL))
    return arca_error_set (err, EINVAL, "--jail without --kernel builds the machine once the jail "
                           "is closed, when --drive, --initrd and --net could no longer be "
                           "opened: name drives and the initrd over the API inside --jail-dir, "
                           "or give --kernel (a tap only works with --kernel)");
  if (cli->jail_config.dir == NULL)
    {
      if (c->vsock.uds_path != NULL || cli->restore != NULL)
        return arca_error_set (err, EINVAL, "--jail: %s names files inside the jail, which has "
                               "none without --jail-dir DIR",
                               c->vsock.uds_path != NULL ? "--vsock" : "--restore");
      return 0;
    }
  dir = realpath (cli->jail_config.dir, NULL);
  if (dir == NULL)
    return arca_error_errno (err, "--jail-dir `%s`", cli->jail_config.dir);
  cli->jail_config.dir = dir;   /* the process's lifetime */
  root = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return arca_error_errno (err, "--jail-dir `%s`", dir);
  /* The child works from DIR (jail_enter), which becomes its root: a
     relative --vsock path is then the same socket before and after the
     jail closes, and host paths must not be relative to it. */
  if (make_absolute (&c->kernel_path, err) < 0 || make_absolute (&c->initrd_path, err) < 0)
    return -1;
  for (unsigned i = 0; i < c->n_drives; i++)
    if (make_absolute (&c->drives[i].path, err) < 0)
      return -1;
  if (c->vsock.uds_path != NULL)
    {
      /* "PATH_<port>" must fit too. */
      if (arca_vmm_jail_resolve (root, c->vsock.uds_path, cli->vsock_rel,
                                 sizeof (cli->vsock_rel) - 12, err) < 0)
        return arca_error_wrap (err, "--vsock");
      c->vsock.uds_path = cli->vsock_rel;
    }
  if (cli->restore != NULL)
    {
      /* Opened once the jail is closed: from its root. */
      cli->restore_in_jail[0] = cli->mem_file_in_jail[0] = '/';
      if (arca_vmm_jail_resolve (root, cli->restore, cli->restore_in_jail + 1,
                                 sizeof (cli->restore_in_jail) - 1, err) < 0)
        return arca_error_wrap (err, "--restore");
      if (arca_vmm_jail_resolve (root, cli->mem_file, cli->mem_file_in_jail + 1,
                                 sizeof (cli->mem_file_in_jail) - 1, err) < 0)
        return arca_error_wrap (err, "--mem-file");
      cli->restore = cli->restore_in_jail;
      cli->mem_file = cli->mem_file_in_jail;
    }
  return 0;
}

/* --jail: the sockets the host's clients reach (the API's, --incoming's)
   are bound here, before the fork, and their files removed here once the
   child is gone; the child gets only their descriptors.  Returns 0 in the
   child, 1 in the parent once the child has exited (*ret_status), -1 on
   an error (nothing left behind). */
static int
jail_enter (struct cli *cli, int *ret_status, arca_error **err)
{
  bool api = cli->api_sock != NULL && cli->restore == NULL, bound = false;
  int r = -1;

  if (jail_paths (cli, err) < 0)
    return -1;
  if (api && arca_vmm_api_listen (cli->api_sock, &cli->api_fd, err) < 0)
    return -1;
  if (cli->incoming != NULL)
    bound = arca_vmm_jail_listen (cli->incoming, &cli->incoming_fd, err) == 0;
  if (cli->incoming == NULL || bound)
    {
      cli->jail_config.handover[0] = &cli->api_fd;
      cli->jail_config.handover[1] = &cli->incoming_fd;
      r = arca_vmm_jail_fork (&cli->jail_config, ret_status, err);
    }
  if (r == 0)
    {
      if (cli->incoming != NULL)
        {
          /* Taken over by the migration. */
          snprintf (cli->incoming_inherited, sizeof (cli->incoming_inherited), "fd:%d",
                    cli->incoming_fd);
          cli->incoming = cli->incoming_inherited;
          cli->incoming_fd = -1;
        }
      if (cli->jail_config.dir != NULL && chdir (cli->jail_config.dir) < 0)
        return arca_error_errno (err, "--jail-dir: chdir `%s`", cli->jail_config.dir);
      return 0;
    }
  arca_closep (&cli->api_fd);
  arca_closep (&cli->incoming_fd);
  if (api)
    unlink (cli->api_sock);
  if (bound)
    arca_vmm_jail_unlink (cli->incoming);
  return r;
}

/* With --api-sock: the API owns the machine (booted at once when --kernel
   or --restore is given, else on InstanceStart / snapshot load). */
static int
run_api (struct cli *cli, struct stopper *stopper, int *ret_status, arca_error **err)
{
  cleanup_vmm_api struct arca_vmm_api *api = NULL;
  struct arca_vm_exit ex;

  if (cli->jail)
    {
      /* A machine from the command line is built while the host's files
         are in sight; then the jail closes before any thread starts.
         Without --kernel, InstanceStart, snapshot/load or the incoming
         migration builds it inside the jail. */
      int fd = move_fd (cli->api_fd);
      if (arca_vmm_api_new_fd (fd, &cli->config, &api, err) < 0
          || (cli->config.kernel_path != NULL && arca_vmm_api_create (api, err) < 0)
          || arca_vmm_jail_lock (&cli->jail_config, err) < 0
          || arca_vmm_api_jail (api, cli->jail_config.dir != NULL, err) < 0)
        return -1;
    }
  else if (arca_vmm_api_new (cli->api_sock, &cli->config, &api, err) < 0)
    return -1;
  /* While an incoming migration blocks in accept there is nothing the API
     could stop: a signal ends the process (signal_thread). */
  if (cli->incoming == NULL)
    __atomic_store_n (&stopper->api, api, __ATOMIC_RELEASE);
  start_signal_thread (stopper);
  if (cli->config.kernel_path != NULL && arca_vmm_api_boot (api, err) < 0)
    return -1;
  if (cli->incoming != NULL)
    {
      if (arca_vmm_api_incoming (api, cli->incoming, cli->paused, err) < 0)
        return -1;
      __atomic_store_n (&stopper->api, api, __ATOMIC_RELEASE);
    }
  if (arca_vmm_api_run (api, &ex, err) < 0)
    return -1;
  if (cli->metrics && arca_vmm_api_vm (api) != NULL)
    print_metrics (arca_vmm_api_vm (api));
  *ret_status = exit_status (&ex);
  return 0;
}

/* Builds and runs the VM; *ret_status is arca-vmm's exit status. */
static int
run (struct cli *cli, int argc, char **argv, int *ret_status, arca_error **err)
{
  cleanup_vm struct arca_vm *vm = NULL;
  static struct stopper stopper;
  struct arca_vm_exit ex;

  if (parse_args (cli, argc, argv, err) < 0 || open_serial (cli, err) < 0)
    return -1;
  if (cli->jail)
    {
      int r = jail_enter (cli, ret_status, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
  if (cli->api_sock != NULL && cli->restore == NULL)
    return run_api (cli, &stopper, ret_status, err);
  /* --restore and --incoming build the machine inside the jail. */
  if (cli->jail && cli->config.kernel_path == NULL
      && arca_vmm_jail_lock (&cli->jail_config, err) < 0)
    return -1;
  if (cli->incoming != NULL)
    {
      /* Started by the migration itself: the source waits for that. */
      start_signal_thread (&stopper);
      if (arca_vm_migrate_incoming (&cli->config, cli->incoming, cli->paused, &vm, err) < 0)
        return -1;
    }
  else if (cli->restore != NULL)
    {
      if (arca_vm_restore (&cli->config, cli->restore, cli->mem_file, &vm, err) < 0)
        return -1;
      if (cli->paused && arca_vm_pause_before_start (vm, err) < 0)
        return -1;
    }
  else if (arca_vm_create (&cli->config, &vm, err) < 0)
    return -1;
  if (cli->jail && cli->config.kernel_path != NULL
      && arca_vmm_jail_lock (&cli->jail_config, err) < 0)
    return -1;
  __atomic_store_n (&stopper.vm, vm, __ATOMIC_RELEASE);
  if (cli->incoming == NULL)
    start_signal_thread (&stopper);
  if (cli->incoming == NULL && arca_vm_start (vm, err) < 0)
    return -1;
  if (cli->config.seccomp && arca_vm_sandbox (vm, err) < 0)
    {
      arca_vm_stop (vm);
      return -1;
    }
  if (arca_vm_wait (vm, &ex, err) < 0)
    return -1;
  if (cli->metrics)
    print_metrics (vm);
  *ret_status = exit_status (&ex);
  return 0;
}

int
main (int argc, char **argv)
{
  struct cli cli = { .log = { .fd = STDERR_FILENO, .level = ARCA_LOG_WARNING, .program = "arca-vmm" },
                     .api_fd = -1, .incoming_fd = -1 };
  const struct arca_log errlog = { .fd = -1, .program = "arca-vmm" };
  cleanup_error arca_error *err = NULL;
  int status = 1;
  sigset_t set;

  cli.config.vcpu_count = 1;
  cli.config.mem_size_mib = 128;
  cli.config.seccomp = true;
  cli.config.start_ns = arca_vm_now_ns ();
  cli.config.log = &cli.log;

  /* Blocked before any thread exists, so every thread inherits the mask
     and only signal_thread receives them. */
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &set, NULL);

  if (run (&cli, argc, argv, &status, &err) < 0)
    {
      arca_log_error (&errlog, err);
      return 1;
    }
  return status;
}
