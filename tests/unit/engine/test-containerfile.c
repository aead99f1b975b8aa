/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containerfile parsing, word expansion, config instructions, the build
 * path rules and .dockerignore matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "engine/build-config.h"
#include "engine/commit.h"
#include "engine/build.h"
#include "engine/containerfile.h"
#include "util/cleanup.h"

static struct arca_containerfile *
parse_ok (const char *text)
{
  struct arca_containerfile *cf = NULL;
  cleanup_error arca_error *err = NULL;
  int r = arca_containerfile_parse ("Containerfile", text, strlen (text), &cf, &err);
  if (r < 0)
    fail_msg ("parse failed: %s", err->msg);
  return cf;
}

/* Parses text expecting a failure whose message contains want. */
static void
parse_fails (const char *text, const char *want)
{
  struct arca_containerfile *cf = NULL;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_containerfile_parse ("Containerfile", text, strlen (text), &cf, &err), -1);
  assert_null (cf);
  assert_non_null (err);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("error `%s` does not contain `%s`", err->msg, want);
}

static void
test_basic (void **state)
{
  (void) state;
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = parse_ok (
      "# a comment\n"
      "FROM busybox AS Build\n"
      "\n"
      "run echo hi\n"
      "RUN [\"sh\", \"-c\", \"echo exec\"]\n"
      "COPY --from=build --chown=1:2 a b /dst/\n"
      "CMD [\"x\"]\n");
  assert_int_equal (cf->n_instructions, 5);
  assert_int_equal (cf->escape, '\\');
  struct arca_cf_instruction *i = cf->instructions;
  assert_int_equal (i[0].kind, ARCA_CF_FROM);
  assert_int_equal (i[0].line, 2);
  assert_string_equal (i[0].args[0], "busybox");
  assert_string_equal (i[0].args[2], "build"); /* stage names are lower-cased */
  assert_int_equal (i[1].kind, ARCA_CF_RUN);
  assert_false (i[1].json);
  assert_string_equal (i[1].args[0], "echo hi");
  assert_null (i[1].args[1]);
  assert_string_equal (i[1].text, "RUN echo hi");
  assert_true (i[2].json);
  assert_string_equal (i[2].args[2], "echo exec");
  assert_int_equal (i[3].kind, ARCA_CF_COPY);
  assert_string_equal (arca_cf_flag (&i[3], "from"), "build");
  assert_string_equal (arca_cf_flag (&i[3], "chown"), "1:2");
  assert_null (arca_cf_flag (&i[3], "chmod"));
  assert_string_equal (i[3].args[0], "a");
  assert_string_equal (i[3].args[2], "/dst/");
  assert_null (i[3].args[3]);
  assert_int_equal (i[4].line, 7);
}

static void
test_continuations (void **state)
{
  (void) state;
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = parse_ok (
      "FROM busybox\n"
      "RUN echo a \\\n"
      "# a comment inside\n"
      "\n"
      "    b \\  \n"
      "  c\n"
      "ENV X=1\r\n"
      "RUN last \\");
  assert_int_equal (cf->n_instructions, 4);
  assert_string_equal (cf->instructions[1].args[0], "echo a     b   c");
  assert_int_equal (cf->instructions[1].line, 2);
  assert_int_equal (cf->instructions[2].line, 7);
  assert_string_equal (cf->instructions[2].args[0], "X=1");
  assert_string_equal (cf->instructions[3].args[0], "last");
}

static void
test_escape_directive (void **state)
{
  (void) state;
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = parse_ok (
      "# syntax=docker/dockerfile:1\n"
      "# escape=`\n"
      "\n"
      "FROM busybox\n"
      "RUN dir C:\\ `\n"
      "  /w\n");
  assert_int_equal (cf->escape, '`');
  assert_string_equal (cf->instructions[1].args[0], "dir C:\\   /w");
  /* A directive after an instruction is only a comment. */
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf2
      = parse_ok ("FROM busybox\n# escape=`\nRUN a \\\n b\n");
  assert_int_equal (cf2->escape, '\\');
  assert_string_equal (cf2->instructions[1].args[0], "a  b");
}

