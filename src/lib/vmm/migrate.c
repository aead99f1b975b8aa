/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration, the source side: iterative pre-copy (Clark et al., NSDI
 * 2005).  KVM logs the pages the vCPUs write; round 0 sends every page the
 * guest ever touched, each later round the pages dirtied during the one
 * before, until what is left would go out within the downtime budget at
 * the bandwidth measured so far (or the round limit is hit).  Then the VM
 * is paused, the last dirty pages and the snapshot state are sent, and the
 * source stops once the destination says its vCPUs run.  Any failure before
 * that turns logging off and lets the guest continue here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "util/cleanup.h"
#include "vm.h"

#define ACK_TIMEOUT_MS 10000

struct precopy {
  struct arca_vm *vm;
  int fd;
  uint64_t *bits[2];            /* pending pages per memory slot */
  uint64_t *scratch;            /* one KVM_GET_DIRTY_LOG result */
  size_t words[2];
  uint64_t bytes_sent, send_ns; /* for the bandwidth estimate */
  uint64_t dirty_log_ns;        /* KVM_GET_DIRTY_LOG time */
};

static uint64_t
region_offset (const struct arca_vm *vm, unsigned slot)
{
  return (uint64_t) (vm->mem.regions[slot].hva - (uint8_t *) vm->mem.map);
}

static bool
page_is_zero (const uint8_t *p)
{
  static const uint8_t zero[MIG_PAGE];
  return memcmp (p, zero, sizeof (zero)) == 0;
}

static int
send_run (struct precopy *pc, uint64_t off, uint64_t n, arca_error **err)
{
  const uint8_t *base = pc->vm->mem.map;

  if (mig__send (pc->fd, MIG_PAGES, (uint32_t) n, off, base + off, n * MIG_PAGE, err) < 0)
    return -1;
  pc->bytes_sent += n * MIG_PAGE + sizeof (struct mig_record);
  return 0;
}

/* Sends the non-zero pages of [start, end) in runs; the destination's RAM
   starts zeroed, so zero pages need not travel in round 0. */
static int
send_nonzero (struct precopy *pc, uint64_t start, uint64_t end, uint64_t *count, arca_error **err)
{
  const uint8_t *base = pc->vm->mem.map;
  uint64_t run = 0, run_start = 0;

  for (uint64_t off = start; off < end; off += MIG_PAGE)
    {
      bool send = !page_is_zero (base + off);
      if (send && run == 0)
        run_start = off;
      if (send)
        run++;
      if (run > 0 && (!send || run == MIG_MAX_RUN))
        {
          if (send_run (pc, run_start, run, err) < 0)
            return -1;
          *count += run;
          run = 0;
        }
    }
  if (run > 0)
    {
      if (send_run (pc, run_start, run, err) < 0)
        return -1;
      *count += run;
    }
  return 0;
}

/* Round 0: every page with data.  A memfd knows its data extents, so RAM
   the guest never touched is not even read (reading would allocate it). */
static int
send_all (struct precopy *pc, uint64_t *count, arca_error **err)
{
  const struct guest_mem *mem = &pc->vm->mem;
  uint64_t off = 0;

  if (mem->memfd < 0)
    return send_nonzero (pc, 0, mem->map_size, count, err);
  while (off < mem->map_size)
    {
      off_t d = lseek (mem->memfd, (off_t) off, SEEK_DATA), h;
      if (d < 0)
        break;   /* ENXIO: no data past off */
      h = lseek (mem->memfd, d, SEEK_HOLE);
      if (h < 0 || (uint64_t) h > mem->map_size)
        h = (off_t) mem->map_size;
      if (send_nonzero (pc, (uint64_t) d & ~(MIG_PAGE - 1), (uint64_t) h, count, err) < 0)
        return -1;
      off = (uint64_t) h > off ? (uint64_t) h : off + MIG_PAGE;
    }
  return 0;
}

/* Adds what KVM logged since the last call, and what the VMM's devices
   wrote, to the pending set; returns the number of pending pages. */
