/* mustache.c - Mustache templates: compilation into a tree of nodes
 * (mustache_int.h); mustache_render.c renders the tree over lenz_json values.
 *
 * Compilation turns the source into a tree of nodes in one pass with an
 * explicit stack (no recursion, so a hostile template cannot exhaust the C
 * stack while compiling).  All the whitespace rules of the spec are settled
 * at compile time:
 *
 *   - a "standalone" tag (alone on its line) takes its line with it;
 *   - text is split into one node per line, and every node that starts a
 *     line of the template is flagged `bol`, so that a partial rendered with
 *     an indentation gets it before each of its own lines (and not inside
 *     interpolated values, as the spec requires);
 *   - a block whose content starts on the line after its opening tag has an
 *     "intrinsic" indentation (that of its first line), removed from every
 *     line of the content here and added back where the block is expanded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memmem() */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "err.h"
#include "mustache.h"
#include "mustache_int.h"

#define is_blank(c) ((c) == ' ' || (c) == '\t')
#define is_space(c) (is_blank(c) || (c) == '\r' || (c) == '\n' || (c) == '\f' || (c) == '\v')

/* ------------------------------------------------------------------ */
/* Compilation                                                          */

typedef struct {
    node *owner;             /* NULL for the template itself */
    node **tail;             /* where the next child goes */
    apr_size_t open_pos;     /* of the opening tag, for messages */
    span strip;              /* prefix removed from each line (block outdent) */
    int clear_left;          /* opening tag had only blanks before it */
    int standalone;          /* opening tag was standalone */
    span ws;                 /* blanks before the opening tag (after strip) */
    span intr;               /* BLOCK: intrinsic indentation of the content */
    node *lead;              /* PARENT: text node holding the blanks before it */
} frame;

typedef struct {
    apr_pool_t *p;
    const char *name, *src;
    apr_size_t len, pos;
    span otag, ctag;
    int at_bol;              /* nothing emitted yet on the current line */
    int depth;
    const char *why;
    frame fr[MST_MAX_NEST + 1];
} parser;

/* A tag, and where it sits on its line as the standalone rules need it. */
typedef struct {
    char sig;                /* 0 for a variable, else one of {&#^/!><$= */
    const char *name;        /* trimmed content after the sigil */
    apr_size_t nlen;
    apr_size_t t;            /* offset of the opening delimiter */
    apr_size_t end;          /* offset just past the closing delimiter */
    apr_size_t ws;           /* start of the blanks before the tag */
    apr_size_t eol;          /* past the line end after it (or len) */
    int cl, cr;              /* only blanks before / after it on its line */
} tag;

static int line_of(const parser *ps, apr_size_t at)
{
    const char *s = ps->src, *end = ps->src + (at < ps->len ? at : ps->len);
    int line = 1;
    while ((s = memchr(s, '\n', (apr_size_t)(end - s))) != NULL) {
        line++;
        s++;
    }
    return line;
}

/* Records "name:line: message" and returns 0 so callers can `return fail()`. */
static int fail(parser *ps, apr_size_t at, const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    va_start(ap, fmt);
    msg = apr_pvsprintf(ps->p, fmt, ap);
    va_end(ap);
    ps->why = apr_psprintf(ps->p, "%s:%d: %s", ps->name, line_of(ps, at), msg);
    return 0;
}

static frame *top(parser *ps)
{
    return &ps->fr[ps->depth];
}

static int in_parent(parser *ps, int up)
{
    const node *o = ps->depth >= up ? ps->fr[ps->depth - up].owner : NULL;
    return o && o->kind == N_PARENT;
}

static node *add_node(parser *ps, node_kind kind, int bol)
{
    frame *f = top(ps);
    node *n = apr_pcalloc(ps->p, sizeof(*n));
    n->kind = kind;
    n->bol = bol ? 1 : 0;
    *f->tail = n;
    f->tail = &n->next;
    return n;
}

/* How much of s[0..n) is the current block outdent prefix. */
static apr_size_t strip_len(const frame *f, const char *s, apr_size_t n)
{
    apr_size_t k = 0;
    while (k < f->strip.n && k < n && s[k] == f->strip.s[k])
        k++;
    return k;
}

/* Adds src[from..to) as text nodes, one per line, removing the outdent
 * prefix at line starts.  Text directly inside a parent tag is ignored by
 * the spec, so none is kept there.  Returns the last node made. */
