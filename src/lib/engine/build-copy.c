/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* COPY and ADD: sources confined to the build context (or a stage's root),
 * .dockerignore, the content digest for the layer cache, and the copy
 * itself into a root directory with every destination path resolved
 * inside that root. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/build.h"
#include "image/digest.h"
#include "image/unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

#define IGNORE_MAX_SIZE (1 << 20)
#define COPY_MAX_DEPTH 256

/* ---- paths and .dockerignore ------------------------------------------------ */

int
arca_build_clean_path (const char *path, char **ret, arca_error **err)
{
  cleanup_free char *out = calloc (1, strlen (path) + 2);
  size_t len = 0;

  if (out == NULL)
    return arca_error_set (err, ENOMEM, "path");
  for (const char *p = path; *p;)
    {
      while (*p == '/')
        p++;
      size_t n = strcspn (p, "/");
      if (n == 0)
        break;
      if (n == 1 && p[0] == '.')
        ;
      else if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          if (len == 0)
            return arca_error_set (err, EPERM, "`%s` is outside the build context", path);
          while (len > 0 && out[len - 1] != '/')
            len--;
          if (len > 0)
            len--;
          out[len] = '\0';
        }
      else
        {
          if (len)
            out[len++] = '/';
          memcpy (out + len, p, n);
          len += n;
          out[len] = '\0';
        }
      p += n;
    }
  if (len == 0)
    strcpy (out, ".");
  *ret = move_ptr (out);
  return 0;
}

void
arca_ignore_free (struct arca_ignore *ig)
{
  for (size_t i = 0; i < ig->n; i++)
    free (ig->patterns[i]);
  free (ig->patterns);
  free (ig->negate);
  memset (ig, 0, sizeof *ig);
}

int
arca_ignore_load (int context_fd, struct arca_ignore *ret, arca_error **err)
{
  cleanup_free char *text = NULL;
  struct arca_ignore ig = { 0 };

  memset (ret, 0, sizeof *ret);
  if (arca_read_file_at (context_fd, ".dockerignore", IGNORE_MAX_SIZE, &text, NULL, err) < 0)
    {
      if ((*err)->errnum != ENOENT)
        return arca_error_wrap (err, ".dockerignore");
      arca_error_freep (err);
      return 0;
    }
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      line[strcspn (line, "\r")] = '\0';
      while (*line == ' ' || *line == '\t')
        line++;
      for (size_t l = strlen (line); l && (line[l - 1] == ' ' || line[l - 1] == '\t'); l--)
        line[l - 1] = '\0';
      if (*line == '\0' || *line == '#')
        continue;
      bool neg = *line == '!';
      if (neg)
        line++;
      cleanup_free char *clean = NULL;
      cleanup_error arca_error *bad = NULL;
      /* A pattern reaching out of the context matches nothing there. */
      if (arca_build_clean_path (line, &clean, &bad) < 0)
        continue;
      char **p = realloc (ig.patterns, (ig.n + 1) * sizeof *p);
      bool *nv = p ? realloc (ig.negate, (ig.n + 1) * sizeof *nv) : NULL;
      if (p)
        ig.patterns = p;
      if (nv)
        ig.negate = nv;
      if (p == NULL || nv == NULL)
        {
          arca_ignore_free (&ig);
          return arca_error_set (err, ENOMEM, ".dockerignore");
        }
      ig.patterns[ig.n] = move_ptr (clean);
      ig.negate[ig.n++] = neg;
    }
  *ret = ig;
  return 0;
}

/* Segment-wise match; "**" matches any number of segments.  With prefix,
 * a pattern that matches a leading part of path matches path (a directory
 * pattern excludes what is inside). */
