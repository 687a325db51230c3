/* mustache_render.c - rendering of compiled Mustache templates over
 * lenz_json values.  Walks the tree (mustache_int.h) with a context stack
 * and an indentation list living on the C stack; output goes through a
 * small buffer to the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "err.h"
#include "mustache_int.h"

/* The indentation in force: segments added by enclosing standalone sites,
 * innermost first; NULL when none. */
typedef struct seg {
    span ind;
    const struct seg *up;
} seg;

/* Parent tags whose argument blocks are in force, innermost first. */
typedef struct ovr {
    const node *parent;
    const struct ovr *up;
} ovr;

typedef struct {
    lenz_mst_write_fn *write;
    void *wbaton;
    lenz_mst_partial_fn *partial;
    void *pbaton;
    char *buf;
    apr_size_t used;
    const lenz_json *stack[MST_MAX_DEPTH + 1];
    int sp;
    int depth;
    unsigned long expansions;
    const ovr *ovr;
} rstate;

static apr_status_t flush(rstate *st)
{
    apr_size_t n = st->used;
    st->used = 0;
    return n ? st->write(st->wbaton, st->buf, n) : APR_SUCCESS;
}

static apr_status_t out(rstate *st, const char *s, apr_size_t n)
{
    apr_status_t rv;
    if (st->used + n > MST_BUFSZ && (rv = flush(st)) != APR_SUCCESS)
        return rv;
    if (n >= MST_BUFSZ)
        return st->write(st->wbaton, s, n);
    memcpy(st->buf + st->used, s, n);
    st->used += n;
    return APR_SUCCESS;
}

static apr_status_t out_escaped(rstate *st, const char *s, apr_size_t n)
{
    apr_size_t i, run = 0;
    apr_status_t rv;

    for (i = 0; i < n; i++) {
        const char *ent;
        switch (s[i]) {
        case '&':  ent = "&amp;";  break;
        case '<':  ent = "&lt;";   break;
        case '>':  ent = "&gt;";   break;
        case '"':  ent = "&quot;"; break;
        case '\'': ent = "&#39;";  break;
        default:   continue;
        }
        if ((rv = out(st, s + run, i - run)) != APR_SUCCESS
            || (rv = out(st, ent, strlen(ent))) != APR_SUCCESS)
            return rv;
        run = i + 1;
    }
    return out(st, s + run, n - run);
}

static apr_status_t out_indent(rstate *st, const seg *ind)
{
    apr_status_t rv;
    if (!ind)
        return APR_SUCCESS;
    if ((rv = out_indent(st, ind->up)) != APR_SUCCESS)
        return rv;
    return out(st, ind->ind.s, ind->ind.n);
}

/* A double as JavaScript would print it (which the spec's data assumes):
 * the fewest significant digits that read back as the same number
 * (1.210 -> "1.21"), in plain notation from 1e-7 up to 1e21.  json-c
 * would print a parsed number as written in the source instead. */
static apr_size_t fmt_double(char *buf, apr_size_t size, double d)
{
    char e[40], dg[24], *s = e, *o = buf;
    int prec = 1, x, i, nd = 0;

    if (d == 0 || d != d || d - d != 0)     /* zero, NaN, infinities */
        return (apr_size_t)snprintf(buf, size, "%s", d == 0 ? "0" : d != d ? "NaN"
                                    : d > 0 ? "Infinity" : "-Infinity");
    do                                      /* 17 digits always read back */
        snprintf(e, sizeof(e), "%.*e", prec - 1, d);
    while (strtod(e, NULL) != d && ++prec <= 17);
    if (*s == '-')
        *o++ = *s++;
    for (; *s != 'e'; s++)                  /* digits only: no locale's comma */
        if (*s >= '0' && *s <= '9')
            dg[nd++] = *s;
    x = atoi(s + 1);                        /* d = 0.dg * 10^(x+1) */
    if (x < -7 || x >= 21)
        return (apr_size_t)(o - buf)
            + (apr_size_t)snprintf(o, size - (apr_size_t)(o - buf), "%c%s%.*se%c%d",
                                   dg[0], nd > 1 ? "." : "", nd - 1, dg + 1,
                                   x < 0 ? '-' : '+', x < 0 ? -x : x);
    if (x < 0)
        *o++ = '0';
    for (i = 0; i <= x; i++)
        *o++ = i < nd ? dg[i] : '0';
    if (x + 1 < nd)
        *o++ = '.';
    for (i = x + 1; i < nd; i++)
        *o++ = i < 0 ? '0' : dg[i];
    *o = '\0';
    return (apr_size_t)(o - buf);
}

