/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtio-rng (virtio 1.x, 5.4): fills every device-writable buffer of a
 * chain from the host's getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio.h"
#include "vm.h"

#define RNG_MAX_PER_CHAIN (64 * 1024)   /* bounds host work per request */

static int
rng_handle (void *opaque, unsigned queue, const struct virtq_chain *chain, uint32_t *ret_written,
            const char **why)
{
  uint32_t total = 0;

  for (unsigned i = 0; i < chain->n_out && total < RNG_MAX_PER_CHAIN; i++)
    {
      size_t want = chain->out[i].iov_len;
      if (want > RNG_MAX_PER_CHAIN - total)
        want = RNG_MAX_PER_CHAIN - total;
      ssize_t n = getrandom (chain->out[i].iov_base, want, GRND_NONBLOCK);
      if (n < 0)
        break;   /* entropy not ready: return what we have, the driver asks again */
      total += (uint32_t) n;
      if ((size_t) n < want)
        break;
    }
  *ret_written = total;
  (void) opaque;
  (void) queue;
  (void) why;
  return 0;
}

static const struct virtio_device_ops rng_ops = {
  .name = "virtio-rng",
  .device_id = VIRTIO_ID_RNG,
  .n_queues = 1,
  .queue_max = 64,
  .handle = rng_handle,
};

int
virtio_rng__create (struct arca_vm *vm, arca_error **err)
{
  return virtio__create (vm, &rng_ops, NULL, NULL, err);
}