static node *emit_text(parser *ps, apr_size_t from, apr_size_t to)
{
    node *last = NULL;

    if (in_parent(ps, 0))
        return NULL;
    while (from < to) {
        const char *nl;
        apr_size_t end;
        if (from == 0 || ps->src[from - 1] == '\n') {
            from += strip_len(top(ps), ps->src + from, to - from);
            if (from >= to)
                break;
        }
        nl = memchr(ps->src + from, '\n', to - from);
        end = nl ? (apr_size_t)(nl - ps->src) + 1 : to;
        last = add_node(ps, N_TEXT, ps->at_bol);
        last->s = ps->src + from;
        last->n = end - from;
        ps->at_bol = ps->src[end - 1] == '\n';
        from = end;
    }
    return last;
}

/* "a.b.c" -> {"a","b","c"}; "." -> no parts (the current context). */
static void set_name(parser *ps, node *n, const tag *tg, int dotted)
{
    const char *s = tg->name, *end = tg->name + tg->nlen;
    int i;

    n->s = apr_pstrmemdup(ps->p, tg->name, tg->nlen);
    n->n = tg->nlen;
    if (!dotted || (tg->nlen == 1 && s[0] == '.'))
        return;
    for (n->npath = 1; s < end; s++)
        n->npath += *s == '.';
    n->path = apr_palloc(ps->p, sizeof(*n->path) * (apr_size_t)n->npath);
    for (s = tg->name, i = 0; i < n->npath; i++) {
        const char *dot = memchr(s, '.', (apr_size_t)(end - s));
        if (!dot)
            dot = end;
        n->path[i] = apr_pstrmemdup(ps->p, s, (apr_size_t)(dot - s));
        s = dot + 1;
    }
}

/* Reads the tag whose opening delimiter is at t: its end, sigil and name,
 * and whether only blanks surround it on its line. */
static int read_tag(parser *ps, apr_size_t t, tag *tg)
{
    const char *s = ps->src + t + ps->otag.n, *end = ps->src + ps->len;
    const char *c, *from, *e;
    char want = 0;              /* a char that must precede the close */
    apr_size_t a;

    memset(tg, 0, sizeof(*tg));
    tg->t = t;
    if (s < end && *s == '{') { /* {{{name}}}: only right after the opener */
        tg->sig = '{';
        want = '}';
    }
    else {
        while (s < end && is_space(*s))
            s++;
        if (s < end && *s && strchr("&#^/!><$=", *s))
            tg->sig = *s;
        if (tg->sig == '=')
            want = '=';
    }
    from = tg->sig ? s + 1 : s;
    for (c = from; ; c++) {
        c = memmem(c, (apr_size_t)(end - c), ps->ctag.s, ps->ctag.n);
        if (!c)
            return fail(ps, t, "unclosed tag");
        if (!want || (c > from && c[-1] == want))
            break;
    }
    tg->end = (apr_size_t)(c - ps->src) + ps->ctag.n;
    for (e = want ? c - 1 : c; from < e && is_space(*from); from++)
        ;
    while (e > from && is_space(e[-1]))
        e--;
    tg->name = from;
    tg->nlen = (apr_size_t)(e - from);

    for (tg->ws = t; tg->ws > ps->pos && is_blank(ps->src[tg->ws - 1]); tg->ws--)
        ;
    tg->cl = tg->ws == 0 || ps->src[tg->ws - 1] == '\n';
    for (a = tg->end; a < ps->len && is_blank(ps->src[a]); a++)
        ;
    if (a + 1 < ps->len && ps->src[a] == '\r' && ps->src[a + 1] == '\n')
        a++;
    tg->cr = a >= ps->len || ps->src[a] == '\n';
    tg->eol = a < ps->len ? a + 1 : ps->len;

    if (tg->sig == '!' || tg->sig == '=')
        return 1;
    if (tg->nlen == 0)
        return fail(ps, t, "empty tag name");
    for (s = from; s < e; s++)
        if (is_space(*s))
            return fail(ps, t, "blank inside tag name '%.*s'", (int)tg->nlen, tg->name);
    return 1;
}

/* {{=<% %>=}}: two delimiters without blanks or '=', separated by blanks. */
static int set_delims(parser *ps, const tag *tg)
{
    const char *s = tg->name, *end = tg->name + tg->nlen;
    span a = { s, 0 }, b;

    while (s < end && !is_space(*s))
        s++;
    a.n = (apr_size_t)(s - a.s);
    while (s < end && is_space(*s))
        s++;
    b.s = s;
    b.n = (apr_size_t)(end - s);
    if (a.n == 0 || b.n == 0 || a.n > MST_MAX_DELIM || b.n > MST_MAX_DELIM
        || memchr(a.s, '=', a.n) || memchr(b.s, '=', b.n))
        return fail(ps, tg->t, "bad set-delimiter tag");
    for (; s < end; s++)
        if (is_space(*s))
            return fail(ps, tg->t, "bad set-delimiter tag");
    ps->otag = a;
    ps->ctag = b;
    return 1;
}

