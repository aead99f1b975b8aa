/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define TEMP_PREFIX ".tmp-"

struct arca_store
{
  char *root;
  int root_fd;
  int blobs_fd;
  int layers_fd;
  int tmp_fd;
};

struct arca_blob_writer
{
  arca_store *store;
  char *tmp_name; /* inside blobs/sha256; NULL once committed */
  int fd;
  size_t size;
  arca_digester *digester;
};

static int
open_dir (int dirfd, const char *name, arca_error **err)
{
  int fd;

  if (mkdirat (dirfd, name, 0700) < 0 && errno != EEXIST)
    return arca_error_errno (err, "mkdir `%s`", name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return arca_error_errno (err, "open `%s`", name);
  return fd;
}

int
arca_store_open (const char *root, arca_store **ret_store, arca_error **err)
{
  arca_store *s;
  cleanup_close int blobs = -1;

  if (root == NULL)
    root = ARCA_STORE_DEFAULT_ROOT;
  if (arca_mkdir_p (root, 0700, err) < 0)
    return arca_error_wrap (err, "open image store `%s`", root);
  s = calloc (1, sizeof (*s));
  if (s == NULL)
    return arca_error_errno (err, "open image store `%s`", root);
  s->root_fd = s->blobs_fd = s->layers_fd = s->tmp_fd = -1;
  s->root = strdup (root);
  if (s->root == NULL)
    {
      arca_store_free (s);
      return arca_error_errno (err, "open image store `%s`", root);
    }
  s->root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->root_fd < 0)
    {
      arca_store_free (s);
      return arca_error_errno (err, "open image store `%s`", root);
    }
  if ((blobs = open_dir (s->root_fd, "blobs", err)) < 0
      || (s->blobs_fd = open_dir (blobs, "sha256", err)) < 0
      || (s->layers_fd = open_dir (s->root_fd, "layers", err)) < 0
      || (s->tmp_fd = open_dir (s->root_fd, "tmp", err)) < 0)
    {
      arca_store_free (s);
      return arca_error_wrap (err, "open image store `%s`", root);
    }
  *ret_store = s;
  return 0;
}

void
arca_store_free (arca_store *s)
{
  if (s == NULL)
    return;
  arca_closep (&s->root_fd);
  arca_closep (&s->blobs_fd);
  arca_closep (&s->layers_fd);
  arca_closep (&s->tmp_fd);
  free (s->root);
  free (s);
}

void
arca_store_freep (arca_store **s)
{
  arca_store_free (*s);
}

const char *
arca_store_root (const arca_store *s)
{
  return s->root;
}
int
arca_store_root_fd (const arca_store *s)
{
  return s->root_fd;
}
int
arca_store_blobs_fd (const arca_store *s)
{
  return s->blobs_fd;
}
int
arca_store_layers_fd (const arca_store *s)
{
  return s->layers_fd;
}
int
arca_store_tmp_fd (const arca_store *s)
{
  return s->tmp_fd;
}

int
arca_blob_writer_new (arca_store *s, arca_blob_writer **ret_writer, arca_error **err)
{
  cleanup_free char *name = NULL;
  arca_blob_writer *w;

  /* The pid in the name lets arca_store_clean_temp() tell a live writer's
   * file from a crashed one's. */
  for (int attempt = 0;; attempt++)
    {
      int fd;
      free (name);
      if (asprintf (&name, TEMP_PREFIX "%d-%08lx", (int)getpid (), (unsigned long)random ()) < 0)
        return arca_error_errno (err, "create blob temp file");
      fd = openat (s->blobs_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd >= 0)
        {
          w = calloc (1, sizeof (*w));
          if (w == NULL || arca_digester_new (&w->digester, err) < 0)
            {
              arca_error_errno (err, "create blob temp file");
              close (fd);
              unlinkat (s->blobs_fd, name, 0);
              free (w);
              return -1;
            }
          w->fd = fd;
          w->store = s;
          w->tmp_name = move_ptr (name);
          *ret_writer = w;
          return 0;
        }
      if (errno != EEXIST || attempt > 100)
        return arca_error_errno (err, "create `%s/blobs/sha256/%s`", s->root, name);
    }
}

