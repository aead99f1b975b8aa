/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening the engine; `import` and the embedded busybox image. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/commit.h"
#include "engine/create-journal.h"
#include "engine/engine.h"
#include "engine/internal.h"
#include "image/archives.h"
#include "image/digest.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define CONTAINERS_SCHEMA                                                             \
  "CREATE TABLE IF NOT EXISTS containers ("                                           \
  "  id TEXT PRIMARY KEY,"                                                            \
  "  name TEXT NOT NULL UNIQUE,"                                                      \
  "  image_id TEXT NOT NULL REFERENCES images(id),"                                   \
  "  image TEXT NOT NULL,"                                                            \
  "  created INTEGER NOT NULL,"                                                       \
  "  options TEXT NOT NULL);"

int arca_engine_db_exec (struct arca_engine *e, const char *sql, const char *const *values,
                         arca_error **err);

/* arca-monitor: $ARCA_MONITOR_PATH, installed beside us in libexec, or in
 * the build tree; NULL (in-process monitors) when there is none. */
static char *
find_monitor (const char *self_exe)
{
  const char *env = getenv ("ARCA_MONITOR_PATH");
  char candidate[PATH_MAX];

  if (env && *env && access (env, X_OK) == 0)
    return strdup (env);
  if (self_exe == NULL)
    return NULL;
  cleanup_free char *dir = strdup (self_exe);
  if (dir == NULL || strrchr (dir, '/') == NULL)
    return NULL;
  *strrchr (dir, '/') = '\0';
  static const char *const relative[] = { "../monitor/arca-monitor", "../libexec/arca/arca-monitor" };
  for (size_t i = 0; i < ARRAY_SIZE (relative); i++)
    {
      snprintf (candidate, sizeof candidate, "%s/%s", dir, relative[i]);
      if (access (candidate, X_OK) == 0)
        return realpath (candidate, NULL);
    }
  return NULL;
}

int
arca_engine_find_tool (const char *env, const char *sub, const char *name, char **ret, arca_error **err)
{
  const char *v = getenv (env);
  cleanup_free char *self = realpath ("/proc/self/exe", NULL);
  char candidate[PATH_MAX];

  if (v && *v)
    {
      if (access (v, X_OK) < 0)
        return arca_error_errno (err, "%s=`%s`", env, v);
      *ret = strdup (v);
      return *ret ? 0 : arca_error_set (err, ENOMEM, "path");
    }
  if (self && strrchr (self, '/'))
    {
      *strrchr (self, '/') = '\0';
      /* "." first: arca-vmm installs beside arca, in bindir. */
      const char *const rel[] = { ".", sub, "../libexec/arca" };
      for (size_t i = 0; i < ARRAY_SIZE (rel); i++)
        {
          snprintf (candidate, sizeof candidate, "%s/%s/%s", self, rel[i], name);
          if (access (candidate, X_OK) == 0)
            {
              *ret = realpath (candidate, NULL);
              return *ret ? 0 : arca_error_errno (err, "`%s`", candidate);
            }
        }
    }
  snprintf (candidate, sizeof candidate, "/usr/libexec/arca/%s", name);
  if (access (candidate, X_OK) == 0)
    {
      *ret = strdup (candidate);
      return *ret ? 0 : arca_error_set (err, ENOMEM, "path");
    }
  return arca_error_set (err, ENOENT, "%s not found beside arca or in /usr/libexec/arca (set %s)", name,
                         env);
}

int
arca_engine_open (const char *root, const char *run_root, const struct arca_log *log,
                  struct arca_engine **ret, arca_error **err)
{
  _cleanup_ (arca_engine_closep) struct arca_engine *e = calloc (1, sizeof *e);
  cleanup_free char *db_path = NULL, *containers = NULL;

  if (e == NULL)
    return arca_error_set (err, ENOMEM, "engine");
  e->root = strdup (root ? root : ARCA_STORE_DEFAULT_ROOT);
  e->run_root = strdup (run_root ? run_root : ARCA_ENGINE_DEFAULT_RUN_ROOT);
  /* NULL when running from a sealed copy (exec): then no monitor starts. */
  e->self_exe = realpath ("/proc/self/exe", NULL);
  if (e->root == NULL || e->run_root == NULL
      || asprintf (&e->runtime_root, "%s/runtime", e->run_root) < 0
      || asprintf (&db_path, "%s/arca.db", e->root) < 0
      || asprintf (&containers, "%s/containers", e->root) < 0)
    return arca_error_set (err, ENOMEM, "engine");
  e->log = log;
  e->monitor_path = find_monitor (e->self_exe);
  e->rt = (struct arca_runtime){
    .state_root = e->runtime_root,
    .cgroup_root = "/sys/fs/cgroup",
    .log = log,
  };
  if (arca_store_open (e->root, &e->store, err) < 0 || arca_db_open (db_path, &e->db, err) < 0)
    return -1;
  if (arca_mkdir_p (containers, 0700, err) < 0 || arca_mkdir_p (e->runtime_root, 0700, err) < 0)
    return -1;
  if (arca_engine_db_exec (e, CONTAINERS_SCHEMA, NULL, err) < 0)
    return -1;
  /* A create killed before its row committed is undone by the next
   * command; when that cannot happen now (a full disk), it stays for a
   * later one or `system check --repair`, and this command goes on. */
  cleanup_error arca_error *unrecovered = NULL, *unfinished = NULL;
  arca_create_journal_recover (e, NULL, &unrecovered);
  /* The same for a removal killed before its row went. */
  arca_remove_journal_recover (e, arca_engine_finish_removal, NULL, &unfinished);
  *ret = move_ptr (e);
  return 0;
}

