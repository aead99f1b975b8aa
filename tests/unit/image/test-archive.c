/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <sys/stat.h>

#include "image-test.h"
#include "image/archives.h"
#include "image/manifest.h"
#include "tar-build.h"

/* A store (blob dir + db) in a temp dir. */
struct env
{
  char *dir;
  arca_store *store;
  arca_db *db;
};

/* Ownership needs root; the rest of the store works without. */
#define OPTS (&(struct arca_unpack_options){ .no_sync = true, .no_chown = geteuid () != 0 })

static void
env_open (struct env *e)
{
  cleanup_error arca_error *err = NULL;
  char p[600];

  e->dir = test_tmpdir ();
  assert_int_equal (arca_store_open (e->dir, &e->store, &err), 0);
  snprintf (p, sizeof (p), "%s/arca.db", e->dir);
  assert_int_equal (arca_db_open (p, &e->db, &err), 0);
}

static void
env_close (struct env *e)
{
  arca_db_free (e->db);
  arca_store_free (e->store);
  test_rmdir (e->dir);
}

/* The store holds nothing: no blob, layer, temp file or image row. */
static void
assert_store_empty (struct env *e)
{
  cleanup_error arca_error *err = NULL;
  cleanup_image_records struct arca_image_record **all = NULL;
  char p[600];
  const char *dirs[] = { "blobs/sha256", "layers", "tmp" };

  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      snprintf (p, sizeof (p), "%s/%s", e->dir, dirs[i]);
      if (test_count_entries (p) != 0)
        fail_msg ("`%s` is not empty", p);
    }
  assert_int_equal (arca_db_list_images (e->db, &all, &err), 0);
  assert_null (all[0]);
}

/* Reads a memfd/file back whole. */
static char *
slurp (int fd, size_t *ret_len)
{
  struct stat st;
  char *buf;
  assert_int_equal (fstat (fd, &st), 0);
  buf = malloc ((size_t)st.st_size + 1);
  assert_int_equal (pread (fd, buf, (size_t)st.st_size, 0), st.st_size);
  *ret_len = (size_t)st.st_size;
  return buf;
}

static int
memfd_with (const char *data, size_t len)
{
  int fd = memfd_create ("archive", MFD_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, data, len), (ssize_t)len);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  return fd;
}

/* The busybox image as an OCI layout in a tar: a gzip layer with the
 * host's busybox-static and two applet links, a config, a manifest. */
struct oci_image
{
  char *layer, *config, *manifest; /* blob contents */
  size_t layer_len;
  char layer_digest[ARCA_DIGEST_LEN + 1], config_digest[ARCA_DIGEST_LEN + 1],
      manifest_digest[ARCA_DIGEST_LEN + 1], diff_id[ARCA_DIGEST_LEN + 1];
  char *busybox;
  size_t busybox_len;
};

static void oci_image_build_from (struct oci_image *im, const char *diff_id_override,
                                  const struct tent *layer, size_t n_layer);

static void
oci_image_build (struct oci_image *im, const char *diff_id_override)
{
  oci_image_build_from (im, diff_id_override, NULL, 0);
}

