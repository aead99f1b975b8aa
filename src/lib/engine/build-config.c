/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Config-only Containerfile instructions (see build-config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build-config.h"
#include "util/cleanup.h"

const char *
arca_build_config_env (json_t *config, const char *name, size_t len)
{
  size_t i;
  json_t *v;

  json_array_foreach (json_object_get (config, "Env"), i, v)
    {
      const char *s = json_string_value (v);
      if (s && strncmp (s, name, len) == 0 && s[len] == '=')
        return s + len + 1;
    }
  return NULL;
}

void
arca_build_env_set (json_t *env, const char *kv)
{
  size_t klen = strcspn (kv, "="), i;
  json_t *v;

  json_array_foreach (env, i, v)
    {
      const char *s = json_string_value (v);
      if (s && strncmp (s, kv, klen) == 0 && s[klen] == '=')
        {
          json_array_set_new (env, i, json_string (kv));
          return;
        }
    }
  json_array_append_new (env, json_string (kv));
}

static const char *
env_lookup (const char *name, size_t len, void *userdata)
{
  return arca_build_config_env (userdata, name, len);
}

static json_t *
strv_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; a && v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

int
arca_build_command (json_t *config, const struct arca_cf_instruction *ins, char ***ret,
                    arca_error **err)
{
  json_t *shell = json_object_get (config, "Shell");
  size_t n = 0, i;
  json_t *v;
  cleanup_strv char **out = NULL;

  if (ins->json)
    {
      for (n = 0; ins->args[n]; n++)
        ;
      out = calloc (n + 1, sizeof *out);
      for (i = 0; out && i < n; i++)
        if ((out[i] = strdup (ins->args[i])) == NULL)
          return arca_error_set (err, ENOMEM, "command");
    }
  else
    {
      size_t ns = json_is_array (shell) && json_array_size (shell) ? json_array_size (shell) : 2;
      out = calloc (ns + 2, sizeof *out);
      if (out == NULL)
        return arca_error_set (err, ENOMEM, "command");
      if (json_is_array (shell) && json_array_size (shell))
        json_array_foreach (shell, i, v)
          out[n++] = strdup (json_string_value (v) ? json_string_value (v) : "");
      else
        {
          out[n++] = strdup ("/bin/sh");
          out[n++] = strdup ("-c");
        }
      out[n++] = strdup (ins->args[0]);
      for (i = 0; i < n; i++)
        if (out[i] == NULL)
          return arca_error_set (err, ENOMEM, "command");
    }
  if (out == NULL)
    return arca_error_set (err, ENOMEM, "command");
  *ret = move_ptr (out);
  return 0;
}

static int
expand (const struct arca_cf_instruction *ins, const char *word, char escape,
        arca_cf_lookup_fn lookup, void *userdata, char **ret, arca_error **err)
{
  if (arca_cf_expand (word, escape, lookup, userdata, ret, err) < 0)
    return arca_error_wrap (err, "%s", arca_cf_kind_name (ins->kind));
  return 0;
}

/* EXPOSE and VOLUME: keys of an object. */
static int
add_keys (json_t *config, const char *field, const struct arca_cf_instruction *ins, char escape,
          arca_cf_lookup_fn lookup, void *userdata, bool port, arca_error **err)
{
  json_t *obj = json_object_get (config, field);
  if (!json_is_object (obj))
    {
      obj = json_object ();
      json_object_set_new (config, field, obj);
    }
  for (size_t i = 0; ins->args[i]; i++)
    {
      cleanup_free char *word = NULL, *key = NULL;
      if (ins->json)
        word = strdup (ins->args[i]);
      else if (expand (ins, ins->args[i], escape, lookup, userdata, &word, err) < 0)
        return -1;
      if (word == NULL)
        return arca_error_set (err, ENOMEM, "config");
      if (*word == '\0')
        continue;
      if (port)
        {
          char *end;
          unsigned long p = strtoul (word, &end, 10);
          if (end == word || p == 0 || p > 65535
              || (*end && strcmp (end, "/tcp") && strcmp (end, "/udp") && strcmp (end, "/sctp")))
            return arca_error_set (err, EINVAL, "EXPOSE: invalid port `%s`", word);
          if (asprintf (&key, "%lu%s", p, *end ? end : "/tcp") < 0)
            return arca_error_set (err, ENOMEM, "config");
        }
      else
        {
          if (word[0] != '/')
            return arca_error_set (err, EINVAL, "VOLUME: `%s` is not an absolute path", word);
          key = move_ptr (word);
        }
      json_object_set_new (obj, key, json_object ());
    }
  return 0;
}

int
arca_build_config_apply (json_t *config, const struct arca_cf_instruction *ins, char escape,
                         arca_cf_lookup_fn lookup, void *userdata, bool *cmd_set,
                         arca_error **err)
{
  cleanup_strv char **kv = NULL;
  cleanup_free char *value = NULL;

  if (lookup == NULL)
    {
      lookup = env_lookup;
      userdata = config;
    }
  switch (ins->kind)
    {
    case ARCA_CF_ENV:
    case ARCA_CF_LABEL:
      {
        bool env = ins->kind == ARCA_CF_ENV;
        json_t *target = json_object_get (config, env ? "Env" : "Labels");
        if (env ? !json_is_array (target) : !json_is_object (target))
          {
            target = env ? json_array () : json_object ();
            json_object_set_new (config, env ? "Env" : "Labels", target);
          }
        if (arca_cf_key_values (ins, escape, lookup, userdata, &kv, err) < 0)
          return -1;
        for (size_t i = 0; kv[i]; i++)
          {
            if (env)
              arca_build_env_set (target, kv[i]);
            else
              {
                char *eq = strchr (kv[i], '=');
                *eq = '\0';
                json_object_set_new (target, kv[i], json_string (eq + 1));
              }
          }
        return 0;
      }
    case ARCA_CF_CMD:
    case ARCA_CF_ENTRYPOINT:
      {
        bool is_cmd = ins->kind == ARCA_CF_CMD;
        if (arca_build_command (config, ins, &kv, err) < 0)
          return -1;
        json_object_set_new (config, is_cmd ? "Cmd" : "Entrypoint", strv_json (kv));
        if (is_cmd && cmd_set)
          *cmd_set = true;
        else if (!is_cmd && (cmd_set == NULL || !*cmd_set))
          json_object_del (config, "Cmd");
        return 0;
      }
    case ARCA_CF_SHELL:
      json_object_set_new (config, "Shell", strv_json (ins->args));
      return 0;
    case ARCA_CF_WORKDIR:
      {
        if (expand (ins, ins->args[0], escape, lookup, userdata, &value, err) < 0)
          return -1;
        const char *cur = json_string_value (json_object_get (config, "WorkingDir"));
        cleanup_free char *joined = NULL;
        if (value[0] != '/')
          {
            if (asprintf (&joined, "%s/%s", cur && *cur ? cur : "", value) < 0)
              return arca_error_set (err, ENOMEM, "config");
          }
        else
          joined = move_ptr (value);
        /* Drop a trailing slash and repeated ones, like filepath.Clean. */
        char *w = joined;
        for (char *r = joined; *r; r++)
          if (!(*r == '/' && w > joined && w[-1] == '/'))
            *w++ = *r;
        *w = '\0';
        if (w - joined > 1 && w[-1] == '/')
          w[-1] = '\0';
        json_object_set_new (config, "WorkingDir", json_string (joined));
        return 0;
      }
    case ARCA_CF_USER:
    case ARCA_CF_STOPSIGNAL:
      if (expand (ins, ins->args[0], escape, lookup, userdata, &value, err) < 0)
        return -1;
      if (*value == '\0')
        return arca_error_set (err, EINVAL, "%s: empty value", arca_cf_kind_name (ins->kind));
      json_object_set_new (config, ins->kind == ARCA_CF_USER ? "User" : "StopSignal",
                           json_string (value));
      return 0;
    case ARCA_CF_EXPOSE:
      return add_keys (config, "ExposedPorts", ins, escape, lookup, userdata, true, err);
    case ARCA_CF_VOLUME:
      return add_keys (config, "Volumes", ins, escape, lookup, userdata, false, err);
    case ARCA_CF_MAINTAINER:
      return 0; /* deprecated; a LABEL is the way now */
    default:
      return arca_error_set (err, EINVAL, "%s does not only change the config",
                             arca_cf_kind_name (ins->kind));
    }
}

int
arca_build_config_change (json_t *config, const char *line, arca_error **err)
{
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = NULL;
  cleanup_free char *text = NULL;

  if (asprintf (&text, "FROM scratch\n%s\n", line) < 0)
    return arca_error_set (err, ENOMEM, "change");
  if (arca_containerfile_parse ("--change", text, strlen (text), &cf, err) < 0)
    return -1;
  if (cf->n_instructions != 2)
    return arca_error_set (err, EINVAL, "one instruction expected");
  return arca_build_config_apply (config, &cf->instructions[1], cf->escape, NULL, NULL, NULL, err);
}
