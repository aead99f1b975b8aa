/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The part of an i8042 keyboard controller a guest uses to reset the
 * machine (0xfe to port 0x64, or the output port's reset line), plus a
 * small scancode queue so the host can send Ctrl-Alt-Del (IRQ 1).  A reset
 * ends the VM: arca-vmm has no firmware to reboot into. */
#include <errno.h>
#include <stdlib.h>

#include "vm.h"

#define IRQ_KBD 1
#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define CMD_READ_CB 0x20
#define CMD_WRITE_CB 0x60
#define CMD_SELF_TEST 0xaa
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_RESET 0xfe
#define QUEUE 16

struct i8042 {
  struct arca_vm *vm;
  pthread_mutex_t lock;
  uint8_t cb;            /* controller command byte */
  uint8_t pending_cmd;   /* command waiting for its data byte on 0x60 */
  uint8_t queue[QUEUE];
  unsigned head, count;
};

static void
push (struct i8042 *k, uint8_t v)
{
  if (k->count == QUEUE)
    return;
  k->queue[(k->head + k->count) % QUEUE] = v;
  k->count++;
}

static void
update_irq (struct i8042 *k)
{
  /* Edge on IRQ 1 for every byte placed in the output buffer. */
  if (k->count > 0 && (k->cb & 0x01))
    {
      (void) kvm__irq_line (k->vm, IRQ_KBD, 1);
      (void) kvm__irq_line (k->vm, IRQ_KBD, 0);
    }
}

static void
reset (struct i8042 *k)
{
  vm__request_stop (k->vm, ARCA_VM_EXIT_RESET, 0, "i8042 reset");
}

static void
kbd_read (void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
  struct i8042 *k = opaque;

  pthread_mutex_lock (&k->lock);
  if (offset == 0)
    {
      data[0] = 0;
      if (k->count > 0)
        {
          data[0] = k->queue[k->head];
          k->head = (k->head + 1) % QUEUE;
          k->count--;
          update_irq (k);
        }
    }
  else if (offset == 4)
    data[0] = STATUS_SYS | (k->count > 0 ? STATUS_OBF : 0);
  else
    data[0] = 0;
  pthread_mutex_unlock (&k->lock);
  (void) len;
}

static void
kbd_write (void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
  struct i8042 *k = opaque;
  bool do_reset = false;

  pthread_mutex_lock (&k->lock);
  if (offset == 4)   /* command port 0x64 */
    {
      switch (data[0])
        {
        case CMD_RESET:
          do_reset = true;
          break;
        case CMD_READ_CB:
          push (k, k->cb);
          break;
        case CMD_SELF_TEST:
          push (k, 0x55);
          break;
        case CMD_WRITE_CB:
        case CMD_WRITE_OUTPUT:
          k->pending_cmd = data[0];
          break;
        default:
          break;
        }
    }
  else if (offset == 0)   /* data port 0x60 */
    {
      if (k->pending_cmd == CMD_WRITE_CB)
        k->cb = data[0];
      else if (k->pending_cmd == CMD_WRITE_OUTPUT && !(data[0] & 0x01))
        do_reset = true;   /* bit 0 of the output port is the CPU reset line, active low */
      k->pending_cmd = 0;
    }
  pthread_mutex_unlock (&k->lock);
  if (do_reset)
    reset (k);
  (void) len;
}

int
i8042__send_ctrl_alt_del (struct i8042 *k)
{
  static const uint8_t seq[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
  int r = 0;

  pthread_mutex_lock (&k->lock);
  if (QUEUE - k->count < sizeof (seq))
    r = -1;
  else
    {
      for (size_t i = 0; i < sizeof (seq); i++)
        push (k, seq[i]);
      update_irq (k);
    }
  pthread_mutex_unlock (&k->lock);
  return r;
}

static void
kbd_save (void *opaque, json_t *o)
{
  struct i8042 *k = opaque;
  pthread_mutex_lock (&k->lock);
  json_object_set_new (o, "command_byte", json_integer (k->cb));
  pthread_mutex_unlock (&k->lock);
}

static int
kbd_restore (void *opaque, json_t *o, const char **why)
{
  struct i8042 *k = opaque;
  json_t *cb = json_object_get (o, "command_byte");
  if (!json_is_integer (cb))
    return *why = "i8042: bad state", -1;
  k->cb = (uint8_t) json_integer_value (cb);
  return 0;
}

static const struct vm_bus_ops kbd_ops = { .read = kbd_read, .write = kbd_write };

static void
kbd_free (void *opaque)
{
  struct i8042 *k = opaque;
  pthread_mutex_destroy (&k->lock);
  free (k);
}

int
i8042__create (struct arca_vm *vm, arca_error **err)
{
  struct i8042 *k = calloc (1, sizeof (*k));

  if (k == NULL)
    return arca_error_errno (err, "allocate i8042");
  k->vm = vm;
  k->cb = 0x01;   /* keyboard interrupt enabled */
  pthread_mutex_init (&k->lock, NULL);
  if (vm__add_device (vm, kbd_free, k, err) < 0)
    {
      kbd_free (k);
      return -1;
    }
  vm__device_state (vm, kbd_save, kbd_restore);
  /* One range 0x60..0x64 so both ports share the device; 0x61 (speaker)
     and friends inside it read as zero. */
  if (vm_bus__register (&vm->pio, PORT_I8042_DATA, 5, "i8042", &kbd_ops, k, err) < 0)
    return -1;
  vm->i8042 = k;
  return 0;
}
