/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arca vm: one detached arca-vmm per VM, driven over its API socket with
 * libcurl (CURLOPT_UNIX_SOCKET_PATH).  The VM's directory holds api.sock,
 * console.log (the guest's serial), vmm.log (the VMM's own messages) and
 * pid ("PID START_TIME", so a recycled pid is not mistaken for the VMM). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/state.h"
#include "engine/vmctl.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define RESPONSE_MAX (1u << 20)

static bool
valid_name (const char *name)
{
  size_t n = name ? strlen (name) : 0;
  if (n == 0 || n > ARCA_VM_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    {
      char c = name[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
        return false;
    }
  return true;
}

int
arca_vm_path (struct arca_engine *e, const char *name, const char *file, char **ret,
              arca_error **err)
{
  if (!valid_name (name))
    return arca_error_set (err, EINVAL, "vm name `%s`: 1-%d of [a-zA-Z0-9_.-], starting alphanumeric",
                           name ? name : "", ARCA_VM_NAME_MAX);
  int r = file ? asprintf (ret, "%s/vms/%s/%s", e->run_root, name, file)
               : asprintf (ret, "%s/vms/%s", e->run_root, name);
  return r < 0 ? arca_error_set (err, ENOMEM, "path") : 0;
}

/* The VMM's pid when it still runs, else 0. */
static pid_t
running_pid (struct arca_engine *e, const char *name)
{
  cleanup_free char *path = NULL, *text = NULL;
  cleanup_error arca_error *ignored = NULL;
  int pid;
  unsigned long long start;

  if (arca_vm_path (e, name, "pid", &path, &ignored) < 0
      || arca_read_file_at (AT_FDCWD, path, 64, &text, NULL, &ignored) < 0
      || sscanf (text, "%d %llu", &pid, &start) != 2 || pid <= 0)
    return 0;
  return arca_pid_is (pid, start) ? pid : 0;
}

struct response {
  char *data;
  size_t len;
  bool too_big;
};

static size_t
on_body (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  struct response *r = userdata;
  size_t n = size * nmemb;
  if (r->len + n > RESPONSE_MAX)
    {
      r->too_big = true;
      return 0;
    }
  char *grown = realloc (r->data, r->len + n + 1);
  if (grown == NULL)
    return 0;
  memcpy (grown + r->len, ptr, n);
  r->data = grown;
  r->len += n;
  r->data[r->len] = '\0';
  return n;
}

static void
curl_cleanupp (CURL **c)
{
  if (*c)
    curl_easy_cleanup (*c);
}

static void
slist_freep (struct curl_slist **l)
{
  curl_slist_free_all (*l);
}

/* timeout_s bounds the whole request: long for a migration, short for a
   state query (a VMM waiting for an incoming migration answers nothing
   until the migration arrives). */
static int
request (struct arca_engine *e, const char *name, const char *method, const char *path,
         const char *body, long timeout_s, long *ret_status, char **ret_body, arca_error **err)
{
  cleanup_free char *sock = NULL, *url = NULL;
  _cleanup_ (curl_cleanupp) CURL *curl = NULL;
  _cleanup_ (slist_freep) struct curl_slist *headers = NULL;
  struct response resp = { 0 };
  char errbuf[CURL_ERROR_SIZE] = "";
  long status = 0;

  if (arca_vm_path (e, name, "api.sock", &sock, err) < 0)
    return -1;
  if (asprintf (&url, "http://localhost%s", path) < 0 || (curl = curl_easy_init ()) == NULL)
    return arca_error_set (err, ENOMEM, "vm `%s`: request", name);
  headers = curl_slist_append (NULL, "Content-Type: application/json");
  curl_easy_setopt (curl, CURLOPT_UNIX_SOCKET_PATH, sock);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, timeout_s);
  if (body)
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
  CURLcode rc = curl_easy_perform (curl);
  if (rc != CURLE_OK)
    {
      free (resp.data);
      if (resp.too_big)
        return arca_error_set (err, EMSGSIZE, "vm `%s`: %s %s: response over %u bytes", name,
                               method, path, RESPONSE_MAX);
      return arca_error_set (err, ECONNREFUSED, "vm `%s`: %s %s: %s (is the VM running?)", name,
                             method, path, errbuf[0] ? errbuf : curl_easy_strerror (rc));
    }
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400)
    {
      json_t *j = resp.data ? json_loads (resp.data, 0, NULL) : NULL;
      const char *fault = json_string_value (json_object_get (j, "fault_message"));
      arca_error_set (err, EINVAL, "vm `%s`: %s %s: %s", name, method, path,
                      fault ? fault : (resp.data ? resp.data : "error"));
      json_decref (j);
      free (resp.data);
      return -1;
    }
  if (ret_status)
    *ret_status = status;
  if (ret_body)
    *ret_body = resp.data ? resp.data : strdup ("");
  else
    free (resp.data);
  return 0;
}

