/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live migration: the wire protocol both ends share.  Internal.
 *
 * A stream of records, each a struct mig_record header then its payload,
 * little-endian (both ends are x86-64 arca-vmm processes):
 *   MIG_MACHINE  count = JSON length, arg = its fnv1a64: the machine
 *                configuration, first, so the destination can build the VM
 *   MIG_PAGES    arg = offset in guest RAM (page-aligned), count = pages
 *                (1..MIG_MAX_RUN), then count * 4096 bytes
 *   MIG_STATE    count = JSON length, arg = its fnv1a64: the snapshot state
 *                (vCPUs, irqchip, devices), last; the source is paused now
 * The destination sends MIG_READY once it has built the machine (KVM setup
 * takes milliseconds; the source waits for it before it pauses the guest,
 * so that time is not downtime), and answers the state with MIG_ACK once
 * its vCPUs run, followed by a struct mig_times (where its part of the
 * downtime went: a source that does not read it only closes the connection
 * earlier, a destination that does not send it closes it); anything else (or a closed connection) means it failed
 * and the source resumes. */
#ifndef ARCA_VMM_MIGRATE_H
#define ARCA_VMM_MIGRATE_H

#include <stdint.h>
#include <stddef.h>

#include "util/error.h"

#define MIG_MAGIC 0x3147494d41435241ULL /* "ARCAMIG1" */
#define MIG_MACHINE 1
#define MIG_PAGES 2
#define MIG_STATE 3
#define MIG_MAX_RUN 256                 /* pages per record: 1 MiB */
#define MIG_MAX_JSON (16u << 20)
#define MIG_READY 'R'
#define MIG_ACK 'K'                     /* then a struct mig_times, if it has them */
#define MIG_NACK 'E'
#define MIG_PAGE 4096ULL

struct mig_record {
  uint64_t magic;
  uint32_t type;
  uint32_t count;
  uint64_t arg;
};

/* The destination's share of the downtime, on its clock (ns). */
struct mig_times {
  uint64_t receive_ns;    /* the state record read, checksummed, parsed */
  uint64_t kvm_state_ns;  /* KVM_SET_* of the state */
  uint64_t apply_ns;      /* decoding, device state */
  uint64_t start_ns;      /* threads started */
};

/* ADDR is unix:PATH, tcp:HOST:PORT, or a path (contains '/'). */
int mig__connect (const char *addr, int timeout_ms, arca_error **err);
int mig__listen (const char *addr, arca_error **err);
/* Removes a unix socket address's file (nothing for TCP). */
void mig__unlink (const char *addr);
int mig__write_all (int fd, const void *buf, size_t len, arca_error **err);
int mig__read_all (int fd, void *buf, size_t len, arca_error **err);
/* Sends a record whose payload is one buffer. */
int mig__send (int fd, uint32_t type, uint32_t count, uint64_t arg, const void *payload,
               size_t len, arca_error **err);

#endif
