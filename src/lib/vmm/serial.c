/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A 16550A UART at COM1 (0x3f8, IRQ 4): enough of it for Linux's 8250
 * driver and for polled output.  Output goes straight to a host fd; input
 * is read by the device thread into the receive FIFO.  When the FIFO is
 * full the input fd is muted until the guest drains it, so a fast host
 * writer can neither overflow the guest nor make the event loop spin. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "vm.h"

#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DEFAULT 0xb0   /* DCD, DSR, CTS: a cable is connected */
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define RX_FIFO 64

struct serial {
  struct arca_vm *vm;
  pthread_mutex_t lock;
  int in_fd, out_fd;
  bool in_muted;
  uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
  bool thr_int;          /* THR-empty interrupt pending */
  int irq_level;
  uint8_t rx[RX_FIFO];
  unsigned rx_head, rx_count;
};

static uint8_t
iir (struct serial *s)
{
  uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
  if ((s->ier & IER_RDI) && s->rx_count > 0)
    return IIR_RDI | fifo;
  if ((s->ier & IER_THRI) && s->thr_int)
    return IIR_THRI | fifo;
  return IIR_NO_INT | fifo;
}

/* Level of IRQ 4 follows "an interrupt is pending", under s->lock. */
static void
update_irq (struct serial *s)
{
  int level = (iir (s) & IIR_NO_INT) ? 0 : 1;
  if (level != s->irq_level)
    {
      s->irq_level = level;
      (void) kvm__irq_line (s->vm, IRQ_COM1, level);
    }
}

