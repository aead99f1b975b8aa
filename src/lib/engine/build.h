/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca build`: runs a Containerfile.  Every stage starts from an image
 * (or scratch); RUN runs in a container of the current image and its upper
 * directory becomes a layer; COPY/ADD write into a work container's root
 * (or a plain directory on scratch) and that becomes a layer; the other
 * instructions change only the config.  Each step's result is an image;
 * a cache (parent image + instruction + build args + copied content) maps
 * a step to the image it made, so an unchanged rebuild runs nothing.
 * Containers the build makes are always removed, even when it fails. */
#ifndef ARCA_ENGINE_BUILD_H
#define ARCA_ENGINE_BUILD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "util/error.h"

struct arca_build_options
{
  const char *context;      /* directory */
  const char *file;         /* NULL: CONTEXT/Containerfile, else CONTEXT/Dockerfile */
  char **build_args;        /* KEY=VALUE or KEY (taken from environ) */
  const char *target;       /* stage name or index; NULL: the last */
  char **tags;              /* NAME[:TAG] */
  bool no_cache;
  FILE *progress;           /* step lines; NULL: silent */
  int *ret_signal;          /* non-NULL: SIGINT and SIGTERM stop the build (the running
                             * step's container removed first) and the signal is stored
                             * here; the error is then EINTR */
};

int arca_engine_build (struct arca_engine *e, const struct arca_build_options *opts,
                       char *ret_image_id, arca_error **err);

/* True for the work container of a build that still runs (its lock is
 * held, or it was made a moment ago): prunes leave it alone.  A dead
 * build's is not busy. */
bool arca_build_container_busy (struct arca_engine *e, const struct arca_engine_container *c);

/* ---- shared by build.c, build-copy.c and build-run.c ---------------------- */

/* SIGINT and SIGTERM (build-run.c): blocked for the whole build, so that
 * none kills it between two steps; a pending one is taken by
 * arca_build_interrupted (EINTR, the signal to *ret_signal; nothing when
 * ret_signal is NULL).  Restoring drops a signal still pending. */
int arca_build_signals_block (sigset_t *ret_old);
void arca_build_signals_restore (const sigset_t *old);
int arca_build_interrupted (int *ret_signal, arca_error **err);
/* Runs a created container attached to our stdio, to its exit code.  With
 * interrupted non-NULL it runs in a child process while SIGINT/SIGTERM are
 * watched: on one the child is killed, the signal stored in *interrupted
 * and EINTR returned (the caller then removes the container). */
int arca_build_run_container (struct arca_engine *e, const char *id, int *interrupted,
                              int *ret_code, arca_error **err);

/* .dockerignore patterns of a context. */
struct arca_ignore
{
  char **patterns;          /* cleaned, without the leading '!' */
  bool *negate;
  size_t n;
};
int arca_ignore_load (int context_fd, struct arca_ignore *ret, arca_error **err);
void arca_ignore_free (struct arca_ignore *ig);
/* True when path (relative to the context, cleaned) is excluded. */
bool arca_ignore_match (const struct arca_ignore *ig, const char *path);

/* Lexically cleans a relative source path; fails for paths leaving the
 * root ("../x", "a/../../x"). */
int arca_build_clean_path (const char *path, char **ret, arca_error **err);

struct arca_copy_source
{
  int root_fd;                      /* context dir or a stage's root */
  const struct arca_ignore *ignore; /* NULL: copy everything */
  const char *what;                 /* "build context", "stage `x`" */
  bool in_root;                     /* a stage's root: absolute symlinks resolve inside it
                                     * and owners are kept; else the context: nothing may
                                     * lead out of it */
};

struct arca_copy_request
{
  char **sources;           /* expanded, relative to the source root */
  const char *dest;         /* expanded; relative ones are below workdir */
  const char *workdir;
  bool chown;               /* set owner to uid:gid */
  uint32_t uid, gid;
  bool chmod;               /* set the mode of what is copied to mode */
  uint32_t mode;
  bool extract;             /* ADD: local tar archives are unpacked */
  const char *tmp_dir;      /* where archives are unpacked first */
  int *interrupted;         /* non-NULL: a pending SIGINT/SIGTERM stops the copy between
                             * two entries (arca_build_interrupted) */
};

/* sha256 over what a copy would read (names, modes, sizes, contents, link
 * targets): the cache key part that changes when the context changes. */
int arca_copy_digest (const struct arca_copy_source *src, const struct arca_copy_request *req,
                      char *ret_digest, arca_error **err);
/* Copies into the root directory dest_root_fd (every path resolved inside
 * it). */
int arca_copy_run (const struct arca_copy_source *src, const struct arca_copy_request *req,
                   int dest_root_fd, arca_error **err);

#endif
