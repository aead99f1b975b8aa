/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image-test.h"
#include <sqlite3.h>

#include "image/archives.h"
#include "image/check.h"
#include "image/gc.h"

struct env
{
  char *dir;
  arca_store *store;
  arca_db *db;
};

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

static void
put (struct env *e, const char *content, char *digest)
{
  cleanup_error arca_error *err = NULL;
  assert_int_equal (
      arca_blob_put_buffer (e->store, content, strlen (content), NULL, digest, NULL, &err), 0);
}

/* An image with real blobs ("<tag>-config", "<tag>-manifest") whose
 * layers are the given layer blob contents (dirs made by hand). */
static struct arca_image_record *
image (struct env *e, const char *name, const char *const *layers)
{
  struct arca_image_record *img = calloc (1, sizeof (*img));
  char buf[200], parent[ARCA_DIGEST_LEN + 1] = "";
  cleanup_error arca_error *err = NULL;

  snprintf (buf, sizeof (buf), "%s-config", name);
  put (e, buf, img->id);
  snprintf (buf, sizeof (buf), "%s-manifest", name);
  put (e, buf, img->manifest_digest);
  while (layers[img->n_layers])
    img->n_layers++;
  img->layers = calloc (img->n_layers, sizeof (*img->layers));
  for (size_t i = 0; i < img->n_layers; i++)
    {
      struct arca_image_layer *l = &img->layers[i];
      put (e, layers[i], l->blob_digest);
      memcpy (l->diff_id, l->blob_digest, sizeof (l->diff_id));
      assert_int_equal (arca_chain_id (*parent ? parent : NULL, l->diff_id, l->chain_id, &err), 0);
      memcpy (parent, l->chain_id, sizeof (parent));
      l->media_type = strdup ("application/vnd.oci.image.layer.v1.tar");
      l->dir = strdup (arca_digest_hex (l->chain_id));
      snprintf (buf, sizeof (buf), "%s/layers/%s", e->dir, l->dir);
      mkdir (buf, 0755);
    }
  assert_int_equal (arca_db_add_image (e->db, img, NULL, &err), 0);
  return img;
}

static bool
exists (struct env *e, const char *sub, const char *hex)
{
  char p[700];
  struct stat st;
  snprintf (p, sizeof (p), "%s/%s/%s", e->dir, sub, hex);
  return lstat (p, &st) == 0;
}

static void
test_remove_and_prune (void **state)
{
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  const char *la[] = { "base", "a-top", NULL };
  const char *lb[] = { "base", "b-top", NULL };
  cleanup_image_record struct arca_image_record *a = NULL;
  cleanup_image_record struct arca_image_record *b = NULL;
  struct arca_gc_stats st;
  char orphan[ARCA_DIGEST_LEN + 1], p[700];

  env_open (&e);
  a = image (&e, "a", la);
  b = image (&e, "b", lb);
  put (&e, "orphan", orphan);
  snprintf (p, sizeof (p), "%s/layers/deadbeef", e.dir);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (p, sizeof (p), "%s/blobs/sha256/.tmp-999999999-x", e.dir);
  close (open (p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));

  /* gc alone keeps everything referenced, drops the orphans */
  assert_int_equal (arca_image_gc (e.store, e.db, &st, &err), 0);
  assert_int_equal (st.blobs_removed, 1);
  assert_int_equal (st.layers_removed, 1);
  assert_false (exists (&e, "blobs/sha256", arca_digest_hex (orphan)));
  assert_false (exists (&e, "layers", "deadbeef"));
  assert_false (exists (&e, "blobs/sha256", ".tmp-999999999-x"));
  assert_true (exists (&e, "layers", a->layers[1].dir));

  /* removing a frees its own blobs and top layer; the shared base stays */
  assert_int_equal (arca_image_remove (e.store, e.db, a->id, &st, &err), 0);
  assert_int_equal (st.layers_removed, 1);
  assert_int_equal (st.blobs_removed, 3); /* config, manifest, a-top */
  assert_false (exists (&e, "layers", a->layers[1].dir));
  assert_false (exists (&e, "blobs/sha256", arca_digest_hex (a->id)));
  assert_false (exists (&e, "blobs/sha256", arca_digest_hex (a->layers[1].blob_digest)));
  assert_true (exists (&e, "layers", b->layers[0].dir));
  assert_true (exists (&e, "blobs/sha256", arca_digest_hex (b->layers[0].blob_digest)));
  assert_int_equal (arca_db_layer_exists (e.db, a->layers[1].chain_id, &err), 0);
  {
    int64_t rc;
    assert_int_equal (arca_db_layer_refcount (e.db, b->layers[0].chain_id, &rc, &err), 0);
    assert_int_equal (rc, 1);
  }

  assert_int_equal (arca_image_remove (e.store, e.db, b->id, &st, &err), 0);
  snprintf (p, sizeof (p), "%s/layers", e.dir);
  assert_int_equal (test_count_entries (p), 0);
  snprintf (p, sizeof (p), "%s/blobs/sha256", e.dir);
  assert_int_equal (test_count_entries (p), 0);
  env_close (&e);
}

/* kill -9 of a load in the middle of a blob: no rows; the next gc leaves
 * the store empty (temp file of the dead writer included). */