static void
test_forms (void **state)
{
  (void) state;
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = parse_ok (
      "ARG V=1\n"
      "FROM --platform=linux/amd64 scratch\n"
      "ENV A=1 B=\"two words\" C='x y'\n"
      "ENV LEGACY value with spaces\n"
      "LABEL \"com.example\"=\"v\" other=1\n"
      "ARG N\n"
      "WORKDIR /a b\n"
      "USER 1000:1000\n"
      "EXPOSE 80 53/udp\n"
      "VOLUME [\"/data\", \"/logs\"]\n"
      "VOLUME /v1 /v2\n"
      "ENTRYPOINT [\"/bin/app\"]\n"
      "CMD --flag\n"
      "SHELL [\"/bin/bash\", \"-c\"]\n"
      "STOPSIGNAL SIGINT\n"
      "ADD a.tgz /x/\n"
      "MAINTAINER me\n");
  struct arca_cf_instruction *i = cf->instructions;
  assert_int_equal (cf->n_instructions, 17);
  assert_int_equal (i[0].kind, ARCA_CF_ARG);
  assert_string_equal (arca_cf_flag (&i[1], "platform"), "linux/amd64");
  assert_string_equal (i[2].args[1], "B=\"two words\"");
  assert_string_equal (i[2].args[2], "C='x y'");
  assert_string_equal (i[3].args[0], "LEGACY");
  assert_string_equal (i[6].args[0], "/a b");
  assert_true (i[9].json);
  assert_string_equal (i[9].args[1], "/logs");
  assert_false (i[10].json);
  assert_string_equal (i[10].args[1], "/v2");
  assert_string_equal (i[12].args[0], "--flag"); /* CMD has no flags */
  assert_true (i[13].json);
  assert_int_equal (i[14].kind, ARCA_CF_STOPSIGNAL);
  assert_int_equal (i[15].kind, ARCA_CF_ADD);
  assert_int_equal (i[16].kind, ARCA_CF_MAINTAINER);
}

static void
test_syntax_errors (void **state)
{
  (void) state;
  parse_fails ("FROM busybox\nFORM x\n", "Containerfile:2: unknown instruction `FORM`");
  parse_fails ("RUN true\n", "Containerfile:1: RUN before the first FROM");
  parse_fails ("# just a comment\n", "no FROM instruction");
  parse_fails ("", "no FROM instruction");
  parse_fails ("FROM\n", "Containerfile:1: FROM needs at least one argument");
  parse_fails ("FROM a b\n", "Containerfile:1: FROM takes IMAGE [AS NAME]");
  parse_fails ("FROM a AS 1bad\n", "invalid stage name");
  parse_fails ("FROM a\nRUN\n", "Containerfile:2: RUN needs a command");
  parse_fails ("FROM a\nCOPY onlyone\n", "Containerfile:2: COPY needs a source and a destination");
  parse_fails ("FROM a\nCOPY --bogus=1 a b\n", "flag `--bogus=1` is not supported");
  parse_fails ("FROM a\nRUN --mount=type=cache true\n", "flag `--mount=type=cache` is not supported");
  parse_fails ("FROM a\nSHELL /bin/sh -c\n", "SHELL needs a JSON array");
  parse_fails ("FROM a\nENV ONLYKEY\n", "Containerfile:2: ENV ONLYKEY needs a value");
  parse_fails ("FROM a\nENV A=1 B\n", "`B` is not KEY=VALUE");
  parse_fails ("FROM a\nARG\n", "ARG needs at least one argument");
  parse_fails ("FROM a\nARG a b\n", "ARG takes one NAME");
  parse_fails ("FROM a\nARG 9x\n", "ARG: invalid name");
  parse_fails ("FROM a\nENV A=\"unterminated\n", "Containerfile:2: unterminated double quote");
  parse_fails ("FROM a\n\n\nWORKDIR\n", "Containerfile:4: WORKDIR needs an argument");
  parse_fails ("FROM a\nONBUILD RUN x\n", "ONBUILD is not supported");
  parse_fails ("FROM a\nRUN a \\\n  b\nBAD x\n", "Containerfile:4: unknown instruction");
  const char nul[] = "FROM a\0\n";
  struct arca_containerfile *cf = NULL;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_containerfile_parse ("F", nul, sizeof nul - 1, &cf, &err), -1);
  assert_non_null (strstr (err->msg, "NUL"));
}

