/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the layer unpacker: any byte string is a layer
 * stream (compressed or not).  Each input is unpacked into a fresh
 * directory that is then removed; the sanitizers catch memory errors and
 * the check below catches anything written next to the layer dir. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const struct arca_unpack_options opts = { .no_chown = true, .no_sync = true };
  cleanup_error arca_error *err = NULL;
  cleanup_close int fd = memfd_create ("layer", MFD_CLOEXEC);
  cleanup_close int parent = -1;
  struct arca_unpack_result res;
  char tmpl[] = "/tmp/arca-fuzz-unpack-XXXXXX";

  if (fd < 0 || mkdtemp (tmpl) == NULL)
    abort ();
  if (size > 0 && write (fd, data, size) != (ssize_t)size)
    abort ();
  lseek (fd, 0, SEEK_SET);
  parent = open (tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0)
    abort ();
  (void)arca_layer_unpack (fd, parent, "layer", &opts, &res, &err);
  /* Only "layer" may exist next to the layer dir. */
  {
    cleanup_dir DIR *d = fdopendir (dup (parent));
    struct dirent *de;
    while (d && (de = readdir (d)) != NULL)
      if (de->d_name[0] != '.' && strcmp (de->d_name, "layer") != 0)
        abort ();
  }
  if (arca_rm_rf_at (AT_FDCWD, tmpl, NULL) < 0)
    abort ();
  return 0;
}