int
arca_blob_writer_write (arca_blob_writer *w, const void *data, size_t len, arca_error **err)
{
  const char *p = data;

  arca_digester_update (w->digester, data, len);
  w->size += len;
  while (len > 0)
    {
      ssize_t n = write (w->fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          /* The temp file's name means nothing to the user; the caller
           * adds which blob (archive member, layer, URL) this was. */
          return arca_error_errno (err, "write blob into `%s/blobs/sha256` (%zu bytes so far)",
                                   w->store->root, w->size - len);
        }
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

size_t
arca_blob_writer_size (const arca_blob_writer *w)
{
  return w->size;
}

int
arca_blob_writer_commit (arca_blob_writer *w, const char *expected, char *ret_digest,
                         bool *ret_created, arca_error **err)
{
  char actual[ARCA_DIGEST_LEN + 1];
  const char *root = w->store->root;
  int bfd = w->store->blobs_fd;
  struct stat st;
  bool created;

  if (expected && arca_digest_check (expected, "expected blob digest", err) < 0)
    return -1;
  if (arca_digester_final (w->digester, actual, err) < 0)
    return -1;
  if (expected && strcmp (expected, actual) != 0)
    return arca_error_set (err, EBADMSG, "blob digest mismatch: expected %s, got %s", expected,
                           actual);
  if (fsync (w->fd) < 0)
    return arca_error_errno (err, "fsync blob `%s/blobs/sha256/%s`", root, w->tmp_name);
  /* An existing blob has the same content by definition: keep it and
   * report it as not created, so a failed load does not remove it. */
  created = fstatat (bfd, arca_digest_hex (actual), &st, AT_SYMLINK_NOFOLLOW) < 0;
  if (renameat (bfd, w->tmp_name, bfd, arca_digest_hex (actual)) < 0)
    return arca_error_errno (err, "rename blob to `%s/blobs/sha256/%s`", root,
                             arca_digest_hex (actual));
  free (w->tmp_name);
  w->tmp_name = NULL;
  if (fsync (bfd) < 0)
    return arca_error_errno (err, "fsync `%s/blobs/sha256`", root);
  if (ret_digest)
    memcpy (ret_digest, actual, sizeof (actual));
  if (ret_created)
    *ret_created = created;
  return 0;
}

void
arca_blob_writer_free (arca_blob_writer *w)
{
  if (w == NULL)
    return;
  arca_closep (&w->fd);
  if (w->tmp_name)
    unlinkat (w->store->blobs_fd, w->tmp_name, 0);
  free (w->tmp_name);
  arca_digester_free (w->digester);
  free (w);
}

void
arca_blob_writer_freep (arca_blob_writer **w)
{
  arca_blob_writer_free (*w);
}

int
arca_blob_put_fd (arca_store *s, int fd, const char *expected, char *ret_digest, bool *ret_created,
                  arca_error **err)
{
  cleanup_blob_writer arca_blob_writer *w = NULL;
  cleanup_free char *buf = malloc (1 << 16);

  if (buf == NULL)
    return arca_error_errno (err, "put blob");
  if (arca_blob_writer_new (s, &w, err) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 16);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return arca_error_errno (err, "read blob content");
        }
      if (n == 0)
        break;
      if (arca_blob_writer_write (w, buf, (size_t)n, err) < 0)
        return -1;
    }
  return arca_blob_writer_commit (w, expected, ret_digest, ret_created, err);
}

int
arca_blob_put_buffer (arca_store *s, const void *data, size_t len, const char *expected,
                      char *ret_digest, bool *ret_created, arca_error **err)
{
  cleanup_blob_writer arca_blob_writer *w = NULL;

  if (arca_blob_writer_new (s, &w, err) < 0 || arca_blob_writer_write (w, data, len, err) < 0)
    return -1;
  return arca_blob_writer_commit (w, expected, ret_digest, ret_created, err);
}

static int
hash_fd (int fd, char *out, arca_error **err)
{
  cleanup_digester arca_digester *d = NULL;
  cleanup_free char *buf = malloc (1 << 16);

  if (buf == NULL || arca_digester_new (&d, err) < 0)
    return arca_error_errno (err, "hash blob");
  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 16);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return arca_error_errno (err, "read blob");
        }
      if (n == 0)
        break;
      arca_digester_update (d, buf, (size_t)n);
    }
  return arca_digester_final (d, out, err);
}

