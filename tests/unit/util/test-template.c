/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --format templates: what Docker users write against inspect's JSON, and
 * the errors they get for what Go's text/template refuses too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/template.h"

static const char *inspect_json =
  "{\"Id\": \"4f2a\", \"Name\": \"/web\", \"RestartCount\": 2, \"Ratio\": 1.5, \"Big\": 3e20,"
  " \"State\": {\"Status\": \"running\", \"Running\": true, \"Pid\": 4242, \"ExitCode\": 0},"
  " \"Config\": {\"Env\": [\"PATH=/bin\", \"A=1\"], \"Labels\": {\"b\": \"2\", \"a\": \"x y\"},"
  "   \"Cmd\": null, \"Empty\": \"\"},"
  " \"NetworkSettings\": {\"Networks\": {\"net2\": {\"IPAddress\": \"10.0.2.5\"},"
  "   \"bridge\": {\"IPAddress\": \"10.88.0.3\"}}}}";

/* Renders tmpl over inspect_json; returns the output (static buffer). */
static const char *
render (const char *tmpl)
{
  static char out[4096];
  cleanup_error arca_error *err = NULL;
  arca_template *t = NULL;
  json_t *data = json_loads (inspect_json, 0, NULL);
  char *text = NULL;
  size_t len = 0;

  assert_non_null (data);
  if (arca_template_parse (tmpl, &t, &err) < 0)
    fail_msg ("parse `%s`: %s", tmpl, err->msg);
  if (arca_template_render (t, data, &text, &len, &err) < 0)
    fail_msg ("render `%s`: %s", tmpl, err->msg);
  assert_int_equal (strlen (text), len);
  snprintf (out, sizeof out, "%s", text);
  free (text);
  arca_template_free (t);
  json_decref (data);
  return out;
}

/* The error of parsing, or else of rendering, tmpl. */
static const char *
error_of (const char *tmpl)
{
  static char msg[512];
  cleanup_error arca_error *err = NULL;
  arca_template *t = NULL;
  json_t *data = json_loads (inspect_json, 0, NULL);
  char *text = NULL;

  if (arca_template_parse (tmpl, &t, &err) == 0)
    {
      if (arca_template_render (t, data, &text, NULL, &err) == 0)
        fail_msg ("`%s` rendered `%s`, expected an error", tmpl, text);
      arca_template_free (t);
    }
  assert_non_null (err);
  snprintf (msg, sizeof msg, "%s", err->msg);
  json_decref (data);
  return msg;
}

static void
test_fields_and_text (void **state)
{
  assert_string_equal (render ("{{.State.Status}}"), "running");
  assert_string_equal (render ("pid={{.State.Pid}} code={{.State.ExitCode}}\n"), "pid=4242 code=0\n");
  assert_string_equal (render ("{{.State.Running}} {{.Ratio}} {{.Big}}"), "true 1.5 3e+20");
  assert_string_equal (render ("{{$.Name}}"), "/web");
  assert_string_equal (render ("{{.Nope}}|{{.State.Nope}}|{{.Nope.Deeper}}"),
                       "<no value>|<no value>|<no value>");
  assert_string_equal (render ("{{.Config.Cmd}}"), "<nil>");
  /* Go's fmt: maps with sorted keys, lists space-separated. */
  assert_string_equal (render ("{{.Config.Labels}} {{.Config.Env}}"), "map[a:x y b:2] [PATH=/bin A=1]");
  assert_string_equal (render ("no actions at all"), "no actions at all");
  assert_string_equal (render (""), "");
  assert_string_equal (render ("a {{/* a comment */}}b"), "a b");
}

static void
test_functions (void **state)
{
  assert_string_equal (render ("{{json .State}}"),
                       "{\"Status\":\"running\",\"Running\":true,\"Pid\":4242,\"ExitCode\":0}");
  assert_string_equal (render ("{{.Config.Env | json}}"), "[\"PATH=/bin\",\"A=1\"]");
  assert_string_equal (render ("{{json .Nope}}"), "null");
  assert_string_equal (render ("{{index .Config.Labels \"a\"}}"), "x y");
  assert_string_equal (render ("{{index .Config.Env 1}}"), "A=1");
  assert_string_equal (render ("{{index .NetworkSettings.Networks \"bridge\" | json}}"),
                       "{\"IPAddress\":\"10.88.0.3\"}");
  assert_string_equal (render ("{{upper .State.Status}} {{lower \"AbC\"}}"), "RUNNING abc");
  assert_string_equal (render ("{{len .Config.Env}} {{len .Config.Labels}} {{len .Id}}"), "2 2 4");
  assert_string_equal (render ("{{join .Config.Env \",\"}}"), "PATH=/bin,A=1");
  assert_string_equal (render ("{{println .Id .RestartCount}}"), "4f2a 2\n");
  assert_string_equal (render ("{{printf \"%s has %d restarts, %v%%\" .Name .RestartCount true}}"),
                       "/web has 2 restarts, true%");
  assert_string_equal (render ("{{printf \"%q\" .Name}}"), "\"/web\"");
  assert_string_equal (render ("{{printf \"%s %s\" .Id}}"), "4f2a %!s(MISSING)");
  assert_string_equal (render ("{{json (index .Config.Env 0)}}"), "\"PATH=/bin\"");
  assert_string_equal (render ("{{`raw \\n`}}|{{\"esc\\t\\\"q\\\"\"}}"), "raw \\n|esc\t\"q\"");
}

