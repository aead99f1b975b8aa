/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/spec.h"
#include "linux/caps.h"
#include "linux/seccomp-filter.h"
#include "oci/seccomp-json.h"
#include "oci/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define IMAGE_LIST_MAX 4096
#define PASSWD_MAX (4 * 1024 * 1024)

const char *const arca_engine_default_caps[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
  "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

/* ---- image config ------------------------------------------------------- */

static int
string_list (json_t *v, const char *field, char ***ret, arca_error **err)
{
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_array (v) || json_array_size (v) > IMAGE_LIST_MAX)
    return arca_error_set (err, EINVAL, "image config: %s: not a list of strings", field);
  char **list = calloc (json_array_size (v) + 1, sizeof *list);
  if (list == NULL)
    return arca_error_set (err, ENOMEM, "image config");
  *ret = list;
  for (size_t i = 0; i < json_array_size (v); i++)
    {
      json_t *s = json_array_get (v, i);
      if (!json_is_string (s))
        return arca_error_set (err, EINVAL, "image config: %s[%zu]: not a string", field, i);
      if ((list[i] = strdup (json_string_value (s))) == NULL)
        return arca_error_set (err, ENOMEM, "image config");
    }
  return 0;
}

static int
key_list (json_t *v, const char *field, char ***ret, arca_error **err)
{
  const char *key;
  json_t *value;
  size_t i = 0;

  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_object (v) || json_object_size (v) > IMAGE_LIST_MAX)
    return arca_error_set (err, EINVAL, "image config: %s: not an object", field);
  char **list = calloc (json_object_size (v) + 1, sizeof *list);
  if (list == NULL)
    return arca_error_set (err, ENOMEM, "image config");
  *ret = list;
  json_object_foreach (v, key, value)
    if ((list[i++] = strdup (key)) == NULL)
      return arca_error_set (err, ENOMEM, "image config");
  return 0;
}

static int
opt_string (json_t *v, const char *field, char **ret, arca_error **err)
{
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return arca_error_set (err, EINVAL, "image config: %s: not a string", field);
  *ret = strdup (json_string_value (v));
  return *ret ? 0 : arca_error_set (err, ENOMEM, "image config");
}

int
arca_image_runconfig_parse (const char *json, size_t len, struct arca_image_runconfig **ret,
                         arca_error **err)
{
  json_error_t jerr;
  _cleanup_ (json_decrefp) json_t *doc = json_loadb (json, len, JSON_REJECT_DUPLICATES, &jerr);
  _cleanup_ (arca_image_runconfig_freep) struct arca_image_runconfig *c = calloc (1, sizeof *c);

  if (c == NULL)
    return arca_error_set (err, ENOMEM, "image config");
  if (!json_is_object (doc))
    return arca_error_set (err, EINVAL, "image config: not a JSON object%s%s",
                           doc ? "" : ": ", doc ? "" : jerr.text);
  json_t *cfg = json_object_get (doc, "config");
  if (cfg && !json_is_null (cfg))
    {
      if (!json_is_object (cfg))
        return arca_error_set (err, EINVAL, "image config: config: not an object");
      if (string_list (json_object_get (cfg, "Env"), "Env", &c->env, err) < 0
          || string_list (json_object_get (cfg, "Entrypoint"), "Entrypoint", &c->entrypoint, err) < 0
          || string_list (json_object_get (cfg, "Cmd"), "Cmd", &c->cmd, err) < 0
          || opt_string (json_object_get (cfg, "WorkingDir"), "WorkingDir", &c->working_dir, err) < 0
          || opt_string (json_object_get (cfg, "User"), "User", &c->user, err) < 0
          || opt_string (json_object_get (cfg, "StopSignal"), "StopSignal", &c->stop_signal, err) < 0
          || key_list (json_object_get (cfg, "Volumes"), "Volumes", &c->volumes, err) < 0
          || key_list (json_object_get (cfg, "ExposedPorts"), "ExposedPorts", &c->exposed_ports,
                       err)
                 < 0)
        return -1;
    }
  *ret = move_ptr (c);
  return 0;
}