static int
collect (struct precopy *pc, uint64_t *ret_pending, arca_error **err)
{
  struct guest_mem *mem = &pc->vm->mem;
  uint64_t pending = 0;

  for (unsigned s = 0; s < mem->n_regions; s++)
    {
      /* Slots start on 64-page boundaries of the mapping (0, 3 GiB). */
      uint64_t *vmm = mem->vmm_dirty + region_offset (pc->vm, s) / MIG_PAGE / 64;
      uint64_t t = arca_vm_now_ns ();
      int r = kvm__get_dirty_log (pc->vm, s, pc->scratch, err);
      vm__phase_done (&pc->dirty_log_ns, t);
      if (r < 0)
        return -1;
      for (size_t w = 0; w < pc->words[s]; w++)
        {
          pc->bits[s][w] |= pc->scratch[w] | __atomic_exchange_n (&vmm[w], 0, __ATOMIC_RELAXED);
          pending += (uint64_t) __builtin_popcountll (pc->bits[s][w]);
        }
    }
  *ret_pending = pending;
  return 0;
}

/* Sends and clears the pending set. */
static int
send_pending (struct precopy *pc, uint64_t *count, arca_error **err)
{
  for (unsigned s = 0; s < pc->vm->mem.n_regions; s++)
    {
      uint64_t base = region_offset (pc->vm, s), npages = pc->vm->mem.regions[s].size / MIG_PAGE;
      uint64_t run = 0, run_start = 0;
      for (uint64_t p = 0; p <= npages; p++)
        {
          bool dirty;
          /* Clean words are skipped whole: this runs while the guest is
             paused, over a bit per page of RAM. */
          if (run == 0 && p < npages && p % 64 == 0 && pc->bits[s][p / 64] == 0)
            {
              p += 63;
              continue;
            }
          dirty = p < npages && (pc->bits[s][p / 64] >> (p % 64) & 1);
          if (dirty && run == 0)
            run_start = p;
          if (dirty)
            run++;
          if (run > 0 && (!dirty || run == MIG_MAX_RUN))
            {
              if (send_run (pc, base + run_start * MIG_PAGE, run, err) < 0)
                return -1;
              *count += run;
              run = 0;
            }
        }
      memset (pc->bits[s], 0, pc->words[s] * sizeof (uint64_t));
    }
  return 0;
}

static int
timed_round (struct precopy *pc, bool all, uint64_t *ret_pages, uint64_t *ret_ns,
             arca_error **err)
{
  uint64_t t = arca_vm_now_ns (), pages = 0;
  int r = all ? send_all (pc, &pages, err) : send_pending (pc, &pages, err);

  if (r < 0)
    return -1;
  *ret_ns = arca_vm_now_ns () - t;
  pc->send_ns += *ret_ns;
  *ret_pages = pages;
  return 0;
}

/* Everything from the first record to the destination's answer.  Sets
   *paused_here once this function paused the VM. */
static int
run_migration (struct precopy *pc, const struct arca_vm_migrate_params *params,
               struct arca_vm_migrate_stats *st, bool *paused_here, arca_error **err)
{
  struct arca_vm *vm = pc->vm;
  uint64_t max_down_ns = (params->max_downtime_ms ? params->max_downtime_ms : 50) * 1000000ULL;
  unsigned max_rounds = params->max_rounds ? params->max_rounds : 10;
  cleanup_free char *machine = NULL;
  cleanup_free char *state = NULL;
  uint64_t pending = 0, t_pause, t, ns, final_ns;
  uint64_t d_ns[5] = { 0 };   /* pause, last pages, state, state sent, answer */
  struct arca_vm_migrate_downtime *dt = &st->downtime;
  json_t *m;
  char ack = 0;

  if (max_rounds > ARCA_VM_MIGRATE_MAX_ROUNDS)
    max_rounds = ARCA_VM_MIGRATE_MAX_ROUNDS;
  m = snapshot__machine_json (&vm->machine);
  machine = m != NULL ? json_dumps (m, JSON_COMPACT) : NULL;
  json_decref (m);
  if (machine == NULL)
    return arca_error_set (err, ENOMEM, "serialize the machine configuration");
  if (mig__send (pc->fd, MIG_MACHINE, (uint32_t) strlen (machine),
                 snapshot__fnv1a64 (machine, strlen (machine)), machine, strlen (machine), err) < 0)
    return -1;

