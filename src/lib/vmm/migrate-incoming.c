/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration, the destination side: accepts one connection, builds the
 * machine from the configuration it sends first, writes the page records
 * straight into guest RAM (each one bounds-checked: the stream is not
 * trusted more than a snapshot file), loads the final state, starts the
 * vCPUs and acknowledges. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate.h"
#include "util/cleanup.h"
#include "vm.h"

/* Reads a JSON record payload and checks its checksum. */
static int
read_json (int fd, const struct mig_record *rec, json_t **ret, arca_error **err)
{
  cleanup_free char *buf = NULL;
  json_error_t jerr;
  json_t *j;

  if (rec->count == 0 || rec->count > MIG_MAX_JSON)
    return arca_error_set (err, EPROTO, "migration stream: bad JSON length %u", rec->count);
  buf = malloc (rec->count);
  if (buf == NULL)
    return arca_error_errno (err, "migration stream");
  if (mig__read_all (fd, buf, rec->count, err) < 0)
    return -1;
  if (snapshot__fnv1a64 (buf, rec->count) != rec->arg)
    return arca_error_set (err, EPROTO, "migration stream: checksum mismatch");
  j = json_loadb (buf, rec->count, 0, &jerr);
  if (j == NULL)
    return arca_error_set (err, EPROTO, "migration stream: %s", jerr.text);
  *ret = j;
  return 0;
}

static int
read_record (int fd, struct mig_record *rec, arca_error **err)
{
  if (mig__read_all (fd, rec, sizeof (*rec), err) < 0)
    return -1;
  if (rec->magic != MIG_MAGIC)
    return arca_error_set (err, EPROTO, "migration stream: bad record magic");
  return 0;
}

static int
receive_pages (struct arca_vm *vm, int fd, const struct mig_record *rec, arca_error **err)
{
  uint64_t size = vm->mem.map_size, len = (uint64_t) rec->count * MIG_PAGE;

  if (rec->count == 0 || rec->count > MIG_MAX_RUN || rec->arg % MIG_PAGE != 0 || rec->arg > size
      || len > size - rec->arg)
    return arca_error_set (err, EPROTO, "migration stream: %u pages at 0x%llx are outside RAM",
                           rec->count, (unsigned long long) rec->arg);
  return mig__read_all (fd, (uint8_t *) vm->mem.map + rec->arg, len, err);
}

/* Builds the VM from the stream up to its loaded final state. */
static int
receive (const struct arca_vm_config *config, int fd, struct arca_vm **ret_vm,
         struct mig_times *times, arca_error **err)
{
  cleanup_vm struct arca_vm *vm = NULL;
  struct arca_vm_config cfg = *config;
  struct mig_record rec;
  json_t *machine = NULL, *state = NULL;
  uint64_t t;
  int r;

  if (read_record (fd, &rec, err) < 0)
    return -1;
  if (rec.type != MIG_MACHINE)
    return arca_error_set (err, EPROTO, "migration stream: does not start with the machine");
  if (read_json (fd, &rec, &machine, err) < 0)
    return -1;
  r = snapshot__machine_config (machine, &cfg, err);
  cfg.kernel_path = cfg.initrd_path = cfg.cmdline = NULL;
  if (r == 0)
    r = vm__build (&cfg, -1, true, &vm, err);
  json_decref (machine);   /* cfg's strings are copied by the build */
  if (r < 0)
    return -1;
  if (mig__write_all (fd, &(char){ MIG_READY }, 1, err) < 0)
    return -1;
  for (;;)
    {
      if (read_record (fd, &rec, err) < 0)
        return -1;
      if (rec.type == MIG_PAGES)
        {
          if (receive_pages (vm, fd, &rec, err) < 0)
            return -1;
          continue;
        }
      if (rec.type != MIG_STATE)
        return arca_error_set (err, EPROTO, "migration stream: unknown record type %u", rec.type);
      /* From its header on, the source is paused: this is downtime. */
      t = arca_vm_now_ns ();
      if (read_json (fd, &rec, &state, err) < 0)
        return -1;
      vm__phase_done (&times->receive_ns, t);
      r = snapshot__load_state (vm, state, err);
      json_decref (state);
      if (r < 0)
        return -1;
      times->kvm_state_ns = vm->metrics.restore.kvm_state_ns;
      times->apply_ns = vm->metrics.restore.state_apply_ns;
      arca_debug (config->log, "incoming: state received in %llu us, loaded in %llu us (KVM %llu us)",
                  (unsigned long long) (times->receive_ns / 1000),
                  (unsigned long long) ((times->kvm_state_ns + times->apply_ns) / 1000),
                  (unsigned long long) (times->kvm_state_ns / 1000));
      break;
    }
  *ret_vm = move_ptr (vm);
  return 0;
}