static bool
match_segments (const char *pat, const char *path)
{
  if (*pat == '\0')
    return true; /* the pattern matched a parent of path (or path) */
  size_t plen = strcspn (pat, "/");
  const char *pnext = pat[plen] ? pat + plen + 1 : pat + plen;
  if (plen == 2 && pat[0] == '*' && pat[1] == '*')
    {
      for (const char *p = path;;)
        {
          if (match_segments (pnext, p))
            return true;
          const char *slash = strchr (p, '/');
          if (slash == NULL)
            return *p != '\0' && *pnext == '\0';
          p = slash + 1;
        }
    }
  if (*path == '\0')
    return false;
  size_t slen = strcspn (path, "/");
  char pseg[PATH_MAX], sseg[PATH_MAX];
  if (plen >= sizeof pseg || slen >= sizeof sseg)
    return false;
  memcpy (pseg, pat, plen);
  pseg[plen] = '\0';
  memcpy (sseg, path, slen);
  sseg[slen] = '\0';
  if (fnmatch (pseg, sseg, 0) != 0)
    return false;
  return match_segments (pnext, path[slen] ? path + slen + 1 : path + slen);
}

bool
arca_ignore_match (const struct arca_ignore *ig, const char *path)
{
  bool excluded = false;

  for (size_t i = 0; ig && i < ig->n; i++)
    if (match_segments (ig->patterns[i], path))
      excluded = !ig->negate[i];
  return excluded;
}

static bool
has_negations (const struct arca_ignore *ig)
{
  for (size_t i = 0; ig && i < ig->n; i++)
    if (ig->negate[i])
      return true;
  return false;
}

/* ---- walking the sources --------------------------------------------------- */

struct copy_ctx
{
  const struct arca_copy_source *src;
  const struct arca_copy_request *req;
  arca_digester *digest; /* hashing only when set */
  bool preserve_owner;   /* tar contents keep their owners */
};

static int
open_beneath (int dirfd, const char *path, int flags, bool in_root, arca_error **err)
{
  struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                          .resolve = in_root ? RESOLVE_IN_ROOT : RESOLVE_BENEATH };
  int fd = (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
  if (fd < 0 && errno == EXDEV)
    return arca_error_set (err, EPERM, "`%s` points outside the build context", path);
  if (fd < 0)
    return arca_error_errno (err, "`%s`", path);
  return fd;
}

static void
hash_meta (struct copy_ctx *c, const char *rel, const struct stat *st, const char *link)
{
  char meta[128];
  int n = snprintf (meta, sizeof meta, "\n%o %u %u %lld\n", (unsigned) st->st_mode,
                    (unsigned) st->st_uid, (unsigned) st->st_gid,
                    S_ISREG (st->st_mode) ? (long long) st->st_size : 0LL);
  arca_digester_update (c->digest, rel, strlen (rel) + 1);
  arca_digester_update (c->digest, meta, (size_t) n);
  if (link)
    arca_digester_update (c->digest, link, strlen (link) + 1);
}

static int
set_meta (struct copy_ctx *c, int fd, const struct stat *st, const char *what, arca_error **err)
{
  uid_t uid = c->req->chown ? c->req->uid : c->preserve_owner ? st->st_uid : 0;
  gid_t gid = c->req->chown ? c->req->gid : c->preserve_owner ? st->st_gid : 0;
  struct timespec ts[2] = { st->st_atim, st->st_mtim };

  mode_t mode = c->req->chmod ? (mode_t) c->req->mode : st->st_mode & 07777;

  if (fchown (fd, uid, gid) < 0 || fchmod (fd, mode) < 0
      || futimens (fd, ts) < 0)
    return arca_error_errno (err, "set owner and mode of `%s`", what);
  return 0;
}