/* layer NULL = the busybox layer */
static void
oci_image_build_from (struct oci_image *im, const char *diff_id_override, const struct tent *custom,
                      size_t n_custom)
{
  cleanup_error arca_error *err = NULL;
  cleanup_close int bfd = open ("/bin/busybox", O_RDONLY | O_CLOEXEC);
  size_t plain_len;
  cleanup_free char *plain = NULL;
  int fd;

  if (bfd < 0)
    skip (); /* busybox-static is in install-deps.sh */
  im->busybox = slurp (bfd, &im->busybox_len);
  {
    const struct tent layer[] = {
      { .path = "bin", .type = AE_IFDIR },
      { .path = "bin/busybox", .data = im->busybox, .len = im->busybox_len, .perm = 0755 },
      { .path = "bin/sh", .type = AE_IFLNK, .data = "busybox" },
      { .path = "bin/echo", .type = AE_IFLNK, .data = "busybox" },
    };
    const struct tent *ents = custom ? custom : layer;
    size_t n = custom ? n_custom : ARRAY_SIZE (layer);
    fd = tar_build (ents, n, TAR_PLAIN);
    plain = slurp (fd, &plain_len);
    close (fd);
    assert_int_equal (arca_digest_buffer (plain, plain_len, im->diff_id, &err), 0);
    fd = tar_build (ents, n, TAR_GZIP);
    im->layer = slurp (fd, &im->layer_len);
    close (fd);
  }
  assert_int_equal (arca_digest_buffer (im->layer, im->layer_len, im->layer_digest, &err), 0);
  assert_true (asprintf (&im->config,
                         "{\"architecture\":\"amd64\",\"os\":\"linux\","
                         "\"created\":\"2026-11-22T01:02:03Z\",\"config\":{\"Cmd\":[\"sh\"]},"
                         "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                         diff_id_override ? diff_id_override : im->diff_id)
               > 0);
  assert_int_equal (arca_digest_buffer (im->config, strlen (im->config), im->config_digest, &err),
                    0);
  assert_true (asprintf (&im->manifest,
                         "{\"schemaVersion\":2,\"mediaType\":\"" ARCA_MEDIA_OCI_MANIFEST "\","
                         "\"config\":{\"mediaType\":\"" ARCA_MEDIA_OCI_CONFIG
                         "\",\"digest\":\"%s\",\"size\":%zu},"
                         "\"layers\":[{\"mediaType\":\"" ARCA_MEDIA_OCI_LAYER
                         "+gzip\",\"digest\":\"%s\",\"size\":%zu}]}",
                         im->config_digest, strlen (im->config), im->layer_digest, im->layer_len)
               > 0);
  assert_int_equal (
      arca_digest_buffer (im->manifest, strlen (im->manifest), im->manifest_digest, &err), 0);
}

static void
oci_image_free (struct oci_image *im)
{
  free (im->layer);
  free (im->config);
  free (im->manifest);
  free (im->busybox);
}

/* The layout as a tar.  bad_blob corrupts the layer blob's content (its
 * name keeps the right digest); skip_config leaves the config out. */
static int
oci_archive (struct oci_image *im, bool bad_blob, bool skip_config)
{
  cleanup_free char *index = NULL;
  char lname[256], cname[256], mname[256];
  cleanup_free char *layer = malloc (im->layer_len);

  memcpy (layer, im->layer, im->layer_len);
  if (bad_blob)
    layer[im->layer_len / 2] ^= 1;
  snprintf (lname, sizeof (lname), "blobs/sha256/%s", arca_digest_hex (im->layer_digest));
  snprintf (cname, sizeof (cname), "blobs/sha256/%s", arca_digest_hex (im->config_digest));
  snprintf (mname, sizeof (mname), "blobs/sha256/%s", arca_digest_hex (im->manifest_digest));
  assert_true (
      asprintf (&index,
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" ARCA_MEDIA_OCI_MANIFEST
                "\",\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
                "\"org.opencontainers.image.ref.name\":\"localhost/busybox:latest\"}}]}",
                im->manifest_digest, strlen (im->manifest))
      > 0);
  {
    const struct tent ents[] = {
      { .path = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}" },
      { .path = "index.json", .data = index },
      { .path = "blobs", .type = AE_IFDIR },
      { .path = "blobs/sha256", .type = AE_IFDIR },
      { .path = mname, .data = im->manifest },
      { .path = lname, .data = layer, .len = im->layer_len },
      { .path = cname, .data = im->config },
    };
    return tar_build (ents, ARRAY_SIZE (ents) - (skip_config ? 1 : 0), TAR_PLAIN);
  }
}

static void
check_busybox_image (struct env *e, struct oci_image *im, const char *name)
{
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *rec = NULL;
  char id[ARCA_DIGEST_LEN + 1], p[700];
  struct stat st;

  assert_int_equal (arca_db_resolve (e->db, name, id, &err), 0);
  assert_string_equal (id, im->config_digest);
  assert_int_equal (arca_db_get_image (e->db, id, &rec, &err), 0);
  assert_int_equal (rec->n_layers, 1);
  assert_string_equal (rec->layers[0].diff_id, im->diff_id);
  /* the base layer's chain id is its diff_id */
  assert_string_equal (rec->layers[0].chain_id, im->diff_id);
  assert_int_equal (rec->created, 1795309323);
  snprintf (p, sizeof (p), "%s/layers/%s/bin/busybox", e->dir, rec->layers[0].dir);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal ((size_t)st.st_size, im->busybox_len);
  assert_true (st.st_mode & S_IXUSR);
  snprintf (p, sizeof (p), "%s/layers/%s/bin/sh", e->dir, rec->layers[0].dir);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  assert_int_equal (arca_blob_verify (e->store, rec->manifest_digest, &err), 0);
}

static void
test_load_oci_busybox (void **state)
{
  struct oci_image im = { 0 };
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  cleanup_strv char **ids = NULL;
  int fd;
  char p[600];

  oci_image_build (&im, NULL);
  env_open (&e);
  fd = oci_archive (&im, false, false);
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, &ids, &err), 0);
  close (fd);
  assert_string_equal (ids[0], im.config_digest);
  assert_null (ids[1]);
  check_busybox_image (&e, &im, "busybox");
  /* manifest, config and layer blobs; the index and oci-layout are gone */
  snprintf (p, sizeof (p), "%s/blobs/sha256", e.dir);
  assert_int_equal (test_count_entries (p), 3);

  /* loading again changes nothing */
  fd = oci_archive (&im, false, false);
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), 0);
  close (fd);
  assert_int_equal (test_count_entries (p), 3);
  snprintf (p, sizeof (p), "%s/layers", e.dir);
  assert_int_equal (test_count_entries (p), 1);
  env_close (&e);
  oci_image_free (&im);
}

