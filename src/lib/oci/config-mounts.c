/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json: "mounts", and mount options turned into mount(2) flags. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "config-internal.h"
#include "util/cleanup.h"

/* ---- mounts ------------------------------------------------------------- */

struct mount_flag_option
{
  const char *name;
  bool clear;
  unsigned long flag;
};

/* The options runc documents, as mount(2) flags. */
static const struct mount_flag_option mount_flag_options[] = {
  { "defaults", false, 0 },
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "suid", true, MS_NOSUID },
  { "nosuid", false, MS_NOSUID },
  { "dev", true, MS_NODEV },
  { "nodev", false, MS_NODEV },
  { "exec", true, MS_NOEXEC },
  { "noexec", false, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "atime", true, MS_NOATIME },
  { "noatime", false, MS_NOATIME },
  { "diratime", true, MS_NODIRATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "nosymfollow", false, MS_NOSYMFOLLOW },
};

static const struct
{
  const char *name;
  unsigned long flags;
} mount_propagation_options[] = {
  { "private", MS_PRIVATE },        { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },          { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },            { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE },  { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Options arca cannot honour; passing them on as data would drop them
 * silently (data is ignored for bind mounts), so they are refused. */
static const char *const mount_unsupported_options[] = {
  "idmap", "ridmap", "tmpcopyup", "rro", "rrw", "rnosuid", "rsuid", "rnodev", "rdev",
  "rnoexec", "rexec", "rnodiratime", "rdiratime", "rrelatime", "rnorelatime", "rnoatime",
  "ratime", "rstrictatime", "rnostrictatime", "rnosymfollow", "rsymfollow",
};

const char *
oci_mount_option_name (size_t i)
{
  static const char *const bind_options[] = { "bind", "rbind" };

  if (i < ARRAY_SIZE (mount_flag_options))
    return mount_flag_options[i].name;
  i -= ARRAY_SIZE (mount_flag_options);
  if (i < ARRAY_SIZE (mount_propagation_options))
    return mount_propagation_options[i].name;
  i -= ARRAY_SIZE (mount_propagation_options);
  if (i < ARRAY_SIZE (bind_options))
    return bind_options[i];
  return NULL;
}

static int
mount_apply_option (struct arca_oci_mount *m, const char *opt, const char *path, bool *ret_data,
                    arca_error **err)
{
  *ret_data = false;
  for (size_t i = 0; i < ARRAY_SIZE (mount_flag_options); i++)
    if (strcmp (opt, mount_flag_options[i].name) == 0)
      {
        unsigned long f = mount_flag_options[i].flag;
        if (mount_flag_options[i].clear)
          {
            m->flags &= ~f;
            m->clear_flags |= f;
          }
        else
          {
            m->flags |= f;
            m->clear_flags &= ~f;
          }
        return 0;
      }
  for (size_t i = 0; i < ARRAY_SIZE (mount_propagation_options); i++)
    if (strcmp (opt, mount_propagation_options[i].name) == 0)
      {
        m->propagation = mount_propagation_options[i].flags;
        return 0;
      }
  if (strcmp (opt, "bind") == 0 || strcmp (opt, "rbind") == 0)
    {
      m->bind = true;
      m->flags |= MS_BIND;
      if (opt[0] == 'r')
        {
          m->recursive = true;
          m->flags |= MS_REC;
        }
      return 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (mount_unsupported_options); i++)
    if (strcmp (opt, mount_unsupported_options[i]) == 0)
      return arca_error_set (err, EOPNOTSUPP, "%s: not supported: mount option \"%s\"", path,
                             opt);
  *ret_data = true;
  return 0;
}

static int
mount_derive (struct arca_oci_mount *m, const char *path, arca_error **err)
{
  char opath[OCI_PATH_MAX];
  size_t data_len = 0;
  char *data = NULL;

  if (m->type != NULL && strcmp (m->type, "bind") == 0)
    {
      m->bind = true;
      m->flags |= MS_BIND;
    }
  oci_path_key (opath, path, "options");
  for (size_t i = 0; m->options != NULL && m->options[i] != NULL; i++)
    {
      char sub[OCI_PATH_MAX];
      bool is_data;

      oci_path_index (sub, opath, i);
      if (m->options[i][0] == '\0')
        return oci_error (err, sub, "empty mount option");
      if (mount_apply_option (m, m->options[i], sub, &is_data, err) < 0)
        return -1;
      if (is_data)
        data_len += strlen (m->options[i]) + 1;
    }
  if (data_len == 0)
    return 0;
  data = malloc (data_len);
  if (data == NULL)
    return arca_error_errno (err, "%s", opath);
  m->data = data;
  data[0] = '\0';
  for (size_t i = 0; m->options[i] != NULL; i++)
    {
      bool is_data;

      /* Cannot fail: every option was accepted above. */
      if (mount_apply_option (m, m->options[i], opath, &is_data, err) < 0)
        return -1;
      if (!is_data)
        continue;
      if (data != m->data)
        *data++ = ',';
      data = stpcpy (data, m->options[i]);
    }
  return 0;
}

/* Stores destination with duplicate and trailing slashes removed. */
static int
parse_mount_destination (json_t *v, const char *path, void *field, arca_error **err)
{
  char *s, *w;

  if (oci_parse_abs_path (v, path, field, err) < 0)
    return -1;
  s = *(char **) field;
  w = s;
  for (const char *r = s; *r != '\0'; r++)
    if (!(*r == '/' && w > s && w[-1] == '/'))
      *w++ = *r;
  if (w > s + 1 && w[-1] == '/')
    w--;
  *w = '\0';
  return 0;
}

static int
parse_mount_options (json_t *v, const char *path, void *field, arca_error **err)
{
  return oci_parse_strv (v, path, OCI_MAX_MOUNT_OPTIONS, NULL, field, err);
}

static const struct oci_field mount_fields[] = {
  OCI_ROW ("destination", OCI_STRING, parse_mount_destination, struct arca_oci_mount,
           destination, OCI_REQUIRED),
  OCI_ROW ("type", OCI_STRING, oci_parse_string, struct arca_oci_mount, type, 0),
  OCI_ROW ("source", OCI_STRING, oci_parse_string, struct arca_oci_mount, source, 0),
  OCI_ROW ("options", OCI_ARRAY, parse_mount_options, struct arca_oci_mount, options, 0),
  OCI_ROW_UNSUPPORTED ("uidMappings"),
  OCI_ROW_UNSUPPORTED ("gidMappings"),
  OCI_ROW_END,
};

static int
parse_mount (json_t *v, const char *path, void *elem, arca_error **err)
{
  if (oci_dispatch (v, path, mount_fields, elem, err) < 0)
    return -1;
  return mount_derive (elem, path, err);
}

int
oci_parse_mounts (json_t *v, const char *path, void *field, arca_error **err)
{
  struct arca_oci_config *c = field;

  return oci_parse_array (v, path, OCI_MAX_MOUNTS, sizeof (struct arca_oci_mount), &c->mounts,
                          &c->n_mounts, parse_mount, err);
}

void
oci_mounts_free (struct arca_oci_mount *mounts, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (mounts[i].destination);
      free (mounts[i].type);
      free (mounts[i].source);
      arca_strv_free (mounts[i].options);
      free (mounts[i].data);
    }
  free (mounts);
}