int
arca_vm_request (struct arca_engine *e, const char *name, const char *method, const char *path,
                 const char *body, long *ret_status, char **ret_body, arca_error **err)
{
  /* A live migration of a big guest is the longest request. */
  return request (e, name, method, path, body, 600, ret_status, ret_body, err);
}

int
arca_vm_state (struct arca_engine *e, const char *name, char **ret_state, pid_t *ret_pid,
               arca_error **err)
{
  cleanup_free char *dir = NULL, *body = NULL;
  struct stat st;

  if (arca_vm_path (e, name, NULL, &dir, err) < 0)
    return -1;
  if (stat (dir, &st) < 0)
    return errno == ENOENT ? arca_error_set (err, ENOENT, "no such vm `%s`", name)
                           : arca_error_errno (err, "stat `%s`", dir);
  pid_t pid = running_pid (e, name);
  const char *state = "Stopped";
  json_t *j = NULL;
  if (pid > 0)
    {
      cleanup_error arca_error *ignored = NULL;
      /* Between the process's start and its API answering it is starting. */
      state = "Starting";
      if (request (e, name, "GET", "/", NULL, 3, NULL, &body, &ignored) == 0
          && (j = json_loads (body, 0, NULL)) != NULL
          && json_is_string (json_object_get (j, "state")))
        state = json_string_value (json_object_get (j, "state"));
    }
  *ret_state = strdup (state);
  json_decref (j);
  if (*ret_state == NULL)
    return arca_error_set (err, ENOMEM, "vm state");
  if (ret_pid)
    *ret_pid = pid;
  return 0;
}

int
arca_vm_list (struct arca_engine *e, char ***ret_names, arca_error **err)
{
  cleanup_free char *dir = NULL;
  cleanup_close int fd = -1;
  size_t n = 0;

  if (asprintf (&dir, "%s/vms", e->run_root) < 0)
    return arca_error_set (err, ENOMEM, "path");
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno != ENOENT)
        return arca_error_errno (err, "open `%s`", dir);
      *ret_names = calloc (1, sizeof (char *));
      return *ret_names ? 0 : arca_error_set (err, ENOMEM, "vm list");
    }
  return arca_dir_list_sorted (fd, ret_names, &n, err);
}

static bool
wait_gone (pid_t pid, struct arca_engine *e, const char *name, int ms)
{
  for (int waited = 0; waited < ms; waited += 20)
    {
      if (running_pid (e, name) != pid)
        return true;
      /* Our own child (a VMM that failed right after we started it). */
      (void) waitpid (pid, NULL, WNOHANG);
      nanosleep (&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
    }
  return running_pid (e, name) != pid;
}

int
arca_vm_stop (struct arca_engine *e, const char *name, int timeout, arca_error **err)
{
  cleanup_free char *state = NULL;
  pid_t pid;

  if (arca_vm_state (e, name, &state, &pid, err) < 0)
    return -1;
  if (pid == 0)
    return 0;
  if (timeout < 0)
    timeout = 10;
  if (timeout > 0 && strcmp (state, "Running") == 0)
    {
      cleanup_error arca_error *ignored = NULL;
      (void) arca_vm_request (e, name, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}",
                              NULL, NULL, &ignored);
      if (wait_gone (pid, e, name, timeout * 1000))
        return 0;
    }
  /* The VMM stops its vCPUs and removes its socket on SIGTERM. */
  if (kill (pid, SIGTERM) < 0 && errno != ESRCH)
    return arca_error_errno (err, "vm `%s`: kill %d", name, pid);
  if (wait_gone (pid, e, name, 2000))
    return 0;
  if (kill (pid, SIGKILL) < 0 && errno != ESRCH)
    return arca_error_errno (err, "vm `%s`: kill %d", name, pid);
  if (!wait_gone (pid, e, name, 5000))
    return arca_error_set (err, ETIMEDOUT, "vm `%s`: process %d does not exit", name, pid);
  return 0;
}