static void
test_save_load_round_trips (void **state)
{
  struct oci_image im = { 0 };
  struct env a = { 0 }, b = { 0 }, c = { 0 };
  cleanup_error arca_error *err = NULL;
  const char *refs[] = { "busybox", NULL };
  int fd, out;

  oci_image_build (&im, NULL);
  env_open (&a);
  env_open (&b);
  env_open (&c);
  fd = oci_archive (&im, false, false);
  assert_int_equal (arca_image_load (a.store, a.db, fd, OPTS, NULL, &err), 0);
  close (fd);

  out = memfd_create ("oci", MFD_CLOEXEC);
  assert_int_equal (arca_image_save (a.store, a.db, refs, ARCA_ARCHIVE_OCI, out, &err), 0);
  lseek (out, 0, SEEK_SET);
  assert_int_equal (arca_image_load (b.store, b.db, out, OPTS, NULL, &err), 0);
  close (out);
  check_busybox_image (&b, &im, "localhost/busybox:latest");
  {
    cleanup_image_record struct arca_image_record *rec = NULL;
    assert_int_equal (arca_db_get_image (b.db, im.config_digest, &rec, &err), 0);
    /* the same manifest: an OCI round trip is byte-exact */
    assert_string_equal (rec->manifest_digest, im.manifest_digest);
  }

  out = memfd_create ("docker", MFD_CLOEXEC);
  assert_int_equal (arca_image_save (b.store, b.db, refs, ARCA_ARCHIVE_DOCKER, out, &err), 0);
  lseek (out, 0, SEEK_SET);
  assert_int_equal (arca_image_load (c.store, c.db, out, OPTS, NULL, &err), 0);
  close (out);
  check_busybox_image (&c, &im, "busybox");

  env_close (&a);
  env_close (&b);
  env_close (&c);
  oci_image_free (&im);
}

