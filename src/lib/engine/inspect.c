/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `arca inspect CONTAINER`: one container as Docker and Podman show it, so
 * the scripts and --format templates written for them read the same
 * fields (State.Status, Config.Env, NetworkSettings.Networks.*.IPAddress,
 * ...), with the OCI config.json the runtime got beside it. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/inspect.h"
#include "engine/network-bridge.h"
#include "engine/network-user.h"
#include "net/hostdb.h"
#include "net/nft.h"
#include "util/cleanup.h"
#include "util/log.h"

/* Docker's words for the states: what State.Status and `ps --format
 * {{.State}}` say. */
const char *
arca_engine_state_name (enum arca_engine_status status)
{
  switch (status)
    {
    case ARCA_ENGINE_CREATED: return "created";
    case ARCA_ENGINE_RUNNING: return "running";
    case ARCA_ENGINE_PAUSED: return "paused";
    case ARCA_ENGINE_EXITED: return "exited";
    }
  return "unknown";
}

/* RFC 3339 (util/log.h), Go's zero time for "never". */
static void
rfc3339 (int64_t sec, int64_t nsec, char *buf, size_t size)
{
  const struct timespec ts = { .tv_sec = (time_t) sec, .tv_nsec = (long) nsec };

  if (sec <= 0)
    snprintf (buf, size, "0001-01-01T00:00:00Z");
  else
    arca_time_rfc3339 (&ts, buf, size);
}

/* Config as Docker's: from the OCI process the container runs. */
static json_t *
docker_config (const struct arca_engine_container *c, json_t *oci)
{
  json_t *process = json_object_get (oci, "process");
  json_t *user = json_object_get (process, "user");
  char user_text[48] = "";

  if (json_is_object (user))
    snprintf (user_text, sizeof user_text, "%lld:%lld",
              (long long) json_integer_value (json_object_get (user, "uid")),
              (long long) json_integer_value (json_object_get (user, "gid")));
  json_t *env = json_object_get (process, "env");
  json_t *args = json_object_get (process, "args");
  json_t *labels = json_object_get (oci, "annotations");
  return json_pack ("{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:b, s:s*}",
                    "Hostname", json_string_value (json_object_get (oci, "hostname")) ?: "",
                    "User", user_text, "Env", json_is_array (env) ? json_incref (env) : json_array (),
                    "Cmd", json_is_array (args) ? json_incref (args) : json_null (), "Image", c->image,
                    "WorkingDir", json_string_value (json_object_get (process, "cwd")) ?: "/",
                    "Labels", json_is_object (labels) ? json_incref (labels) : json_object (), "Tty",
                    json_is_true (json_object_get (process, "terminal")), "StopSignal",
                    c->stop_signal);
}

/* NetworkSettings: each network's address (the endpoint rows), gateway
 * and prefix (the network's own inspect), and the published ports. */
