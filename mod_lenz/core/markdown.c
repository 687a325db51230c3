/* markdown.c - Markdown to safe HTML through libcmark (markdown.h). */
#include <apr_strings.h>
#include <apr_lib.h>
#include <stdlib.h>
#include <string.h>
#include <cmark.h>

#include "markdown.h"

/* Quote markers ('>') at the start of any line, a cheap bound before
 * parsing: "> > > ..." ten thousand deep never reaches the parser. */
static int quote_depth(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    int most = 0;
    while (i < len) {
        int d = 0;
        while (i < len && (s[i] == '>' || s[i] == ' ' || s[i] == '\t')) {
            if (s[i] == '>')
                d++;
            i++;
        }
        if (d > most)
            most = d;
        while (i < len && s[i] != '\n')
            i++;
        i++;
    }
    return most;
}

/* A URL a member may link: http, https, mailto, or one without a scheme
 * (relative: "/files", "#top", "page?a=b:c"). */
static int url_ok(const char *url)
{
    const char *c;
    if (!url || !*url)
        return 1;
    for (c = url; *c && *c != ':' && *c != '/' && *c != '?' && *c != '#'; c++)
        if (!apr_isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
            return 0;               /* a control character or space where a scheme would be */
    if (*c != ':')
        return 1;
    return !strncasecmp(url, "http:", 5) || !strncasecmp(url, "https:", 6) || !strncasecmp(url, "mailto:", 7);
}

static int container(cmark_node_type t)
{
    return t == CMARK_NODE_BLOCK_QUOTE || t == CMARK_NODE_LIST || t == CMARK_NODE_ITEM;
}

apr_status_t lenz_md_render(apr_pool_t *p, const char *text, apr_size_t len, const char **html,
                            const char **why)
{
    cmark_node *doc;
    cmark_iter *it;
    cmark_event_type ev;
    char *out;
    int depth = 0;

    *why = NULL;
    if (quote_depth(text, len) > LENZ_MD_MAX_DEPTH) {
        *why = apr_psprintf(p, "quotes are nested more than %d deep", LENZ_MD_MAX_DEPTH);
        return APR_EINVAL;
    }
    doc = cmark_parse_document(text, len, CMARK_OPT_VALIDATE_UTF8);
    if (!doc) {
        *why = "it could not be read as Markdown";
        return APR_EINVAL;
    }
    it = cmark_iter_new(doc);
    while (!*why && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        if (container(t)) {
            depth += ev == CMARK_EVENT_ENTER ? 1 : -1;
            if (depth > LENZ_MD_MAX_DEPTH)
                *why = apr_psprintf(p, "lists and quotes are nested more than %d deep", LENZ_MD_MAX_DEPTH);
        }
        else if (ev == CMARK_EVENT_ENTER && (t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE)) {
            *why = "raw HTML is not allowed; write Markdown";
        }
        else if (ev == CMARK_EVENT_ENTER && (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE)
                 && !url_ok(cmark_node_get_url(n))) {
            *why = "links may only be http, https or mailto";
        }
    }
    cmark_iter_free(it);
    if (*why) {
        cmark_node_free(doc);
        return APR_EINVAL;
    }
    out = cmark_render_html(doc, CMARK_OPT_DEFAULT);
    cmark_node_free(doc);
    if (!out) {
        *why = "it could not be rendered";
        return APR_EINVAL;
    }
    *html = apr_pstrdup(p, out);
    free(out);
    return APR_SUCCESS;
}