static void expect_load_failure (int fd, const char *needle);

static void
test_docker_archive_short_names (void **state)
{
  struct oci_image im = { 0 };
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  cleanup_free char *mf = NULL;
  char cname[256], lname[256], id[ARCA_DIGEST_LEN + 1];
  int fd;

  oci_image_build (&im, NULL);
  env_open (&e);
  /* as `docker save busybox` writes it (layer compressed here) */
  snprintf (cname, sizeof (cname), "%s.json", arca_digest_hex (im.config_digest));
  snprintf (lname, sizeof (lname), "abc/layer.tar");
  assert_true (
      asprintf (&mf, "[{\"Config\":\"%s\",\"RepoTags\":[\"busybox:1.36\"],\"Layers\":[\"%s\"]}]",
                cname, lname)
      > 0);
  {
    const struct tent ents[] = {
      { .path = "abc", .type = AE_IFDIR },
      { .path = lname, .data = im.layer, .len = im.layer_len },
      { .path = cname, .data = im.config },
      { .path = "manifest.json", .data = mf },
      { .path = "repositories", .data = "{}" },
    };
    fd = tar_build (ents, ARRAY_SIZE (ents), TAR_PLAIN);
  }
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), 0);
  close (fd);
  assert_int_equal (arca_db_resolve (e.db, "docker.io/library/busybox:1.36", id, &err), 0);
  assert_string_equal (id, im.config_digest);
  check_busybox_image (&e, &im, "busybox:1.36");
  {
    cleanup_image_record struct arca_image_record *rec = NULL;
    assert_int_equal (arca_db_get_image (e.db, id, &rec, &err), 0);
    assert_string_equal (rec->layers[0].media_type, ARCA_MEDIA_OCI_LAYER "+gzip");
  }
  env_close (&e);

  /* a config file named after another digest */
  {
    cleanup_free char *bad = NULL;
    char wrong[100];
    memset (wrong, 'a', 64);
    strcpy (wrong + 64, ".json");
    assert_true (
        asprintf (&bad, "[{\"Config\":\"%s\",\"RepoTags\":null,\"Layers\":[\"%s\"]}]", wrong, lname)
        > 0);
    const struct tent ents[] = {
      { .path = lname, .data = im.layer, .len = im.layer_len },
      { .path = wrong, .data = im.config },
      { .path = "manifest.json", .data = bad },
    };
    fd = tar_build (ents, ARRAY_SIZE (ents), TAR_PLAIN);
    expect_load_failure (fd, "digest mismatch: content is");
    close (fd);
  }
  oci_image_free (&im);
}

/* Every failing load leaves the store exactly as empty as it was. */
static void
expect_load_failure (int fd, const char *needle)
{
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;

  env_open (&e);
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), -1);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error `%s` does not say `%s`", err->msg, needle);
  print_message ("refused: %s\n", err->msg);
  assert_store_empty (&e);
  env_close (&e);
}

static void
test_truncated_archive (void **state)
{
  struct oci_image im = { 0 };
  cleanup_free char *bytes = NULL;
  size_t len;
  int fd;

  oci_image_build (&im, NULL);
  fd = oci_archive (&im, false, false);
  bytes = slurp (fd, &len);
  close (fd);
  /* cut inside the layer blob, and inside the last member */
  for (int i = 0; i < 2; i++)
    {
      size_t cut = i == 0 ? len / 2 : len - 1500;
      fd = memfd_with (bytes, cut);
      expect_load_failure (fd, "load image archive");
      close (fd);
    }
  fd = memfd_with ("garbage, not a tar at all................................", 56);
  expect_load_failure (fd, "load image archive");
  close (fd);
  oci_image_free (&im);
}

