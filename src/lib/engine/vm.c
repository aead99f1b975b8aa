/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca run --vm`: prepares the guest's initramfs (guest agent, the image's
 * flattened root, the run's configuration), boots it under arca-vmm and
 * relays the agent's frames (see vm.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/prctl.h>

#include "engine/internal.h"
#include "engine/overlay.h"
#include "engine/vm-cpio.h"
#include "engine/vm-monitor.h"
#include "engine/vm-record.h"
#include "engine/vm-net.h"
#include "engine/vm-proto.h"
#include "engine/vm-relay.h"
#include "engine/vm.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/signals.h"

#define CONFIG_BLOB_MAX (4 * 1024 * 1024)
#define DEFAULT_MEMORY_MIB 256
#define MIN_MEMORY_MIB 64
#define MAX_CPUS 32
/* A detached run's log, as a container's. */
#define LOG_MAX_SIZE (10 * 1024 * 1024)
#define LOG_MAX_FILES 3
/* The nested guest writes every serial byte through a VM exit: as quiet as
 * it can be.  No PCI unless the root is a disk or there is a NIC (pci=off
 * added); the i8042 is only our reset
 * line (reboot=k), so no probing of keyboard/aux ports; the CMOS RTC
 * driver polls ports arca-vmm does not emulate. */
#define GUEST_CMDLINE                                                                     \
  "console=ttyS0 quiet loglevel=1 reboot=k panic=-1 i8042.noaux i8042.nomux "             \
  "i8042.nopnp i8042.dumbkbd initcall_blacklist=cmos_init rdinit=/init"

struct vm_paths {
  char *kernel, *release, *vmm, *agent;
};

static void
vm_paths_free (struct vm_paths *p)
{
  free (p->kernel);
  free (p->release);
  free (p->vmm);
  free (p->agent);
}

/* $ARCA_VM_KERNEL or the newest /boot/vmlinuz-* (scripts/guest-kernel.sh
 * installs Debian's); the release is what follows "vmlinuz-". */
static int
find_kernel (struct vm_paths *p, arca_error **err)
{
  const char *v = getenv ("ARCA_VM_KERNEL");
  const char *best = NULL;
  glob_t g = { 0 };

  if (v && *v)
    p->kernel = strdup (v);
  else
    {
      if (glob ("/boot/vmlinuz-*", 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
          if (best == NULL || strverscmp (g.gl_pathv[i], best) > 0)
            best = g.gl_pathv[i];
      p->kernel = best ? strdup (best) : NULL;
      globfree (&g);
      if (best == NULL)
        return arca_error_set (err, ENOENT,
                               "--vm: no guest kernel (no /boot/vmlinuz-*: run scripts/guest-kernel.sh "
                               "or set ARCA_VM_KERNEL)");
    }
  if (p->kernel == NULL)
    return arca_error_set (err, ENOMEM, "kernel");
  if (access (p->kernel, R_OK) < 0)
    return arca_error_errno (err, "--vm: guest kernel `%s`", p->kernel);
  const char *base = strrchr (p->kernel, '/');
  base = base ? base + 1 : p->kernel;
  p->release = strdup (strncmp (base, "vmlinuz-", 8) == 0 ? base + 8 : base);
  return p->release ? 0 : arca_error_set (err, ENOMEM, "kernel");
}

static int
check_kvm (arca_error **err)
{
  cleanup_close int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return arca_error_errno (err, "--vm: `/dev/kvm` (a VM needs KVM)");
  return 0;
}

/* ---- the run's directory ------------------------------------------------ */

struct vm_run {
  char *dir;         /* <root>/vm/runs/<id> */
  char *view;        /* the image's merged layers while mounted */
  int lock;          /* ARCA_VM_RUN_LOCK, held while the run (or its VMM) lives */
  bool mounted, keep;
};

static void
vm_run_cleanup (struct vm_run *r)
{
  arca_closep (&r->lock);
  if (r->mounted)
    arca_overlay_unmount (r->view, NULL);
  if (r->dir && !r->keep)
    arca_rm_rf_at (AT_FDCWD, r->dir, NULL);
  free (r->dir);
  free (r->view);
}

static int
new_run_dir (struct arca_engine *e, struct vm_run *r, char *ret_id, arca_error **err)
{
  unsigned char bytes[32];

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    return arca_error_errno (err, "getrandom");
  for (size_t i = 0; i < sizeof bytes; i++)
    sprintf (ret_id + 2 * i, "%02x", bytes[i]);
  if (asprintf (&r->dir, "%s/vm/runs/%s", e->root, ret_id) < 0
      || asprintf (&r->view, "%s/view", r->dir) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  if (arca_mkdir_p (r->view, 0700, err) < 0)
    return -1;
  cleanup_free char *lock = NULL;
  if (asprintf (&lock, "%s/" ARCA_VM_RUN_LOCK, r->dir) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  r->lock = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (r->lock < 0 || flock (r->lock, LOCK_EX) < 0)
    return arca_error_errno (err, "lock `%s`", lock);
  return 0;
}

static int
legacy_overlay (char **lowers, const char *upper, const char *work, const char *target)
{
  size_t len = strlen (upper) + strlen (work) + 64;
  cleanup_free char *opts = NULL;

  for (size_t i = 0; lowers[i]; i++)
    {
      if (strpbrk (lowers[i], ":,") != NULL)
        return -1;
      len += strlen (lowers[i]) + 1;
    }
  if (strpbrk (upper, ":,") != NULL || strpbrk (work, ":,") != NULL || len >= 4096
      || (opts = calloc (1, len)) == NULL)
    return -1;
  strcpy (opts, "lowerdir=");
  for (size_t i = 0; lowers[i]; i++)
    {
      if (i)
        strcat (opts, ":");
      strcat (opts, lowers[i]);
    }
  strcat (opts, ",upperdir=");
  strcat (opts, upper);
  strcat (opts, ",workdir=");
  strcat (opts, work);
  return mount ("overlay", target, "overlay", 0, opts);
}

/* The image's layers as one read-only-in-effect tree: an overlay with a
 * throwaway upper directory (overlayfs needs one for a single lower). */
static int
mount_view (struct arca_engine *e, const struct arca_image_record *img, struct vm_run *r,
            arca_error **err)
{
  cleanup_free char *upper = NULL, *work = NULL;
  cleanup_strv char **lowers = calloc (img->n_layers + 1, sizeof (char *));

  if (lowers == NULL || asprintf (&upper, "%s/upper", r->dir) < 0
      || asprintf (&work, "%s/work", r->dir) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  for (size_t i = 0; i < img->n_layers; i++)
    if (asprintf (&lowers[img->n_layers - 1 - i], "%s/layers/%s", e->root, img->layers[i].dir) < 0)
      return arca_error_set (err, ENOMEM, "vm");
  /* The merged root takes the upper directory's owner and mode: the
   * image's / must stay traversable by any user. */
  if (arca_mkdir_p (upper, 0755, err) < 0 || arca_mkdir_p (work, 0700, err) < 0)
    return -1;
  if (chmod (upper, 0755) < 0)
    return arca_error_errno (err, "chmod `%s`", upper);
  cleanup_error arca_error *fs_err = NULL;
  if (arca_overlay_mount ((const char *const *) lowers, img->n_layers, upper, work, r->view,
                          &fs_err) < 0)
    {
      /* Kernels before 6.8 have no "lowerdir+": the classic option string,
       * which must fit a page and cannot carry ':' or ',' in a path. */
      if (legacy_overlay (lowers, upper, work, r->view) < 0)
        {
          *err = move_ptr (fs_err);
          return -1;
        }
    }
  r->mounted = true;
  return 0;
}

static int
unmount_view (struct vm_run *r, arca_error **err)
{
  if (!r->mounted)
    return 0;
  r->mounted = false;
  if (arca_overlay_unmount (r->view, err) < 0)
    return -1;
  const char *const sub[] = { "upper", "work", "view" };
  for (size_t i = 0; i < ARRAY_SIZE (sub); i++)
    {
      cleanup_free char *p = NULL;
      if (asprintf (&p, "%s/%s", r->dir, sub[i]) < 0)
        return arca_error_set (err, ENOMEM, "vm");
      if (arca_rm_rf_at (AT_FDCWD, p, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- cached archives ---------------------------------------------------- */

/* Runs build(fd) into a temp file beside path and renames it into place:
 * readers never see a partial archive, and two runs building the same one
 * at once both succeed (same content, the last rename wins). */
static int
cache_build (const char *path, int (*build) (int fd, void *opaque, arca_error **err), void *opaque,
             arca_error **err)
{
  cleanup_free char *tmp = NULL;

  if (access (path, R_OK) == 0)
    return 0;
  if (asprintf (&tmp, "%s.tmp-%d", path, (int) getpid ()) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return arca_error_errno (err, "create `%s`", tmp);
  if (build (fd, opaque, err) < 0 || fsync (fd) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      errno = saved;
      return arca_error_errno (err, "write `%s`", path);
    }
  return 0;
}

static int
build_rootfs (int fd, void *opaque, arca_error **err)
{
  struct arca_cpio w = { .fd = fd };

  if (arca_cpio_add_tree (&w, "rootfs", opaque, err) < 0)
    return -1;
  return arca_cpio_finish (&w, err);
}

struct base_spec {
  const struct vm_paths *p;
  bool disk, net;
};

static int add_modules (struct arca_cpio *w, const char *release, bool disk, bool net,
                        arca_error **err);

static int
build_base (int fd, void *opaque, arca_error **err)
{
  const struct base_spec *b = opaque;
  const struct vm_paths *p = b->p;
  struct arca_cpio w = { .fd = fd };
  static const char *const dirs[] = { "dev", "proc", "sys", "arca", "arca/modules" };

  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    if (arca_cpio_add (&w, dirs[i], S_IFDIR | 0755, NULL, 0, err) < 0)
      return -1;
  if (arca_cpio_add_file (&w, "init", 0755, p->agent, err) < 0)
    return -1;
  if ((b->disk || b->net) && add_modules (&w, p->release, b->disk, b->net, err) < 0)
    return -1;
  return arca_cpio_finish (&w, err);
}

/* The base archive's variant: which modules it carries. */
static const char *
base_variant (bool disk, bool net)
{
  return disk ? (net ? "disknet" : "disk") : (net ? "net" : "plain");
}

/* A new agent build makes the archives of the old ones (of the same
 * variant) garbage.  A run that is copying one has it open: unlinking is
 * safe. */
static void
prune_bases (const char *cache, const char *variant, const char *keep)
{
  cleanup_free char *pattern = NULL;
  glob_t g = { 0 };

  if (asprintf (&pattern, "%s/base-%s-*.cpio", cache, variant) < 0)
    return;
  if (glob (pattern, 0, NULL, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; i++)
      if (strcmp (g.gl_pathv[i], keep) != 0)
        unlink (g.gl_pathv[i]);
  globfree (&g);
}

/* ---- the root as a disk (ARCA_VM_ROOT=disk) ------------------------------ */

/* What the agent loads, in dependency order (the guest has no modprobe):
 * the virtio-pci transport for a disk or a NIC; for root=/dev/vda the
 * block driver, ext4 with the checksum it asks the crypto API for, and
 * overlayfs; for a NIC virtio_net with the failover modules it links. */
static const char *const pci_modules[] = {
  "virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
};
static const char *const disk_modules[] = {
  "virtio_blk", "crc16", "crc32c_generic", "mbcache", "jbd2", "ext4", "overlay",
};
static const char *const net_modules[] = { "failover", "net_failover", "virtio_net" };

/* The modules of a run, in load order, NULL-terminated. */
static void
run_modules (bool disk, bool net, const char *ret[static 16])
{
  size_t n = 0;

  if (disk || net)
    for (size_t i = 0; i < ARRAY_SIZE (pci_modules); i++)
      ret[n++] = pci_modules[i];
  if (disk)
    for (size_t i = 0; i < ARRAY_SIZE (disk_modules); i++)
      ret[n++] = disk_modules[i];
  if (net)
    for (size_t i = 0; i < ARRAY_SIZE (net_modules); i++)
      ret[n++] = net_modules[i];
  ret[n] = NULL;
}

/* The module's file under /lib/modules/<release>/ from modules.dep, or
 * NULL when it is built in (not listed). */
static char *
module_path (const char *dep, const char *release, const char *name)
{
  cleanup_free char *suffix = NULL;
  char *hit = NULL;

  if (asprintf (&suffix, "/%s.ko:", name) < 0)
    return NULL;
  for (const char *line = dep; line && *line;)
    {
      const char *end = strchr (line, '\n');
      const char *colon = memchr (line, ':', end ? (size_t) (end - line) : strlen (line));
      size_t slen = strlen (suffix);
      if (colon && (size_t) (colon + 1 - line) >= slen && memcmp (colon + 1 - slen, suffix, slen) == 0)
        {
          if (asprintf (&hit, "/lib/modules/%s/%.*s", release, (int) (colon - line), line) < 0)
            return NULL;
          return hit;
        }
      line = end ? end + 1 : NULL;
    }
  return NULL;
}

static int
add_modules (struct arca_cpio *w, const char *release, bool disk, bool net, arca_error **err)
{
  cleanup_free char *dep_path = NULL, *dep = NULL;
  const char *mods[16];

  if (asprintf (&dep_path, "/lib/modules/%s/modules.dep", release) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  if (arca_read_file_at (AT_FDCWD, dep_path, 16 << 20, &dep, NULL, err) < 0)
    return arca_error_wrap (err, "--vm: the guest kernel's modules");
  run_modules (disk, net, mods);
  for (size_t i = 0; mods[i]; i++)
    {
      cleanup_free char *path = module_path (dep, release, mods[i]);
      cleanup_free char *name = NULL;
      if (path == NULL)
        continue; /* built in */
      if (asprintf (&name, "arca/modules/%s.ko", mods[i]) < 0)
        return arca_error_set (err, ENOMEM, "vm");
      if (arca_cpio_add_file (w, name, 0644, path, err) < 0)
        return -1;
    }
  return 0;
}

static int
sum_size (const char *dir, uint64_t *total, uint64_t *inodes, arca_error **err)
{
  cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", dir);
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    return arca_error_errno (err, "opendir `%s`", dir);
  fd = -1;
  for (struct dirent *de; (de = readdir (d)) != NULL;)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      *total += (uint64_t) st.st_size;
      (*inodes)++;
      if (S_ISDIR (st.st_mode))
        {
          cleanup_free char *sub = NULL;
          if (asprintf (&sub, "%s/%s", dir, de->d_name) < 0)
            return arca_error_set (err, ENOMEM, "vm");
          if (sum_size (sub, total, inodes, err) < 0)
            return -1;
        }
    }
  return 0;
}

/* mkfs.ext4 -d of the view into a temp file, renamed into place. */
static int
build_disk (const char *path, const char *view, arca_error **err)
{
  uint64_t bytes = 0, inodes = 0;
  cleanup_free char *tmp = NULL, *size = NULL;

  if (access (path, R_OK) == 0)
    return 0;
  if (sum_size (view, &bytes, &inodes, err) < 0)
    return -1;
  /* Room for metadata, a block per small file and a journal. */
  uint64_t kib = (bytes + inodes * 4096) / 1024 * 5 / 4 + 32 * 1024;
  if (asprintf (&tmp, "%s.tmp-%d", path, (int) getpid ()) < 0
      || asprintf (&size, "%lluk", (unsigned long long) kib) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  const char *argv[] = { "mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", "-d", view, tmp, size, NULL };
  pid_t pid = fork ();
  if (pid < 0)
    return arca_error_errno (err, "fork");
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      if (null >= 0)
        {
          dup2 (null, 0);
          dup2 (null, 1);
        }
      execvp ("mkfs.ext4", (char *const *) argv);
      _exit (127);
    }
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return arca_error_errno (err, "wait for mkfs.ext4");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || rename (tmp, path) < 0)
    {
      unlink (tmp);
      return arca_error_set (err, EIO, "--vm: mkfs.ext4 -d `%s` failed (status %d; is e2fsprogs installed?)",
                             view, WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
    }
  return 0;
}

/* ---- the agent's configuration ------------------------------------------ */

struct buf {
  char *data;
  size_t len, cap;
};

static int
rec (struct buf *b, const char *key, const char *value, arca_error **err)
{
  size_t need = strlen (key) + 1 + strlen (value) + 1;

  if (b->len + need > ARCA_VM_CONFIG_MAX)
    return arca_error_set (err, E2BIG, "--vm: the command and environment exceed %d bytes",
                           ARCA_VM_CONFIG_MAX);
  if (b->len + need > b->cap)
    {
      size_t cap = (b->len + need) * 2;
      char *n = realloc (b->data, cap);
      if (n == NULL)
        return arca_error_set (err, ENOMEM, "vm");
      b->data = n;
      b->cap = cap;
    }
  b->len += (size_t) sprintf (b->data + b->len, "%s=%s", key, value) + 1;
  return 0;
}

static bool
env_has (char **env, const char *kv)
{
  size_t klen = strcspn (kv, "=");

  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], kv, klen) == 0 && env[i][klen] == '=')
      return true;
  return false;
}

static int
net_config (const struct arca_vm_net *n, struct buf *b, arca_error **err)
{
  char text[INET_ADDRSTRLEN + 4], mac[18];

  if (!n->attached)
    return 0;
  inet_ntop (AF_INET, &n->address, text, sizeof text);
  snprintf (text + strlen (text), sizeof text - strlen (text), "/%u", n->prefix);
  snprintf (mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2],
            n->mac[3], n->mac[4], n->mac[5]);
  if (rec (b, "address", text, err) < 0 || rec (b, "mac", mac, err) < 0)
    return -1;
  if (n->gateway.s_addr
      && rec (b, "gateway", inet_ntop (AF_INET, &n->gateway, text, sizeof text), err) < 0)
    return -1;
  for (size_t i = 0; n->dns && n->dns[i]; i++)
    if (rec (b, "dns", n->dns[i], err) < 0)
      return -1;
  for (size_t i = 0; n->search && n->search[i]; i++)
    if (rec (b, "search", n->search[i], err) < 0)
      return -1;
  for (size_t i = 0; n->hosts && n->hosts[i]; i++)
    if (rec (b, "host", n->hosts[i], err) < 0)
      return -1;
  return 0;
}

/* The run's terminal: -i, -t and the window size the guest's pty starts
 * with. */
struct vm_term {
  bool interactive, tty;
  struct winsize ws;
};

static int
build_config (const struct arca_image_runconfig *img, const struct arca_run_spec *s,
              const char *view, const char *id, bool disk, const struct arca_vm_net *net,
              const struct vm_term *term, struct buf *b, arca_error **err)
{
  const char *mods[16];
  char **entry = s->set_entrypoint ? s->entrypoint : img->entrypoint;
  char **cmd = s->command ? s->command : (s->set_entrypoint ? NULL : img->cmd);
  const char *user = s->user ? s->user : img->user;
  const char *cwd = s->workdir && *s->workdir ? s->workdir
                    : img->working_dir && *img->working_dir ? img->working_dir : "/";
  char hostname[13], num[16];
  uint32_t uid, gid;
  cleanup_free uint32_t *groups = NULL;
  size_t n_groups = 0, n_args = 0;

  snprintf (hostname, sizeof hostname, "%.12s", id);
  if (cwd[0] != '/')
    return arca_error_set (err, EINVAL, "--workdir `%s`: not an absolute path", cwd);
  if (arca_engine_resolve_user (view, user, &uid, &gid, &groups, &n_groups, err) < 0)
    return -1;
  if (rec (b, "version", "1", err) < 0)
    return -1;
  for (size_t i = 0; entry && entry[i]; i++, n_args++)
    if (rec (b, "arg", entry[i], err) < 0)
      return -1;
  for (size_t i = 0; cmd && cmd[i]; i++, n_args++)
    if (rec (b, "arg", cmd[i], err) < 0)
      return -1;
  if (n_args == 0)
    return arca_error_set (err, EINVAL, "no command: the image has none and none was given");
  /* -e over the image's variables: a later record of the same name wins
   * in the guest (putenv), so the image's go first. */
  for (size_t i = 0; img->env && img->env[i]; i++)
    if (!env_has (s->env, img->env[i]) && rec (b, "env", img->env[i], err) < 0)
      return -1;
  /* As a container's -t: over the image's TERM, under -e. */
  if (term->tty && !env_has (s->env, "TERM=") && rec (b, "env", "TERM=xterm", err) < 0)
    return -1;
  for (size_t i = 0; s->env && s->env[i]; i++)
    if (rec (b, "env", s->env[i], err) < 0)
      return -1;
  if (term->interactive && rec (b, "stdin", "1", err) < 0)
    return -1;
  if (term->tty)
    {
      char size[16];
      snprintf (size, sizeof size, "%ux%u", (unsigned) term->ws.ws_row, (unsigned) term->ws.ws_col);
      if (rec (b, "tty", size, err) < 0)
        return -1;
    }
  const char *hn = s->hostname && *s->hostname ? s->hostname : hostname;
  if (!env_has (s->env, "HOSTNAME="))
    {
      cleanup_free char *kv = NULL;
      if (asprintf (&kv, "HOSTNAME=%s", hn) < 0)
        return arca_error_set (err, ENOMEM, "vm");
      if (rec (b, "env", kv, err) < 0)
        return -1;
    }
  if (rec (b, "hostname", hn, err) < 0 || rec (b, "cwd", cwd, err) < 0)
    return -1;
  snprintf (num, sizeof num, "%u", uid);
  if (rec (b, "uid", num, err) < 0)
    return -1;
  snprintf (num, sizeof num, "%u", gid);
  if (rec (b, "gid", num, err) < 0)
    return -1;
  for (size_t i = 0; i < n_groups; i++)
    {
      snprintf (num, sizeof num, "%u", groups[i]);
      if (rec (b, "group", num, err) < 0)
        return -1;
    }
  if (net_config (net, b, err) < 0)
    return -1;
  if (!disk && rec (b, "root", "initramfs", err) < 0)
    return -1;
  if (disk && (rec (b, "root", "/dev/vda", err) < 0 || rec (b, "rootfstype", "ext4", err) < 0))
    return -1;
  run_modules (disk, net->attached, mods);
  for (size_t i = 0; mods[i]; i++)
    if (rec (b, "module", mods[i], err) < 0)
      return -1;
  return 0;
}

/* ---- the initramfs of one run ------------------------------------------- */

static int
append_file (int out, const char *path, arca_error **err)
{
  cleanup_close int in = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;

  if (in < 0 || fstat (in, &st) < 0)
    return arca_error_errno (err, "open `%s`", path);
  for (off_t left = st.st_size; left > 0;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, (size_t) left, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return arca_error_errno (err, "copy `%s`", path);
      left -= n;
    }
  return 0;
}

static int
write_initrd (const char *path, const char *base, const char *rootfs, const struct buf *config,
              arca_error **err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  struct arca_cpio w = { .fd = -1 };

  if (fd < 0)
    return arca_error_errno (err, "create `%s`", path);
  if (append_file (fd, base, err) < 0 || (rootfs && append_file (fd, rootfs, err) < 0))
    return -1;
  w.fd = fd;
  if (arca_cpio_add (&w, "arca/config", S_IFREG | 0600, config->data, config->len, err) < 0
      || arca_cpio_finish (&w, err) < 0)
    return -1;
  return 0;
}

/* ---- arca-vmm ----------------------------------------------------------- */

/* The run's lock goes to arca-vmm too (inherited): the run counts as
 * alive as long as either lives, so its tap is never reclaimed under a
 * running VM. */
static int
spawn_vmm (const struct vm_paths *p, const char *initrd, const char *disk,
           const struct arca_vm_net *net, int lock, const char *log_path, unsigned memory_mib,
           unsigned cpus, int vmm_in, bool die_with_parent, int *ret_out, pid_t *ret_pid,
           arca_error **err)
{
  char mem[16], ncpu[16];
  pid_t parent = getpid ();
  cleanup_free char *cmdline = NULL, *drive = NULL, *nic = NULL;
  const char *extra = getenv ("ARCA_VM_CMDLINE_EXTRA");
  int pipefd[2];

  snprintf (mem, sizeof mem, "%u", memory_mib);
  snprintf (ncpu, sizeof ncpu, "%u", cpus);
  /* A disk is on virtio-pci (Debian's kernel has no virtio-mmio
   * command-line discovery): PCI stays on then. */
  if (asprintf (&cmdline, "%s%s%s%s", GUEST_CMDLINE, disk || net->attached ? "" : " pci=off",
                extra && *extra ? " " : "", extra ? extra : "") < 0
      || (disk && asprintf (&drive, "%s,ro", disk) < 0)
      || (net->attached
          && asprintf (&nic, "%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", net->tap, net->mac[0],
                       net->mac[1], net->mac[2], net->mac[3], net->mac[4], net->mac[5]) < 0))
    return arca_error_set (err, ENOMEM, "vm");
  cleanup_close int log = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  cleanup_close int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0)
    return arca_error_errno (err, "open `%s`", log_path);
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return arca_error_errno (err, "pipe");
  cleanup_close int rd = pipefd[0];
  cleanup_close int wr = pipefd[1];
  const char *argv[20] = { p->vmm, "--kernel", p->kernel, "--initrd", initrd, "--memory", mem,
                           "--cpus", ncpu, "--cmdline", cmdline, "--serial", "stdio",
                           "--transport", "pci" };
  size_t argc = 15;
  if (disk)
    {
      argv[argc++] = "--drive";
      argv[argc++] = drive;
    }
  if (nic)
    {
      argv[argc++] = "--net";
      argv[argc++] = nic;
    }
  pid_t pid = fork ();
  if (pid < 0)
    return arca_error_errno (err, "fork");
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      /* A detached run's monitor killed (SIGKILL): no VM without it. */
      if (die_with_parent
          && (prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid () != parent))
        _exit (127);
      if (dup2 (vmm_in >= 0 ? vmm_in : null, 0) < 0 || dup2 (wr, 1) < 0 || dup2 (log, 2) < 0
          || (lock >= 0 && fcntl (lock, F_SETFD, 0) < 0))
        _exit (127);
      execv (p->vmm, (char *const *) argv);
      dprintf (2, "exec `%s`: %s\n", p->vmm, strerror (errno));
      _exit (127);
    }
  *ret_out = move_fd (rd);
  *ret_pid = pid;
  return 0;
}

/* The host -> guest direction (-i, -t): frames to arca-vmm's serial
 * input, queued here and written without blocking, so a guest that does
 * not drain its UART can stall nothing but its own input.  Stdin is read
 * only while the agent's window has room (engine/vm-proto.h). */
struct vm_input {
  int host_in;          /* our stdin with -i, -1 once at EOF (or without -i) */
  int vmm_in;           /* socket to arca-vmm's stdin; -1 without -i/-t */
  int term_fd;          /* the terminal giving the window size, or -1 */
  bool tty, winch;      /* winch: a window size is to be sent */
  uint64_t sent;        /* stdin bytes in 'i' frames so far */
  unsigned char q[4 * ARCA_VM_FRAME_WIRE_MAX];
  size_t q_len;
};

static bool
queue_room (const struct vm_input *in)
{
  return sizeof in->q - in->q_len >= ARCA_VM_FRAME_WIRE_MAX;
}

static void
input_step (struct vm_input *in, const struct arca_vm_relay *r, bool host_in_ready)
{
  if (!r->ready || in->vmm_in < 0)
    return;
  if (in->winch && in->tty && queue_room (in))
    {
      struct winsize ws;
      if (in->term_fd >= 0 && ioctl (in->term_fd, TIOCGWINSZ, &ws) == 0)
        {
          unsigned char p[4] = { (unsigned char) (ws.ws_row >> 8), (unsigned char) ws.ws_row,
                                 (unsigned char) (ws.ws_col >> 8), (unsigned char) ws.ws_col };
          in->q_len += arca_vm_frame_encode (in->q + in->q_len, ARCA_VM_FRAME_WINSIZE, p, sizeof p);
        }
      in->winch = false;
    }
  /* The guest's acknowledgements are untrusted: more than was sent counts
   * as all of it. */
  uint64_t unacked = r->acked >= in->sent ? 0 : in->sent - r->acked;
  if (host_in_ready && in->host_in >= 0 && queue_room (in) && unacked < ARCA_VM_STDIN_WINDOW)
    {
      unsigned char buf[ARCA_VM_FRAME_MAX];
      size_t want = ARCA_VM_STDIN_WINDOW - unacked;
      ssize_t n = read (in->host_in, buf, want < sizeof buf ? want : sizeof buf);
      if (n > 0)
        {
          in->q_len += arca_vm_frame_encode (in->q + in->q_len, ARCA_VM_FRAME_STDIN, buf, (size_t) n);
          in->sent += (uint64_t) n;
        }
      else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        {
          in->q_len += arca_vm_frame_encode (in->q + in->q_len, ARCA_VM_FRAME_STDIN_EOF, NULL, 0);
          in->host_in = -1;
        }
    }
  while (in->q_len > 0)
    {
      ssize_t n = send (in->vmm_in, in->q, in->q_len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          /* arca-vmm is gone: nothing more to send. */
          in->q_len = 0;
          in->vmm_in = -1;
          break;
        }
      memmove (in->q, in->q + n, in->q_len - (size_t) n);
      in->q_len -= (size_t) n;
    }
}

/* Relays until arca-vmm closes its serial; SIGINT/SIGTERM/SIGHUP to us
 * stop the VM (arca-vmm stops cleanly on SIGTERM); SIGWINCH sends the
 * window size with -t.  Returns arca-vmm's wait status. */
static int
relay_vmm (int out, pid_t pid, struct arca_vm_relay *r, struct vm_input *in, int *ret_status,
           arca_error **err)
{
  enum { OUT, SIG, HOST_IN, VMM_IN };
  sigset_t set, old;
  char buf[65536];

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  if (in->tty)
    sigaddset (&set, SIGWINCH);
  sigprocmask (SIG_BLOCK, &set, &old);
  cleanup_close int sfd = signalfd (-1, &set, SFD_CLOEXEC);

  for (;;)
    {
      uint64_t unacked = r->acked >= in->sent ? 0 : in->sent - r->acked;
      bool want_stdin = r->ready && in->vmm_in >= 0 && in->host_in >= 0 && queue_room (in)
                        && unacked < ARCA_VM_STDIN_WINDOW;
      struct pollfd fds[4] = { { .fd = out, .events = POLLIN },
                               { .fd = sfd, .events = POLLIN },
                               { .fd = want_stdin ? in->host_in : -1, .events = POLLIN },
                               { .fd = in->q_len > 0 ? in->vmm_in : -1, .events = POLLOUT } };
      if (poll (fds, 4, -1) < 0 && errno != EINTR)
        break;
      if (sfd >= 0 && (fds[SIG].revents & POLLIN))
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) == sizeof si)
            {
              if (si.ssi_signo == SIGWINCH)
                in->winch = true;
              else
                kill (pid, SIGTERM);
            }
        }
      if (fds[OUT].revents)
        {
          ssize_t n = read (out, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          arca_vm_relay_feed (r, buf, (size_t) n);
        }
      input_step (in, r, fds[HOST_IN].revents != 0);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        sigprocmask (SIG_SETMASK, &old, NULL);
        return arca_error_errno (err, "wait for arca-vmm");
      }
  /* A SIGWINCH that came while it was blocked is dropped, not delivered
   * (its default action is to ignore it anyway). */
  sigprocmask (SIG_SETMASK, &old, NULL);
  *ret_status = status;
  return 0;
}

/* The host terminal in raw mode while attached (-it), output processing
 * too: the guest's pty already turned \n into \r\n, and its bytes reach
 * the screen as they are. */
struct raw_term {
  int fd;
  struct termios saved;
};

static void
raw_term_restore (struct raw_term *t)
{
  if (t->fd >= 0)
    tcsetattr (t->fd, TCSANOW, &t->saved);
  t->fd = -1;
}

static void
raw_term_enter (struct raw_term *t, int fd)
{
  struct termios raw;

  t->fd = -1;
  if (!isatty (fd) || tcgetattr (fd, &t->saved) < 0)
    return;
  raw = t->saved;
  cfmakeraw (&raw);
  if (tcsetattr (fd, TCSANOW, &raw) == 0)
    t->fd = fd;
}

/* The last lines of a file, for an error message. */
static char *
tail_of (const char *path, size_t max)
{
  char *text = NULL;
  size_t len = 0;

  if (arca_read_file_at (AT_FDCWD, path, 1 << 20, &text, &len, NULL) < 0)
    return NULL;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  if (len > max)
    memmove (text, text + len - max, max + 1);
  return text;
}

static int
save_text (const char *dir, const char *name, const char *text, arca_error **err)
{
  cleanup_free char *p = NULL;

  if (asprintf (&p, "%s/%s", dir, name) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  return arca_write_file_atomic_at (AT_FDCWD, p, text, strlen (text), 0600, err);
}

/* SIGINT, SIGTERM and SIGHUP are held from before the network is attached
 * until it is gone again: a Ctrl-C while the run is set up is seen before
 * arca-vmm starts (or by the relay, which stops the VM), and the run's
 * cleanup always runs. */
struct held_signals {
  sigset_t set, old;
};

static void
held_signals_restore (struct held_signals *h)
{
  sigprocmask (SIG_SETMASK, &h->old, NULL);
}

static bool
stop_requested (const struct held_signals *h)
{
  sigset_t pending;

  if (sigpending (&pending) < 0)
    return false;
  for (int sig = 1; sig < NSIG; sig++)
    if (sigismember (&h->set, sig) == 1 && sigismember (&pending, sig) == 1)
      return true;
  return false;
}

/* ---- run --vm -d ---------------------------------------------------------- */

/* What the monitor needs to start arca-vmm (engine/vm-monitor.h). */
struct vmm_launch {
  const struct vm_paths *p;
  const char *initrd, *disk, *log;
  const struct arca_vm_net *net;
  int lock;
  unsigned memory_mib, cpus;
};

static int
launch_vmm (void *opaque, int vmm_in, int *ret_out, pid_t *ret_pid, arca_error **err)
{
  const struct vmm_launch *l = opaque;

  return spawn_vmm (l->p, l->initrd, l->disk, l->net, l->lock, l->log, l->memory_mib, l->cpus,
                    vmm_in, true, ret_out, ret_pid, err);
}

struct detached {
  struct arca_engine *e;
  const char *id;
  char *dir;              /* containers/<id> */
  bool inserted, done;
};

static void
detached_undo (struct detached *d)
{
  if (!d->done && d->inserted)
    {
      cleanup_error arca_error *ignored = NULL;
      arca_vm_record_delete (d->e, d->id, &ignored);
    }
  if (!d->done && d->dir)
    arca_rm_rf_at (AT_FDCWD, d->dir, NULL);
  free (d->dir);
}

/* The record, its files and the monitor that boots the VM; on failure
 * none of them stays (the caller's cleanup takes the run and network). */
static int
start_detached (struct arca_engine *e, const struct arca_vm_run_request *req, const char *id,
                const char *name, const char *image_id, const char *stop_signal,
                const struct vm_run *run, const struct buf *agent, const struct vmm_launch *l,
                arca_error **err)
{
  _cleanup_ (detached_undo) struct detached d = { .e = e, .id = id };
  _cleanup_ (json_decrefp) json_t *config = arca_vm_record_config (
      agent->data, agent->len, l->p->vmm, l->p->kernel, l->memory_mib, l->cpus,
      l->net->attached ? l->net->network : "none");
  cleanup_free char *config_path = NULL, *log = NULL, *command = NULL, *config_text = NULL;
  cleanup_free char *opts_text = NULL;

  if (e->self_exe == NULL)
    return arca_error_set (err, ENOENT, "cannot find the arca binary for the monitor");
  if (config == NULL || (command = arca_vm_record_command (config)) == NULL
      || (config_text = json_dumps (config, JSON_INDENT (2))) == NULL)
    return arca_error_set (err, ENOMEM, "vm");
  if (arca_engine_container_dir (e, id, NULL, &d.dir, err) < 0
      || arca_engine_container_dir (e, id, "config.json", &config_path, err) < 0
      || arca_engine_container_dir (e, id, "ctr.log", &log, err) < 0
      || arca_mkdir_p (d.dir, 0700, err) < 0
      || arca_write_file_atomic_at (AT_FDCWD, config_path, config_text, strlen (config_text), 0644,
                                    err) < 0
      || arca_vm_record_save_net (run->dir, l->net, err) < 0)
    return -1;
  /* "network": none for the container network drivers (rm, cleanup):
   * the VM's tap is the record's own (vm-record.h). */
  _cleanup_ (json_decrefp) json_t *opts = json_pack (
      "{s:b, s:b, s:s, s:s, s:i, s:s, s:s}", "vm", 1, "remove", req->remove, "command", command,
      "stopSignal", stop_signal, "stopTimeout", req->stop_timeout >= 0 ? req->stop_timeout : 10,
      "network", "none", "runtime", "arca-vmm");
  if (opts == NULL || (opts_text = json_dumps (opts, JSON_COMPACT)) == NULL)
    return arca_error_set (err, ENOMEM, "vm");
  if (arca_vm_record_insert (e, id, name, image_id, req->image, opts_text, err) < 0)
    return -1;
  d.inserted = true;
  char *exit_command[] = { e->self_exe, "--root", e->root, "--run-root", e->run_root,
                           "container-cleanup", (char *) id, NULL };
  struct arca_vm_monitor_options mo = {
    .dir = d.dir,
    .run_dir = run->dir,
    .log_path = log,
    .log_max_size = LOG_MAX_SIZE,
    .log_max_files = LOG_MAX_FILES,
    .exit_command = exit_command,
    .spawn = launch_vmm,
    .opaque = (void *) l,
  };
  pid_t monitor = 0;
  if (arca_vm_monitor_start (&mo, &monitor, err) < 0)
    return arca_error_wrap (err, "--vm -d");
  d.done = true;
  return 0;
}

int
arca_engine_run_vm (struct arca_engine *e, const struct arca_vm_run_request *req, int out_fd,
                    int err_fd, int *ret_exit_code, arca_error **err)
{
  const struct arca_run_spec *s = req->spec;
  _cleanup_ (held_signals_restore) struct held_signals held = { 0 };
  _cleanup_ (vm_paths_free) struct vm_paths p = { 0 };
  _cleanup_ (vm_run_cleanup) struct vm_run run = { .lock = -1 };
  _cleanup_ (arca_vm_net_cleanup) struct arca_vm_net net = { 0 };
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  _cleanup_ (arca_image_runconfig_freep) struct arca_image_runconfig *runcfg = NULL;
  cleanup_free char *config_blob = NULL, *cache = NULL, *rootfs = NULL, *base = NULL;
  cleanup_free char *initrd = NULL, *vmm_log = NULL, *disk = NULL;
  const char *root_mode = getenv ("ARCA_VM_ROOT");
  bool use_disk = root_mode && strcmp (root_mode, "disk") == 0;
  char image_id[ARCA_DIGEST_LEN + 1], id[ARCA_ENGINE_ID_LEN + 1];
  struct buf config = { 0 };
  size_t config_len = 0;

  sigemptyset (&held.set);
  sigaddset (&held.set, SIGINT);
  sigaddset (&held.set, SIGTERM);
  sigaddset (&held.set, SIGHUP);
  sigprocmask (SIG_BLOCK, &held.set, &held.old);
  if (req->detach && (req->interactive || s->tty))
    return arca_error_set (err, ENOTSUP, "--vm -d: -i/-t are not supported (a detached VM run "
                                         "cannot be attached to; use logs)");
  /* -d: the name is checked before anything is made. */
  if (req->detach && req->name && arca_engine_check_name (e, req->name, err) < 0)
    return -1;
  if (s->n_mounts)
    return arca_error_set (err, ENOTSUP, "--vm: -v/--tmpfs are not supported with --vm yet");
  struct vm_term term = { .interactive = req->interactive, .tty = s->tty,
                          .ws = { .ws_row = 24, .ws_col = 80 } };
  int term_fd = -1;
  if (term.tty)
    {
      struct winsize ws;
      if (req->interactive && isatty (req->in_fd))
        term_fd = req->in_fd;
      else if (isatty (out_fd))
        term_fd = out_fd;
      if (term_fd >= 0 && ioctl (term_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        term.ws = ws;
    }
  if ((s->publish || s->publish_all) && s->network != ARCA_NET_BRIDGE)
    return arca_error_set (err, EINVAL, "--vm: -p/-P need a network (bridge or a user network)");
  unsigned memory_mib = s->memory > 0 ? (unsigned) ((s->memory + (1 << 20) - 1) >> 20) : DEFAULT_MEMORY_MIB;
  unsigned cpus = s->cpus > 0 && s->cpus <= MAX_CPUS ? (unsigned) s->cpus : 1;
  if (s->cpus > MAX_CPUS)
    cpus = MAX_CPUS + 1;
  else if (cpus < s->cpus)
    cpus++; /* 1.5 cpus: two vCPUs */
  if (s->memory > 0 && (memory_mib < MIN_MEMORY_MIB || s->memory > (int64_t) 64 << 30))
    return arca_error_set (err, EINVAL, "--vm: --memory must be between %d MiB and 64 GiB", MIN_MEMORY_MIB);
  if (cpus > MAX_CPUS)
    return arca_error_set (err, EINVAL, "--vm: --cpus must be at most %d", MAX_CPUS);

  /* A VMM named by ARCA_VMM_PATH (a stand-in taking arca-vmm's arguments)
   * may not need /dev/kvm; arca-vmm does. */
  const char *vmm_env = getenv ("ARCA_VMM_PATH");
  if ((vmm_env == NULL || *vmm_env == '\0') && check_kvm (err) < 0)
    return -1;
  if (find_kernel (&p, err) < 0
      || arca_engine_find_tool ("ARCA_VMM_PATH", "../vmm", "arca-vmm", &p.vmm, err) < 0
      || arca_engine_find_tool ("ARCA_GUEST_AGENT_PATH", "../guest-agent", "arca-guest-agent", &p.agent, err) < 0)
    return -1;

  if (arca_engine_ensure_busybox (e, req->image, err) < 0
      || arca_db_resolve (e->db, req->image, image_id, err) < 0)
    return -1;
  if (arca_db_get_image (e->db, image_id, &img, err) < 0
      || arca_blob_read (e->store, image_id, CONFIG_BLOB_MAX, &config_blob, &config_len, err) < 0
      || arca_image_runconfig_parse (config_blob, config_len, &runcfg, err) < 0)
    return arca_error_wrap (err, "image `%s`", req->image);

  struct stat agent_st;
  if (stat (p.agent, &agent_st) < 0)
    return arca_error_errno (err, "`%s`", p.agent);
  bool use_net = s->network != ARCA_NET_NONE;
  const char *variant = base_variant (use_disk, use_net);
  if (asprintf (&cache, "%s/vm", e->root) < 0
      || asprintf (&rootfs, "%s/rootfs-%s.cpio", cache, image_id + strlen ("sha256:")) < 0
      || asprintf (&base, "%s/base-%s-%s-%llx-%llx.cpio", cache, variant, p.release,
                   (unsigned long long) agent_st.st_size,
                   (unsigned long long) agent_st.st_mtim.tv_sec) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  if (strchr (p.release, '/') != NULL)
    return arca_error_set (err, EINVAL, "--vm: kernel release `%s`", p.release);

  if (new_run_dir (e, &run, id, err) < 0 || mount_view (e, img, &run, err) < 0)
    return -1;
  if (root_mode && *root_mode && !use_disk && strcmp (root_mode, "initramfs") != 0)
    return arca_error_set (err, EINVAL, "ARCA_VM_ROOT=`%s`: initramfs or disk", root_mode);
  if (arca_vm_net_attach (e, id, s, runcfg->exposed_ports, &net, err) < 0)
    return -1;
  if (build_config (runcfg, s, run.view, id, use_disk, &net, &term, &config, err) < 0)
    {
      free (config.data);
      return -1;
    }
  int r = 0;
  if (use_disk)
    {
      if (asprintf (&disk, "%s/disk-%s.ext4", cache, image_id + strlen ("sha256:")) < 0)
        r = arca_error_set (err, ENOMEM, "vm");
      else
        r = build_disk (disk, run.view, err);
    }
  else
    r = cache_build (rootfs, build_rootfs, run.view, err);
  if (r == 0)
    r = unmount_view (&run, err);
  if (r == 0 && access (base, R_OK) < 0)
    {
      struct base_spec bs = { .p = &p, .disk = use_disk, .net = use_net };
      r = cache_build (base, build_base, &bs, err);
      if (r == 0)
        prune_bases (cache, variant, base);
    }
  if (r == 0 && (asprintf (&initrd, "%s/initrd", run.dir) < 0 || asprintf (&vmm_log, "%s/vmm.log", run.dir) < 0))
    r = arca_error_set (err, ENOMEM, "vm");
  if (r == 0)
    r = write_initrd (initrd, base, use_disk ? NULL : rootfs, &config, err);
  if (r == 0)
    {
      cleanup_free char *conf = NULL;
      if (asprintf (&conf, "%s/agent.conf", run.dir) < 0)
        r = arca_error_set (err, ENOMEM, "vm");
      else
        r = arca_write_file_atomic_at (AT_FDCWD, conf, config.data, config.len, 0600, err);
    }
  if (r == 0 && req->detach)
    {
      cleanup_free char *name = NULL;
      const char *stop_signal = req->stop_signal ? req->stop_signal
                                : runcfg->stop_signal ? runcfg->stop_signal : "SIGTERM";
      struct vmm_launch l = { .p = &p, .initrd = initrd, .disk = disk, .log = vmm_log, .net = &net,
                              .lock = run.lock, .memory_mib = memory_mib, .cpus = cpus };
      if (arca_signal_parse (stop_signal) < 0)
        r = arca_error_set (err, EINVAL, "invalid stop signal `%s`", stop_signal);
      else if (req->name ? (name = strdup (req->name)) == NULL
                         : asprintf (&name, "arca-%.12s", id) < 0)
        r = arca_error_set (err, ENOMEM, "vm");
      else if (stop_requested (&held))
        r = arca_error_set (err, EINTR, "--vm: interrupted before the VM started");
      else
        r = start_detached (e, req, id, name, image_id, stop_signal, &run, &config, &l, err);
      free (config.data);
      if (r < 0)
        return -1;
      /* The monitor owns them now: the network is detached and the run's
       * directory removed by its cleanup command or by rm. */
      net.attached = false;
      run.keep = true;
      if (req->ret_id)
        memcpy (req->ret_id, id, sizeof id);
      *ret_exit_code = 0;
      return 0;
    }
  free (config.data);
  if (r < 0)
    return -1;

  cleanup_close int out = -1;
  pid_t pid = -1;
  int status = 0;
  struct arca_vm_relay *relay = malloc (sizeof *relay);
  if (relay == NULL)
    return arca_error_set (err, ENOMEM, "vm");
  arca_vm_relay_init (relay, out_fd, err_fd);
  if (stop_requested (&held))
    r = arca_error_set (err, EINTR, "--vm: interrupted before the VM started");
  /* -i/-t: a socket as arca-vmm's stdin (the serial input), our end
   * written with MSG_NOSIGNAL: an arca-vmm that exits is no SIGPIPE. */
  cleanup_close int vmm_in = -1, vmm_in_peer = -1;
  if (r == 0 && (term.interactive || term.tty))
    {
      int sv[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        r = arca_error_errno (err, "socketpair");
      else
        {
          vmm_in = sv[0];
          vmm_in_peer = sv[1];
          shutdown (vmm_in, SHUT_RD);
        }
    }
  if (r == 0)
    r = spawn_vmm (&p, initrd, disk, &net, run.lock, vmm_log, memory_mib, cpus, vmm_in_peer, false,
                   &out, &pid, err);
  arca_closep (&vmm_in_peer);
  if (r == 0)
    {
      _cleanup_ (raw_term_restore) struct raw_term raw = { .fd = -1 };
      struct vm_input *in = calloc (1, sizeof *in);
      if (in == NULL)
        r = arca_error_set (err, ENOMEM, "vm");
      else
        {
          in->host_in = term.interactive ? req->in_fd : -1;
          in->vmm_in = vmm_in;
          in->term_fd = term_fd;
          in->tty = term.tty;
          in->winch = term.tty; /* once ready: the size now, if it changed since */
          if (term.interactive && term.tty)
            raw_term_enter (&raw, req->in_fd);
          r = relay_vmm (out, pid, relay, in, &status, err);
          free (in);
        }
    }
  unlink (initrd);
  char console[ARCA_VM_CONSOLE_KEEP + 1];
  arca_vm_relay_console (relay, console, sizeof console);
  int code = relay->exit_code;
  char agent_error[ARCA_VM_FRAME_MAX + 1];
  snprintf (agent_error, sizeof agent_error, "%s", relay->error);
  free (relay);
  if (r < 0)
    return -1;
  save_text (run.dir, "console.log", console, NULL);

  if (agent_error[0])
    return arca_error_set (err, EIO, "--vm: guest agent: %s", agent_error);
  if (code < 0)
    {
      cleanup_free char *log = tail_of (vmm_log, 600);
      size_t clen = strlen (console);
      return arca_error_set (err, EIO,
                             "--vm: the guest ended without the command's exit status (arca-vmm %s %d)%s%s%s%s",
                             WIFEXITED (status) ? "exit" : "signal",
                             WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status),
                             log && *log ? "; arca-vmm: " : "", log ? log : "",
                             clen ? "; guest console: " : "", clen > 600 ? console + clen - 600 : console);
    }
  char text[16];
  snprintf (text, sizeof text, "%d\n", code);
  save_text (run.dir, "exit-code", text, NULL);
  run.keep = !req->remove;
  *ret_exit_code = code;
  return 0;
}