static void
emit (struct serial *s, uint8_t c)
{
  struct arca_vm *vm = s->vm;
  uint64_t zero = 0, now;

  if (s->out_fd >= 0)
    {
      ssize_t n;
      do
        n = write (s->out_fd, &c, 1);
      while (n < 0 && errno == EINTR);
      /* A host console that cannot take the byte loses it, as a UART
         without flow control would; the guest must not block on it. */
    }
  now = vm__elapsed_ns (vm);
  __atomic_compare_exchange_n (&vm->metrics.first_serial_byte_ns, &zero, now, false,
                               __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  VM_COUNT (vm, serial_bytes_out, 1);
}

static void
serial_read (void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
  struct serial *s = opaque;
  uint8_t v = 0;
  bool unmute = false;

  pthread_mutex_lock (&s->lock);
  switch (offset)
    {
    case UART_RBR_THR:
      if (s->lcr & LCR_DLAB)
        v = s->dll;
      else if (s->rx_count > 0)
        {
          v = s->rx[s->rx_head];
          s->rx_head = (s->rx_head + 1) % RX_FIFO;
          s->rx_count--;
          unmute = s->rx_count == 0 && s->in_muted;
        }
      break;
    case UART_IER:
      v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
      break;
    case UART_IIR_FCR:
      v = iir (s);
      /* Reading IIR acknowledges a THR-empty interrupt. */
      if ((v & 0x0f) == IIR_THRI)
        s->thr_int = false;
      break;
    case UART_LCR:
      v = s->lcr;
      break;
    case UART_MCR:
      v = s->mcr;
      break;
    case UART_LSR:
      v = LSR_THRE | LSR_TEMT | (s->rx_count > 0 ? LSR_DR : 0);
      break;
    case UART_MSR:
      v = MSR_DEFAULT;
      break;
    case UART_SCR:
      v = s->scr;
      break;
    default:
      break;
    }
  if (unmute)
    {
      s->in_muted = false;
      event_loop__modify (&s->vm->loop, s->in_fd, EPOLLIN);
    }
  update_irq (s);
  pthread_mutex_unlock (&s->lock);
  data[0] = v;
  (void) len;
}

static void
serial_write (void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
  struct serial *s = opaque;
  uint8_t v = data[0];

  pthread_mutex_lock (&s->lock);
  switch (offset)
    {
    case UART_RBR_THR:
      if (s->lcr & LCR_DLAB)
        s->dll = v;
      else
        {
          emit (s, v);
          /* The byte left at once: THR is empty again. */
          s->thr_int = true;
        }
      break;
    case UART_IER:
      if (s->lcr & LCR_DLAB)
        s->dlm = v;
      else
        {
          /* Enabling THRI with THR empty raises the interrupt at once;
             Linux's 8250 driver relies on it. */
          if (!(s->ier & IER_THRI) && (v & IER_THRI))
            s->thr_int = true;
          s->ier = v & 0x0f;
        }
      break;
    case UART_IIR_FCR:
      s->fcr = v & (FCR_ENABLE | 0xc0);
      if (v & FCR_CLEAR_RX)
        s->rx_count = s->rx_head = 0;
      break;
    case UART_LCR:
      s->lcr = v;
      break;
    case UART_MCR:
      s->mcr = v & 0x1f;
      break;
    case UART_SCR:
      s->scr = v;
      break;
    default:
      break;
    }
  update_irq (s);
  pthread_mutex_unlock (&s->lock);
  (void) len;
}

static void
serial_input (void *opaque, int fd, uint32_t events)
{
  struct serial *s = opaque;
  uint8_t buf[RX_FIFO];
  size_t room;
  ssize_t n;

  pthread_mutex_lock (&s->lock);
  room = RX_FIFO - s->rx_count;
  if (room == 0)
    {
      s->in_muted = true;
      event_loop__modify (&s->vm->loop, fd, 0);
      pthread_mutex_unlock (&s->lock);
      return;
    }
  n = read (fd, buf, room);
  if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
    {
      /* EOF or a dead input: the console simply has no more input. */
      event_loop__remove (&s->vm->loop, fd);
      pthread_mutex_unlock (&s->lock);
      return;
    }
  for (ssize_t i = 0; i < n; i++)
    {
      s->rx[(s->rx_head + s->rx_count) % RX_FIFO] = buf[i];
      s->rx_count++;
    }
  update_irq (s);
  pthread_mutex_unlock (&s->lock);
  (void) events;
}

static void
serial_save (void *opaque, json_t *o)
{
  struct serial *s = opaque;
  pthread_mutex_lock (&s->lock);
  json_object_set_new (o, "uart", json_pack ("[i, i, i, i, i, i, i, b]", s->ier, s->lcr, s->mcr,
                                             s->scr, s->fcr, s->dll, s->dlm, s->thr_int));
  pthread_mutex_unlock (&s->lock);
}

static int
serial_restore (void *opaque, json_t *o, const char **why)
{
  struct serial *s = opaque;
  json_t *u = json_object_get (o, "uart");
  uint8_t *regs[] = { &s->ier, &s->lcr, &s->mcr, &s->scr, &s->fcr, &s->dll, &s->dlm };

  if (json_array_size (u) != 8)
    return *why = "serial: bad state", -1;
  for (size_t i = 0; i < ARRAY_SIZE (regs); i++)
    *regs[i] = (uint8_t) json_integer_value (json_array_get (u, i));
  s->thr_int = json_is_true (json_array_get (u, 7));
  return 0;
}

static const struct vm_bus_ops serial_ops = { .read = serial_read, .write = serial_write };

static void
serial_free (void *opaque)
{
  struct serial *s = opaque;
  pthread_mutex_destroy (&s->lock);
  free (s);
}

int
serial__create (struct arca_vm *vm, int in_fd, int out_fd, arca_error **err)
{
  struct serial *s = calloc (1, sizeof (*s));

  if (s == NULL)
    return arca_error_errno (err, "allocate serial");
  s->vm = vm;
  s->in_fd = in_fd;
  s->out_fd = out_fd;
  s->mcr = 0x08;   /* OUT2: interrupts reach the PIC */
  pthread_mutex_init (&s->lock, NULL);
  if (vm__add_device (vm, serial_free, s, err) < 0)
    {
      serial_free (s);
      return -1;
    }
  vm__device_state (vm, serial_save, serial_restore);
  if (vm_bus__register (&vm->pio, PORT_COM1, 8, "serial", &serial_ops, s, err) < 0)
    return -1;
  if (in_fd >= 0 && event_loop__add (&vm->loop, in_fd, EPOLLIN, serial_input, s, err) < 0)
    {
      /* Regular files and /dev/null cannot be polled: such an input is
         "always at EOF" for a console, so the guest just gets none. */
      if ((*err)->errnum != EPERM)
        return -1;
      arca_error_free (*err);
      *err = NULL;
      s->in_fd = -1;
    }
  return 0;
}
