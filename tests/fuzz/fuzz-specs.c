/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the small parsers of what users and registries
 * hand the engine as text: `-p` port specs, `--subnet`, image references
 * (arca's own names and those from docker archives and pulls) and signal
 * names.  The first byte picks the parser; the rest is the text.  Besides
 * crashes and sanitizer reports, what a parser accepts must keep its
 * promises (checked below). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"
#include "net/ipam.h"
#include "net/portmap.h"
#include "util/signals.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (int cond)
{
  if (!cond)
    abort ();
}

static void
fuzz_port (const char *text)
{
  struct arca_port_spec spec;
  arca_error *err = NULL;

  if (arca_port_spec_parse (text, &spec, &err) < 0)
    {
      check (err != NULL);
      arca_error_free (err);
      return;
    }
  check (strcmp (spec.proto, "tcp") == 0 || strcmp (spec.proto, "udp") == 0);
  check (spec.container_port != 0);
}

static void
fuzz_subnet (const char *text)
{
  struct arca_subnet s;
  arca_error *err = NULL;

  if (arca_subnet_parse (text, &s, &err) < 0)
    {
      check (err != NULL);
      arca_error_free (err);
      return;
    }
  check (s.prefix >= 8 && s.prefix <= 30);
  uint32_t mask = s.prefix ? ~0u << (32 - s.prefix) : 0;
  check ((ntohl (s.base.s_addr) & ~mask) == 0); /* host bits zero */
  check (arca_subnet_contains (&s, arca_subnet_host (&s, 1)));
}

static void
fuzz_reference (const char *text, enum arca_reference_mode mode)
{
  struct arca_reference *ref = NULL;
  arca_error *err = NULL;

  if (arca_reference_parse (text, mode, &ref, &err) < 0)
    {
      check (err != NULL);
      arca_error_free (err);
      return;
    }
  check (ref != NULL);
  /* The canonical string parses again to itself. */
  char *canon = arca_reference_string (ref);
  check (canon != NULL);
  struct arca_reference *again = NULL;
  check (arca_reference_parse (canon, mode, &again, &err) == 0);
  char *canon2 = arca_reference_string (again);
  check (canon2 != NULL && strcmp (canon, canon2) == 0);
  free (canon2);
  free (canon);
  arca_reference_free (again);
  arca_reference_free (ref);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1 || size > 4096)
    return 0;
  char *text = strndup ((const char *) data + 1, size - 1);
  if (text == NULL)
    return 0;
  switch (data[0] % 5)
    {
    case 0: fuzz_port (text); break;
    case 1: fuzz_subnet (text); break;
    case 2: fuzz_reference (text, ARCA_REFERENCE_LOCAL); break;
    case 3: fuzz_reference (text, ARCA_REFERENCE_DOCKER); break;
    default:
      {
        int sig = arca_signal_parse (text);
        check (sig == -1 || (sig >= 1 && sig < 65));
      }
    }
  free (text);
  return 0;
}