void
arca_engine_close (struct arca_engine *e)
{
  if (e == NULL)
    return;
  arca_db_free (e->db);
  arca_store_free (e->store);
  free (e->root);
  free (e->run_root);
  free (e->runtime_root);
  free (e->self_exe);
  free (e->monitor_path);
  free (e);
}

void
arca_engine_closep (struct arca_engine **e)
{
  arca_engine_close (*e);
  *e = NULL;
}

/* ---- import --------------------------------------------------------------- */

static int
memfd (const char *name, arca_error **err)
{
  int fd = memfd_create (name, MFD_CLOEXEC);
  return fd >= 0 ? fd : arca_error_errno (err, "memfd_create");
}

static int
write_all (int fd, const void *data, size_t len, arca_error **err)
{
  for (size_t off = 0; off < len;)
    {
      ssize_t n = write (fd, (const char *) data + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "write");
      off += (size_t) n;
    }
  return 0;
}

/* Copies fd to a memfd while hashing it. */
static int
copy_hashed (int fd, int *ret_copy, char *ret_digest, off_t *ret_size, arca_error **err)
{
  _cleanup_ (arca_digester_freep) arca_digester *d = NULL;
  cleanup_close int copy = memfd ("layer", err);
  char buf[65536];
  off_t size = 0;

  if (copy < 0 || arca_digester_new (&d, err) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "read the root filesystem tarball");
      if (n == 0)
        break;
      arca_digester_update (d, buf, (size_t) n);
      if (write_all (copy, buf, (size_t) n, err) < 0)
        return -1;
      size += n;
    }
  if (arca_digester_final (d, ret_digest, err) < 0)
    return -1;
  *ret_copy = move_fd (copy);
  *ret_size = size;
  return 0;
}

static void
archive_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