int
arca_vm_remove (struct arca_engine *e, const char *name, bool force, arca_error **err)
{
  cleanup_free char *state = NULL, *dir = NULL;
  pid_t pid;

  if (arca_vm_state (e, name, &state, &pid, err) < 0 || arca_vm_path (e, name, NULL, &dir, err) < 0)
    return -1;
  if (pid > 0 && !force)
    return arca_error_set (err, EBUSY, "vm `%s` is %s: stop it first or use -f", name, state);
  if (pid > 0 && arca_vm_stop (e, name, 0, err) < 0)
    return -1;
  return arca_rm_rf_at (AT_FDCWD, dir, err);
}

static int
push (char **argv, size_t *n, size_t cap, const char *s)
{
  if (*n + 1 >= cap)
    return -1;
  argv[(*n)++] = (char *) s;
  argv[*n] = NULL;
  return 0;
}

/* The last line the VMM wrote to vmm.log: its error when it failed. */
static char *
last_line (const char *path)
{
  cleanup_free char *text = NULL;
  cleanup_error arca_error *ignored = NULL;
  if (arca_read_file_at (AT_FDCWD, path, 1 << 16, &text, NULL, &ignored) < 0)
    return NULL;
  size_t n = strlen (text);
  while (n > 0 && text[n - 1] == '\n')
    text[--n] = '\0';
  char *nl = strrchr (text, '\n');
  return strdup (nl ? nl + 1 : text);
}

/* unix:PATH exists, or tcp:HOST:PORT has a listening socket of pid's. */
static bool
incoming_listens (pid_t pid, const char *addr)
{
  if (strncmp (addr, "unix:", 5) == 0)
    return access (addr + 5, F_OK) == 0;
  const char *colon = strrchr (addr, ':');
  if (strncmp (addr, "tcp:", 4) != 0 || colon == NULL)
    return false;
  unsigned port = (unsigned) strtoul (colon + 1, NULL, 10);
  static const char *const tables[] = { "tcp", "tcp6" };
  for (size_t t = 0; t < ARRAY_SIZE (tables); t++)
    {
      char path[64], line[256];
      snprintf (path, sizeof path, "/proc/%d/net/%s", (int) pid, tables[t]);
      cleanup_file FILE *f = fopen (path, "re");
      while (f && fgets (line, sizeof line, f))
        {
          unsigned local_port, state;
          /* "  0: 0100007F:1F90 00000000:0000 0A ..." (0A = LISTEN) */
          if (sscanf (line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &local_port, &state) == 2
              && local_port == port && state == 0x0A)
            return true;
        }
    }
  return false;
}

static int
load_snapshot (struct arca_engine *e, const char *name, const char *state, const char *mem,
               bool resume, arca_error **err)
{
  json_t *j = json_pack ("{s:s, s:s, s:b}", "snapshot_path", state, "mem_file_path", mem,
                         "resume_vm", resume);
  cleanup_free char *body = j ? json_dumps (j, JSON_COMPACT) : NULL;
  json_decref (j);
  if (body == NULL)
    return arca_error_set (err, ENOMEM, "snapshot load request");
  return arca_vm_request (e, name, "PUT", "/snapshot/load", body, NULL, NULL, err);
}

static void
child_exec (const char *log_path, char **argv)
{
  int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  int log = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (null < 0 || log < 0 || dup2 (null, 0) < 0 || dup2 (log, 1) < 0 || dup2 (log, 2) < 0)
    _exit (127);
  /* Its own session: the VM outlives this command and its terminal. */
  setsid ();
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  execv (argv[0], argv);
  dprintf (2, "arca vm: exec `%s`: %s\n", argv[0], strerror (errno));
  _exit (127);
}

