/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared machinery of the config.json parser (config.c, config-json.c,
 * config-process.c, config-mounts.c, config-linux.c, config-resources.c,
 * config-seccomp.c).
 * Not for use outside src/lib/oci.
 *
 * Each JSON object is described by a table of rows {name, JSON type,
 * callback, offset of the C field, flags}: oci_dispatch() looks every row's
 * key up, checks its type, and hands the value and the address of the field
 * to the callback.  Keys without a row are ignored (the spec allows
 * extensions); rows flagged OCI_UNSUPPORTED reject the key.  Parsed values
 * are stored into the target structure as soon as they exist, so the free
 * functions release a half-filled structure after an error and no error
 * path needs its own cleanup. */
#ifndef ARCA_OCI_CONFIG_INTERNAL_H
#define ARCA_OCI_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/config.h"
#include "util/error.h"

/* Room for a JSON path in messages; longer paths are cut, never overflow. */
#define OCI_PATH_MAX 256

/* Bounds on counts: config.json is untrusted input. */
#define OCI_MAX_STRV 65536        /* args, env, additionalGids */
#define OCI_MAX_MOUNTS 4096
#define OCI_MAX_MOUNT_OPTIONS 256
#define OCI_MAX_HOOKS 1024        /* per kind */
#define OCI_MAX_ENTRIES 4096      /* devices, sysctl, paths, rules, ... */
#define OCI_MAX_ANNOTATIONS 16384
#define OCI_MAX_ID_MAPPINGS 340   /* the kernel's limit per map */
#define OCI_MAX_SMALL 64          /* rlimits, namespaces, seccomp args, ... */
#define OCI_MAX_SYSCALL_RULES 8192

enum oci_type {
  OCI_ANY = 0,
  OCI_STRING,
  OCI_BOOL,
  OCI_INTEGER,
  OCI_OBJECT,
  OCI_ARRAY,
};

enum {
  OCI_REQUIRED = 1 << 0,    /* missing (or null) key is an error */
  OCI_UNSUPPORTED = 1 << 1, /* present key is an error: arca cannot honour it */
  OCI_HAS = 1 << 2,         /* set the bool at has_offset after parsing */
};

typedef int (*oci_parse_fn) (json_t *v, const char *path, void *field, arca_error **err);

struct oci_field {
  const char *name;
  enum oci_type type;
  oci_parse_fn parse;
  size_t offset;
  unsigned flags;
  size_t has_offset;
};

#define OCI_ROW(name, type, fn, st, member, flags)                                                \
  { (name), (type), (fn), offsetof (st, member), (flags), 0 }
#define OCI_ROW_HAS(name, type, fn, st, member, has, flags)                                       \
  { (name), (type), (fn), offsetof (st, member), (flags) | OCI_HAS, offsetof (st, has) }
/* The callback gets the whole structure (base), for fields that fill more
 * than one member such as (pointer, count) pairs. */
#define OCI_ROW_SELF(name, type, fn, flags) { (name), (type), (fn), 0, (flags), 0 }
#define OCI_ROW_UNSUPPORTED(name) { (name), OCI_ANY, NULL, 0, OCI_UNSUPPORTED, 0 }
#define OCI_ROW_END { NULL, OCI_ANY, NULL, 0, 0, 0 }

/* config-json.c: parses JSON text (bounded, duplicate keys refused). */
int oci_load_json (const char *json, size_t len, json_t **ret, arca_error **err);
/* Whether v is an integer above INT64_MAX (kept as a marked string, see
 * config-json.c); its value goes to *ret unless ret is NULL. */
bool oci_json_big_uint (json_t *v, uint64_t *ret);

/* Runs the rows of fields over obj (which must be a JSON object), storing
 * into base. */
int oci_dispatch (json_t *obj, const char *path, const struct oci_field *fields, void *base,
                  arca_error **err);

/* Replaces control characters (C0, DEL, UTF-8 C1) in s by '?'. */
void oci_defang (char *s);