static void
test_bounds (void **state)
{
  (void) state;
  size_t big = ARCA_CF_MAX_SIZE + 10;
  cleanup_free char *text = malloc (big);
  memset (text, 'a', big);
  memcpy (text, "FROM a\nRUN ", 11);
  struct arca_containerfile *cf = NULL;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_containerfile_parse ("F", text, big, &cf, &err), -1);
  assert_int_equal (err->errnum, EFBIG);
  arca_error_freep (&err);
  /* Too many instructions. */
  size_t n = ARCA_CF_MAX_INSTRUCTIONS + 2;
  cleanup_free char *many = malloc (n * 8 + 16);
  char *p = many;
  p += sprintf (p, "FROM a\n");
  for (size_t i = 0; i < n; i++)
    p += sprintf (p, "USER x\n");
  assert_int_equal (arca_containerfile_parse ("F", many, strlen (many), &cf, &err), -1);
  assert_non_null (strstr (err->msg, "more than"));
}

/* ---- expansion ---- */

static const char *
vars (const char *name, size_t len, void *userdata)
{
  (void) userdata;
  static const char *const table[][2] = {
    { "A", "alpha" }, { "B", "b e" }, { "EMPTY", "" }, { "PATHV", "/usr/bin" },
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strlen (table[i][0]) == len && strncmp (table[i][0], name, len) == 0)
      return table[i][1];
  return NULL;
}

static void
expect_expand (const char *word, const char *want)
{
  cleanup_free char *out = NULL;
  cleanup_error arca_error *err = NULL;
  if (arca_cf_expand (word, '\\', vars, NULL, &out, &err) < 0)
    fail_msg ("expand `%s`: %s", word, err->msg);
  assert_string_equal (out, want);
}

static void
expect_expand_fails (const char *word, const char *want)
{
  cleanup_free char *out = NULL;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_cf_expand (word, '\\', vars, NULL, &out, &err), -1);
  assert_non_null (strstr (err->msg, want));
}

static void
test_expand (void **state)
{
  (void) state;
  expect_expand ("$A", "alpha");
  expect_expand ("${A}x", "alphax");
  expect_expand ("$Ax", "");              /* the name is "Ax": unset */
  expect_expand ("pre-$A-post", "pre-alpha-post");
  expect_expand ("${UNSET:-def}", "def");
  expect_expand ("${EMPTY:-def}", "def");
  expect_expand ("${EMPTY-def}", "");
  expect_expand ("${UNSET-def}", "def");
  expect_expand ("${A:-def}", "alpha");
  expect_expand ("${A:+set}", "set");
  expect_expand ("${UNSET:+set}", "");
  expect_expand ("${EMPTY:+set}", "");
  expect_expand ("${UNSET:-${A}}", "alpha");
  expect_expand ("${UNSET:-$PATHV/x}", "/usr/bin/x");
  expect_expand ("${U:-${U:-${U:-deep}}}", "deep");
  expect_expand ("'$A'", "$A");
  expect_expand ("\"$A and $B\"", "alpha and b e");
  expect_expand ("\\$A", "$A");
  expect_expand ("\"\\$A\"", "$A");
  expect_expand ("a\\ b", "a b");
  expect_expand ("\"a\\b\"", "a\\b");
  expect_expand ("$", "$");
  expect_expand ("cost$5", "cost$5");
  expect_expand ("trailing\\", "trailing\\");
  expect_expand_fails ("${A", "missing `}`");
  expect_expand_fails ("${A:=x}", "bad substitution");
  expect_expand_fails ("${}", "bad substitution");
  expect_expand_fails ("'open", "unterminated single quote");
  expect_expand_fails ("\"open", "unterminated double quote");
  expect_expand_fails ("${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-${U:-x}}}}}}}}}}}}}}}}}}",
                       "nested too deeply");
}

static void
test_key_values (void **state)
{
  (void) state;
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf
      = parse_ok ("FROM a\nENV A=1 B=\"x $A\" C=${A:-d}\nENV OLD spaced   out\n");
  cleanup_strv char **kv = NULL, **kv2 = NULL;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_cf_key_values (&cf->instructions[1], '\\', vars, NULL, &kv, &err), 0);
  assert_string_equal (kv[0], "A=1");
  assert_string_equal (kv[1], "B=x alpha");
  assert_string_equal (kv[2], "C=alpha");
  assert_null (kv[3]);
  assert_int_equal (arca_cf_key_values (&cf->instructions[2], '\\', vars, NULL, &kv2, &err), 0);
  assert_string_equal (kv2[0], "OLD=spaced out");
}