int
arca_blob_open (arca_store *s, const char *digest, bool verify, arca_error **err)
{
  cleanup_close int fd = -1;

  if (arca_digest_check (digest, "open blob", err) < 0)
    return -1;
  fd = openat (s->blobs_fd, arca_digest_hex (digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return arca_error_set (err, ENOENT, "blob %s not found in `%s`", digest, s->root);
      return arca_error_errno (err, "open blob `%s/blobs/sha256/%s`", s->root,
                               arca_digest_hex (digest));
    }
  if (verify)
    {
      char actual[ARCA_DIGEST_LEN + 1];
      if (hash_fd (fd, actual, err) < 0)
        return arca_error_wrap (err, "verify blob %s", digest);
      if (strcmp (actual, digest) != 0)
        return arca_error_set (err, EBADMSG, "blob %s is corrupt: its content hashes to %s", digest,
                               actual);
      if (lseek (fd, 0, SEEK_SET) < 0)
        return arca_error_errno (err, "rewind blob %s", digest);
    }
  return move_fd (fd);
}

int
arca_blob_verify (arca_store *s, const char *digest, arca_error **err)
{
  cleanup_close int fd = arca_blob_open (s, digest, true, err);
  return fd < 0 ? -1 : 0;
}

static int
read_all (int fd, size_t max_size, char **ret, size_t *ret_len)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;

  for (;;)
    {
      ssize_t n;
      if (cap - len < 4096)
        {
          size_t ncap = cap ? cap * 2 : 8192;
          char *nbuf = realloc (buf, ncap);
          if (nbuf == NULL)
            return -1;
          buf = nbuf;
          cap = ncap;
        }
      n = read (fd, buf + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      len += (size_t)n;
      if (len > max_size)
        {
          errno = EFBIG;
          return -1;
        }
    }
  buf[len] = '\0';
  *ret_len = len;
  *ret = move_ptr (buf);
  return 0;
}

int
arca_blob_read (arca_store *s, const char *digest, size_t max_size, char **ret_data,
                size_t *ret_len, arca_error **err)
{
  cleanup_close int fd = arca_blob_open (s, digest, false, err);
  char actual[ARCA_DIGEST_LEN + 1];
  cleanup_free char *data = NULL;
  size_t len;

  if (fd < 0)
    return -1;
  /* Hash what was read rather than the file, so the content handed back is
   * exactly the verified one. */
  if (read_all (fd, max_size, &data, &len) < 0)
    return arca_error_errno (err, "read blob %s", digest);
  if (arca_digest_buffer (data, len, actual, err) < 0)
    return -1;
  if (strcmp (actual, digest) != 0)
    return arca_error_set (err, EBADMSG, "blob %s is corrupt: its content hashes to %s", digest,
                           actual);
  if (ret_len)
    *ret_len = len;
  *ret_data = move_ptr (data);
  return 0;
}

int
arca_blob_exists (arca_store *s, const char *digest, arca_error **err)
{
  struct stat st;

  if (arca_digest_check (digest, "blob", err) < 0)
    return -1;
  if (fstatat (s->blobs_fd, arca_digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISREG (st.st_mode) ? 1 : 0;
  if (errno == ENOENT)
    return 0;
  return arca_error_errno (err, "stat blob `%s/blobs/sha256/%s`", s->root,
                           arca_digest_hex (digest));
}

int
arca_blob_size (arca_store *s, const char *digest, off_t *ret_size, arca_error **err)
{
  struct stat st;

  if (arca_digest_check (digest, "blob", err) < 0)
    return -1;
  if (fstatat (s->blobs_fd, arca_digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "stat blob `%s/blobs/sha256/%s`", s->root,
                             arca_digest_hex (digest));
  *ret_size = st.st_size;
  return 0;
}

int
arca_blob_remove (arca_store *s, const char *digest, arca_error **err)
{
  if (arca_digest_check (digest, "remove blob", err) < 0)
    return -1;
  if (unlinkat (s->blobs_fd, arca_digest_hex (digest), 0) < 0 && errno != ENOENT)
    return arca_error_errno (err, "remove blob `%s/blobs/sha256/%s`", s->root,
                             arca_digest_hex (digest));
  return 0;
}

int
arca_blob_list (arca_store *s, char ***ret_digests, arca_error **err)
{
  cleanup_strv char **v = calloc (1, sizeof (char *));
  cleanup_dir DIR *d = NULL;
  int fd = openat (s->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent *de;
  size_t n = 0;

  if (v == NULL || fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      arca_error_errno (err, "list `%s/blobs/sha256`", s->root);
      if (fd >= 0 && d == NULL)
        close (fd);
      return -1;
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      char *digest;
      if (de->d_name[0] == '.')
        continue;
      if (asprintf (&digest, ARCA_DIGEST_PREFIX "%s", de->d_name) < 0)
        return arca_error_errno (err, "list `%s/blobs/sha256`", s->root);
      if (!arca_digest_is_valid (digest))
        {
          free (digest);
          continue;
        }
      if (arca_strv_take (&v, &n, digest) < 0)
        return arca_error_errno (err, "list `%s/blobs/sha256`", s->root);
    }
  if (errno != 0)
    return arca_error_errno (err, "list `%s/blobs/sha256`", s->root);
  *ret_digests = move_ptr (v);
  return 0;
}

/* ".tmp-<pid>-..." of a process that is gone. */
static bool
is_stale_temp (const char *name)
{
  long pid;
  char *end;

  if (strncmp (name, TEMP_PREFIX, strlen (TEMP_PREFIX)) != 0)
    return false;
  pid = strtol (name + strlen (TEMP_PREFIX), &end, 10);
  if (end == name + strlen (TEMP_PREFIX) || *end != '-' || pid <= 0)
    return true;
  return kill ((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Removes (remove) or lists (into *names, as "<what>/<name>") the stale
 * temps of one directory. */
static int
scan_temps (int dirfd, const char *what, bool remove, char ***names, size_t *n, arca_error **err)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return arca_error_errno (err, "list `%s`", what);
    }
  while ((de = readdir (d)) != NULL)
    {
      char *name;
      if (!is_stale_temp (de->d_name))
        continue;
      if (remove)
        {
          if (arca_rm_rf_at (dirfd, de->d_name, err) < 0)
            return arca_error_wrap (err, "clean `%s`", what);
          continue;
        }
      if (asprintf (&name, "%s/%s", what, de->d_name) < 0 || arca_strv_take (names, n, name) < 0)
        return arca_error_errno (err, "list `%s`", what);
    }
  return 0;
}

int
arca_store_clean_temp (arca_store *s, arca_error **err)
{
  if (scan_temps (s->blobs_fd, "blobs/sha256", true, NULL, NULL, err) < 0
      || scan_temps (s->layers_fd, "layers", true, NULL, NULL, err) < 0
      || scan_temps (s->tmp_fd, "tmp", true, NULL, NULL, err) < 0)
    return arca_error_wrap (err, "image store `%s`", s->root);
  return 0;
}

int
arca_store_stale_temps (arca_store *s, char ***ret_names, arca_error **err)
{
  cleanup_strv char **v = calloc (1, sizeof (char *));
  size_t n = 0;

  if (v == NULL)
    return arca_error_errno (err, "list temp files");
  if (scan_temps (s->blobs_fd, "blobs/sha256", false, &v, &n, err) < 0
      || scan_temps (s->layers_fd, "layers", false, &v, &n, err) < 0
      || scan_temps (s->tmp_fd, "tmp", false, &v, &n, err) < 0)
    return arca_error_wrap (err, "image store `%s`", s->root);
  *ret_names = move_ptr (v);
  return 0;
}

int
arca_store_lock (arca_store *s, bool exclusive, arca_error **err)
{
  cleanup_close int fd
      = openat (s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return arca_error_errno (err, "open `%s/lock`", s->root);
  while (flock (fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      return arca_error_errno (err, "lock `%s/lock`", s->root);
  return move_fd (fd);
}