int
arca_vm_start (struct arca_engine *e, const struct arca_vm_options *o, pid_t *ret_pid,
               arca_error **err)
{
  cleanup_free char *vmm = NULL, *vms = NULL, *dir = NULL, *sock = NULL, *serial = NULL,
                    *log = NULL, *pid_path = NULL, *state = NULL, *mem = NULL, *mem_s = NULL,
                    *cpus_s = NULL, *balloon_s = NULL;
  char *argv[64];
  size_t argc = 0;
  int sources = !!o->kernel + !!o->restore_dir + !!o->incoming;

  if (sources != 1)
    return arca_error_set (err, EINVAL, "vm: exactly one of --kernel, --restore and --incoming");
  if (arca_vm_path (e, o->name, NULL, &dir, err) < 0
      || arca_vm_path (e, o->name, "api.sock", &sock, err) < 0
      || arca_vm_path (e, o->name, "vmm.log", &log, err) < 0
      || arca_vm_path (e, o->name, "pid", &pid_path, err) < 0)
    return -1;
  if (strlen (sock) >= 108)
    return arca_error_set (err, ENAMETOOLONG, "vm `%s`: socket path `%s` too long", o->name, sock);
  if (arca_engine_find_tool ("ARCA_VMM_PATH", "../vmm", "arca-vmm", &vmm, err) < 0)
    return -1;
  if (access ("/dev/kvm", R_OK | W_OK) < 0)
    return arca_error_errno (err, "/dev/kvm");
  if (o->kernel && access (o->kernel, R_OK) < 0)
    return arca_error_errno (err, "vm: kernel `%s`", o->kernel);
  if (asprintf (&vms, "%s/vms", e->run_root) < 0 || asprintf (&serial, "file:%s/console.log", dir) < 0)
    return arca_error_set (err, ENOMEM, "path");
  if (arca_mkdir_p (vms, 0700, err) < 0)
    return -1;
  if (mkdir (dir, 0700) < 0)
    return errno == EEXIST ? arca_error_set (err, EEXIST, "vm `%s` already exists", o->name)
                           : arca_error_errno (err, "mkdir `%s`", dir);

  push (argv, &argc, ARRAY_SIZE (argv), vmm);
  push (argv, &argc, ARRAY_SIZE (argv), "--api-sock");
  push (argv, &argc, ARRAY_SIZE (argv), sock);
  push (argv, &argc, ARRAY_SIZE (argv), "--serial");
  push (argv, &argc, ARRAY_SIZE (argv), serial);
  if (o->kernel)
    {
      push (argv, &argc, ARRAY_SIZE (argv), "--kernel");
      push (argv, &argc, ARRAY_SIZE (argv), o->kernel);
      if (o->initrd)
        push (argv, &argc, ARRAY_SIZE (argv), "--initrd"), push (argv, &argc, ARRAY_SIZE (argv), o->initrd);
      if (o->cmdline)
        push (argv, &argc, ARRAY_SIZE (argv), "--cmdline"), push (argv, &argc, ARRAY_SIZE (argv), o->cmdline);
    }
  else if (o->restore_dir)
    {
      /* Restored through the API (PUT /snapshot/load) once it answers:
         arca-vmm's own --restore serves no API. */
      cleanup_free char *abs = realpath (o->restore_dir, NULL);
      if (abs == NULL)
        {
          int saved = errno;
          rmdir (dir);
          return arca_error_set (err, saved, "vm restore: snapshot directory `%s`", o->restore_dir);
        }
      if (asprintf (&state, "%s/state", abs) < 0 || asprintf (&mem, "%s/mem", abs) < 0)
        return arca_error_set (err, ENOMEM, "path");
    }
  else
    {
      push (argv, &argc, ARRAY_SIZE (argv), "--incoming");
      push (argv, &argc, ARRAY_SIZE (argv), o->incoming);
      if (o->paused)
        push (argv, &argc, ARRAY_SIZE (argv), "--paused");
    }
  if (o->memory_mib)
    {
      if (asprintf (&mem_s, "%u", o->memory_mib) < 0)
        return arca_error_set (err, ENOMEM, "args");
      push (argv, &argc, ARRAY_SIZE (argv), "--memory"), push (argv, &argc, ARRAY_SIZE (argv), mem_s);
    }
  if (o->cpus)
    {
      if (asprintf (&cpus_s, "%u", o->cpus) < 0)
        return arca_error_set (err, ENOMEM, "args");
      push (argv, &argc, ARRAY_SIZE (argv), "--cpus"), push (argv, &argc, ARRAY_SIZE (argv), cpus_s);
    }
  for (size_t i = 0; o->drives && o->drives[i]; i++)
    if (push (argv, &argc, ARRAY_SIZE (argv), "--drive") < 0
        || push (argv, &argc, ARRAY_SIZE (argv), o->drives[i]) < 0)
      {
        rmdir (dir);
        return arca_error_set (err, E2BIG, "vm: too many drives");
      }
  if (o->net)
    push (argv, &argc, ARRAY_SIZE (argv), "--net"), push (argv, &argc, ARRAY_SIZE (argv), o->net);
  if (o->vsock)
    push (argv, &argc, ARRAY_SIZE (argv), "--vsock"), push (argv, &argc, ARRAY_SIZE (argv), o->vsock);
  if (o->balloon)
    {
      if (asprintf (&balloon_s, "%u", o->balloon_mib) < 0)
        return arca_error_set (err, ENOMEM, "args");
      push (argv, &argc, ARRAY_SIZE (argv), "--balloon"), push (argv, &argc, ARRAY_SIZE (argv), balloon_s);
    }
  if (o->rng)
    push (argv, &argc, ARRAY_SIZE (argv), "--rng");

  pid_t pid = fork ();
  if (pid < 0)
    {
      int saved = errno;
      cleanup_error arca_error *ignored = NULL;
      arca_rm_rf_at (AT_FDCWD, dir, &ignored);
      return arca_error_set (err, saved, "vm `%s`: fork", o->name);
    }
  if (pid == 0)
    child_exec (log, argv);

  /* Without its pid file the VM could not be found again: a VMM we cannot
     track is not left running. */
  uint64_t start = 0;
  char pid_text[64];
  if (arca_pid_start_time (pid, &start, err) < 0
      || (snprintf (pid_text, sizeof pid_text, "%d %llu\n", pid, (unsigned long long) start),
          arca_write_file_atomic_at (AT_FDCWD, pid_path, pid_text, strlen (pid_text), 0600, err))
             < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      cleanup_error arca_error *ignored = NULL;
      arca_rm_rf_at (AT_FDCWD, dir, &ignored);
      return arca_error_wrap (err, "vm `%s`: record the VMM's pid", o->name);
    }

  /* Ready when the API answers (a receiver: when it listens for the
     migration; its API answers only after that); a VMM that exits first
     failed, and its last message says why. */
  for (int waited = 0; waited < 30000; waited += 10)
    {
      int status;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          cleanup_free char *why = last_line (log);
          cleanup_error arca_error *ignored = NULL;
          arca_rm_rf_at (AT_FDCWD, dir, &ignored);
          return arca_error_set (err, EIO, "vm `%s`: arca-vmm exited (%d): %s", o->name,
                                 WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status),
                                 why && *why ? why : "no message");
        }
      cleanup_error arca_error *not_yet = NULL;
      bool ready = o->incoming ? incoming_listens (pid, o->incoming)
                               : access (sock, F_OK) == 0
                                     && request (e, o->name, "GET", "/", NULL, 3, NULL, NULL, &not_yet) == 0;
      if (ready)
        {
          if (o->restore_dir && load_snapshot (e, o->name, state, mem, !o->paused, err) < 0)
            {
              kill (pid, SIGKILL);
              waitpid (pid, NULL, 0);
              cleanup_error arca_error *ignored = NULL;
              arca_rm_rf_at (AT_FDCWD, dir, &ignored);
              return -1;
            }
          if (ret_pid)
            *ret_pid = pid;
          return 0;
        }
      nanosleep (&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  cleanup_error arca_error *ignored = NULL;
  arca_rm_rf_at (AT_FDCWD, dir, &ignored);
  return arca_error_set (err, ETIMEDOUT, "vm `%s`: arca-vmm did not answer on `%s` within 30 s",
                         o->name, sock);
}