/* ---- config instructions ---- */

static json_t *
apply_all (const char *text)
{
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf = parse_ok (text);
  json_t *config = json_object ();
  bool cmd_set = false;
  for (size_t i = 1; i < cf->n_instructions; i++)
    {
      cleanup_error arca_error *err = NULL;
      if (arca_build_config_apply (config, &cf->instructions[i], cf->escape, NULL, NULL, &cmd_set,
                                   &err)
          < 0)
        fail_msg ("apply `%s`: %s", cf->instructions[i].text, err->msg);
    }
  return config;
}

static void
test_config (void **state)
{
  (void) state;
  json_t *c = apply_all ("FROM scratch\n"
                         "ENV HOME=/h P=1\n"
                         "ENV P=2\n"
                         "WORKDIR $HOME\n"
                         "WORKDIR sub//dir/\n"
                         "USER nobody\n"
                         "EXPOSE 80 53/udp\n"
                         "VOLUME /data\n"
                         "LABEL a=b \"c d\"=e\n"
                         "STOPSIGNAL SIGINT\n"
                         "CMD echo $HOME\n"
                         "ENTRYPOINT [\"/e\"]\n");
  json_t *env = json_object_get (c, "Env");
  assert_int_equal (json_array_size (env), 2);
  assert_string_equal (json_string_value (json_array_get (env, 1)), "P=2");
  assert_string_equal (json_string_value (json_object_get (c, "WorkingDir")), "/h/sub/dir");
  assert_string_equal (json_string_value (json_object_get (c, "User")), "nobody");
  assert_non_null (json_object_get (json_object_get (c, "ExposedPorts"), "80/tcp"));
  assert_non_null (json_object_get (json_object_get (c, "ExposedPorts"), "53/udp"));
  assert_non_null (json_object_get (json_object_get (c, "Volumes"), "/data"));
  assert_string_equal (json_string_value (json_object_get (json_object_get (c, "Labels"), "c d")), "e");
  assert_string_equal (json_string_value (json_object_get (c, "StopSignal")), "SIGINT");
  json_t *cmd = json_object_get (c, "Cmd");
  /* Shell form: not expanded by the builder, the shell does it. */
  assert_string_equal (json_string_value (json_array_get (cmd, 0)), "/bin/sh");
  assert_string_equal (json_string_value (json_array_get (cmd, 2)), "echo $HOME");
  /* CMD was set in this stage: ENTRYPOINT keeps it. */
  assert_non_null (cmd);
  json_decref (c);

  /* An ENTRYPOINT drops an inherited CMD; SHELL changes shell forms. */
  c = json_pack ("{s:[s]}", "Cmd", "old");
  _cleanup_ (arca_containerfile_freep) struct arca_containerfile *cf
      = parse_ok ("FROM a\nENTRYPOINT run\nSHELL [\"/bin/bash\", \"-xc\"]\nCMD go\n");
  cleanup_error arca_error *err = NULL;
  bool cmd_set = false;
  assert_int_equal (arca_build_config_apply (c, &cf->instructions[1], '\\', NULL, NULL, &cmd_set, &err), 0);
  assert_null (json_object_get (c, "Cmd"));
  assert_int_equal (arca_build_config_apply (c, &cf->instructions[2], '\\', NULL, NULL, &cmd_set, &err), 0);
  assert_int_equal (arca_build_config_apply (c, &cf->instructions[3], '\\', NULL, NULL, &cmd_set, &err), 0);
  assert_string_equal (json_string_value (json_array_get (json_object_get (c, "Cmd"), 0)), "/bin/bash");
  assert_string_equal (json_string_value (json_array_get (json_object_get (c, "Cmd"), 1)), "-xc");
  json_decref (c);

  /* Bad values. */
  c = json_object ();
  assert_int_equal (arca_build_config_change (c, "EXPOSE 99999", &err), -1);
  assert_non_null (strstr (err->msg, "invalid port"));
  arca_error_freep (&err);
  assert_int_equal (arca_build_config_change (c, "VOLUME relative", &err), -1);
  assert_non_null (strstr (err->msg, "not an absolute path"));
  arca_error_freep (&err);
  assert_int_equal (arca_build_config_change (c, "RUN true", &err), -1);
  arca_error_freep (&err);
  assert_int_equal (arca_build_config_change (c, "CMD [\"a\", \"b\"]", &err), 0);
  assert_int_equal (json_array_size (json_object_get (c, "Cmd")), 2);
  json_decref (c);
}

