/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archives.h"
#include "manifest.h"
#include "reference.h"
#include "registry.h"
#include "tar-write.h"
#include "util/cleanup.h"

#define ACCEPT_MANIFESTS                                                                           \
  "Accept: application/vnd.oci.image.manifest.v1+json, "                                           \
  "application/vnd.oci.image.index.v1+json, "                                                      \
  "application/vnd.docker.distribution.manifest.v2+json, "                                         \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define HEADER_MAX 8192

struct reg
{
  CURL *curl;
  const struct arca_registry_options *opts;
  char *base; /* "https://host:port" */
  char *repo; /* "library/busybox" */
  char ca_file[4096];
  bool use_auth;     /* the registry asked once: send credentials every time */
};

struct response
{
  long status;
  char *body;
  size_t len, max;
  arca_blob_writer *blob; /* instead of body */
  arca_error *write_err;
  char location[HEADER_MAX];
  char authenticate[HEADER_MAX];
  char content_type[256];
  char docker_digest[ARCA_DIGEST_LEN + 1];
};

static void
reg_clear (struct reg *r)
{
  if (r->curl)
    curl_easy_cleanup (r->curl);
  free (r->base);
  free (r->repo);
}

static void
response_clear (struct response *resp)
{
  free (resp->body);
  arca_error_free (resp->write_err);
  memset (resp, 0, sizeof *resp);
}

static size_t
on_header (char *line, size_t size, size_t n, void *userdata)
{
  struct response *resp = userdata;
  size_t len = size * n;
  static const struct
  {
    const char *name;
    size_t off, cap;
  } wanted[] = {
    { "location:", offsetof (struct response, location), HEADER_MAX },
    { "www-authenticate:", offsetof (struct response, authenticate), HEADER_MAX },
    { "content-type:", offsetof (struct response, content_type), 256 },
    { "docker-content-digest:", offsetof (struct response, docker_digest), ARCA_DIGEST_LEN + 1 },
  };

  for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
    {
      size_t nl = strlen (wanted[i].name);
      if (len > nl && strncasecmp (line, wanted[i].name, nl) == 0)
        {
          const char *v = line + nl;
          size_t vlen = len - nl;
          while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
          while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
          char *dst = (char *)resp + wanted[i].off;
          snprintf (dst, wanted[i].cap, "%.*s", (int)vlen, v);
        }
    }
  return len;
}

static size_t
on_body (char *data, size_t size, size_t n, void *userdata)
{
  struct response *resp = userdata;
  size_t len = size * n;

  if (resp->blob)
    {
      if (resp->write_err == NULL
          && arca_blob_writer_write (resp->blob, data, len, &resp->write_err) < 0)
        return 0;
      return len;
    }
  if (resp->len + len > resp->max)
    return 0; /* larger than anything we accept: abort the transfer */
  char *grown = realloc (resp->body, resp->len + len + 1);
  if (grown == NULL)
    return 0;
  resp->body = grown;
  memcpy (resp->body + resp->len, data, len);
  resp->len += len;
  resp->body[resp->len] = '\0';
  return len;
}

struct upload
{
  int fd;
};