static json_t *
network_settings (struct arca_engine *e, const struct arca_engine_container *c)
{
  cleanup_hostdb sqlite3 *hdb = NULL;
  cleanup_error arca_error *ignored = NULL;
  struct arca_endpoint *eps = NULL;
  size_t n_eps = 0, n_ports = 0;
  cleanup_free struct arca_nft_port *ports = NULL;
  json_t *networks = json_object (), *port_map = json_object ();
  const char *first_ip = "", *first_gw = "", *first_mac = "";
  json_int_t first_prefix = 0;

  if (arca_net_hostdb_open (&hdb, &ignored) == 0
      && arca_endpoint_list (hdb, e->root, c->id, NULL, &eps, &n_eps, &ignored) == 0)
    for (size_t i = 0; i < n_eps; i++)
      {
        char ip[INET_ADDRSTRLEN] = "";
        json_t *net = NULL;
        cleanup_error arca_error *no_net = NULL;
        if (eps[i].address.s_addr)
          inet_ntop (AF_INET, &eps[i].address, ip, sizeof ip);
        arca_network_inspect (e, eps[i].network, &net, &no_net);
        json_t *ipam = json_array_get (json_object_get (json_object_get (net, "IPAM"), "Config"), 0);
        const char *gw = json_string_value (json_object_get (ipam, "Gateway")) ?: "";
        const char *subnet = json_string_value (json_object_get (ipam, "Subnet")) ?: "";
        const char *slash = strchr (subnet, '/');
        json_int_t prefix = slash ? atoi (slash + 1) : 0;
        json_object_set_new (networks, eps[i].network,
                             json_pack ("{s:s, s:s, s:I, s:s, s:s}", "NetworkID",
                                        json_string_value (json_object_get (net, "Id")) ?: "",
                                        "IPAddress", ip, "IPPrefixLen", prefix, "Gateway", gw,
                                        "MacAddress", eps[i].mac ? eps[i].mac : ""));
        json_t *added = json_object_get (networks, eps[i].network);
        if (*first_ip == '\0' && added)
          {
            first_ip = json_string_value (json_object_get (added, "IPAddress"));
            first_gw = json_string_value (json_object_get (added, "Gateway"));
            first_mac = json_string_value (json_object_get (added, "MacAddress"));
            first_prefix = prefix;
          }
        json_decref (net);
      }
  if (c->status == ARCA_ENGINE_RUNNING || c->status == ARCA_ENGINE_PAUSED)
    {
      arca_error_freep (&ignored);
      arca_engine_ports (e, c->id, &ports, &n_ports, &ignored);
    }
  for (size_t i = 0; i < n_ports; i++)
    {
      char key[24], hip[INET_ADDRSTRLEN], hport[8];
      snprintf (key, sizeof key, "%u/%s", ports[i].container_port, ports[i].proto);
      inet_ntop (AF_INET, &ports[i].host_ip, hip, sizeof hip);
      snprintf (hport, sizeof hport, "%u", ports[i].host_port);
      json_t *list = json_object_get (port_map, key);
      if (list == NULL)
        {
          list = json_array ();
          json_object_set_new (port_map, key, list);
        }
      json_array_append_new (list, json_pack ("{s:s, s:s}", "HostIp", hip, "HostPort", hport));
    }
  /* The top-level fields are the first network's, as Docker's are the
   * default bridge's. */
  json_t *out = json_pack ("{s:s, s:I, s:s, s:s, s:o*, s:o*}", "IPAddress", first_ip ?: "",
                           "IPPrefixLen", first_prefix, "Gateway", first_gw ?: "", "MacAddress",
                           first_mac ?: "", "Ports", port_map, "Networks", networks);
  arca_endpoints_free (eps, n_eps);
  return out;
}

int
arca_engine_inspect (struct arca_engine *e, const char *name_or_id, json_t **ret,
                     arca_error **err)
{
  _cleanup_ (arca_engine_container_freep) struct arca_engine_container *c = NULL;
  cleanup_free char *config_path = NULL;
  char created[64], finished[64];

  if (arca_engine_get (e, name_or_id, &c, err) < 0
      || arca_engine_container_dir (e, c->id, "config.json", &config_path, err) < 0)
    return -1;
  json_t *oci = json_load_file (config_path, 0, NULL);
  rfc3339 (c->created, 0, created, sizeof created);
  if (c->status == ARCA_ENGINE_EXITED)
    rfc3339 (c->finished_ns / 1000000000, c->finished_ns % 1000000000, finished, sizeof finished);
  else
    rfc3339 (0, 0, finished, sizeof finished);
  json_t *args = json_object_get (json_object_get (oci, "process"), "args");
  json_t *rest = json_array ();
  for (size_t i = 1; json_is_array (args) && i < json_array_size (args); i++)
    json_array_append (rest, json_array_get (args, i));
  json_t *doc = json_pack (
      "{s:s, s:s, s:s, s:s*, s:o, s:s, s:s,"
      " s:{s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:i, s:s},"
      " s:o, s:{s:s, s:s*}, s:o, s:s*, s:o}",
      "Id", c->id, "Created", created, "Name", c->name, "Path",
      json_is_array (args) ? json_string_value (json_array_get (args, 0)) : NULL, "Args", rest,
      "Image", c->image_id, "ImageName", c->image,
      "State", "Status", arca_engine_state_name (c->status), "Running",
      c->status == ARCA_ENGINE_RUNNING, "Paused", c->status == ARCA_ENGINE_PAUSED, "Restarting", 0,
      "OOMKilled", 0, "Dead", 0, "Pid", (json_int_t) (c->status == ARCA_ENGINE_EXITED ? 0 : c->pid),
      "ExitCode", c->exit_code, "FinishedAt", finished,
      "Config", docker_config (c, oci),
      /* As Kata's: a VM run says so here. */
      "HostConfig", "Runtime", c->vm ? "arca-vmm" : "arca", "StopSignal", c->stop_signal,
      "NetworkSettings", network_settings (e, c), "Pod", c->pod,
      "OCIConfig", oci ? oci : json_null ());
  if (doc == NULL)
    return arca_error_set (err, ENOMEM, "inspect %s", c->name);
  *ret = doc;
  return 0;
}
