/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine record of `arca run --vm -d` (see vm-record.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/vm-record.h"
#include "image/db-internal.h" /* the engine's rows live in the image database */
#include "util/cleanup.h"
#include "util/fs.h"

#define NET_FILE "net"

int
arca_vm_record_insert (struct arca_engine *e, const char *id, const char *name,
                       const char *image_id, const char *image, const char *options,
                       arca_error **err)
{
  char created[32];

  snprintf (created, sizeof created, "%lld", (long long) time (NULL));
  const char *values[] = { id, name, image_id, image, created, options, NULL };
  if (arca_db_exec (e->db,
                    "INSERT INTO containers (id, name, image_id, image, created, options) "
                    "VALUES (?1, ?2, ?3, ?4, CAST(?5 AS INTEGER), ?6)",
                    values, err)
      == 0)
    return 0;
  if ((*err)->msg && strstr ((*err)->msg, "UNIQUE"))
    {
      arca_error_freep (err);
      return arca_error_set (err, EEXIST, "the container name `%s` is already in use", name);
    }
  return -1;
}

int
arca_vm_record_delete (struct arca_engine *e, const char *id, arca_error **err)
{
  const char *v[] = { id, NULL };

  return arca_db_exec (e->db, "DELETE FROM containers WHERE id = ?1", v, err);
}

static int
net_path (struct arca_engine *e, const char *id, char **ret)
{
  return asprintf (ret, "%s/vm/runs/%s/" NET_FILE, e->root, id) < 0 ? -1 : 0;
}

int
arca_vm_record_save_net (const char *run_dir, const struct arca_vm_net *n, arca_error **err)
{
  cleanup_free char *path = NULL, *text = NULL;

  if (!n->attached)
    return 0;
  if (asprintf (&path, "%s/" NET_FILE, run_dir) < 0
      || asprintf (&text, "%s\n%s\n%s\n%s\n", n->table, n->tap, n->network, n->bridge) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  return arca_write_file_atomic_at (AT_FDCWD, path, text, strlen (text), 0600, err);
}

/* Copies line i of text (without its newline) to buf. */
static void
line_of (const char *text, int i, char *buf, size_t size)
{
  for (; i > 0 && text; i--)
    {
      text = strchr (text, '\n');
      text = text ? text + 1 : NULL;
    }
  if (text == NULL)
    {
      buf[0] = '\0';
      return;
    }
  size_t len = strcspn (text, "\n");
  snprintf (buf, size, "%.*s", (int) (len < size ? len : size - 1), text);
}

void
arca_vm_record_release (struct arca_engine *e, const char *id)
{
  cleanup_free char *path = NULL, *text = NULL;
  cleanup_error arca_error *ignored = NULL;
  struct arca_vm_net n = { .attached = true, .engine = e };

  if (net_path (e, id, &path) < 0
      || arca_read_file_at (AT_FDCWD, path, 4096, &text, NULL, &ignored) < 0)
    return;
  snprintf (n.id, sizeof n.id, "%s", id);
  line_of (text, 0, n.table, sizeof n.table);
  line_of (text, 1, n.tap, sizeof n.tap);
  line_of (text, 2, n.network, sizeof n.network);
  line_of (text, 3, n.bridge, sizeof n.bridge);
  /* The tap may be gone already (a repair, a second call): the rows
   * still go, and the file with them. */
  arca_vm_net_detach (&n, &ignored);
  unlink (path);
}

int
arca_vm_record_remove_files (struct arca_engine *e, const char *id, arca_error **err)
{
  cleanup_free char *dir = NULL;

  if (asprintf (&dir, "%s/vm/runs/%s", e->root, id) < 0)
    return arca_error_set (err, ENOMEM, "vm");
  if (access (dir, F_OK) < 0)
    return 0;
  return arca_rm_rf_at (AT_FDCWD, dir, err);
}

json_t *
arca_vm_record_config (const char *agent, size_t len, const char *vmm, const char *kernel,
                       unsigned memory_mib, unsigned cpus, const char *network)
{
  json_t *args = json_array (), *env = json_array ();
  const char *cwd = "/", *hostname = "";

  for (size_t off = 0; off < len; off += strlen (agent + off) + 1)
    {
      const char *rec = agent + off;
      if (strncmp (rec, "arg=", 4) == 0)
        json_array_append_new (args, json_string (rec + 4));
      else if (strncmp (rec, "env=", 4) == 0)
        json_array_append_new (env, json_string (rec + 4));
      else if (strncmp (rec, "cwd=", 4) == 0)
        cwd = rec + 4;
      else if (strncmp (rec, "hostname=", 9) == 0)
        hostname = rec + 9;
    }
  return json_pack ("{s:{s:o, s:o, s:s}, s:s, s:{s:s, s:s, s:i, s:i, s:s}}", "process", "args", args,
                    "env", env, "cwd", cwd, "hostname", hostname, "vm", "vmm", vmm, "kernel", kernel,
                    "memoryMiB", (int) memory_mib, "cpus", (int) cpus, "network", network);
}

char *
arca_vm_record_command (json_t *config)
{
  json_t *args = json_object_get (json_object_get (config, "process"), "args");
  size_t len = 1, i;
  json_t *v;

  json_array_foreach (args, i, v)
    len += strlen (json_string_value (v)) + 1;
  char *out = calloc (1, len);
  if (out == NULL)
    return NULL;
  json_array_foreach (args, i, v)
    {
      if (i)
        strcat (out, " ");
      strcat (out, json_string_value (v));
    }
  return out;
}