static void
test_blocks (void **state)
{
  /* The one every Docker user has pasted: each network's address. */
  assert_string_equal (render ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"),
                       "10.88.0.3 10.0.2.5 "); /* keys sorted, as Go ranges a map */
  assert_string_equal (render ("{{range .Config.Env}}[{{.}}]{{end}}"), "[PATH=/bin][A=1]");
  assert_string_equal (render ("{{range .Config.Cmd}}x{{else}}no cmd{{end}}"), "no cmd");
  assert_string_equal (render ("{{range .Config.Env}}{{$.Id}}:{{.}} {{end}}"), "4f2a:PATH=/bin 4f2a:A=1 ");
  assert_string_equal (render ("{{if .State.Running}}up{{else}}down{{end}}"), "up");
  assert_string_equal (render ("{{if .State.ExitCode}}failed{{else if .Config.Empty}}e{{else}}ok{{end}}"),
                       "ok");
  assert_string_equal (render ("{{if .Nope}}a{{else if .Id}}b{{end}}"), "b");
  assert_string_equal (render ("{{with .State}}{{.Status}}/{{.Pid}}{{end}}"), "running/4242");
  assert_string_equal (render ("{{with .Nope}}x{{else}}none{{end}}"), "none");
  /* Trim markers eat the white space beside them. */
  assert_string_equal (render ("a  {{- .Id -}}  \n b"), "a4f2ab");
  assert_string_equal (render ("{{range .Config.Env -}}\n  {{.}}\n{{- end}}"), "PATH=/binA=1");
}

static void
test_errors (void **state)
{
  assert_non_null (strstr (error_of ("{{.State.Status"), "unclosed action"));
  assert_non_null (strstr (error_of ("x\n  {{nope .A}}"), "template: 2:3: function \"nope\" not defined"));
  assert_non_null (strstr (error_of ("{{if .A}}x"), "without {{end}}"));
  assert_non_null (strstr (error_of ("{{end}}"), "unexpected {{end}}"));
  assert_non_null (strstr (error_of ("{{if .A}}{{else}}{{else}}{{end}}"), "second {{else}}"));
  assert_non_null (strstr (error_of ("{{}}"), "missing value"));
  assert_non_null (strstr (error_of ("{{.A .B}}"), "non-function"));
  assert_non_null (strstr (error_of ("{{.A | .B}}"), "non-function"));
  assert_non_null (strstr (error_of ("{{\"open}}"), "unclosed action"));
  assert_non_null (strstr (error_of ("{{(json .A}}"), "missing `)`"));
  assert_non_null (strstr (error_of ("{{json .A)}}"), "unexpected `)`"));
  assert_non_null (strstr (error_of ("{{.State.Status.Deeper}}"), "can't evaluate field Deeper in a string"));
  assert_non_null (strstr (error_of ("{{index .Config.Env 5}}"), "index out of range"));
  assert_non_null (strstr (error_of ("{{range .Id}}x{{end}}"), "range can't iterate"));
  assert_non_null (strstr (error_of ("{{json}}"), "json takes 1 argument"));
  assert_non_null (strstr (error_of ("{{len .State.Pid}}"), "no length"));
  assert_non_null (strstr (error_of ("{{range .A}}{{else if .B}}{{end}}"), "else if"));
  /* Deep nesting is refused, not a stack overflow. */
  char deep[64 * 16 + 64] = "";
  for (int i = 0; i < 70; i++)
    strcat (deep, "{{if .A}}");
  assert_non_null (strstr (error_of (deep), "nested too deeply"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fields_and_text),
    cmocka_unit_test (test_functions),
    cmocka_unit_test (test_blocks),
    cmocka_unit_test (test_errors),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