static void
test_digest_mismatches (void **state)
{
  struct oci_image im = { 0 }, wrong = { 0 };
  char fake[ARCA_DIGEST_LEN + 1];
  int fd;

  oci_image_build (&im, NULL);
  fd = oci_archive (&im, true, false);
  expect_load_failure (fd, "blob digest mismatch: expected ");
  close (fd);

  /* the config promises a different diff_id than the layer's content */
  memcpy (fake, "sha256:", 7);
  memset (fake + 7, 'e', 64);
  fake[71] = '\0';
  oci_image_build (&wrong, fake);
  fd = oci_archive (&wrong, false, false);
  expect_load_failure (fd, "diff_id mismatch");
  close (fd);

  fd = oci_archive (&im, false, true);
  expect_load_failure (fd, "is not in the archive");
  close (fd);
  oci_image_free (&im);
  oci_image_free (&wrong);
}

/* podman's docker-archive: <id>/layer.tar is a symlink to <diff>.tar, and
 * manifest.json may name either. */
static void
test_docker_archive_symlinked_layer (void **state)
{
  struct oci_image im = { 0 };
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  cleanup_free char *mf = NULL;
  char cname[256], id[ARCA_DIGEST_LEN + 1];
  int fd;

  oci_image_build (&im, NULL);
  env_open (&e);
  snprintf (cname, sizeof (cname), "%s.json", arca_digest_hex (im.config_digest));
  assert_true (asprintf (&mf,
                         "[{\"Config\":\"%s\",\"RepoTags\":[\"localhost/busybox:latest\"],"
                         "\"Layers\":[\"abc/layer.tar\"]}]",
                         cname)
               > 0);
  {
    const struct tent ents[] = {
      { .path = "0123.tar", .data = im.layer, .len = im.layer_len },
      { .path = cname, .data = im.config },
      { .path = "abc/layer.tar", .type = AE_IFLNK, .data = "../0123.tar" },
      { .path = "evil/layer.tar", .type = AE_IFLNK, .data = "../../etc/passwd" },
      { .path = "manifest.json", .data = mf },
    };
    fd = tar_build (ents, ARRAY_SIZE (ents), TAR_PLAIN);
  }
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), 0);
  close (fd);
  assert_int_equal (arca_db_resolve (e.db, "busybox", id, &err), 0);
  check_busybox_image (&e, &im, "busybox");
  env_close (&e);
  oci_image_free (&im);
}

/* A config pairing a layer already in the store (by diff_id) with other
 * content is refused, and the existing image is untouched. */
static void
test_known_diff_id_with_other_content (void **state)
{
  struct oci_image im = { 0 }, spoof = { 0 };
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  const struct tent other[] = { { .path = "bin", .type = AE_IFDIR },
                                { .path = "bin/busybox", .data = "#!/bin/evil\n", .perm = 0755 } };
  char p[600];
  int fd;

  oci_image_build (&im, NULL);
  oci_image_build_from (&spoof, im.diff_id, other, ARRAY_SIZE (other));
  env_open (&e);
  fd = oci_archive (&im, false, false);
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), 0);
  close (fd);
  fd = oci_archive (&spoof, false, false);
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), -1);
  close (fd);
  assert_error_contains (err, "diff_id mismatch");
  check_busybox_image (&e, &im, "busybox");
  snprintf (p, sizeof (p), "%s/blobs/sha256", e.dir);
  assert_int_equal (test_count_entries (p), 3);
  snprintf (p, sizeof (p), "%s/layers", e.dir);
  assert_int_equal (test_count_entries (p), 1);
  env_close (&e);
  oci_image_free (&im);
  oci_image_free (&spoof);
}

/* An archive whose second image is broken: the whole load fails, the
 * first image (already in the store before) stays, a new one goes. */