void
arca_image_runconfig_free (struct arca_image_runconfig *c)
{
  if (c == NULL)
    return;
  arca_strv_free (c->env);
  arca_strv_free (c->entrypoint);
  arca_strv_free (c->cmd);
  free (c->working_dir);
  free (c->user);
  free (c->stop_signal);
  arca_strv_free (c->volumes);
  arca_strv_free (c->exposed_ports);
  free (c);
}

void
arca_image_runconfig_freep (struct arca_image_runconfig **c)
{
  arca_image_runconfig_free (*c);
  *c = NULL;
}

/* ---- users -------------------------------------------------------------- */

static bool
parse_number (const char *s, uint32_t *ret)
{
  char *end;

  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  unsigned long v = strtoul (s, &end, 10);
  if (errno || *end || v > UINT32_MAX - 1)
    return false;
  *ret = (uint32_t) v;
  return true;
}

/* Reads /etc/<file> of the image (inside its root: the image may hold
 * symlinks); a missing file is an empty one. */
static int
read_etc (int root_fd, const char *file, char **ret, arca_error **err)
{
  cleanup_close int fd = -1;
  cleanup_error arca_error *open_err = NULL;
  char path[64];

  snprintf (path, sizeof path, "/etc/%s", file);
  fd = arca_open_in_root (root_fd, path, O_RDONLY | O_CLOEXEC, 0, &open_err);
  if (fd < 0)
    {
      *ret = strdup ("");
      return *ret ? 0 : arca_error_set (err, ENOMEM, "user");
    }
  char self[64];
  snprintf (self, sizeof self, "/proc/self/fd/%d", fd);
  return arca_read_file_at (AT_FDCWD, self, PASSWD_MAX, ret, NULL, err);
}

/* Finds a line whose field 0 (name) or field 2 (id) matches; returns its
 * fields split in place. */
static bool
find_entry (char *text, const char *name, uint32_t id, bool by_id, char **fields, int nfields)
{
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      int n = 0;
      char *p = line;
      while (n < nfields)
        {
          fields[n++] = p;
          char *colon = strchr (p, ':');
          if (colon == NULL)
            break;
          *colon = '\0';
          p = colon + 1;
        }
      if (n < 4)
        continue;
      uint32_t v;
      if (by_id ? (parse_number (fields[2], &v) && v == id) : strcmp (fields[0], name) == 0)
        return true;
    }
  return false;
}

int
arca_engine_resolve_user (const char *rootfs, const char *spec, uint32_t *ret_uid,
                          uint32_t *ret_gid, uint32_t **ret_groups, size_t *ret_n_groups,
                          arca_error **err)
{
  cleanup_free char *copy = strdup (spec ? spec : "");
  cleanup_free char *passwd = NULL, *group = NULL;
  cleanup_close int root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char *fields[7];
  uint32_t uid = 0, gid = 0;
  bool have_gid = false;

  *ret_groups = NULL;
  *ret_n_groups = 0;
  if (copy == NULL)
    return arca_error_set (err, ENOMEM, "user");
  if (root_fd < 0)
    return arca_error_errno (err, "open rootfs `%s`", rootfs);
  if (read_etc (root_fd, "passwd", &passwd, err) < 0 || read_etc (root_fd, "group", &group, err) < 0)
    return -1;
  char *user = copy, *grp = strchr (copy, ':');
  if (grp)
    *grp++ = '\0';
  if (*user == '\0')
    user = (char *) "0";
  cleanup_free char *passwd_copy = strdup (passwd);
  if (passwd_copy == NULL)
    return arca_error_set (err, ENOMEM, "user");
  bool numeric = parse_number (user, &uid);
  if (find_entry (passwd_copy, user, uid, numeric, fields, 7))
    {
      parse_number (fields[2], &uid);
      have_gid = parse_number (fields[3], &gid);
    }
  else if (!numeric)
    return arca_error_set (err, ENOENT, "--user: no user `%s` in the image's /etc/passwd", user);
  const char *user_name = numeric ? NULL : user;
  if (grp && *grp)
    {
      cleanup_free char *group_copy = strdup (group);
      if (group_copy == NULL)
        return arca_error_set (err, ENOMEM, "user");
      bool gnum = parse_number (grp, &gid);
      if (find_entry (group_copy, grp, gid, gnum, fields, 4))
        parse_number (fields[2], &gid);
      else if (!gnum)
        return arca_error_set (err, ENOENT, "--user: no group `%s` in the image's /etc/group", grp);
      have_gid = true;
    }
  if (!have_gid)
    gid = 0;
  /* Supplementary groups: those that list the user by name. */
  if (user_name || (numeric && find_entry (passwd_copy, NULL, uid, true, fields, 7)))
    {
      const char *name = user_name ? user_name : fields[0];
      size_t n = 0;
      uint32_t *groups = NULL;
      for (char *save = NULL, *line = strtok_r (group, "\n", &save); line;
           line = strtok_r (NULL, "\n", &save))
        {
          char *f[4] = { 0 };
          int k = 0;
          for (char *p = line; k < 4; k++)
            {
              f[k] = p;
              char *colon = strchr (p, ':');
              if (colon == NULL)
                break;
              *colon = '\0';
              p = colon + 1;
            }
          if (k < 3 || f[3] == NULL)
            continue;
          uint32_t g;
          for (char *s2 = NULL, *member = strtok_r (f[3], ",", &s2); member;
               member = strtok_r (NULL, ",", &s2))
            if (strcmp (member, name) == 0 && parse_number (f[2], &g) && n < 64)
              {
                uint32_t *grown = realloc (groups, (n + 1) * sizeof *groups);
                if (grown == NULL)
                  {
                    free (groups);
                    return arca_error_set (err, ENOMEM, "user");
                  }
                groups = grown;
                groups[n++] = g;
              }
        }
      *ret_groups = groups;
      *ret_n_groups = n;
    }
  *ret_uid = uid;
  *ret_gid = gid;
  return 0;
}