/* ---- paths and .dockerignore ---- */

static void
expect_clean (const char *in, const char *want)
{
  cleanup_free char *out = NULL;
  cleanup_error arca_error *err = NULL;
  if (want == NULL)
    {
      assert_int_equal (arca_build_clean_path (in, &out, &err), -1);
      assert_non_null (strstr (err->msg, "outside the build context"));
      return;
    }
  assert_int_equal (arca_build_clean_path (in, &out, &err), 0);
  assert_string_equal (out, want);
}

static void
test_clean_path (void **state)
{
  (void) state;
  expect_clean ("a/b", "a/b");
  expect_clean ("/a//b/", "a/b");
  expect_clean ("./a/./b", "a/b");
  expect_clean ("a/../b", "b");
  expect_clean (".", ".");
  expect_clean ("/", ".");
  expect_clean ("a/..", ".");
  expect_clean ("..", NULL);
  expect_clean ("../outside", NULL);
  expect_clean ("a/../../x", NULL);
}

static void
test_dockerignore (void **state)
{
  (void) state;
  char dir[] = "/tmp/arca-test-ignore-XXXXXX";
  assert_non_null (mkdtemp (dir));
  char path[128];
  snprintf (path, sizeof path, "%s/.dockerignore", dir);
  FILE *f = fopen (path, "w");
  fputs ("# comment\n*.log\n/build\n!build/keep\nsecret*\n**/*.tmp\n../escape\ndocs/**/draft\n", f);
  fclose (f);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct arca_ignore ig;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_ignore_load (fd, &ig, &err), 0);
  assert_true (arca_ignore_match (&ig, "a.log"));
  assert_false (arca_ignore_match (&ig, "sub/a.log")); /* * does not cross / */
  assert_true (arca_ignore_match (&ig, "build"));
  assert_true (arca_ignore_match (&ig, "build/x/y"));
  assert_false (arca_ignore_match (&ig, "build/keep"));
  assert_true (arca_ignore_match (&ig, "secret.txt"));
  assert_true (arca_ignore_match (&ig, "x.tmp"));
  assert_true (arca_ignore_match (&ig, "deep/er/x.tmp"));
  assert_true (arca_ignore_match (&ig, "docs/a/b/draft"));
  assert_true (arca_ignore_match (&ig, "docs/draft"));
  assert_false (arca_ignore_match (&ig, "docs/final"));
  assert_false (arca_ignore_match (&ig, "src/main.c"));
  arca_ignore_free (&ig);
  /* No file: nothing is excluded. */
  unlink (path);
  assert_int_equal (arca_ignore_load (fd, &ig, &err), 0);
  assert_int_equal (ig.n, 0);
  assert_false (arca_ignore_match (&ig, "a.log"));
  close (fd);
  rmdir (dir);
}

/* ---- the layer an upper directory makes (commit.c) ---- */

static void
sh (const char *cmd)
{
  assert_int_equal (system (cmd), 0);
}

