/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-blk (virtio 1.x, 5.2) on a raw host file: read, write (refused
 * with IOERR on a read-only drive), flush (fdatasync) and get-id.  Every
 * request is checked against the disk size before any host I/O; a request
 * that cannot even carry a status byte is a driver error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "virtio.h"
#include "vm.h"

#define BLK_F_RO (1ULL << 5)
#define BLK_F_FLUSH (1ULL << 9)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define SECTOR 512
#define ID_BYTES 20

struct blk {
  struct arca_vm *vm;
  int fd;
  bool read_only;
  uint64_t sectors;
  char id[ID_BYTES];
  struct virtio_device_ops ops;   /* per drive: features depend on ro */
  struct iovec iov[VIRTQ_MAX_SIZE];
};

struct blk_req_header {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

static void
blk_config_read (void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
  struct blk *b = opaque;
  uint8_t config[8];

  /* Only capacity (le64 sectors); the rest of the config reads as zero. */
  memset (data, 0, len);
  memcpy (config, &b->sectors, 8);
  for (uint32_t i = 0; i < len; i++)
    if (off + i < sizeof (config))
      data[i] = config[off + i];
}

/* The data part of the chain as iovecs: the device-writable buffers minus
   the final status byte (IN), or the readable ones after the header (OUT). */
static unsigned
data_iov (struct blk *b, const struct iovec *src, unsigned n, uint64_t skip, uint64_t len)
{
  unsigned k = 0;

  for (unsigned i = 0; i < n && len > 0; i++)
    {
      size_t seg = src[i].iov_len;
      if (skip >= seg)
        {
          skip -= seg;
          continue;
        }
      seg -= skip;
      if (seg > len)
        seg = len;
      b->iov[k++] = (struct iovec){ .iov_base = (uint8_t *) src[i].iov_base + skip, .iov_len = seg };
      len -= seg;
      skip = 0;
    }
  return k;
}

static uint8_t
do_io (struct blk *b, bool write, unsigned n_iov, uint64_t sector, uint64_t len)
{
  off_t off = (off_t) (sector * SECTOR);
  unsigned i = 0;

  if (len % SECTOR != 0 || sector > b->sectors || len / SECTOR > b->sectors - sector)
    return S_IOERR;
  while (len > 0 && i < n_iov)
    {
      ssize_t r = write ? pwritev (b->fd, &b->iov[i], (int) (n_iov - i), off)
                        : preadv (b->fd, &b->iov[i], (int) (n_iov - i), off);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return S_IOERR;
      off += r;
      len -= (uint64_t) r;
      /* Advance past what was transferred (short reads/writes). */
      while (r > 0 && i < n_iov)
        {
          if ((size_t) r >= b->iov[i].iov_len)
            r -= (ssize_t) b->iov[i++].iov_len;
          else
            {
              b->iov[i].iov_base = (uint8_t *) b->iov[i].iov_base + r;
              b->iov[i].iov_len -= (size_t) r;
              r = 0;
            }
        }
    }
  VM_COUNT (b->vm, blk_read_bytes, write ? 0 : (uint64_t) off - sector * SECTOR);
  VM_COUNT (b->vm, blk_write_bytes, write ? (uint64_t) off - sector * SECTOR : 0);
  return S_OK;
}

static int
blk_handle (void *opaque, unsigned queue, const struct virtq_chain *chain, uint32_t *ret_written,
            const char **why)
{
  struct blk *b = opaque;
  struct blk_req_header h;
  uint8_t status = S_OK;
  uint64_t data_len;
  uint32_t written = 0;
  unsigned n;

  if (virtq__read (chain, 0, &h, sizeof (h)) != sizeof (h))
    return *why = "virtio-blk request without a full header", -1;
  if (chain->out_len < 1)
    return *why = "virtio-blk request without a status byte", -1;

  switch (h.type)
    {
    case T_IN:
      data_len = chain->out_len - 1;
      n = data_iov (b, chain->out, chain->n_out, 0, data_len);
      status = do_io (b, false, n, h.sector, data_len);
      if (status == S_OK)
        written = (uint32_t) data_len;
      break;
    case T_OUT:
      data_len = chain->in_len - sizeof (h);
      if (b->read_only)
        status = S_IOERR;
      else
        {
          n = data_iov (b, chain->in, chain->n_in, sizeof (h), data_len);
          status = do_io (b, true, n, h.sector, data_len);
        }
      break;
    case T_FLUSH:
      status = fdatasync (b->fd) < 0 ? S_IOERR : S_OK;
      break;
    case T_GET_ID:
      written = (uint32_t) virtq__write (chain, 0, b->id,
                                         chain->out_len - 1 < ID_BYTES ? chain->out_len - 1 : ID_BYTES);
      break;
    default:
      status = S_UNSUPP;
      break;
    }
  /* The status byte is the last byte of the writable part. */
  virtq__write (chain, chain->out_len - 1, &status, 1);
  *ret_written = written + 1;
  (void) queue;
  return 0;
}

static void
blk_free (void *opaque)
{
  struct blk *b = opaque;
  arca_closep (&b->fd);
  free (b);
}

int
virtio_blk__create (struct arca_vm *vm, const struct arca_vm_drive_config *drive, arca_error **err)
{
  cleanup_close int fd = -1;
  struct stat st;
  struct blk *b;

  fd = open (drive->path, (drive->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    return arca_error_errno (err, "drive `%s`", drive->path);
  if (fstat (fd, &st) < 0)
    return arca_error_errno (err, "stat drive `%s`", drive->path);
  if (!S_ISREG (st.st_mode))
    return arca_error_set (err, EINVAL, "drive `%s` is not a regular file", drive->path);
  b = calloc (1, sizeof (*b));
  if (b == NULL)
    return arca_error_errno (err, "allocate virtio-blk");
  b->vm = vm;
  b->fd = move_fd (fd);
  b->read_only = drive->read_only;
  /* A trailing partial sector is not addressable. */
  b->sectors = (uint64_t) st.st_size / SECTOR;
  snprintf (b->id, sizeof (b->id), "%s", drive->id != NULL ? drive->id : "arca");
  b->ops = (struct virtio_device_ops){
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .features = BLK_F_FLUSH | (drive->read_only ? BLK_F_RO : 0),
    .n_queues = 1,
    .queue_max = 128,
    .config_len = 8,
    .config_read = blk_config_read,
    .handle = blk_handle,
    .free = blk_free,
  };
  if (virtio__create (vm, &b->ops, b, NULL, err) < 0)
    return arca_error_wrap (err, "drive `%s`", drive->path);
  return 0;
}