/* Removes what is in the way of a new entry (not a directory we merge into). */
static void
clear_target (int dst_dirfd, const char *name, bool want_dir)
{
  struct stat st;
  if (fstatat (dst_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (want_dir && S_ISDIR (st.st_mode))
    return;
  if (S_ISDIR (st.st_mode))
    arca_rm_rf_at (dst_dirfd, name, NULL);
  else
    unlinkat (dst_dirfd, name, 0);
}

static int copy_dir_contents (struct copy_ctx *c, int src_fd, const char *rel, int dst_fd,
                              unsigned depth, arca_error **err);

/* Copies the entry name of src_dirfd (rel: its path for .dockerignore and
 * messages) to dst_name in dst_dirfd (-1: only hash). */
static int
copy_entry (struct copy_ctx *c, int src_dirfd, const char *name, const char *rel, int dst_dirfd,
            const char *dst_name, unsigned depth, arca_error **err)
{
  struct stat st;

  /* A big COPY is where Ctrl-C is most likely to come. */
  if (arca_build_interrupted (c->req->interrupted, err) < 0)
    return -1;
  if (fstatat (src_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return arca_error_errno (err, "stat `%s`", rel);
  bool excluded = c->src->ignore && arca_ignore_match (c->src->ignore, rel);
  if (excluded && !(S_ISDIR (st.st_mode) && has_negations (c->src->ignore)))
    return 0;
  if (S_ISLNK (st.st_mode))
    {
      /* Heap, not stack: copy_entry recurses once per directory level. */
      cleanup_free char *target = malloc (PATH_MAX);
      if (target == NULL)
        return arca_error_set (err, ENOMEM, "copy");
      ssize_t n = readlinkat (src_dirfd, name, target, PATH_MAX - 1);
      if (n < 0)
        return arca_error_errno (err, "readlink `%s`", rel);
      target[n] = '\0';
      if (c->digest)
        hash_meta (c, rel, &st, target);
      if (dst_dirfd < 0)
        return 0;
      clear_target (dst_dirfd, dst_name, false);
      if (symlinkat (target, dst_dirfd, dst_name) < 0)
        return arca_error_errno (err, "create symlink `%s`", rel);
      uid_t uid = c->req->chown ? c->req->uid : c->preserve_owner ? st.st_uid : 0;
      gid_t gid = c->req->chown ? c->req->gid : c->preserve_owner ? st.st_gid : 0;
      if (fchownat (dst_dirfd, dst_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return arca_error_errno (err, "set the owner of `%s`", rel);
      return 0;
    }
  if (S_ISDIR (st.st_mode))
    {
      if (depth >= COPY_MAX_DEPTH)
        return arca_error_set (err, ELOOP, "`%s` is nested too deeply", rel);
      cleanup_close int sfd = openat (src_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int dfd = -1;
      if (sfd < 0)
        return arca_error_errno (err, "open `%s`", rel);
      if (c->digest && !excluded)
        hash_meta (c, rel, &st, NULL);
      if (dst_dirfd >= 0)
        {
          clear_target (dst_dirfd, dst_name, true);
          if (mkdirat (dst_dirfd, dst_name, 0755) < 0 && errno != EEXIST)
            return arca_error_errno (err, "create directory for `%s`", rel);
          dfd = openat (dst_dirfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (dfd < 0)
            return arca_error_errno (err, "open the destination of `%s`", rel);
        }
      if (copy_dir_contents (c, sfd, rel, dfd, depth + 1, err) < 0)
        return -1;
      return dfd >= 0 ? set_meta (c, dfd, &st, rel, err) : 0;
    }
  if (!S_ISREG (st.st_mode))
    return 0; /* devices, fifos and sockets are not copied */
  cleanup_close int sfd = openat (src_dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int dfd = -1;
  if (sfd < 0)
    return arca_error_errno (err, "open `%s`", rel);
  if (c->digest)
    hash_meta (c, rel, &st, NULL);
  if (dst_dirfd >= 0)
    {
      clear_target (dst_dirfd, dst_name, false);
      dfd = openat (dst_dirfd, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (dfd < 0)
        return arca_error_errno (err, "create the destination of `%s`", rel);
    }
  cleanup_free char *buf = malloc (65536);
  if (buf == NULL)
    return arca_error_set (err, ENOMEM, "copy");
  for (;;)
    {
      ssize_t n = read (sfd, buf, 65536);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return arca_error_errno (err, "read `%s`", rel);
      if (n == 0)
        break;
      if (c->digest)
        arca_digester_update (c->digest, buf, (size_t) n);
      for (ssize_t off = 0; dfd >= 0 && off < n;)
        {
          ssize_t w = write (dfd, buf + off, (size_t) (n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return arca_error_errno (err, "write the copy of `%s`", rel);
          off += w;
        }
    }
  return dfd >= 0 ? set_meta (c, dfd, &st, rel, err) : 0;
}

static int
copy_dir_contents (struct copy_ctx *c, int src_fd, const char *rel, int dst_fd, unsigned depth,
                   arca_error **err)
{
  cleanup_strv char **names = NULL;
  size_t n = 0;

  if (arca_dir_list_sorted (src_fd, &names, &n, err) < 0)
    return arca_error_wrap (err, "`%s`", rel);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *sub = NULL;
      if ((strcmp (rel, ".") == 0 ? asprintf (&sub, "%s", names[i])
                                  : asprintf (&sub, "%s/%s", rel, names[i]))
          < 0)
        return arca_error_set (err, ENOMEM, "copy");
      if (copy_entry (c, src_fd, names[i], sub, dst_fd, names[i], depth, err) < 0)
        return -1;
    }
  return 0;
}

static bool
has_wildcard (const char *s)
{
  return strpbrk (s, "*?[") != NULL;
}

/* The sources a request names, cleaned, wildcards expanded. */
static int
resolve_sources (const struct arca_copy_source *src, const struct arca_copy_request *req,
                 char ***ret, bool *ret_wildcard, arca_error **err)
{
  cleanup_strv char **out = calloc (1, sizeof *out);
  size_t n = 0;
  bool wildcard = false;

  if (out == NULL)
    return arca_error_set (err, ENOMEM, "copy");
  for (size_t i = 0; req->sources[i]; i++)
    {
      const char *s = req->sources[i];
      cleanup_free char *clean = NULL;
      if (strncmp (s, "http://", 7) == 0 || strncmp (s, "https://", 8) == 0)
        return arca_error_set (err, ENOTSUP, "`%s`: URLs as sources are not supported", s);
      if (arca_build_clean_path (s, &clean, err) < 0)
        return -1;
      cleanup_strv char **matches = NULL;
      if (has_wildcard (clean))
        {
          wildcard = true;
          char *slash = strrchr (clean, '/');
          const char *dir = ".";
          const char *pat = clean;
          if (slash)
            {
              *slash = '\0';
              dir = clean;
              pat = slash + 1;
            }
          if (has_wildcard (dir))
            return arca_error_set (err, ENOTSUP, "`%s`: wildcards only in the last component", s);
          cleanup_close int dfd = open_beneath (src->root_fd, dir, O_RDONLY | O_DIRECTORY,
                                                src->in_root, err);
          size_t nm = 0;
          if (dfd < 0 || arca_dir_list_sorted (dfd, &matches, &nm, err) < 0)
            return -1;
          size_t found = 0;
          for (size_t k = 0; k < nm; k++)
            {
              cleanup_free char *rel = NULL;
              if (fnmatch (pat, matches[k], 0) != 0)
                continue;
              if ((strcmp (dir, ".") == 0 ? asprintf (&rel, "%s", matches[k])
                                          : asprintf (&rel, "%s/%s", dir, matches[k]))
                  < 0)
                return arca_error_set (err, ENOMEM, "copy");
              if (src->ignore && arca_ignore_match (src->ignore, rel))
                continue;
              if (arca_strv_take (&out, &n, move_ptr (rel)) < 0)
                return arca_error_errno (err, "copy");
              found++;
            }
          if (found == 0)
            return arca_error_set (err, ENOENT, "no source files were specified by `%s`", s);
          continue;
        }
      if (src->ignore && strcmp (clean, ".") != 0 && arca_ignore_match (src->ignore, clean))
        return arca_error_set (err, ENOENT, "`%s`: excluded by .dockerignore", s);
      if (arca_strv_take (&out, &n, move_ptr (clean)) < 0)
        return arca_error_errno (err, "copy");
    }
  *ret = move_ptr (out);
  *ret_wildcard = wildcard;
  return 0;
}

/* A source's parent directory fd and last component, following symlinks of
 * the source itself only inside the root. */
static int
open_source (const struct arca_copy_source *src, const char *rel, int *ret_fd,
             struct stat *ret_st, arca_error **err)
{
  int fd = open_beneath (src->root_fd, rel, O_PATH, src->in_root, err);
  if (fd < 0)
    return arca_error_wrap (err, "%s", src->what);
  if (fstat (fd, ret_st) < 0)
    {
      close (fd);
      return arca_error_errno (err, "stat `%s`", rel);
    }
  *ret_fd = fd;
  return 0;
}

static bool
is_archive (int fd)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  bool ok = false;

  if (a == NULL)
    return false;
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  int dfd = dup (fd);
  if (dfd >= 0 && lseek (dfd, 0, SEEK_SET) == 0 && archive_read_open_fd (a, dfd, 65536) == ARCHIVE_OK)
    ok = archive_read_next_header (a, &entry) == ARCHIVE_OK;
  archive_read_free (a);
  if (dfd >= 0)
    close (dfd);
  lseek (fd, 0, SEEK_SET);
  return ok;
}

static int
walk_request (struct copy_ctx *c, int dest_root_fd, arca_error **err)
{
  const struct arca_copy_request *req = c->req;
  cleanup_strv char **sources = NULL;
  bool wildcard = false;
  cleanup_free char *dest = NULL;
  size_t n_sources = 0;

  if (resolve_sources (c->src, req, &sources, &wildcard, err) < 0)
    return -1;
  for (; sources[n_sources]; n_sources++)
    ;
  if (req->dest[0] == '/')
    dest = strdup (req->dest);
  else if (asprintf (&dest, "%s/%s", req->workdir && *req->workdir ? req->workdir : "", req->dest)
           < 0)
    dest = NULL;
  if (dest == NULL)
    return arca_error_set (err, ENOMEM, "copy");
  size_t dl = strlen (dest);
  bool dest_dir = (dl && dest[dl - 1] == '/') || n_sources > 1 || wildcard
                  || (dl >= 2 && strcmp (dest + dl - 2, "/.") == 0);
  if (dest_root_fd >= 0 && !dest_dir)
    {
      cleanup_error arca_error *ignored = NULL;
      cleanup_close int probe = arca_open_in_root (dest_root_fd, dest, O_PATH, 0, &ignored);
      struct stat pst;
      dest_dir = probe >= 0 && fstat (probe, &pst) == 0 && S_ISDIR (pst.st_mode);
    }
  for (size_t i = 0; i < n_sources; i++)
    {
      cleanup_close int sfd = -1;
      struct stat st;
      if (open_source (c->src, sources[i], &sfd, &st, err) < 0)
        return -1;
      const char *base = strrchr (sources[i], '/') ? strrchr (sources[i], '/') + 1 : sources[i];
      cleanup_close int dst_dir = -1;
      cleanup_free char *parent = NULL;
      const char *dst_name = NULL;
      cleanup_close int rfd = -1;
      bool archive = false;
      if (S_ISREG (st.st_mode))
        {
          /* O_PATH to a readable fd: through /proc, the same file. */
          char proc[64];
          snprintf (proc, sizeof proc, "/proc/self/fd/%d", sfd);
          rfd = open (proc, O_RDONLY | O_CLOEXEC);
          if (rfd < 0)
            return arca_error_errno (err, "open `%s`", sources[i]);
          /* ADD unpacks an archive into the destination directory. */
          archive = req->extract && is_archive (rfd);
        }
      bool into_dir = S_ISDIR (st.st_mode) || dest_dir || archive;
      if (dest_root_fd >= 0)
        {
          if (into_dir)
            parent = strdup (dest);
          else
            {
              parent = strdup (dest);
              char *slash = parent ? strrchr (parent, '/') : NULL;
              if (slash)
                {
                  dst_name = dest + (slash - parent) + 1;
                  slash[slash == parent ? 1 : 0] = '\0';
                }
            }
          if (parent == NULL)
            return arca_error_set (err, ENOMEM, "copy");
          cleanup_close int p = arca_mkpath_in_root (dest_root_fd, parent, 1, 0755, err);
          if (p < 0)
            return arca_error_wrap (err, "destination `%s`", req->dest);
          dst_dir = openat (p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (dst_dir < 0)
            return arca_error_errno (err, "open destination `%s`", parent);
        }
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int d = openat (sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (d < 0)
            return arca_error_errno (err, "open `%s`", sources[i]);
          if (c->digest)
            hash_meta (c, sources[i], &st, NULL);
          if (copy_dir_contents (c, d, sources[i], dst_dir, 0, err) < 0)
            return -1;
          continue;
        }
      if (!S_ISREG (st.st_mode))
        return arca_error_set (err, EINVAL, "`%s` is not a file or directory", sources[i]);
      if (archive)
        {
          if (c->digest)
            {
              hash_meta (c, sources[i], &st, "archive");
              char buf[65536];
              ssize_t n;
              while ((n = read (rfd, buf, sizeof buf)) > 0)
                arca_digester_update (c->digest, buf, (size_t) n);
              continue;
            }
          /* Unpacked by the layer unpacker (confined, no device surprises)
           * into a scratch dir, then merged into the destination. */
          cleanup_free char *tmpl = NULL;
          if (asprintf (&tmpl, "%s/.tmp-%d-add-XXXXXX", req->tmp_dir ? req->tmp_dir : "/tmp",
                        (int) getpid ())
              < 0)
            return arca_error_set (err, ENOMEM, "copy");
          if (mkdtemp (tmpl) == NULL)
            return arca_error_errno (err, "mkdtemp `%s`", tmpl);
          cleanup_close int tfd = open (tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          struct arca_unpack_options uo = { .no_sync = true };
          struct arca_unpack_result res;
          int r = tfd < 0 ? arca_error_errno (err, "open `%s`", tmpl)
                          : arca_layer_unpack_into (rfd, tfd, &uo, &res, err);
          if (r == 0)
            {
              struct arca_copy_source tsrc = { .root_fd = tfd, .what = "archive", .in_root = true };
              struct copy_ctx tc = { .src = &tsrc, .req = req, .preserve_owner = true };
              r = copy_dir_contents (&tc, tfd, ".", dst_dir, 0, err);
            }
          arca_rm_rf_at (AT_FDCWD, tmpl, NULL);
          if (r < 0)
            return arca_error_wrap (err, "ADD `%s`", sources[i]);
          continue;
        }
      if (dest_root_fd < 0)
        {
          hash_meta (c, sources[i], &st, NULL);
          char buf[65536];
          ssize_t n;
          while ((n = read (rfd, buf, sizeof buf)) > 0)
            arca_digester_update (c->digest, buf, (size_t) n);
          continue;
        }
      /* Copy through the source's own directory entry. */
      cleanup_free char *sdir = strdup (sources[i]);
      if (sdir == NULL)
        return arca_error_set (err, ENOMEM, "copy");
      char *slash = strrchr (sdir, '/');
      const char *sname = sources[i];
      if (slash)
        {
          *slash = '\0';
          sname = slash + 1;
        }
      cleanup_close int sparent = open_beneath (c->src->root_fd, slash ? sdir : ".",
                                                O_RDONLY | O_DIRECTORY, c->src->in_root, err);
      if (sparent < 0)
        return -1;
      struct stat lst;
      if (fstatat (sparent, sname, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (lst.st_mode))
        {
          /* A symlinked source: copy what it points to (confined above). */
          cleanup_close int wfd = -1;
          const char *target = into_dir ? base : dst_name;
          clear_target (dst_dir, target, false);
          wfd = openat (dst_dir, target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
          if (wfd < 0)
            return arca_error_errno (err, "create the destination of `%s`", sources[i]);
          char buf[65536];
          ssize_t n;
          while ((n = read (rfd, buf, sizeof buf)) > 0)
            if (write (wfd, buf, (size_t) n) != n)
              return arca_error_errno (err, "write the copy of `%s`", sources[i]);
          if (set_meta (c, wfd, &st, sources[i], err) < 0)
            return -1;
          continue;
        }
      if (copy_entry (c, sparent, sname, sources[i], dst_dir, into_dir ? base : dst_name, 0, err)
          < 0)
        return -1;
    }
  return 0;
}

int
arca_copy_digest (const struct arca_copy_source *src, const struct arca_copy_request *req,
                  char *ret_digest, arca_error **err)
{
  _cleanup_ (arca_digester_freep) arca_digester *d = NULL;

  if (arca_digester_new (&d, err) < 0)
    return -1;
  struct copy_ctx c = { .src = src, .req = req, .digest = d };
  if (walk_request (&c, -1, err) < 0)
    return -1;
  return arca_digester_final (d, ret_digest, err);
}

int
arca_copy_run (const struct arca_copy_source *src, const struct arca_copy_request *req,
               int dest_root_fd, arca_error **err)
{
  struct copy_ctx c = { .src = src, .req = req, .preserve_owner = src->in_root };
  return walk_request (&c, dest_root_fd, err);
}