/* "fd:N": a socket already listening, inherited as descriptor N and taken
   over (arca-vmm --jail binds --incoming's address before the jail closes,
   when the jailed VMM could no longer reach it); else binds address. */
static int
listen_on (const char *address, arca_error **err)
{
  char *end;
  long n;
  int on = 0;
  socklen_t len = sizeof (on);

  if (strncmp (address, "fd:", 3) != 0)
    return mig__listen (address, err);
  errno = 0;
  n = strtol (address + 3, &end, 10);
  if (errno != 0 || end == address + 3 || *end != '\0' || n < 0 || n > INT_MAX)
    return arca_error_set (err, EINVAL, "migration address `%s`: bad descriptor", address);
  if (getsockopt ((int) n, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0)
    return arca_error_errno (err, "migration address `%s`", address);
  if (!on)
    return arca_error_set (err, EINVAL, "migration address `%s`: not a listening socket", address);
  return (int) n;
}

int
arca_vm_migrate_incoming (const struct arca_vm_config *config, const char *address, bool paused,
                          struct arca_vm **ret_vm, arca_error **err)
{
  cleanup_vm struct arca_vm *vm = NULL;
  cleanup_close int lfd = -1;
  cleanup_close int fd = -1;
  struct mig_times times = { 0 };
  uint8_t answer[1 + sizeof (times)];
  char nack = MIG_NACK;
  uint64_t t = 0;
  int r;

  lfd = listen_on (address, err);
  if (lfd < 0)
    return arca_error_wrap (err, "incoming migration");
  do
    fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return arca_error_errno (err, "incoming migration: accept on `%s`", address);
  arca_closep (&lfd);
  mig__unlink (address);

  /* The threads start parked and run once the source knows: a fresh vCPU
     spinning on one of few cores would otherwise delay the answer the
     source's downtime waits for. */
  r = receive (config, fd, &vm, &times, err);
  if (r == 0)
    {
      t = arca_vm_now_ns ();
      r = arca_vm_pause_before_start (vm, err) < 0 || arca_vm_start (vm, err) < 0 ? -1 : 0;
    }
  if (r < 0)
    {
      /* Best effort: the source resumes either way. */
      if (send (fd, &nack, 1, MSG_NOSIGNAL) < 0)
        arca_debug (config->log, "incoming migration: could not send the failure");
      return arca_error_wrap (err, "incoming migration");
    }
  times.start_ns = arca_vm_now_ns () - t;
  /* One write: the source's downtime ends with its first byte. */
  answer[0] = MIG_ACK;
  memcpy (answer + 1, &times, sizeof (times));
  if (mig__write_all (fd, answer, sizeof (answer), err) < 0)
    {
      /* The source cannot know we run: it resumes, so this copy must not. */
      arca_vm_stop (vm);
      return arca_error_wrap (err, "incoming migration: acknowledge");
    }
  if (!paused && arca_vm_resume (vm, err) < 0)
    return arca_error_wrap (err, "incoming migration: resume");
  *ret_vm = move_ptr (vm);
  return 0;
}