static int push(parser *ps, node *owner, apr_size_t t)
{
    frame *up = top(ps), *f;
    if (ps->depth >= MST_MAX_NEST)
        return fail(ps, t, "sections nested deeper than %d", MST_MAX_NEST);
    f = &ps->fr[++ps->depth];
    memset(f, 0, sizeof(*f));
    f->owner = owner;
    f->tail = &owner->kids;
    f->open_pos = t;
    f->strip = up->strip;
    return 1;
}

/* A block opening tag followed by a line end: the content's first
 * non-blank line sets its intrinsic indentation, taken off every line. */
static void intrinsic(parser *ps, frame *f, apr_size_t at)
{
    const char *s = ps->src;
    apr_size_t ls, i = at;

    for (;;) {
        for (ls = i; i < ps->len && is_blank(s[i]); i++)
            ;
        if (i + 1 < ps->len && s[i] == '\r' && s[i + 1] == '\n')
            i++;
        if (i >= ps->len)
            return;
        if (s[i] != '\n')
            break;
        i++;
    }
    if (i - ls > f->strip.n && memcmp(s + ls, f->strip.s, f->strip.n) == 0) {
        f->intr.s = s + ls + f->strip.n;
        f->intr.n = i - ls - f->strip.n;
        f->strip.s = s + ls;
        f->strip.n = i - ls;
    }
}

/* The indentation of a tag that clears on the left, minus the outdent. */
static span indentation(parser *ps, const tag *tg)
{
    apr_size_t k = strip_len(top(ps), ps->src + tg->ws, tg->t - tg->ws);
    span ind = { ps->src + tg->ws + k, tg->t - tg->ws - k };
    return ind;
}

/* Moves past a tag: a standalone one takes its line end along. */
static void advance(parser *ps, const tag *tg, int eat)
{
    ps->pos = eat ? tg->eol : tg->end;
    ps->at_bol = eat;
}

static int open_tag(parser *ps, const tag *tg)
{
    int sa = tg->cl && tg->cr;
    node_kind kind = tg->sig == '#' ? N_SECTION : tg->sig == '^' ? N_INVERTED
                   : tg->sig == '$' ? N_BLOCK : N_PARENT;
    frame *f;
    node *n, *lead = NULL;

    if (kind == N_BLOCK && in_parent(ps, 0))
        sa = tg->cr;            /* an argument block: left side is ignored text */
    if (kind == N_PARENT) {     /* standalone-ness is decided at its close */
        emit_text(ps, ps->pos, tg->cl ? tg->ws : tg->t);
        lead = tg->cl ? emit_text(ps, tg->ws, tg->t) : NULL;
        sa = 0;
    }
    else
        emit_text(ps, ps->pos, sa ? tg->ws : tg->t);
    n = add_node(ps, kind, sa ? 0 : ps->at_bol);
    set_name(ps, n, tg, kind == N_SECTION || kind == N_INVERTED);
    if (!push(ps, n, tg->t))
        return 0;
    f = top(ps);
    f->clear_left = tg->cl;
    f->standalone = sa;
    f->lead = lead;
    if (tg->cl)
        f->ws = indentation(ps, tg);
    if (kind == N_BLOCK && sa)
        intrinsic(ps, f, tg->eol);
    advance(ps, tg, sa);
    if (kind == N_BLOCK || kind == N_PARENT)
        ps->at_bol = 1;         /* a block's content is a template of its own */
    return 1;
}

/* How a block expands where it stands: with its intrinsic indentation,
 * else that of a standalone pair (open clears left, close clears right),
 * else inline. */
static void close_block(node *n, const frame *f, int pair)
{
    if (f->intr.n) {
        n->site = 1;
        n->ind = f->intr;
    }
    else if (pair || f->standalone) {
        n->site = 1;
        if (pair)
            n->ind = f->ws;
        n->skip_first = !f->standalone;
    }
}

/* A parent pair is standalone when its opening tag clears on the left and
 * its closing tag on the right: the blanks before it become indentation. */