static void
test_partial_multi_image_archive (void **state)
{
  struct oci_image im = { 0 };
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  cleanup_free char *index = NULL, *bad_manifest = NULL;
  char lname[512], cname[512], mname[512], bname[512], bad_digest[ARCA_DIGEST_LEN + 1];
  char p[600];
  int fd;

  oci_image_build (&im, NULL);
  env_open (&e);
  fd = oci_archive (&im, false, false);
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), 0);
  close (fd);

  /* image 2: same layer, a config that is not in the archive */
  assert_true (asprintf (&bad_manifest,
                         "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":"
                         "\"sha256:%064d\",\"size\":1},\"layers\":[]}",
                         7)
               > 0);
  assert_int_equal (arca_digest_buffer (bad_manifest, strlen (bad_manifest), bad_digest, &err), 0);
  assert_true (
      asprintf (&index,
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"mediaType\":\"" ARCA_MEDIA_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                "\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/again:1\"}},"
                "{\"mediaType\":\"" ARCA_MEDIA_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu}]}",
                im.manifest_digest, strlen (im.manifest), bad_digest, strlen (bad_manifest))
      > 0);
  snprintf (lname, sizeof (lname), "blobs/sha256/%s", arca_digest_hex (im.layer_digest));
  snprintf (cname, sizeof (cname), "blobs/sha256/%s", arca_digest_hex (im.config_digest));
  snprintf (mname, sizeof (mname), "blobs/sha256/%s", arca_digest_hex (im.manifest_digest));
  snprintf (bname, sizeof (bname), "blobs/sha256/%s", arca_digest_hex (bad_digest));
  {
    const struct tent ents[] = {
      { .path = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}" },
      { .path = "index.json", .data = index },
      { .path = mname, .data = im.manifest },
      { .path = bname, .data = bad_manifest },
      { .path = lname, .data = im.layer, .len = im.layer_len },
      { .path = cname, .data = im.config },
    };
    fd = tar_build (ents, ARRAY_SIZE (ents), TAR_PLAIN);
  }
  assert_int_equal (arca_image_load (e.store, e.db, fd, OPTS, NULL, &err), -1);
  close (fd);
  assert_error_contains (err, "is not in the archive");
  check_busybox_image (&e, &im, "busybox");
  {
    /* not even the tag the failed load would have added */
    cleanup_error arca_error *rerr = NULL;
    char id[ARCA_DIGEST_LEN + 1];
    assert_int_equal (arca_db_resolve (e.db, "again:1", id, &rerr), -1);
    assert_int_equal (rerr->errnum, ENOENT);
  }
  snprintf (p, sizeof (p), "%s/blobs/sha256", e.dir);
  assert_int_equal (test_count_entries (p), 3);
  env_close (&e);

  /* the same archive into an empty store: nothing at all remains */
  {
    const struct tent ents[] = {
      { .path = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}" },
      { .path = "index.json", .data = index },
      { .path = mname, .data = im.manifest },
      { .path = bname, .data = bad_manifest },
      { .path = lname, .data = im.layer, .len = im.layer_len },
      { .path = cname, .data = im.config },
    };
    fd = tar_build (ents, ARRAY_SIZE (ents), TAR_PLAIN);
  }
  expect_load_failure (fd, "is not in the archive");
  close (fd);
  oci_image_free (&im);
}

static void
test_save_unknown_image (void **state)
{
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  const char *refs[] = { "nothere", NULL };
  int out = memfd_create ("x", MFD_CLOEXEC);

  env_open (&e);
  assert_int_equal (arca_image_save (e.store, e.db, refs, ARCA_ARCHIVE_OCI, out, &err), -1);
  assert_error_contains (err, "image `nothere` not known");
  close (out);
  env_close (&e);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_load_oci_busybox),
    cmocka_unit_test (test_save_load_round_trips),
    cmocka_unit_test (test_docker_archive_short_names),
    cmocka_unit_test (test_truncated_archive),
    cmocka_unit_test (test_digest_mismatches),
    cmocka_unit_test (test_docker_archive_symlinked_layer),
    cmocka_unit_test (test_known_diff_id_with_other_content),
    cmocka_unit_test (test_partial_multi_image_archive),
    cmocka_unit_test (test_save_unknown_image),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