int
arca_vm_snapshot (struct arca_engine *e, const char *name, const char *dir, bool leave_paused,
                  arca_error **err)
{
  cleanup_free char *state = NULL, *snap = NULL, *mem = NULL, *body = NULL;
  pid_t pid;

  if (arca_vm_state (e, name, &state, &pid, err) < 0)
    return -1;
  if (pid == 0)
    return arca_error_set (err, ESRCH, "vm `%s` is not running", name);
  if (arca_mkdir_p (dir, 0700, err) < 0)
    return -1;
  if (asprintf (&snap, "%s/state", dir) < 0 || asprintf (&mem, "%s/mem", dir) < 0)
    return arca_error_set (err, ENOMEM, "path");
  bool was_running = strcmp (state, "Running") == 0;
  if (was_running
      && arca_vm_request (e, name, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL, NULL, err) < 0)
    return -1;
  json_t *j = json_pack ("{s:s, s:s}", "snapshot_path", snap, "mem_file_path", mem);
  body = j ? json_dumps (j, JSON_COMPACT) : NULL;
  json_decref (j);
  int r = body ? arca_vm_request (e, name, "PUT", "/snapshot/create", body, NULL, NULL, err)
               : arca_error_set (err, ENOMEM, "snapshot request");
  if (was_running && (!leave_paused || r < 0))
    {
      /* Never leave a VM paused because a snapshot failed. */
      cleanup_error arca_error *resume_err = NULL;
      if (arca_vm_request (e, name, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL, NULL,
                           r < 0 ? &resume_err : err)
              < 0
          && r == 0)
        return -1;
    }
  return r;
}
