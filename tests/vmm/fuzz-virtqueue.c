/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the virtqueue parser: the input becomes a guest's
 * memory (rings, descriptors, buffers, indices, all hostile) and the queue
 * parameters; every chain is popped, read, written and pushed.  ASan
 * reports any access outside the fake guest RAM. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtqueue.h"

#define RAM 16384

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static struct virtq_chain chain;
  struct guest_mem mem;
  struct virtq vq;
  uint8_t *ram;
  const char *why = NULL;
  uint8_t scratch[64];

  if (size < 8)
    return 0;
  ram = calloc (1, RAM);
  if (ram == NULL)
    return 0;
  memcpy (ram, data + 8, size - 8 < RAM ? size - 8 : RAM);
  guest_mem__init_flat (&mem, ram, RAM);
  /* Queue parameters come from the first bytes: any size, any placement. */
  vq = (struct virtq){
    .size = (uint16_t) (1u << (data[0] % 10)),
    .desc_gpa = (uint64_t) data[1] << 6,
    .avail_gpa = (uint64_t) data[2] << 6,
    .used_gpa = (uint64_t) data[3] << 6,
    .last_avail = (uint16_t) (data[4] | (data[5] << 8)),
    .used_idx = (uint16_t) (data[6] | (data[7] << 8)),
  };
  if (virtq__validate (&mem, &vq, &why) == 0)
    {
      vq.ready = true;
      for (int i = 0; i < 64; i++)
        {
          int r = virtq__pop (&mem, &vq, &chain, &why);
          if (r <= 0)
            break;
          virtq__read (&chain, 0, scratch, sizeof (scratch));
          virtq__write (&chain, chain.out_len > 4 ? chain.out_len - 4 : 0, scratch, 8);
          if (virtq__push (&mem, &vq, chain.head, (uint32_t) chain.out_len, &why) < 0)
            break;
        }
    }
  free (ram);
  return 0;
}
