/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON documents of an image: OCI (and docker schema 2) manifests,
 * image configs, OCI index.json and docker-archive manifest.json.  Only the
 * fields the store needs are parsed; every one is validated (digests,
 * counts, sizes) because archives are untrusted. */
#ifndef ARCA_IMAGE_MANIFEST_H
#define ARCA_IMAGE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "util/error.h"

#define ARCA_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define ARCA_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define ARCA_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define ARCA_MEDIA_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define ARCA_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define ARCA_MEDIA_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define ARCA_MANIFEST_MAX_SIZE (4 << 20)
#define ARCA_MANIFEST_MAX_LAYERS 1000

struct arca_descriptor
{
  char *media_type;
  char digest[ARCA_DIGEST_LEN + 1];
  int64_t size;
  char *name; /* index.json: the image name annotation, or NULL */
};

struct arca_manifest
{
  struct arca_descriptor config;
  size_t n_layers;
  struct arca_descriptor *layers;
};

struct arca_image_config
{
  int64_t created; /* unix seconds, 0 when absent */
  size_t n_diff_ids;
  char (*diff_ids)[ARCA_DIGEST_LEN + 1];
};

/* docker-archive manifest.json: one entry per image */
struct arca_docker_entry
{
  char *config; /* path inside the archive */
  char **repo_tags;
  char **layers; /* paths inside the archive */
};

void arca_descriptors_free (struct arca_descriptor *d, size_t n);
void arca_manifest_free (struct arca_manifest *m);
void arca_image_config_free (struct arca_image_config *c);
void arca_docker_entries_free (struct arca_docker_entry *e, size_t n);

int arca_manifest_parse (const char *json, size_t len, struct arca_manifest *ret, arca_error **err);
int arca_image_config_parse (const char *json, size_t len, struct arca_image_config *ret,
                             arca_error **err);
/* index.json manifests[] */
int arca_oci_index_parse (const char *json, size_t len, struct arca_descriptor **ret, size_t *ret_n,
                          arca_error **err);
int arca_docker_manifest_parse (const char *json, size_t len, struct arca_docker_entry **ret,
                                size_t *ret_n, arca_error **err);

/* Serialises an OCI manifest (compact JSON, newly allocated). */
char *arca_manifest_dump (const struct arca_manifest *m);

#endif