  /* Logging first, then the copy: a page written while round 0 reads it
     is logged and goes again. */
  if (kvm__dirty_logging (vm, true, err) < 0)
    return -1;
  memset (vm->mem.vmm_dirty, 0, (vm->mem.map_size / MIG_PAGE / 64 + 1) * sizeof (uint64_t));
  __atomic_store_n (&vm->mem.vmm_dirty_on, true, __ATOMIC_RELEASE);
  for (st->n_rounds = 0; st->n_rounds < max_rounds; st->n_rounds++)
    {
      unsigned r = st->n_rounds;
      if (r > 0)
        {
          if (collect (pc, &pending, err) < 0)
            return -1;
          arca_debug (vm->log, "migration: %llu dirty pages after round %u",
                      (unsigned long long) pending, r - 1);
          /* Converged: the rest fits in the downtime budget at the
             bandwidth seen so far. */
          if (pc->bytes_sent > 0
              && pending * MIG_PAGE * pc->send_ns / pc->bytes_sent <= max_down_ns)
            break;
        }
      if (timed_round (pc, r == 0, &st->round_pages[r], &ns, err) < 0)
        return -1;
      st->round_us[r] = ns / 1000;
      /* Round 0 overlaps the destination's KVM setup; the later rounds
         start once it is done, so they measure what pausing would cost. */
      if (r == 0)
        {
          if (mig__read_all (pc->fd, &ack, 1, err) < 0)
            return arca_error_wrap (err, "wait for the destination to build the machine");
          if (ack != MIG_READY)
            return arca_error_set (err, EPROTO, "the destination could not build the machine");
        }
      arca_debug (vm->log, "migration round %u: %llu pages in %llu us", r,
                  (unsigned long long) st->round_pages[r], (unsigned long long) (ns / 1000));
    }

  /* Stop and copy, each step timed for the downtime's breakdown. */
  t_pause = t = arca_vm_now_ns ();
  if (!arca_vm_is_paused (vm))
    {
      if (arca_vm_pause (vm, err) < 0)
        return -1;
      *paused_here = true;
    }
  t = vm__phase_done (&d_ns[0], t);
  pc->dirty_log_ns = 0;
  if (collect (pc, &pending, err) < 0)
    return -1;
  if (timed_round (pc, false, &st->final_pages, &final_ns, err) < 0)
    return -1;
  t = vm__phase_done (&d_ns[1], t);
  vm->save_kvm_ns = 0;
  if (snapshot__state_body (vm, &state, err) < 0)
    return -1;
  t = vm__phase_done (&d_ns[2], t);
  st->state_bytes = strlen (state);
  if (mig__send (pc->fd, MIG_STATE, (uint32_t) st->state_bytes,
                 snapshot__fnv1a64 (state, st->state_bytes), state, st->state_bytes, err) < 0)
    return -1;
  t = vm__phase_done (&d_ns[3], t);
  if (mig__read_all (pc->fd, &ack, 1, err) < 0)
    return arca_error_wrap (err, "wait for the destination");
  if (ack != MIG_ACK)
    return arca_error_set (err, EPROTO, "the destination could not load the machine");
  vm__phase_done (&d_ns[4], t);
  st->downtime_us = (arca_vm_now_ns () - t_pause) / 1000;
  dt->pause_us = d_ns[0] / 1000;
  dt->kvm_dirty_log_us = pc->dirty_log_ns / 1000;
  dt->final_send_us = (d_ns[1] - pc->dirty_log_ns) / 1000;
  dt->kvm_state_us = vm->save_kvm_ns / 1000;
  dt->state_save_us = (d_ns[2] - vm->save_kvm_ns) / 1000;
  dt->state_send_us = d_ns[3] / 1000;
  dt->wait_us = d_ns[4] / 1000;
  {
    /* The destination's own times follow its answer (an older one closes
       the connection instead); the VM runs there already, so a failure
       here only loses them. */
    struct mig_times times;
    cleanup_error arca_error *ignored = NULL;
    if (mig__read_all (pc->fd, &times, sizeof (times), &ignored) == 0)
      {
        dt->dst_receive_us = times.receive_ns / 1000;
        dt->dst_kvm_state_us = times.kvm_state_ns / 1000;
        dt->dst_apply_us = times.apply_ns / 1000;
        dt->dst_start_us = times.start_ns / 1000;
      }
  }
  arca_debug (vm->log, "migration downtime %llu us: pause %llu, dirty log %llu, final pages %llu, state %llu (kvm %llu), state sent %llu, destination %llu",
              (unsigned long long) st->downtime_us, (unsigned long long) dt->pause_us,
              (unsigned long long) dt->kvm_dirty_log_us, (unsigned long long) dt->final_send_us,
              (unsigned long long) (d_ns[2] / 1000), (unsigned long long) dt->kvm_state_us,
              (unsigned long long) dt->state_send_us, (unsigned long long) dt->wait_us);
  return 0;
}