static apr_status_t out_value(rstate *st, const lenz_json *v, int raw)
{
    char num[64];
    const char *s = num;
    apr_size_t n;

    switch (lenz_json_typeof(v)) {
    case LENZ_JSON_STRING:
        s = lenz_json_string(v);
        n = lenz_json_string_len(v);
        break;
    case LENZ_JSON_INT:
        n = (apr_size_t)apr_snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, lenz_json_int(v));
        break;
    case LENZ_JSON_DOUBLE:
        n = fmt_double(num, sizeof(num), lenz_json_double(v));
        break;
    case LENZ_JSON_BOOL:
        s = lenz_json_bool(v) ? "true" : "false";
        n = strlen(s);
        break;
    default:
        return APR_SUCCESS;     /* null, arrays and objects print nothing */
    }
    return raw ? out(st, s, n) : out_escaped(st, s, n);
}

/* Spec name resolution: the first part is looked up down the context
 * stack, the rest only inside what it found (no falling back). */
static const lenz_json *lookup(const rstate *st, const node *n)
{
    const lenz_json *v = NULL;
    int i;

    if (n->npath == 0)
        return st->stack[st->sp - 1];
    for (i = st->sp - 1; i >= 0; i--) {
        if (lenz_json_has(st->stack[i], n->path[0])) {
            v = lenz_json_get(st->stack[i], n->path[0]);
            break;
        }
    }
    for (i = 1; v && i < n->npath; i++)
        v = lenz_json_get(v, n->path[i]);
    return v;
}

static apr_status_t render_nodes(rstate *st, const node *n, const seg *ind, int skip);

static apr_status_t with_context(rstate *st, const lenz_json *v, const node *kids,
                                 const seg *ind)
{
    apr_status_t rv;
    /* Each pass counts as an expansion: sections nested over lists
     * multiply ({{#l}}{{#l}}...{{/l}}{{/l}} is len(l)^depth passes). */
    if (st->depth >= MST_MAX_DEPTH || ++st->expansions > MST_MAX_EXPAND)
        return LENZ_ETOOBIG;
    st->depth++;
    st->stack[st->sp++] = v;
    rv = render_nodes(st, kids, ind, 0);
    st->sp--;
    st->depth--;
    return rv;
}

static apr_status_t render_section(rstate *st, const node *n, const seg *ind)
{
    const lenz_json *v = lookup(st, n);
    apr_status_t rv = APR_SUCCESS;
    apr_size_t i, len;

    if (n->kind == N_INVERTED)
        return lenz_json_bool(v) ? APR_SUCCESS : render_nodes(st, n->kids, ind, 0);
    if (!lenz_json_bool(v))
        return APR_SUCCESS;
    if (lenz_json_typeof(v) != LENZ_JSON_ARRAY)
        return with_context(st, v, n->kids, ind);
    len = lenz_json_array_len(v);
    for (i = 0; i < len && rv == APR_SUCCESS; i++)
        rv = with_context(st, lenz_json_array_get(v, i), n->kids, ind);
    return rv;
}

/* Renders another template or a block's content in place, bounded. */
static apr_status_t expand(rstate *st, const node *kids, const seg *ind, int skip)
{
    apr_status_t rv;
    if (st->depth >= MST_MAX_DEPTH || ++st->expansions > MST_MAX_EXPAND)
        return LENZ_ETOOBIG;
    st->depth++;
    rv = render_nodes(st, kids, ind, skip);
    st->depth--;
    return rv;
}

/* The indentation for what a site expands: none when inline, else the
 * current one plus the site's own (tmp provides the storage). */
static const seg *site_ind(const node *n, const seg *ind, seg *tmp)
{
    if (!n->site)
        return NULL;
    if (!n->ind.n)
        return ind;
    tmp->ind = n->ind;
    tmp->up = ind;
    return tmp;
}

static const lenz_mst *load(rstate *st, const node *n)
{
    return st->partial ? st->partial(st->pbaton, n->s) : NULL;
}

/* The argument for a block: the outermost parent tag passing one wins
 * (spec: top-level substitutions take precedence); else its default. */