/* ---- config.json -------------------------------------------------------- */

/* KEY=VALUE into an env array, replacing an existing KEY. */
static void
env_set (json_t *env, const char *entry)
{
  const char *eq = strchr (entry, '=');
  size_t klen = eq ? (size_t) (eq - entry) : strlen (entry);
  size_t i;
  json_t *v;

  json_array_foreach (env, i, v)
    {
      const char *s = json_string_value (v);
      if (s && strncmp (s, entry, klen) == 0 && s[klen] == '=')
        {
          json_array_set_new (env, i, json_string (entry));
          return;
        }
    }
  json_array_append_new (env, json_string (entry));
}

static const char *
cap_name (const char *name, char *buf, size_t size)
{
  if (strncasecmp (name, "CAP_", 4) == 0)
    snprintf (buf, size, "%s", name);
  else
    snprintf (buf, size, "CAP_%s", name);
  for (char *p = buf; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char) (*p - 'a' + 'A');
  return buf;
}

static int
build_caps (const struct arca_run_spec *run, json_t *process, arca_error **err)
{
  uint64_t set = 0;
  int last = arca_caps_last_cap ();
  char buf[64];

  /* "All" means all we have: a capability outside our own bounding set
   * (CAP_SYS_RESOURCE on some hosts) cannot be given to a container. */
  uint64_t all = 0;
  for (int cap = 0; cap <= last && cap < 64; cap++)
    if (prctl (PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
      all |= 1ULL << cap;
  if (run->privileged)
    set = all;
  else
    for (size_t i = 0; arca_engine_default_caps[i]; i++)
      set |= 1ULL << arca_caps_from_name (arca_engine_default_caps[i]);
  /* Docker: drops first, then adds, so "--cap-drop ALL --cap-add X" keeps X. */
  for (size_t i = 0; run->cap_drop && run->cap_drop[i]; i++)
    {
      if (strcasecmp (run->cap_drop[i], "ALL") == 0)
        {
          set = 0;
          continue;
        }
      int cap = arca_caps_from_name (cap_name (run->cap_drop[i], buf, sizeof buf));
      if (cap < 0)
        return arca_error_set (err, EINVAL, "--cap-drop: unknown capability `%s`",
                               run->cap_drop[i]);
      set &= ~(1ULL << cap);
    }
  for (size_t i = 0; run->cap_add && run->cap_add[i]; i++)
    {
      if (strcasecmp (run->cap_add[i], "ALL") == 0)
        {
          set = all;
          continue;
        }
      int cap = arca_caps_from_name (cap_name (run->cap_add[i], buf, sizeof buf));
      if (cap < 0)
        return arca_error_set (err, EINVAL, "--cap-add: unknown capability `%s`", run->cap_add[i]);
      set |= 1ULL << cap;
    }
  json_t *names = json_array ();
  for (int cap = 0; cap <= last && cap < 64; cap++)
    if ((set & (1ULL << cap)) && arca_caps_name (cap))
      json_array_append_new (names, json_string (arca_caps_name (cap)));
  json_t *caps = json_object ();
  json_object_set (caps, "bounding", names);
  json_object_set (caps, "effective", names);
  json_object_set (caps, "permitted", names);
  json_object_set_new (caps, "inheritable", json_array ());
  json_object_set_new (caps, "ambient", json_array ());
  json_decref (names);
  json_object_set_new (process, "capabilities", caps);
  return 0;
}

static int
build_process (const struct arca_image_runconfig *image, const struct arca_run_spec *run,
               const char *rootfs, json_t *process, arca_error **err)
{
  json_t *args = json_array ();
  char **entrypoint = run->set_entrypoint ? run->entrypoint : image->entrypoint;
  /* Docker: a new entrypoint drops the image's Cmd. */
  char **cmd = run->command ? run->command : run->set_entrypoint ? NULL : image->cmd;

  if (run->pause)
    entrypoint = cmd = NULL; /* arca-init alone holds the pod's namespaces */
  for (size_t i = 0; entrypoint && entrypoint[i]; i++)
    json_array_append_new (args, json_string (entrypoint[i]));
  for (size_t i = 0; cmd && cmd[i]; i++)
    json_array_append_new (args, json_string (cmd[i]));
  if (run->init_path && run->pause)
    {
      json_array_append_new (args, json_string ("/dev/init"));
      json_array_append_new (args, json_string ("--pause"));
    }
  else if (run->init_path)
    {
      json_array_insert_new (args, 0, json_string ("--"));
      json_array_insert_new (args, 0, json_string ("/dev/init"));
    }
  json_object_set_new (process, "args", args);
  if (json_array_size (args) == (run->init_path && !run->pause ? 2u : 0u))
    return arca_error_set (err, EINVAL, "no command specified: the image has no Cmd or "
                                        "Entrypoint and none was given");

  json_t *env = json_array ();
  json_object_set_new (process, "env", env);
  json_array_append_new (env, json_string (
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  for (size_t i = 0; image->env && image->env[i]; i++)
    env_set (env, image->env[i]);
  if (run->tty)
    env_set (env, "TERM=xterm");
  if (run->hostname)
    {
      cleanup_free char *h = NULL;
      if (asprintf (&h, "HOSTNAME=%s", run->hostname) > 0)
        env_set (env, h);
    }
  for (size_t i = 0; run->env && run->env[i]; i++)
    {
      if (strchr (run->env[i], '=') == NULL)
        return arca_error_set (err, EINVAL, "--env: `%s` is not KEY=VALUE", run->env[i]);
      env_set (env, run->env[i]);
    }

  const char *cwd = run->workdir ? run->workdir : image->working_dir;
  if (cwd == NULL || *cwd == '\0')
    cwd = "/";
  if (cwd[0] != '/')
    return arca_error_set (err, EINVAL, "--workdir: `%s` is not an absolute path", cwd);
  json_object_set_new (process, "cwd", json_string (cwd));
  json_object_set_new (process, "terminal", json_boolean (run->tty));
  json_object_set_new (process, "noNewPrivileges", json_boolean (run->no_new_privileges));

  uint32_t uid, gid;
  cleanup_free uint32_t *groups = NULL;
  size_t n_groups = 0;
  const char *user = run->user ? run->user : image->user;
  if (arca_engine_resolve_user (rootfs, user, &uid, &gid, &groups, &n_groups, err) < 0)
    return -1;
  json_t *u = json_pack ("{s:I, s:I}", "uid", (json_int_t) uid, "gid", (json_int_t) gid);
  if (n_groups)
    {
      json_t *g = json_array ();
      for (size_t i = 0; i < n_groups; i++)
        json_array_append_new (g, json_integer (groups[i]));
      json_object_set_new (u, "additionalGids", g);
    }
  json_object_set_new (process, "user", u);
  return build_caps (run, process, err);
}

static void
add_mount (json_t *mounts, const char *dest, const char *type, const char *source,
           json_t *options)
{
  json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:o}", "destination", dest, "type",
                                            type, "source", source, "options", options));
}

static int
build_mounts (const struct arca_run_spec *run, json_t *mounts, arca_error **err)
{
  for (size_t i = 0; i < run->n_mounts; i++)
    {
      const struct arca_run_mount *m = &run->mounts[i];
      if (m->destination == NULL || m->destination[0] != '/')
        return arca_error_set (err, EINVAL, "mount destination `%s` is not an absolute path",
                               m->destination ? m->destination : "");
      if (m->tmpfs)
        {
          json_t *opts = json_pack ("[s, s]", "nosuid", "nodev");
          cleanup_free char *copy = m->options ? strdup (m->options) : NULL;
          for (char *save = NULL, *o = copy ? strtok_r (copy, ",", &save) : NULL; o;
               o = strtok_r (NULL, ",", &save))
            json_array_append_new (opts, json_string (o));
          add_mount (mounts, m->destination, "tmpfs", "tmpfs", opts);
          continue;
        }
      struct stat st;
      if (m->source == NULL || m->source[0] != '/')
        return arca_error_set (err, EINVAL, "bind source `%s` is not an absolute path",
                               m->source ? m->source : "");
      if (stat (m->source, &st) < 0)
        return arca_error_errno (err, "bind source `%s`", m->source);
      bool ro = m->options && strcmp (m->options, "ro") == 0;
      add_mount (mounts, m->destination, "bind", m->source,
                 json_pack ("[s, s, s]", "rbind", "rprivate", ro ? "ro" : "rw"));
    }
  if (run->etc_dir)
    {
      static const char *const files[] = { "hosts", "hostname", "resolv.conf" };
      for (size_t i = 0; i < 3; i++)
        {
          cleanup_free char *src = NULL, *dst = NULL;
          if (asprintf (&src, "%s/%s", run->etc_dir, files[i]) < 0
              || asprintf (&dst, "/etc/%s", files[i]) < 0)
            return arca_error_set (err, ENOMEM, "mounts");
          if (access (src, F_OK) == 0)
            add_mount (mounts, dst, "bind", src, json_pack ("[s, s]", "bind", "rprivate"));
        }
    }
  if (run->init_path)
    add_mount (mounts, "/dev/init", "bind", run->init_path,
               json_pack ("[s, s, s]", "bind", "ro", "rprivate"));
  return 0;
}

static void
build_resources (const struct arca_run_spec *run, json_t *linux_)
{
  json_t *res = json_object_get (linux_, "resources");

  if (res == NULL)
    {
      res = json_object ();
      json_object_set_new (linux_, "resources", res);
    }
  if (run->memory > 0 || run->memory_swap)
    {
      json_t *mem = json_object ();
      if (run->memory > 0)
        json_object_set_new (mem, "limit", json_integer (run->memory));
      if (run->memory_swap)
        json_object_set_new (mem, "swap", json_integer (run->memory_swap));
      json_object_set_new (res, "memory", mem);
    }
  json_t *cpu = json_object ();
  if (run->cpus > 0)
    {
      json_object_set_new (cpu, "period", json_integer (100000));
      json_object_set_new (cpu, "quota", json_integer ((json_int_t) (run->cpus * 100000.0)));
    }
  if (run->cpu_shares)
    json_object_set_new (cpu, "shares", json_integer ((json_int_t) run->cpu_shares));
  if (run->cpuset_cpus)
    json_object_set_new (cpu, "cpus", json_string (run->cpuset_cpus));
  if (json_object_size (cpu))
    json_object_set_new (res, "cpu", cpu);
  else
    json_decref (cpu);
  if (run->pids_limit)
    json_object_set_new (res, "pids", json_pack ("{s:I}", "limit", (json_int_t) run->pids_limit));
  if (run->privileged)
    json_object_set_new (res, "devices",
                         json_pack ("[{s:b, s:s}]", "allow", 1, "access", "rwm"));
}

static int
build_seccomp (const struct arca_run_spec *run, json_t *linux_, arca_error **err)
{
  if (run->seccomp_unconfined || run->privileged)
    {
      json_object_del (linux_, "seccomp");
      return 0;
    }
  cleanup_free char *text = NULL;
  const char *profile = run->seccomp_json;
  if (profile == NULL)
    {
      _cleanup_ (arca_seccomp_profile_freep) struct arca_oci_seccomp *s = NULL;
      if (arca_seccomp_default_profile (&s, err) < 0 || arca_oci_seccomp_to_json (s, &text, err) < 0)
        return -1;
      profile = text;
    }
  json_error_t jerr;
  json_t *obj = json_loads (profile, 0, &jerr);
  if (!json_is_object (obj))
    {
      json_decref (obj);
      return arca_error_set (err, EINVAL, "--security-opt seccomp: not a JSON object: %s",
                             jerr.text);
    }
  json_object_set_new (linux_, "seccomp", obj);
  return 0;
}

/* The namespace of type in linux.namespaces, or NULL. */
static json_t *
find_namespace (json_t *namespaces, const char *type, size_t *ret_index)
{
  size_t i;
  json_t *v;

  json_array_foreach (namespaces, i, v)
    if (strcmp (json_string_value (json_object_get (v, "type")) ?: "", type) == 0)
      {
        *ret_index = i;
        return v;
      }
  return NULL;
}

/* --network host drops the network namespace; joined ones get their path
 * (the runtime setns()es into it instead of unsharing). */
static void
build_namespaces (const struct arca_run_spec *run, json_t *doc, json_t *linux_)
{
  const struct
  {
    const char *type, *path;
  } joins[] = {
    { "network", run->join_net }, { "ipc", run->join_ipc },
    { "uts", run->join_uts },     { "pid", run->join_pid },
  };
  json_t *ns = json_object_get (linux_, "namespaces");
  size_t index;

  if (run->network == ARCA_NET_HOST && find_namespace (ns, "network", &index))
    json_array_remove (ns, index);
  for (size_t i = 0; i < ARRAY_SIZE (joins); i++)
    {
      json_t *v = joins[i].path ? find_namespace (ns, joins[i].type, &index) : NULL;
      if (v)
        json_object_set_new (v, "path", json_string (joins[i].path));
    }
  /* The hostname belongs to whoever made the uts namespace. */
  if (run->join_uts)
    json_object_del (doc, "hostname");
}

int
arca_engine_spec_build (const struct arca_image_runconfig *image, const struct arca_run_spec *run,
                        const char *rootfs, char **ret_json, arca_error **err)
{
  cleanup_free char *base = NULL;
  json_error_t jerr;

  if (arca_oci_spec_default (false, &base, err) < 0)
    return -1;
  _cleanup_ (json_decrefp) json_t *doc = json_loads (base, 0, &jerr);
  if (doc == NULL)
    return arca_error_set (err, EINVAL, "default spec: %s", jerr.text);
  json_t *process = json_object_get (doc, "process");
  json_t *linux_ = json_object_get (doc, "linux");
  json_t *mounts = json_object_get (doc, "mounts");
  if (build_process (image, run, rootfs, process, err) < 0)
    return -1;
  /* The runtime's default rlimits stay (NOFILE 1024), as in `runc spec`. */
  json_object_set_new (doc, "root", json_pack ("{s:s, s:b}", "path", rootfs, "readonly",
                                               run->read_only));
  if (run->hostname)
    json_object_set_new (doc, "hostname", json_string (run->hostname));
  if (build_mounts (run, mounts, err) < 0)
    return -1;
  build_namespaces (run, doc, linux_);
  if (run->privileged)
    {
      json_object_del (linux_, "maskedPaths");
      json_object_del (linux_, "readonlyPaths");
    }
  build_resources (run, linux_);
  if (build_seccomp (run, linux_, err) < 0)
    return -1;
  if (run->cgroup_path)
    json_object_set_new (linux_, "cgroupsPath", json_string (run->cgroup_path));
  if (run->annotations)
    {
      json_t *ann = json_object ();
      for (size_t i = 0; run->annotations[i]; i++)
        {
          cleanup_free char *kv = strdup (run->annotations[i]);
          char *eq = kv ? strchr (kv, '=') : NULL;
          if (eq)
            *eq++ = '\0';
          if (kv)
            json_object_set_new (ann, kv, json_string (eq ? eq : ""));
        }
      json_object_set_new (doc, "annotations", ann);
    }
  *ret_json = json_dumps (doc, JSON_INDENT (2));
  if (*ret_json == NULL)
    return arca_error_set (err, ENOMEM, "render config.json");
  return 0;
}