int
arca_vm_migrate (struct arca_vm *vm, const struct arca_vm_migrate_params *params,
                 struct arca_vm_migrate_stats *ret_stats, arca_error **err)
{
  struct arca_vm_migrate_stats st;
  struct precopy pc = { .vm = vm, .fd = -1 };
  cleanup_close int fd = -1;
  cleanup_free uint64_t *bits0 = NULL;
  cleanup_free uint64_t *bits1 = NULL;
  cleanup_free uint64_t *scratch = NULL;
  uint64_t t0 = arca_vm_now_ns ();
  bool paused_here = false;
  size_t max_words = 0;
  int r;

  memset (&st, 0, sizeof (st));
  if (!arca_vm_is_running (vm))
    return arca_error_set (err, EINVAL, "migrate: the vm is not running");
  if (vm->mem.map == NULL)
    return arca_error_set (err, EINVAL, "migrate: the vm has no memory");
  for (unsigned s = 0; s < vm->mem.n_regions; s++)
    {
      pc.words[s] = (vm->mem.regions[s].size / MIG_PAGE + 63) / 64;
      if (pc.words[s] > max_words)
        max_words = pc.words[s];
    }
  bits0 = calloc (pc.words[0] + 1, sizeof (uint64_t));
  bits1 = calloc (pc.words[1] + 1, sizeof (uint64_t));
  scratch = calloc (max_words + 1, sizeof (uint64_t));
  if (vm->mem.vmm_dirty == NULL)
    vm->mem.vmm_dirty = calloc (vm->mem.map_size / MIG_PAGE / 64 + 1, sizeof (uint64_t));
  if (bits0 == NULL || bits1 == NULL || scratch == NULL || vm->mem.vmm_dirty == NULL)
    return arca_error_errno (err, "migrate: allocate dirty bitmaps");
  pc.bits[0] = bits0;
  pc.bits[1] = bits1;
  pc.scratch = scratch;

  fd = mig__connect (params->destination, ACK_TIMEOUT_MS, err);
  if (fd < 0)
    return arca_error_wrap (err, "migrate");
  pc.fd = fd;
  r = run_migration (&pc, params, &st, &paused_here, err);
  if (r < 0)
    {
      /* The guest goes on here; logging only costs write faults now. */
      __atomic_store_n (&vm->mem.vmm_dirty_on, false, __ATOMIC_RELEASE);
      (void) kvm__dirty_logging (vm, false, NULL);
      if (paused_here)
        (void) arca_vm_resume (vm, NULL);
      return arca_error_wrap (err, "migrate to `%s`", params->destination);
    }
  st.total_us = (arca_vm_now_ns () - t0) / 1000;
  arca_debug (vm->log, "migrated: %u rounds, %llu final pages, downtime %llu us, total %llu us",
              st.n_rounds, (unsigned long long) st.final_pages,
              (unsigned long long) st.downtime_us, (unsigned long long) st.total_us);
  vm__request_stop (vm, ARCA_VM_EXIT_STOPPED, 0, "migrated");
  if (ret_stats != NULL)
    *ret_stats = st;
  return 0;
}