static const node *block_content(const rstate *st, const node *n)
{
    const node *found = n, *k;
    const ovr *o;

    for (o = st->ovr; o; o = o->up) {
        for (k = o->parent->kids; k; k = k->next) {
            if (k->kind == N_BLOCK && strcmp(k->s, n->s) == 0) {
                found = k;
                break;
            }
        }
    }
    return found;
}

static apr_status_t render_node(rstate *st, const node *n, const seg *ind)
{
    const lenz_mst *t;
    apr_status_t rv;
    seg tmp;
    ovr o;

    switch (n->kind) {
    case N_TEXT:
        return out(st, n->s, n->n);
    case N_VAR:
        return out_value(st, lookup(st, n), n->raw);
    case N_SECTION:
    case N_INVERTED:
        return render_section(st, n, ind);
    case N_PARTIAL:
        t = load(st, n);
        return t ? expand(st, t->root, site_ind(n, ind, &tmp), 0) : APR_SUCCESS;
    case N_BLOCK:
        return expand(st, block_content(st, n)->kids, site_ind(n, ind, &tmp), n->skip_first);
    case N_PARENT:
        if (!(t = load(st, n)))
            return APR_SUCCESS;
        o.parent = n;
        o.up = st->ovr;
        st->ovr = &o;
        rv = expand(st, t->root, site_ind(n, ind, &tmp), 0);
        st->ovr = o.up;
        return rv;
    }
    return APR_SUCCESS;
}

/* skip: the first line is already positioned by literal text at the site. */
static apr_status_t render_nodes(rstate *st, const node *n, const seg *ind, int skip)
{
    apr_status_t rv = APR_SUCCESS;

    for (; n && rv == APR_SUCCESS; n = n->next) {
        if (n->bol) {
            /* Empty lines get no indentation (no trailing blanks). */
            int empty = n->kind == N_TEXT && n->n
                && (n->s[0] == '\n' || (n->s[0] == '\r' && n->n > 1 && n->s[1] == '\n'));
            if (skip)
                skip = 0;
            else if (ind && !empty && (rv = out_indent(st, ind)) != APR_SUCCESS)
                break;
        }
        if (n->kind != N_TEXT || n->n)
            rv = render_node(st, n, ind);
    }
    return rv;
}

apr_status_t lenz_mst_render(const lenz_mst *t, const lenz_json *ctx,
                             lenz_mst_partial_fn *partial, void *pbaton,
                             lenz_mst_write_fn *write, void *wbaton,
                             apr_pool_t *scratch)
{
    rstate st;
    apr_status_t rv;

    if (!t || !write)
        return APR_EINVAL;
    memset(&st, 0, sizeof(st));
    st.write = write;
    st.wbaton = wbaton;
    st.partial = partial;
    st.pbaton = pbaton;
    st.buf = apr_palloc(scratch, MST_BUFSZ);
    st.stack[0] = ctx;
    st.sp = 1;
    rv = render_nodes(&st, t->root, NULL, 0);
    if (rv == APR_SUCCESS)
        rv = flush(&st);
    return rv;
}

/* render_string's writer: keeps copies of the pieces, joined at the end. */
static apr_status_t collect(void *baton, const char *buf, apr_size_t len)
{
    apr_array_header_t *parts = baton;
    struct iovec *v = apr_array_push(parts);
    v->iov_base = apr_pmemdup(parts->pool, buf, len);
    v->iov_len = len;
    return APR_SUCCESS;
}

apr_status_t lenz_mst_render_string(apr_pool_t *p, const lenz_mst *t,
                                    const lenz_json *ctx,
                                    lenz_mst_partial_fn *partial, void *pbaton,
                                    const char **out)
{
    apr_pool_t *sub;
    apr_array_header_t *parts;
    apr_status_t rv;

    if ((rv = apr_pool_create(&sub, p)) != APR_SUCCESS)
        return rv;
    parts = apr_array_make(sub, 16, sizeof(struct iovec));
    rv = lenz_mst_render(t, ctx, partial, pbaton, collect, parts, sub);
    if (rv == APR_SUCCESS)
        *out = apr_pstrcatv(p, (const struct iovec *)(void *)parts->elts,
                            (apr_size_t)parts->nelts, NULL);
    apr_pool_destroy(sub);
    return rv;
}
