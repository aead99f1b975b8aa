/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <sqlite3.h>

#include "image-test.h"
#include "image/db.h"

struct fixture
{
  char *dir;
  char path[512];
  arca_db *db;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  cleanup_error arca_error *err = NULL;

  f->dir = test_tmpdir ();
  snprintf (f->path, sizeof (f->path), "%s/arca.db", f->dir);
  assert_int_equal (arca_db_open (f->path, &f->db, &err), 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  arca_db_free (f->db);
  test_rmdir (f->dir);
  free (f);
  return 0;
}

/* A digest made of one repeated hex digit. */
static void
fake_digest (char *out, char c)
{
  memcpy (out, "sha256:", 7);
  memset (out + 7, c, 64);
  out[71] = '\0';
}

/* An image whose layers are the chain ids given as hex digits. */
static struct arca_image_record *
make_image (char id, char manifest, const char *layers)
{
  struct arca_image_record *img = calloc (1, sizeof (*img));
  fake_digest (img->id, id);
  fake_digest (img->manifest_digest, manifest);
  img->created = 1700000000;
  img->n_layers = strlen (layers);
  img->layers = calloc (img->n_layers, sizeof (*img->layers));
  for (size_t i = 0; i < img->n_layers; i++)
    {
      struct arca_image_layer *l = &img->layers[i];
      fake_digest (l->chain_id, layers[i]);
      fake_digest (l->diff_id, layers[i]);
      fake_digest (l->blob_digest, layers[i]);
      l->media_type = strdup ("application/vnd.oci.image.layer.v1.tar+gzip");
      l->dir = strdup (l->chain_id + 7);
      l->size = 1000 * (int64_t)(i + 1);
      img->size += l->size;
    }
  return img;
}

static int64_t
refcount (arca_db *db, char c)
{
  cleanup_error arca_error *err = NULL;
  char chain[ARCA_DIGEST_LEN + 1];
  int64_t rc = -1;
  fake_digest (chain, c);
  if (arca_db_layer_refcount (db, chain, &rc, &err) < 0)
    return -1;
  return rc;
}

static void
test_add_get_list (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *img = make_image ('a', 'b', "123");
  cleanup_image_record struct arca_image_record *got = NULL;
  cleanup_image_records struct arca_image_record **all = NULL;
  const char *tags[] = { "localhost/busybox:latest", "docker.io/library/busybox:1.36", NULL };

  assert_int_equal (arca_db_add_image (f->db, img, tags, &err), 0);
  assert_int_equal (arca_db_get_image (f->db, img->id, &got, &err), 0);
  assert_string_equal (got->manifest_digest, img->manifest_digest);
  assert_int_equal (got->created, 1700000000);
  assert_int_equal (got->size, 6000);
  assert_int_equal (got->n_layers, 3);
  for (size_t i = 0; i < 3; i++)
    {
      assert_string_equal (got->layers[i].chain_id, img->layers[i].chain_id);
      assert_string_equal (got->layers[i].dir, img->layers[i].dir);
      assert_string_equal (got->layers[i].media_type, img->layers[i].media_type);
    }
  assert_string_equal (got->tags[0], "docker.io/library/busybox:1.36");
  assert_string_equal (got->tags[1], "localhost/busybox:latest");
  assert_null (got->tags[2]);
  assert_int_equal (refcount (f->db, '1'), 1);
  assert_int_equal (arca_db_list_images (f->db, &all, &err), 0);
  assert_non_null (all[0]);
  assert_null (all[1]);

  /* Adding the same image again only adds tags: no double refcount. */
  {
    const char *more[] = { "localhost/other:1", NULL };
    assert_int_equal (arca_db_add_image (f->db, img, more, &err), 0);
    assert_int_equal (refcount (f->db, '1'), 1);
  }
}

static void
test_resolve (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *a = make_image ('a', '1', "1");
  cleanup_image_record struct arca_image_record *b = make_image ('b', '2', "12");
  cleanup_image_record struct arca_image_record *c = make_image ('c', '3', "1");
  const char *ta[] = { "localhost/busybox:latest", NULL };
  const char *tb[] = { "docker.io/library/alpine:3.18", "quay.io/x/tool:1", NULL };
  const char *tc[] = { "docker.io/library/busybox:latest", "ghcr.io/y/tool:1", NULL };
  char id[ARCA_DIGEST_LEN + 1];

  assert_int_equal (arca_db_add_image (f->db, a, ta, &err), 0);
  assert_int_equal (arca_db_add_image (f->db, b, tb, &err), 0);
  assert_int_equal (arca_db_add_image (f->db, c, tc, &err), 0);

  /* short names: localhost first, then docker.io/library */
  assert_int_equal (arca_db_resolve (f->db, "busybox", id, &err), 0);
  assert_string_equal (id, a->id);
  assert_int_equal (arca_db_resolve (f->db, "docker.io/library/busybox", id, &err), 0);
  assert_string_equal (id, c->id);
  assert_int_equal (arca_db_resolve (f->db, "alpine:3.18", id, &err), 0);
  assert_string_equal (id, b->id);
  /* id: full, with prefix, short prefix, and manifest digest */
  assert_int_equal (arca_db_resolve (f->db, b->id, id, &err), 0);
  assert_string_equal (id, b->id);
  assert_int_equal (arca_db_resolve (f->db, "bbbbbbbbbbbb", id, &err), 0);
  assert_string_equal (id, b->id);
  assert_int_equal (arca_db_resolve (f->db, "sha256:ccc", id, &err), 0);
  assert_string_equal (id, c->id);
  assert_int_equal (arca_db_resolve (f->db, c->manifest_digest, id, &err), 0);
  assert_string_equal (id, c->id);
  {
    char ref[200];
    snprintf (ref, sizeof (ref), "docker.io/library/busybox@%s", a->manifest_digest);
    assert_int_equal (arca_db_resolve (f->db, ref, id, &err), 0);
    assert_string_equal (id, a->id);
  }

  /* "tool:1" exists under two registries: ambiguous */
  assert_int_equal (arca_db_resolve (f->db, "x/tool:1", id, &err), 0);
  assert_string_equal (id, b->id);
  assert_int_equal (arca_db_resolve (f->db, "tool:1", id, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_error_contains (err, "ambiguous");
  arca_error_free (err);
  err = NULL;

  assert_int_equal (arca_db_resolve (f->db, "nothere", id, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  assert_error_contains (err, "image `nothere` not known");
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_db_resolve (f->db, "Bad Name", id, &err), -1);
  assert_int_equal (err->errnum, EINVAL);
  assert_error_contains (err, "invalid image reference");
}

static void
test_tag_moves_and_untag (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *a = make_image ('a', '1', "1");
  cleanup_image_record struct arca_image_record *b = make_image ('b', '2', "2");
  const char *t[] = { "localhost/app:latest", NULL };
  char id[ARCA_DIGEST_LEN + 1], missing[ARCA_DIGEST_LEN + 1];

  assert_int_equal (arca_db_add_image (f->db, a, t, &err), 0);
  assert_int_equal (arca_db_add_image (f->db, b, t, &err), 0);
  assert_int_equal (arca_db_resolve (f->db, "app", id, &err), 0);
  assert_string_equal (id, b->id);
  assert_int_equal (arca_db_tag (f->db, a->id, "localhost/app:latest", &err), 0);
  assert_int_equal (arca_db_resolve (f->db, "app", id, &err), 0);
  assert_string_equal (id, a->id);
  fake_digest (missing, 'f');
  assert_int_equal (arca_db_tag (f->db, missing, "localhost/x:1", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_db_untag (f->db, "localhost/app:latest", &err), 0);
  assert_int_equal (arca_db_untag (f->db, "localhost/app:latest", &err), -1);
  assert_int_equal (err->errnum, ENOENT);
}

static void
test_remove_refcounts_and_prune_sets (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *a = make_image ('a', 'd', "12");
  cleanup_image_record struct arca_image_record *b = make_image ('b', 'e', "13");
  cleanup_strv char **unref = NULL;
  cleanup_strv char **blobs = NULL;
  char chain[ARCA_DIGEST_LEN + 1];

  assert_int_equal (arca_db_add_image (f->db, a, NULL, &err), 0);
  assert_int_equal (arca_db_add_image (f->db, b, NULL, &err), 0);
  assert_int_equal (refcount (f->db, '1'), 2);
  assert_int_equal (arca_db_remove_image (f->db, a->id, &err), 0);
  assert_int_equal (refcount (f->db, '1'), 1);
  assert_int_equal (refcount (f->db, '2'), 0);
  assert_int_equal (arca_db_unreferenced_layers (f->db, &unref, &err), 0);
  fake_digest (chain, '2');
  assert_string_equal (unref[0], chain);
  assert_null (unref[1]);

  /* referenced: b's config, manifest, layer blobs 1 and 3; not a's. */
  assert_int_equal (arca_db_referenced_blobs (f->db, &blobs, &err), 0);
  for (char **p = blobs; *p; p++)
    {
      assert_true (strcmp (*p, a->id) != 0);
      assert_true (strcmp (*p, a->manifest_digest) != 0);
      assert_true (strcmp (*p, chain) != 0);
    }
  assert_int_equal (arca_db_delete_layer (f->db, chain, &err), 0);
  assert_int_equal (arca_db_layer_exists (f->db, chain, &err), 0);
  fake_digest (chain, '1');
  assert_int_equal (arca_db_delete_layer (f->db, chain, &err), -1);
  assert_int_equal (err->errnum, EBUSY);
  arca_error_free (err);
  err = NULL;
  assert_int_equal (arca_db_remove_image (f->db, a->id, &err), -1);
  assert_int_equal (err->errnum, ENOENT);
}

static int
count_rows (const char *path, const char *table)
{
  sqlite3 *h;
  sqlite3_stmt *st;
  char sql[100];
  int n;
  assert_int_equal (sqlite3_open (path, &h), SQLITE_OK);
  snprintf (sql, sizeof (sql), "SELECT COUNT(*) FROM %s", table);
  assert_int_equal (sqlite3_prepare_v2 (h, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (st), SQLITE_ROW);
  n = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (h);
  return n;
}

static void
test_failed_add_rolls_back (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *a = make_image ('a', 'd', "123");
  const char *t[] = { "localhost/app:latest", NULL };

  /* The third layer is broken: the image, its first two layers and its tag
   * must all be rolled back. */
  strcpy (a->layers[2].diff_id, "sha256:nope");
  assert_int_equal (arca_db_add_image (f->db, a, t, &err), -1);
  assert_error_contains (err, "incomplete record");
  assert_int_equal (count_rows (f->path, "images"), 0);
  assert_int_equal (count_rows (f->path, "layers"), 0);
  assert_int_equal (count_rows (f->path, "image_layers"), 0);
  assert_int_equal (count_rows (f->path, "tags"), 0);
}

static void
test_reopen_and_schema_version (void **state)
{
  struct fixture *f = *state;
  cleanup_error arca_error *err = NULL;
  cleanup_image_record struct arca_image_record *a = make_image ('a', 'd', "1");
  arca_db *db2 = NULL;
  sqlite3 *h;

  assert_int_equal (arca_db_add_image (f->db, a, NULL, &err), 0);
  /* A second connection (another arca command) sees the committed rows. */
  assert_int_equal (arca_db_open (f->path, &db2, &err), 0);
  assert_int_equal (arca_db_layer_exists (db2, a->layers[0].chain_id, &err), 1);
  arca_db_free (db2);
  assert_int_equal (count_rows (f->path, "schema_version"), 1);

  assert_int_equal (sqlite3_open (f->path, &h), SQLITE_OK);
  assert_int_equal (sqlite3_exec (h, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
                    SQLITE_OK);
  sqlite3_close (h);
  db2 = NULL;
  assert_int_equal (arca_db_open (f->path, &db2, &err), -1);
  assert_null (db2);
  assert_error_contains (err, "schema version 99 is newer");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_add_get_list, setup, teardown),
    cmocka_unit_test_setup_teardown (test_resolve, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tag_moves_and_untag, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove_refcounts_and_prune_sets, setup, teardown),
    cmocka_unit_test_setup_teardown (test_failed_add_rolls_back, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reopen_and_schema_version, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