static void close_parent(node *n, frame *f)
{
    n->site = 1;
    n->bol = 0;
    if (f->lead) {
        n->ind.s = f->lead->s;
        n->ind.n = f->lead->n;
        f->lead->n = 0;
        f->lead->bol = 0;
    }
}

static int close_tag(parser *ps, const tag *tg)
{
    frame *f = top(ps);
    node *n = f->owner;
    int trim = tg->cl && tg->cr, eat = trim;

    if (!n)
        return fail(ps, tg->t, "closing tag '%.*s' without an opening tag",
                    (int)tg->nlen, tg->name);
    if (n->n != tg->nlen || memcmp(n->s, tg->name, tg->nlen) != 0)
        return fail(ps, tg->t, "closing tag '%.*s' does not match '%s' opened on line %d",
                    (int)tg->nlen, tg->name, n->s, line_of(ps, f->open_pos));
    if (n->kind == N_PARENT) {
        if ((eat = f->clear_left && tg->cr))
            close_parent(n, f);
    }
    else {
        if (n->kind == N_BLOCK && in_parent(ps, 1)) {
            trim = tg->cl;          /* an argument ends where its close is */
            eat = 0;
        }
        emit_text(ps, ps->pos, trim ? tg->ws : tg->t);
        /* A close that starts a line without being standalone still owes
         * that line its indentation: an empty line-start node inside. */
        if (!trim && ps->at_bol)
            add_node(ps, N_TEXT, 1)->s = "";
        if (n->kind == N_BLOCK)
            close_block(n, f, f->clear_left && tg->cr);
    }
    ps->depth--;
    advance(ps, tg, eat);
    return 1;
}

static int other_tag(parser *ps, const tag *tg)
{
    int sa = tg->sig && tg->sig != '{' && tg->sig != '&' && tg->cl && tg->cr;
    node *n;

    emit_text(ps, ps->pos, sa ? tg->ws : tg->t);
    switch (tg->sig) {
    case '!':
        break;
    case '=':
        if (!set_delims(ps, tg))
            return 0;
        break;
    case '>':
        n = add_node(ps, N_PARTIAL, sa ? 0 : ps->at_bol);
        set_name(ps, n, tg, 0);
        n->site = sa ? 1 : 0;
        if (sa)
            n->ind = indentation(ps, tg);
        break;
    default:
        n = add_node(ps, N_VAR, ps->at_bol);
        n->raw = tg->sig == '{' || tg->sig == '&';
        set_name(ps, n, tg, 1);
        break;
    }
    if (sa || (tg->sig != '!' && tg->sig != '='))
        advance(ps, tg, sa);
    else
        ps->pos = tg->end;      /* an inline comment leaves the line as it is */
    return 1;
}

static int parse(parser *ps)
{
    while (ps->pos < ps->len) {
        const char *o = memmem(ps->src + ps->pos, ps->len - ps->pos, ps->otag.s, ps->otag.n);
        tag tg;
        int ok;

        if (!o) {
            emit_text(ps, ps->pos, ps->len);
            break;
        }
        if (!read_tag(ps, (apr_size_t)(o - ps->src), &tg))
            return 0;
        switch (tg.sig) {
        case '#': case '^': case '$': case '<':
            ok = open_tag(ps, &tg);
            break;
        case '/':
            ok = close_tag(ps, &tg);
            break;
        default:
            ok = other_tag(ps, &tg);
        }
        if (!ok)
            return 0;
    }
    if (ps->depth > 0)
        return fail(ps, top(ps)->open_pos, "section '%s' is never closed",
                    top(ps)->owner->s);
    return 1;
}

lenz_mst *lenz_mst_compile(apr_pool_t *p, const char *name, const char *src,
                           apr_size_t len, const char **why)
{
    parser *ps = apr_pcalloc(p, sizeof(*ps));
    lenz_mst *t = apr_pcalloc(p, sizeof(*t));

    t->name = apr_pstrdup(p, name ? name : "(template)");
    ps->p = p;
    ps->name = t->name;
    ps->len = src ? len : 0;
    ps->src = apr_pstrmemdup(p, src ? src : "", ps->len);
    ps->otag.s = "{{";
    ps->ctag.s = "}}";
    ps->otag.n = ps->ctag.n = 2;
    ps->at_bol = 1;
    ps->fr[0].tail = &t->root;
    ps->fr[0].strip.s = "";
    if (!parse(ps)) {
        if (why)
            *why = ps->why;
        return NULL;
    }
    return t;
}

const char *lenz_mst_name(const lenz_mst *t)
{
    return t->name;
}