int
arca_engine_import (struct arca_engine *e, int fd, const char *ref, char *const *cmd,
                    char *ret_image_id, arca_error **err)
{
  _cleanup_ (arca_reference_freep) struct arca_reference *parsed = NULL;
  char digest[ARCA_DIGEST_LEN + 1];
  cleanup_close int copy = -1;
  off_t size = 0;

  if (arca_reference_parse (ref, ARCA_REFERENCE_LOCAL, &parsed, err) < 0)
    return -1;
  cleanup_free char *full = arca_reference_string (parsed);
  if (full == NULL)
    return arca_error_set (err, ENOMEM, "import");
  /* The layer is stored as given: a compressed tarball is decompressed by
   * the loader, but its digest must be the uncompressed one (diff_id), so
   * only uncompressed tarballs are wrapped directly. */
  if (copy_hashed (fd, &copy, digest, &size, err) < 0)
    return -1;
  /* An image of that one layer, through the same archive builder and
   * loader as commit and build. */
  _cleanup_ (json_decrefp) json_t *config = json_pack (
      "{s:[s], s:[]}", "Env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "Cmd");
  json_t *cmd_json = json_object_get (config, "Cmd");
  for (size_t i = 0; cmd_json && cmd && cmd[i]; i++)
    if (json_array_append_new (cmd_json, json_string (cmd[i])) < 0)
      return arca_error_set (err, ENOMEM, "import");
  if (config == NULL)
    return arca_error_set (err, ENOMEM, "import");
  struct arca_commit_image_request req = {
    .layer_fd = copy,
    .diff_id = digest,
    .layer_size = size,
    .config = config,
    .created_by = "arca import",
    .ref = full,
  };
  char id[ARCA_DIGEST_LEN + 1];
  if (arca_engine_commit_image (e, &req, id, err) < 0)
    return arca_error_wrap (err, "import");
  if (ret_image_id)
    memcpy (ret_image_id, id, sizeof id);
  return 0;
}

/* ---- busybox ------------------------------------------------------------- */

static int
add_entry (struct archive *a, const char *path, mode_t type, mode_t perm, const char *link,
           int content_fd, off_t size, arca_error **err)
{
  struct archive_entry *entry = archive_entry_new ();
  archive_entry_set_pathname (entry, path);
  archive_entry_set_filetype (entry, type);
  archive_entry_set_perm (entry, perm);
  archive_entry_set_mtime (entry, 0, 0);
  if (link)
    archive_entry_set_symlink (entry, link);
  archive_entry_set_size (entry, type == AE_IFREG ? (la_int64_t) size : 0);
  int r = archive_write_header (a, entry);
  archive_entry_free (entry);
  if (r != ARCHIVE_OK)
    return arca_error_set (err, EIO, "busybox image: `%s`: %s", path, archive_error_string (a));
  if (content_fd >= 0)
    {
      char buf[65536];
      for (;;)
        {
          ssize_t n = read (content_fd, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          if (archive_write_data (a, buf, (size_t) n) != n)
            return arca_error_set (err, EIO, "busybox image: %s", archive_error_string (a));
        }
    }
  return 0;
}

static void
pclosep (FILE **f)
{
  if (*f)
    pclose (*f);
}

static int
add_text (struct archive *a, const char *path, const char *text, arca_error **err)
{
  cleanup_close int fd = memfd ("text", err);
  if (fd < 0 || write_all (fd, text, strlen (text), err) < 0)
    return -1;
  lseek (fd, 0, SEEK_SET);
  return add_entry (a, path, AE_IFREG, 0644, NULL, fd, (off_t) strlen (text), err);
}

/* Writes the busybox root filesystem as a tar to fd: /bin/busybox, one
 * relative symlink per applet (absolute ones would point at the host's
 * layout), the usual directories and a minimal /etc. */
static int
busybox_rootfs_tar (int fd, arca_error **err)
{
  const char *busybox = "/bin/busybox";
  struct stat st;

  cleanup_close int bb = open (busybox, O_RDONLY | O_CLOEXEC);
  if (bb < 0 || fstat (bb, &st) < 0)
    return arca_error_errno (err, "busybox image: `%s` (install busybox-static)", busybox);
  _cleanup_ (archive_writep) struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  if (archive_write_open_fd (a, fd) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "busybox image: %s", archive_error_string (a));
  static const char *const dirs[] = { "bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev",
                                      "proc", "sys", "root", "home", "var", "run", NULL };
  for (size_t i = 0; dirs[i]; i++)
    if (add_entry (a, dirs[i], AE_IFDIR, 0755, NULL, -1, 0, err) < 0)
      return -1;
  if (add_entry (a, "tmp", AE_IFDIR, 01777, NULL, -1, 0, err) < 0
      || add_entry (a, "bin/busybox", AE_IFREG, 0755, NULL, bb, st.st_size, err) < 0)
    return -1;
  /* The applet list, from busybox itself. */
  _cleanup_ (pclosep) FILE *list = popen ("/bin/busybox --list-full", "re");
  if (list == NULL)
    return arca_error_errno (err, "busybox image: list applets");
  char line[PATH_MAX];
  while (fgets (line, sizeof line, list))
    {
      line[strcspn (line, "\n")] = '\0';
      if (line[0] == '\0' || strcmp (line, "bin/busybox") == 0 || strstr (line, ".."))
        continue;
      /* "usr/bin/env" -> "../../bin/busybox" */
      char target[PATH_MAX] = "";
      for (const char *p = line; (p = strchr (p, '/')); p++)
        strncat (target, "../", sizeof target - strlen (target) - 1);
      strncat (target, "bin/busybox", sizeof target - strlen (target) - 1);
      if (add_entry (a, line, AE_IFLNK, 0777, target, -1, 0, err) < 0)
        return -1;
    }
  if (add_text (a, "etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
                err)
          < 0
      || add_text (a, "etc/group", "root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n", err) < 0)
    return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "busybox image: %s", archive_error_string (a));
  return 0;
}

int
arca_engine_ensure_busybox (struct arca_engine *e, const char *ref, arca_error **err)
{
  char id[ARCA_DIGEST_LEN + 1];
  cleanup_error arca_error *lookup = NULL;
  static const char *const names[] = { "busybox", "busybox:latest", "localhost/busybox",
                                       "localhost/busybox:latest", NULL };
  bool is_busybox = false;

  for (size_t i = 0; names[i]; i++)
    is_busybox |= strcmp (ref, names[i]) == 0;
  if (!is_busybox || arca_db_resolve (e->db, "localhost/busybox:latest", id, &lookup) == 0)
    return 0;
  cleanup_close int tar = memfd ("busybox-rootfs", err);
  if (tar < 0 || busybox_rootfs_tar (tar, err) < 0)
    return -1;
  if (lseek (tar, 0, SEEK_SET) < 0)
    return arca_error_errno (err, "rewind");
  char *const cmd[] = { "sh", NULL };
  return arca_engine_import (e, tar, "localhost/busybox:latest", cmd, NULL, err);
}