/* "path: message", errno EINVAL.  Returns -1. */
int oci_error (arca_error **err, const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

void oci_path_key (char buf[OCI_PATH_MAX], const char *parent, const char *key);
void oci_path_index (char buf[OCI_PATH_MAX], const char *parent, size_t index);

int oci_check_type (json_t *v, enum oci_type type, const char *path, arca_error **err);

/* Integers with ranges; the messages name the path. */
int oci_get_int (json_t *v, const char *path, int64_t min, int64_t max, int64_t *ret,
                 arca_error **err);

/* Checks an array's length against max (named in the message). */
int oci_array_size (json_t *v, const char *path, size_t max, size_t *ret, arca_error **err);

/* Parses an array of objects into a calloc'ed array of elem_size items.
 * *ret_items and *ret_n are set before the elements are parsed, so a
 * failing element leaves them for the free function. */
typedef int (*oci_elem_fn) (json_t *v, const char *path, void *elem, arca_error **err);
int oci_parse_array (json_t *v, const char *path, size_t max, size_t elem_size, void *ret_items,
                     size_t *ret_n, oci_elem_fn parse_elem, arca_error **err);

/* String checks for oci_parse_strv. */
typedef int (*oci_str_check_fn) (const char *s, const char *path, arca_error **err);
int oci_check_absolute (const char *s, const char *path, arca_error **err);
int oci_check_env (const char *s, const char *path, arca_error **err);
int oci_check_nonempty (const char *s, const char *path, arca_error **err);

/* Array of strings into a NULL-terminated vector (stored in *ret at once). */
int oci_parse_strv (json_t *v, const char *path, size_t max, oci_str_check_fn check,
                    char ***ret, arca_error **err);

/* A JSON object of string values, stored as key/value pairs; each key is
 * passed to check (may be NULL). */
int oci_parse_string_map (json_t *v, const char *path, size_t max, oci_str_check_fn check_key,
                          size_t pair_size, size_t key_offset, size_t value_offset,
                          void *ret_items, size_t *ret_n, arca_error **err);

/* Generic row callbacks. */
int oci_parse_string (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_bool (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_u16 (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_u32 (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_u64 (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_i64 (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_abs_path (json_t *v, const char *path, void *field, arca_error **err);

/* config-resources.c */
int oci_parse_resources (json_t *v, const char *path, void *field, arca_error **err);

/* config-process.c */
int oci_parse_process (json_t *v, const char *path, void *field, arca_error **err);
void oci_process_clear (struct arca_oci_process *process);

/* config-mounts.c */
int oci_parse_mounts (json_t *v, const char *path, void *field, arca_error **err);
void oci_mounts_free (struct arca_oci_mount *mounts, size_t n);

/* config-linux.c */
/* A device major or minor number, 0..UINT32_MAX, into an int64_t. */
int oci_parse_dev_number (json_t *v, const char *path, void *field, arca_error **err);
int oci_parse_linux (json_t *v, const char *path, void *field, arca_error **err);
void oci_linux_clear (struct arca_oci_linux *linux_);

/* A name the spec defines and the value arca stores for it.  Tables end
 * with a { NULL, 0 } row. */
struct oci_name_value {
  const char *name;
  uint32_t value;
};

/* Looks the string v up in table; "unknown <what> \"...\"" otherwise. */
int oci_lookup_name (const struct oci_name_value *table, json_t *v, const char *path,
                     const char *what, uint32_t *ret, arca_error **err);

/* config-mounts.c: the mount options the parser understands (flags, propagation,
 * bind/rbind), i = 0, 1, ... until NULL.  For `features`. */
const char *oci_mount_option_name (size_t i);

/* config-seccomp.c */
int oci_parse_seccomp (json_t *v, const char *path, void *field, arca_error **err);
void oci_seccomp_free (struct arca_oci_seccomp *seccomp);
extern const struct oci_name_value oci_seccomp_actions[];   /* SCMP_ACT_* */
extern const struct oci_name_value oci_seccomp_archs[];     /* SCMP_ARCH_* */
extern const struct oci_name_value oci_seccomp_operators[]; /* SCMP_CMP_* */
extern const struct oci_name_value oci_seccomp_flags[];     /* SECCOMP_FILTER_FLAG_* */
/* Whether the loader on this build can honour a flag of oci_seccomp_flags. */
bool oci_seccomp_flag_supported (uint32_t flag);

#endif