static void
test_layer_tar (void **state)
{
  (void) state;
  char dir[] = "/tmp/arca-test-upper-XXXXXX";
  char cmd[1024], path[256];
  assert_non_null (mkdtemp (dir));
  snprintf (cmd, sizeof cmd,
            "cd %s && mkdir -p d/sub opq etc && echo data > d/f && ln d/f d/hard && ln -s f d/link"
            " && echo n > opq/new && : > etc/hosts && : > etc/resolv.conf && mkdir proc"
            " && echo keep > etc/app.conf && chown 12:34 d/f && chmod 0640 d/f",
            dir);
  sh (cmd);
  snprintf (path, sizeof path, "%s/d/gone", dir);
  if (mknod (path, S_IFCHR | 0, makedev (0, 0)) < 0)
    skip (); /* needs root */
  snprintf (path, sizeof path, "%s/opq", dir);
  assert_int_equal (setxattr (path, "trusted.overlay.opaque", "y", 1, 0), 0);
  snprintf (path, sizeof path, "%s/d/f", dir);
  assert_int_equal (setxattr (path, "user.note", "v", 1, 0), 0);

  int fd = memfd_create ("layer", MFD_CLOEXEC);
  char diff_id[ARCA_DIGEST_LEN + 1], again[ARCA_DIGEST_LEN + 1];
  int64_t size = 0, size2 = 0;
  cleanup_error arca_error *err = NULL;
  assert_int_equal (arca_commit_layer_tar (dir, arca_commit_runtime_paths, fd, diff_id, &size, &err), 0);
  assert_true (size > 0 && size % 512 == 0);
  /* The same tree gives the same layer. */
  int fd2 = memfd_create ("layer2", MFD_CLOEXEC);
  assert_int_equal (arca_commit_layer_tar (dir, arca_commit_runtime_paths, fd2, again, &size2, &err), 0);
  assert_string_equal (diff_id, again);
  close (fd2);

  lseek (fd, 0, SEEK_SET);
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_fd (a, fd, 65536), ARCHIVE_OK);
  struct archive_entry *e;
  bool seen_wh = false, seen_opq = false, seen_hard = false, seen_link = false, seen_f = false;
  bool seen_conf = false, seen_etc = false;
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (e);
      assert_null (strstr (name, "hosts"));
      assert_null (strstr (name, "resolv.conf"));
      assert_false (strcmp (name, "proc") == 0 || strcmp (name, "proc/") == 0);
      if (strcmp (name, "d/.wh.gone") == 0)
        seen_wh = archive_entry_filetype (e) == AE_IFREG;
      else if (strcmp (name, "opq/.wh..wh..opq") == 0)
        seen_opq = true;
      else if (strcmp (name, "d/hard") == 0 && archive_entry_hardlink (e))
        seen_hard = strcmp (archive_entry_hardlink (e), "d/f") == 0;
      else if (strcmp (name, "d/link") == 0)
        seen_link = archive_entry_filetype (e) == AE_IFLNK
                    && strcmp (archive_entry_symlink (e), "f") == 0;
      else if (strcmp (name, "d/f") == 0)
        {
          const char *xname;
          const void *xval;
          size_t xlen;
          bool note = false;
          archive_entry_xattr_reset (e);
          while (archive_entry_xattr_next (e, &xname, &xval, &xlen) == ARCHIVE_OK)
            {
              note |= strcmp (xname, "user.note") == 0 && xlen == 1;
              assert_null (strstr (xname, "overlay"));
            }
          seen_f = note && archive_entry_uid (e) == 12 && archive_entry_gid (e) == 34
                   && (archive_entry_perm (e) & 07777) == 0640 && archive_entry_size (e) == 5;
        }
      else if (strcmp (name, "etc/app.conf") == 0)
        seen_conf = true;
      else if (strncmp (name, "etc", 3) == 0 && (name[3] == '\0' || strcmp (name + 3, "/") == 0))
        seen_etc = true;
    }
  archive_read_free (a);
  close (fd);
  assert_true (seen_wh);
  assert_true (seen_opq);
  assert_true (seen_hard);
  assert_true (seen_link);
  assert_true (seen_f);
  assert_true (seen_conf);
  assert_true (seen_etc); /* etc has a real change, so it stays */
  /* Only runtime mount points: an empty upper. */
  snprintf (cmd, sizeof cmd, "cd %s && rm -rf d opq etc/app.conf", dir);
  sh (cmd);
  assert_int_equal (arca_commit_upper_is_empty (dir, arca_commit_runtime_paths, &err), 1);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  sh (cmd);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_basic),
    cmocka_unit_test (test_continuations),
    cmocka_unit_test (test_escape_directive),
    cmocka_unit_test (test_forms),
    cmocka_unit_test (test_syntax_errors),
    cmocka_unit_test (test_bounds),
    cmocka_unit_test (test_expand),
    cmocka_unit_test (test_key_values),
    cmocka_unit_test (test_config),
    cmocka_unit_test (test_clean_path),
    cmocka_unit_test (test_dockerignore),
    cmocka_unit_test (test_layer_tar),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