static void
test_killed_load (void **state)
{
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  cleanup_image_records struct arca_image_record **all = NULL;
  struct arca_gc_stats st;
  char blobs[600];
  int fds[2], status;
  pid_t pid;

  env_open (&e);
  snprintf (blobs, sizeof (blobs), "%s/blobs/sha256", e.dir);
  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      arca_error *cerr = NULL;
      close (fds[1]);
      arca_image_load (e.store, e.db, fds[0], NULL, NULL, &cerr);
      _exit (0);
    }
  close (fds[0]);
  {
    /* a tar header for a 1 MiB member, then part of its data */
    char block[512] = { 0 }, data[4096];
    unsigned sum = 0;
    memset (data, 'z', sizeof (data));
    strcpy (block, "blobs/sha256/1111111111111111111111111111111111111111111111111111111111111111");
    memcpy (block + 100, "0000644", 7);
    memcpy (block + 108, "0000000", 7);
    memcpy (block + 116, "0000000", 7);
    memcpy (block + 124, "00004000000", 11);
    memcpy (block + 136, "00000000000", 11);
    block[156] = '0';
    memcpy (block + 257, "ustar\00000", 8);
    memset (block + 148, ' ', 8);
    for (size_t i = 0; i < 512; i++)
      sum += (unsigned char)block[i];
    snprintf (block + 148, 8, "%06o", sum);
    assert_int_equal (write (fds[1], block, 512), 512);
    for (int i = 0; i < 16; i++)
      assert_int_equal (write (fds[1], data, sizeof (data)), (ssize_t)sizeof (data));
  }
  /* wait until the writer's temp file exists, then kill it */
  for (int i = 0; i < 500 && test_count_entries (blobs) == 0; i++)
    usleep (10000);
  assert_int_equal (test_count_entries (blobs), 1);
  kill (pid, SIGKILL);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
  close (fds[1]);

  assert_int_equal (arca_db_list_images (e.db, &all, &err), 0);
  assert_null (all[0]);
  assert_int_equal (arca_image_gc (e.store, e.db, &st, &err), 0);
  assert_int_equal (test_count_entries (blobs), 0);
  env_close (&e);
}

static bool
mentions (char **v, const char *needle)
{
  for (; v && *v; v++)
    if (strstr (*v, needle))
      return true;
  return false;
}

static void
test_check (void **state)
{
  struct env e = { 0 };
  cleanup_error arca_error *err = NULL;
  const char *la[] = { "base", "a-top", NULL };
  cleanup_image_record struct arca_image_record *a = NULL;
  char orphan[ARCA_DIGEST_LEN + 1], p[700];
  sqlite3 *h;

  env_open (&e);
  a = image (&e, "a", la);
  {
    cleanup_check_report struct arca_check_report *r = NULL;
    assert_int_equal (arca_image_check (e.store, e.db, false, &r, &err), 0);
    assert_null (r->problems[0]);
    assert_null (r->garbage[0]);
    assert_int_equal (r->blobs_checked, 4);
    assert_int_equal (r->layers_checked, 2);
  }

  /* garbage: an orphan blob, a layer dir without row, a dead writer's temp */
  put (&e, "orphan", orphan);
  snprintf (p, sizeof (p), "%s/layers/cafe", e.dir);
  assert_int_equal (mkdir (p, 0755), 0);
  snprintf (p, sizeof (p), "%s/tmp/.tmp-999999999-x", e.dir);
  assert_int_equal (mkdir (p, 0755), 0);
  {
    cleanup_check_report struct arca_check_report *r = NULL;
    assert_int_equal (arca_image_check (e.store, e.db, false, &r, &err), 0);
    assert_null (r->problems[0]);
    assert_true (mentions (r->garbage, orphan));
    assert_true (mentions (r->garbage, "`layers/cafe` has no database row"));
    assert_true (mentions (r->garbage, "temp `tmp/.tmp-999999999-x`"));
    assert_false (r->fixed);
  }
  {
    cleanup_check_report struct arca_check_report *r = NULL;
    assert_int_equal (arca_image_check (e.store, e.db, true, &r, &err), 0);
    assert_true (r->fixed);
  }
  {
    cleanup_check_report struct arca_check_report *r = NULL;
    assert_int_equal (arca_image_check (e.store, e.db, false, &r, &err), 0);
    assert_null (r->garbage[0]);
  }

  /* damage: a corrupt blob, a missing layer dir, a wrong refcount */
  snprintf (p, sizeof (p), "%s/blobs/sha256/%s", e.dir, arca_digest_hex (a->id));
  {
    int fd = open (p, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_int_equal (write (fd, "!", 1), 1);
    close (fd);
  }
  snprintf (p, sizeof (p), "%s/layers/%s", e.dir, a->layers[1].dir);
  assert_int_equal (rmdir (p), 0);
  snprintf (p, sizeof (p), "%s/arca.db", e.dir);
  assert_int_equal (sqlite3_open (p, &h), SQLITE_OK);
  assert_int_equal (sqlite3_exec (h, "UPDATE layers SET refcount = 0", NULL, NULL, NULL),
                    SQLITE_OK);
  sqlite3_close (h);
  {
    cleanup_check_report struct arca_check_report *r = NULL;
    assert_int_equal (arca_image_check (e.store, e.db, true, &r, &err), 0);
    assert_true (mentions (r->problems, "is corrupt"));
    assert_true (mentions (r->problems, "is missing"));
    assert_true (mentions (r->problems, "refcount 0 but 1 images use it"));
    /* a layer an image lists is never garbage, whatever its refcount */
    assert_null (r->garbage[0]);
  }
  snprintf (p, sizeof (p), "%s/layers/%s", e.dir, a->layers[0].dir);
  assert_int_equal (access (p, F_OK), 0);
  env_close (&e);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_remove_and_prune),
    cmocka_unit_test (test_killed_load),
    cmocka_unit_test (test_check),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
