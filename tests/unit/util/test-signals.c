/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>

#include "util/signals.h"

static void
test_names_and_numbers (void **state)
{
  assert_int_equal (arca_signal_parse ("TERM"), SIGTERM);
  assert_int_equal (arca_signal_parse ("SIGKILL"), SIGKILL);
  assert_int_equal (arca_signal_parse ("sigint"), SIGINT);
  assert_int_equal (arca_signal_parse ("9"), 9);
  assert_int_equal (arca_signal_parse ("RTMIN"), SIGRTMIN);
  assert_int_equal (arca_signal_parse ("RTMIN+2"), SIGRTMIN + 2);
  assert_int_equal (arca_signal_parse ("SIGRTMAX-1"), SIGRTMAX - 1);
}

static void
test_refused (void **state)
{
  const char *bad[] = { "", "0", "-1", "65", "99999999999999999999", "TERMS", "SIG", "RTMIN-1",
                        "RTMAX+1", "RTMIN+x",
                        /* Found by tests/fuzz/fuzz-specs.c: the offset overflowed a long. */
                        "RTMIN58888888888888888888888888888", "RTMIN+9223372036854775807",
                        "RTMAX-9223372036854775807", "RTMIN+40" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal (arca_signal_parse (bad[i]), -1);
  assert_int_equal (arca_signal_parse (NULL), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names_and_numbers),
    cmocka_unit_test (test_refused),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
