/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the image JSON parsers (manifest, config,
 * index.json, docker manifest.json): archives and registries are untrusted,
 * and every parser must fail cleanly, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "image/manifest.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *json = (const char *)data;

  {
    cleanup_error arca_error *err = NULL;
    struct arca_manifest m = { 0 };
    if (arca_manifest_parse (json, size, &m, &err) == 0)
      {
        free (arca_manifest_dump (&m));
        arca_manifest_free (&m);
      }
  }
  {
    cleanup_error arca_error *err = NULL;
    struct arca_image_config c = { 0 };
    if (arca_image_config_parse (json, size, &c, &err) == 0)
      arca_image_config_free (&c);
  }
  {
    cleanup_error arca_error *err = NULL;
    struct arca_descriptor *d = NULL;
    size_t n = 0;
    if (arca_oci_index_parse (json, size, &d, &n, &err) == 0)
      arca_descriptors_free (d, n);
  }
  {
    cleanup_error arca_error *err = NULL;
    struct arca_docker_entry *e = NULL;
    size_t n = 0;
    if (arca_docker_manifest_parse (json, size, &e, &n, &err) == 0)
      arca_docker_entries_free (e, n);
  }
  return 0;
}