static size_t
on_read (char *buf, size_t size, size_t n, void *userdata)
{
  struct upload *u = userdata;
  ssize_t r = read (u->fd, buf, size * n);
  return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static void
slist_freep (struct curl_slist **l)
{
  curl_slist_free_all (*l);
}

/* One request.  upload_fd >= 0 sends that file (size bytes) as the body. */
static int
request (struct reg *r, const char *method, const char *url, const char *accept,
         const char *content_type, int upload_fd, off_t size, struct response *resp,
         arca_error **err)
{
  _cleanup_ (slist_freep) struct curl_slist *headers = NULL;
  char ctype[300];
  struct upload up = { .fd = upload_fd };

  for (int attempt = r->use_auth ? 1 : 0; attempt < 2; attempt++)
    {
      curl_easy_reset (r->curl);
      if (accept)
        headers = curl_slist_append (headers, accept);
      if (content_type)
        {
          snprintf (ctype, sizeof ctype, "Content-Type: %s", content_type);
          headers = curl_slist_append (headers, ctype);
        }
      curl_easy_setopt (r->curl, CURLOPT_URL, url);
      curl_easy_setopt (r->curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt (r->curl, CURLOPT_HEADERFUNCTION, on_header);
      curl_easy_setopt (r->curl, CURLOPT_HEADERDATA, resp);
      curl_easy_setopt (r->curl, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt (r->curl, CURLOPT_WRITEDATA, resp);
      curl_easy_setopt (r->curl, CURLOPT_FOLLOWLOCATION, strcmp (method, "GET") == 0 ? 1L : 0L);
      curl_easy_setopt (r->curl, CURLOPT_MAXREDIRS, 5L);
      curl_easy_setopt (r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt (r->curl, CURLOPT_CONNECTTIMEOUT, 30L);
      curl_easy_setopt (r->curl, CURLOPT_USERAGENT, "arca");
      if (!r->opts->tls_verify)
        {
          curl_easy_setopt (r->curl, CURLOPT_SSL_VERIFYPEER, 0L);
          curl_easy_setopt (r->curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }
      if (r->ca_file[0])
        curl_easy_setopt (r->curl, CURLOPT_CAINFO, r->ca_file);
      if (attempt == 1 && r->opts->creds)
        {
          curl_easy_setopt (r->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
          curl_easy_setopt (r->curl, CURLOPT_USERPWD, r->opts->creds);
        }
      if (strcmp (method, "HEAD") == 0)
        curl_easy_setopt (r->curl, CURLOPT_NOBODY, 1L);
      else if (strcmp (method, "PUT") == 0)
        {
          curl_easy_setopt (r->curl, CURLOPT_UPLOAD, 1L);
          if (upload_fd >= 0)
            {
              lseek (upload_fd, 0, SEEK_SET);
              curl_easy_setopt (r->curl, CURLOPT_READFUNCTION, on_read);
              curl_easy_setopt (r->curl, CURLOPT_READDATA, &up);
              curl_easy_setopt (r->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
            }
          else
            curl_easy_setopt (r->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
        }
      else if (strcmp (method, "POST") == 0)
        {
          curl_easy_setopt (r->curl, CURLOPT_POST, 1L);
          curl_easy_setopt (r->curl, CURLOPT_POSTFIELDSIZE, 0L);
        }
      CURLcode rc = curl_easy_perform (r->curl);
      if (resp->write_err)
        {
          *err = resp->write_err;
          resp->write_err = NULL;
          return -1;
        }
      if (rc != CURLE_OK)
        return arca_error_set (err, EIO, "%s %s: %s", method, url, curl_easy_strerror (rc));
      curl_easy_getinfo (r->curl, CURLINFO_RESPONSE_CODE, &resp->status);
      if (resp->status != 401 || attempt == 1)
        break;
      if (strncasecmp (resp->authenticate, "Bearer", 6) == 0)
        return arca_error_set (err, ENOTSUP,
                               "%s: the registry wants token authentication, which is not "
                               "supported yet (only Basic)",
                               url);
      if (r->opts->creds == NULL)
        return arca_error_set (err, EACCES, "%s: authentication required (use --creds USER:PASS)",
                               url);
      r->use_auth = true;
      curl_slist_free_all (headers);
      headers = NULL;
      free (resp->body);
      resp->body = NULL;
      resp->len = 0;
      if (resp->blob)
        return arca_error_set (err, EIO, "%s: authentication needed in the middle of a blob", url);
    }
  if (resp->status == 401)
    return arca_error_set (err, EACCES, "%s: authentication failed (wrong user or password?)", url);
  return 0;
}

static bool
is_local_host (const char *domain)
{
  return strncmp (domain, "localhost", 9) == 0 || strncmp (domain, "127.", 4) == 0
         || strncmp (domain, "[::1]", 5) == 0;
}

static int
reg_open (struct reg *r, const struct arca_reference *ref, const struct arca_registry_options *opts,
          arca_error **err)
{
  memset (r, 0, sizeof *r);
  r->opts = opts;
  r->curl = curl_easy_init ();
  if (r->curl == NULL)
    return arca_error_set (err, ENOMEM, "curl");
  const char *host = strcmp (ref->domain, "docker.io") == 0 ? "registry-1.docker.io" : ref->domain;
  if (opts->cert_dir)
    snprintf (r->ca_file, sizeof r->ca_file, "%s/ca.crt", opts->cert_dir);
  /* podman's rule: plain http only for a local registry without a CA, or
   * when verification is switched off. */
  bool http = (!opts->tls_verify) || (is_local_host (ref->domain) && opts->cert_dir == NULL);
  if (asprintf (&r->base, "%s://%s", http ? "http" : "https", host) < 0
      || (r->repo = strdup (ref->path)) == NULL)
    return arca_error_set (err, ENOMEM, "registry");
  return 0;
}

static int
url_for (struct reg *r, const char *kind, const char *what, char **ret, arca_error **err)
{
  if (asprintf (ret, "%s/v2/%s/%s/%s", r->base, r->repo, kind, what) < 0)
    return arca_error_set (err, ENOMEM, "url");
  return 0;
}

/* GETs a manifest (or index) by tag or digest; bounded; digest checked. */
static int
get_manifest (struct reg *r, const char *ref, struct response *resp, char *ret_digest,
              arca_error **err)
{
  cleanup_free char *url = NULL;

  resp->max = ARCA_MANIFEST_MAX_SIZE;
  if (url_for (r, "manifests", ref, &url, err) < 0
      || request (r, "GET", url, ACCEPT_MANIFESTS, NULL, -1, 0, resp, err) < 0)
    return -1;
  if (resp->status == 404)
    return arca_error_set (err, ENOENT, "manifest unknown: %s/%s:%s", r->base, r->repo, ref);
  if (resp->status != 200 || resp->body == NULL)
    return arca_error_set (err, EIO, "GET %s: HTTP %ld", url, resp->status);
  if (arca_digest_buffer (resp->body, resp->len, ret_digest, err) < 0)
    return -1;
  if (strncmp (ref, "sha256:", 7) == 0 && strcmp (ref, ret_digest) != 0)
    return arca_error_set (err, EBADMSG, "manifest digest mismatch: asked for %s, got %s", ref,
                           ret_digest);
  return 0;
}

/* Picks linux/amd64 from an index or manifest list. */
static int
pick_platform (const char *json, size_t len, char *ret_digest, arca_error **err)
{
  _cleanup_ (json_decrefp) json_t *doc = json_loadb (json, len, 0, NULL);
  json_t *manifests = json_object_get (doc, "manifests");
  size_t i;
  json_t *m;

  json_array_foreach (manifests, i, m)
  {
    json_t *p = json_object_get (m, "platform");
    const char *os = json_string_value (json_object_get (p, "os"));
    const char *arch = json_string_value (json_object_get (p, "architecture"));
    const char *digest = json_string_value (json_object_get (m, "digest"));
    if (os && arch && digest && strcmp (os, "linux") == 0 && strcmp (arch, "amd64") == 0
        && arca_digest_is_valid (digest))
      {
        snprintf (ret_digest, ARCA_DIGEST_LEN + 1, "%s", digest);
        return 0;
      }
  }
  return arca_error_set (err, ENOENT, "the image index has no linux/amd64 manifest");
}

/* Blobs this pull added, removed again if it fails: a failed pull leaves
 * the store as it found it. */
struct new_blobs {
  arca_store *store;
  char digests[ARCA_MANIFEST_MAX_LAYERS + 2][ARCA_DIGEST_LEN + 1];
  size_t n;
  bool keep;
};

static void
new_blobs_cleanup (struct new_blobs **p)
{
  struct new_blobs *nb = *p;
  if (nb == NULL)
    return;
  for (size_t i = 0; !nb->keep && i < nb->n; i++)
    arca_blob_remove (nb->store, nb->digests[i], NULL);
  free (nb);
}

static void
new_blobs_add (struct new_blobs *nb, const char *digest)
{
  if (nb->n < sizeof nb->digests / sizeof nb->digests[0])
    snprintf (nb->digests[nb->n++], ARCA_DIGEST_LEN + 1, "%s", digest);
}

static int
fetch_blob (struct reg *r, arca_store *store, const char *digest, struct new_blobs *nb,
            arca_error **err)
{
  cleanup_free char *url = NULL;
  _cleanup_ (arca_blob_writer_freep) arca_blob_writer *w = NULL;
  struct response resp = { 0 };
  int rc;

  if (arca_blob_exists (store, digest, NULL) == 1)
    return 0;
  if (url_for (r, "blobs", digest, &url, err) < 0 || arca_blob_writer_new (store, &w, err) < 0)
    return -1;
  resp.blob = w;
  rc = request (r, "GET", url, NULL, NULL, -1, 0, &resp, err);
  long status = resp.status;
  response_clear (&resp);
  if (rc < 0)
    return -1;
  if (status != 200)
    return arca_error_set (err, EIO, "GET %s: HTTP %ld", url, status);
  /* The writer checks the content against the digest we asked for. */
  bool created = false;
  if (arca_blob_writer_commit (w, digest, NULL, &created, err) < 0)
    return arca_error_wrap (err, "blob %s from %s", digest, r->base);
  if (created)
    new_blobs_add (nb, digest);
  return 0;
}

static int
tar_add_blob (struct archive *a, arca_store *store, const char *digest, arca_error **err)
{
  char path[128];
  struct stat st;
  cleanup_close int fd = arca_blob_open (store, digest, false, err);

  if (fd < 0 || fstat (fd, &st) < 0)
    return fd < 0 ? -1 : arca_error_errno (err, "stat blob %s", digest);
  snprintf (path, sizeof path, "blobs/sha256/%s", arca_digest_hex (digest));
  return arca_tar_add_fd (a, path, fd, st.st_size, err);
}

static void
archive_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

/* An OCI layout of blobs already in the store, fed to the archive loader:
 * one verified path for pulled and loaded images alike. */
static int
load_pulled (arca_store *store, arca_db *db, const char *manifest_digest, const char *media_type,
             size_t manifest_len, const struct arca_manifest *m, const char *name,
             char *ret_image_id, const struct arca_log *log, arca_error **err)
{
  cleanup_close int fd = memfd_create ("pulled", MFD_CLOEXEC);
  _cleanup_ (archive_writep) struct archive *a = archive_write_new ();

  if (fd < 0)
    return arca_error_errno (err, "memfd_create");
  archive_write_set_format_pax_restricted (a);
  if (archive_write_open_fd (a, fd) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "archive: %s", archive_error_string (a));
  json_t *index = json_pack ("{s:i, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "manifests",
                             "mediaType", media_type, "digest", manifest_digest, "size",
                             (json_int_t)manifest_len, "annotations",
                             "org.opencontainers.image.ref.name", name);
  cleanup_free char *index_text = index ? json_dumps (index, JSON_COMPACT) : NULL;
  json_decref (index);
  if (index_text == NULL)
    return arca_error_set (err, ENOMEM, "pull");
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  const struct
  {
    const char *path, *text;
  } files[] = { { "oci-layout", layout }, { "index.json", index_text } };
  for (size_t i = 0; i < 2; i++)
    if (arca_tar_add_bytes (a, files[i].path, files[i].text, strlen (files[i].text), err) < 0)
      return -1;
  if (tar_add_blob (a, store, manifest_digest, err) < 0
      || tar_add_blob (a, store, m->config.digest, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_layers; i++)
    if (tar_add_blob (a, store, m->layers[i].digest, err) < 0)
      return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return arca_error_set (err, EIO, "archive: %s", archive_error_string (a));
  lseek (fd, 0, SEEK_SET);
  struct arca_unpack_options uo = { .log = log };
  cleanup_strv char **ids = NULL;
  if (arca_image_load (store, db, fd, &uo, &ids, err) < 0)
    return -1;
  if (ret_image_id && ids && ids[0])
    snprintf (ret_image_id, ARCA_DIGEST_LEN + 1, "%s", ids[0]);
  return 0;
}

int
arca_registry_pull (arca_store *store, arca_db *db, const char *text,
                    const struct arca_registry_options *opts, char *ret_image_id, arca_error **err)
{
  _cleanup_ (arca_reference_freep) struct arca_reference *ref = NULL;
  _cleanup_ (reg_clear) struct reg r = { 0 };
  _cleanup_ (response_clear) struct response resp = { 0 };
  _cleanup_ (arca_manifest_free) struct arca_manifest m = { 0 };
  _cleanup_ (new_blobs_cleanup) struct new_blobs *nb = calloc (1, sizeof *nb);
  char digest[ARCA_DIGEST_LEN + 1];
  bool created = false;

  if (nb == NULL)
    return arca_error_set (err, ENOMEM, "pull");
  nb->store = store;
  if (arca_reference_parse (text, ARCA_REFERENCE_DOCKER, &ref, err) < 0
      || reg_open (&r, ref, opts, err) < 0)
    return -1;
  const char *what = ref->digest ? ref->digest : ref->tag;
  if (get_manifest (&r, what, &resp, digest, err) < 0)
    return -1;
  if (strstr (resp.content_type, "index") || strstr (resp.content_type, "manifest.list"))
    {
      char picked[ARCA_DIGEST_LEN + 1];
      if (pick_platform (resp.body, resp.len, picked, err) < 0)
        return -1;
      response_clear (&resp);
      if (get_manifest (&r, picked, &resp, digest, err) < 0)
        return -1;
    }
  if (arca_manifest_parse (resp.body, resp.len, &m, err) < 0)
    return -1;
  if (arca_blob_put_buffer (store, resp.body, resp.len, digest, NULL, &created, err) < 0)
    return -1;
  if (created)
    new_blobs_add (nb, digest);
  if (fetch_blob (&r, store, m.config.digest, nb, err) < 0)
    return -1;
  for (size_t i = 0; i < m.n_layers; i++)
    if (fetch_blob (&r, store, m.layers[i].digest, nb, err) < 0)
      return -1;
  cleanup_free char *name = arca_reference_string (ref);
  const char *media
      = strstr (resp.content_type, "docker") ? ARCA_MEDIA_DOCKER_MANIFEST : ARCA_MEDIA_OCI_MANIFEST;
  if (load_pulled (store, db, digest, media, resp.len, &m, name ? name : text, ret_image_id,
                   opts->log, err)
      < 0)
    return -1;
  nb->keep = true;
  return 0;
}

static int
push_blob (struct reg *r, arca_store *store, const char *digest, arca_error **err)
{
  cleanup_free char *url = NULL, *put_url = NULL;
  struct response resp = { 0 };
  struct stat st;

  resp.max = 1 << 20;
  if (url_for (r, "blobs", digest, &url, err) < 0
      || request (r, "HEAD", url, NULL, NULL, -1, 0, &resp, err) < 0)
    return -1;
  if (resp.status == 200)
    return response_clear (&resp), 0;
  response_clear (&resp);
  resp.max = 1 << 20;
  cleanup_free char *start = NULL;
  if (asprintf (&start, "%s/v2/%s/blobs/uploads/", r->base, r->repo) < 0)
    return arca_error_set (err, ENOMEM, "push");
  if (request (r, "POST", start, NULL, NULL, -1, 0, &resp, err) < 0)
    return -1;
  if (resp.status != 202 || resp.location[0] == '\0')
    {
      long s = resp.status;
      response_clear (&resp);
      return arca_error_set (err, EIO, "POST %s: HTTP %ld", start, s);
    }
  /* The Location may be relative to the registry. */
  const char *sep = strchr (resp.location, '?') ? "&" : "?";
  int n = resp.location[0] == '/'
              ? asprintf (&put_url, "%s%s%sdigest=%s", r->base, resp.location, sep, digest)
              : asprintf (&put_url, "%s%sdigest=%s", resp.location, sep, digest);
  response_clear (&resp);
  if (n < 0)
    return arca_error_set (err, ENOMEM, "push");
  cleanup_close int fd = arca_blob_open (store, digest, false, err);
  if (fd < 0 || fstat (fd, &st) < 0)
    return -1;
  resp.max = 1 << 20;
  if (request (r, "PUT", put_url, NULL, "application/octet-stream", fd, st.st_size, &resp, err) < 0)
    return -1;
  long s = resp.status;
  response_clear (&resp);
  if (s != 201)
    return arca_error_set (err, EIO, "upload of blob %s: HTTP %ld", digest, s);
  return 0;
}

int
arca_registry_push (arca_store *store, arca_db *db, const char *image, const char *dest,
                    const struct arca_registry_options *opts, arca_error **err)
{
  _cleanup_ (arca_reference_freep) struct arca_reference *ref = NULL;
  _cleanup_ (arca_image_record_freep) struct arca_image_record *img = NULL;
  _cleanup_ (reg_clear) struct reg r = { 0 };
  _cleanup_ (arca_manifest_free) struct arca_manifest m = { 0 };
  _cleanup_ (response_clear) struct response resp = { .max = 1 << 20 };
  char id[ARCA_DIGEST_LEN + 1];
  cleanup_free char *manifest = NULL, *url = NULL;
  size_t manifest_len = 0;

  if (arca_db_resolve (db, image, id, err) < 0 || arca_db_get_image (db, id, &img, err) < 0
      || arca_reference_parse (dest, ARCA_REFERENCE_DOCKER, &ref, err) < 0
      || reg_open (&r, ref, opts, err) < 0)
    return -1;
  if (arca_blob_read (store, img->manifest_digest, ARCA_MANIFEST_MAX_SIZE, &manifest, &manifest_len,
                      err)
          < 0
      || arca_manifest_parse (manifest, manifest_len, &m, err) < 0)
    return -1;
  for (size_t i = 0; i < m.n_layers; i++)
    if (push_blob (&r, store, m.layers[i].digest, err) < 0)
      return -1;
  if (push_blob (&r, store, m.config.digest, err) < 0)
    return -1;
  _cleanup_ (json_decrefp) json_t *doc = json_loadb (manifest, manifest_len, 0, NULL);
  const char *media = json_string_value (json_object_get (doc, "mediaType"));
  if (url_for (&r, "manifests", ref->tag ? ref->tag : "latest", &url, err) < 0)
    return -1;
  cleanup_close int fd = memfd_create ("manifest", MFD_CLOEXEC);
  if (fd < 0 || write (fd, manifest, manifest_len) != (ssize_t)manifest_len)
    return arca_error_errno (err, "manifest");
  if (request (&r, "PUT", url, NULL, media ? media : ARCA_MEDIA_OCI_MANIFEST, fd,
               (off_t)manifest_len, &resp, err)
      < 0)
    return -1;
  if (resp.status != 201)
    return arca_error_set (err, EIO, "PUT %s: HTTP %ld %.200s", url, resp.status,
                           resp.body ? resp.body : "");
  return 0;
}
