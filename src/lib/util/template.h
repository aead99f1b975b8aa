/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `--format '{{...}}'`: the part of Go's text/template that Docker and
 * Podman users put in scripts, evaluated over JSON (what inspect prints).
 *
 *   {{.A.B}}  {{$.A}}  {{.}}            fields of dot, of the root, dot
 *   {{json .A}}  {{.A | json}}          pipelines; functions: json, upper,
 *                                       lower, len, index, join, println,
 *                                       printf (%s %d %v %q %%)
 *   {{if P}}..{{else if P}}..{{else}}..{{end}}, {{range P}}..{{else}}..{{end}},
 *   {{with P}}..{{end}}                 (range and with rebind dot)
 *   "str" `raw` 12 true false (..)      literals, sub-pipelines
 *   {{- ... -}}                         trims the white space beside it
 *
 * Values print as Go prints them: strings raw, whole numbers without a
 * point, objects as map[k:v ...] with sorted keys, arrays as [a b], a
 * missing field as <no value>. */
#ifndef ARCA_UTIL_TEMPLATE_H
#define ARCA_UTIL_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

typedef struct arca_template arca_template;

/* Parses text; a syntax error says where ("template: 1:7: ..."). */
int arca_template_parse (const char *text, arca_template **ret, arca_error **err);
/* Renders t with dot (and $) = data; *ret is a NUL-terminated malloc'd
 * string of *ret_len bytes. */
int arca_template_render (const arca_template *t, json_t *data, char **ret, size_t *ret_len,
                          arca_error **err);
void arca_template_free (arca_template *t);
void arca_template_freep (arca_template **t);

#endif
