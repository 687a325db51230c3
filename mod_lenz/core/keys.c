/* keys.c - master key file, key wrapping and the context strings that bind
 * a wrapped key to its owner (see keys.h and docs/format.md). */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>

#include "keys.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"

/* ------------------------------------------------------------------ */
/* Secret memory                                                       */

typedef struct {
    void *buf;
    apr_size_t len;
} secret_mem;

static apr_status_t secret_cleanup(void *data)
{
    secret_mem *m = data;
    lenz_wipe(m->buf, m->len);
    return APR_SUCCESS;
}

void *lenz_key_palloc(apr_pool_t *p, apr_size_t len)
{
    secret_mem *m = apr_palloc(p, sizeof(*m));
    m->buf = apr_pcalloc(p, len ? len : 1);
    m->len = len;
    apr_pool_cleanup_register(p, m, secret_cleanup, apr_pool_cleanup_null);
    return m->buf;
}

/* ------------------------------------------------------------------ */
/* Master key file                                                     */

typedef struct {
    apr_uint32_t version;
    unsigned char key[LENZ_KEY_LEN];
} ring_entry;

struct lenz_keyring {
    ring_entry *entries;
    int count;
    apr_uint32_t current;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Strict decimal 1..LENZ_KEY_VERSION_MAX without sign or leading zero. */
static int parse_version(const char *s, apr_size_t len, apr_uint32_t *out)
{
    apr_uint64_t v = 0;
    apr_size_t i;
    if (len == 0 || len > 10 || s[0] == '0')
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (apr_uint64_t)(s[i] - '0');
    }
    if (v > LENZ_KEY_VERSION_MAX)
        return 0;
    *out = (apr_uint32_t)v;
    return 1;
}

/* One key line, blanks already trimmed: "<version>:<64 hex>". */
static int parse_line(const char *s, apr_size_t len, ring_entry *e)
{
    const char *colon = memchr(s, ':', len);
    apr_size_t vlen;
    if (!colon)
        return 0;
    vlen = (apr_size_t)(colon - s);
    if (!parse_version(s, vlen, &e->version))
        return 0;
    return lenz_unhex(colon + 1, len - vlen - 1, e->key, LENZ_KEY_LEN) == APR_SUCCESS;
}

lenz_keyring *lenz_keyring_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                 const char *name, const char **why)
{
    lenz_keyring *kr = apr_pcalloc(p, sizeof(*kr));
    apr_size_t pos = 0, lines = 1, i;
    int lineno = 0, j;
    const char *ignored;

    if (!why)
        why = &ignored;

    for (i = 0; i < len; i++)
        lines += text[i] == '\n';
    /* Sized once so the keys never move (a grown array would leave an
     * unwiped copy behind). */
    kr->entries = lenz_key_palloc(p, lines * sizeof(ring_entry));

    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        apr_size_t ll = nl ? (apr_size_t)(nl - line) : len - pos;
        ring_entry *e = &kr->entries[kr->count];

        pos += ll + (nl ? 1 : 0);
        lineno++;
        while (ll > 0 && is_blank(line[0])) {
            line++;
            ll--;
        }
        while (ll > 0 && is_blank(line[ll - 1]))
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        if (!parse_line(line, ll, e)) {
            lenz_wipe(e, sizeof(*e));
            *why = apr_psprintf(p, "master key file %s line %d: expected "
                                "<version>:<64 hex digits> (version 1..%u)",
                                name, lineno, LENZ_KEY_VERSION_MAX);
            return NULL;
        }
        for (j = 0; j < kr->count; j++) {
            if (kr->entries[j].version == e->version) {
                *why = apr_psprintf(p, "master key file %s line %d: version %u "
                                    "appears twice", name, lineno, e->version);
                return NULL;
            }
        }
        if (e->version > kr->current)
            kr->current = e->version;
        kr->count++;
    }
    if (kr->count == 0) {
        *why = apr_psprintf(p, "master key file %s holds no key; add a line "
                            "<version>:<64 hex digits> (lenzctl can generate one)", name);
        return NULL;
    }
    return kr;
}

static unsigned perm_bits(apr_fileperms_t prot)
{
    /* APR keeps one hex digit per class; show the familiar octal. */
    return (unsigned)(((prot >> 8) & 7) << 6 | ((prot >> 4) & 7) << 3 | (prot & 7));
}

static const char *check_info(apr_pool_t *p, const char *path, const apr_finfo_t *fi)
{
    if (fi->filetype != APR_REG)
        return apr_psprintf(p, "master key file %s is not a regular file", path);
    if (fi->protection & (APR_FPROT_GREAD | APR_FPROT_GWRITE | APR_FPROT_GEXECUTE
                          | APR_FPROT_WREAD | APR_FPROT_WWRITE | APR_FPROT_WEXECUTE))
        return apr_psprintf(p, "master key file %s is %s by group or others "
                            "(mode 0%03o); chmod 600 it", path,
                            fi->protection & (APR_FPROT_GREAD | APR_FPROT_WREAD)
                            ? "readable" : "accessible", perm_bits(fi->protection));
    if (fi->size > LENZ_KEYFILE_MAX)
        return apr_psprintf(p, "master key file %s is larger than %d bytes; "
                            "it cannot be a key file", path, LENZ_KEYFILE_MAX);
    return NULL;
}

/* Read path after the checks; the text lands in wiped-on-cleanup memory. */
static apr_status_t read_checked(apr_pool_t *p, const char *path, char **text,
                                 apr_size_t *len, const char **why)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got = 0;
    char *buf;
    char err[120];
    apr_status_t rv;
    const apr_int32_t wanted = APR_FINFO_TYPE | APR_FINFO_PROT | APR_FINFO_SIZE;

    /* stat first so a FIFO or device is refused before open() could block. */
    rv = apr_stat(&fi, path, wanted, p);
    if (rv == APR_SUCCESS && (*why = check_info(p, path, &fi)) != NULL)
        return APR_EINVAL;
    if (rv == APR_SUCCESS)
        rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot read master key file %s: %s", path,
                            apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    /* Check again on what was opened: the path may have changed since. */
    rv = apr_file_info_get(&fi, wanted, f);
    if (rv == APR_SUCCESS && (*why = check_info(p, path, &fi)) != NULL) {
        apr_file_close(f);
        return APR_EINVAL;
    }
    buf = lenz_key_palloc(p, LENZ_KEYFILE_MAX + 1);
    if (rv == APR_SUCCESS)
        rv = apr_file_read_full(f, buf, LENZ_KEYFILE_MAX + 1, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *why = apr_psprintf(p, "cannot read master key file %s: %s", path,
                            apr_strerror(rv, err, sizeof(err)));
        return rv;
    }
    if (got > LENZ_KEYFILE_MAX) {
        *why = apr_psprintf(p, "master key file %s is larger than %d bytes",
                            path, LENZ_KEYFILE_MAX);
        return LENZ_ETOOBIG;
    }
    *text = buf;
    *len = got;
    return APR_SUCCESS;
}

lenz_keyring *lenz_keyring_load(apr_pool_t *p, const char *path, const char **why)
{
    char *text;
    apr_size_t len;
    lenz_keyring *kr;
    const char *ignored;

    if (!why)
        why = &ignored;
    if (read_checked(p, path, &text, &len, why) != APR_SUCCESS)
        return NULL;
    kr = lenz_keyring_parse(p, text, len, path, why);
    lenz_wipe(text, len);
    return kr;
}

apr_uint32_t lenz_keyring_current_version(const lenz_keyring *kr)
{
    return kr ? kr->current : 0;
}

const unsigned char *lenz_keyring_get(const lenz_keyring *kr, apr_uint32_t version)
{
    int i;
    for (i = 0; kr && i < kr->count; i++)
        if (kr->entries[i].version == version)
            return kr->entries[i].key;
    return NULL;
}

int lenz_keyring_count(const lenz_keyring *kr)
{
    return kr ? kr->count : 0;
}

const char *lenz_keyring_generate_line(apr_pool_t *p, apr_uint32_t version)
{
    static const char hx[] = "0123456789abcdef";
    unsigned char key[LENZ_KEY_LEN];
    char *line, *q;
    int i;

    if (version == 0 || version > LENZ_KEY_VERSION_MAX)
        return NULL;
    if (lenz_random(key, sizeof(key)) != APR_SUCCESS)
        return NULL;
    line = lenz_key_palloc(p, 11 + 1 + 2 * LENZ_KEY_LEN + 2);
    q = line + apr_snprintf(line, 12, "%u", version);
    *q++ = ':';
    for (i = 0; i < LENZ_KEY_LEN; i++) {
        *q++ = hx[key[i] >> 4];
        *q++ = hx[key[i] & 15];
    }
    *q++ = '\n';
    *q = '\0';
    lenz_wipe(key, sizeof(key));
    return line;
}

static char *dir_of(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return apr_pstrdup(p, ".");
    if (slash == path)
        return apr_pstrdup(p, "/");
    return apr_pstrmemdup(p, path, (apr_size_t)(slash - path));
}

apr_status_t lenz_keyring_write_file(apr_pool_t *p, const char *path,
                                     const char *text, apr_size_t len,
                                     int replace, const char **why)
{
    char *tmpl = apr_pstrcat(p, path, ".tmp.XXXXXX", NULL);
    apr_file_t *f, *dir;
    apr_size_t wrote = 0;
    apr_status_t rv;
    char err[120];
    const char *step = "create a temporary file for", *ignored;

    if (!why)
        why = &ignored;
    rv = apr_file_mktemp(&f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE
                         | APR_FOPEN_EXCL | APR_FOPEN_BINARY, p);
    if (rv != APR_SUCCESS)
        goto fail_nofile;
    /* mkstemp makes 0600 already; say so explicitly in case it changes. */
    step = "write";
    rv = apr_file_perms_set(tmpl, APR_FPROT_UREAD | APR_FPROT_UWRITE);
    if (rv == APR_SUCCESS || rv == APR_INCOMPLETE || rv == APR_ENOTIMPL)
        rv = apr_file_write_full(f, text, len, &wrote);
    if (rv == APR_SUCCESS)
        rv = apr_file_sync(f);
    if (apr_file_close(f) != APR_SUCCESS && rv == APR_SUCCESS)
        rv = APR_EGENERAL;
    if (rv != APR_SUCCESS)
        goto fail;
    step = "install";
    if (replace) {
        rv = apr_file_rename(tmpl, path, p);
    }
    else {
        /* link() refuses an existing target atomically, unlike rename(). */
        rv = apr_file_link(tmpl, path);
        apr_file_remove(tmpl, p);
        if (APR_STATUS_IS_EEXIST(rv)) {
            *why = apr_psprintf(p, "%s already exists; not overwriting it", path);
            return APR_EEXIST;
        }
    }
    if (rv != APR_SUCCESS)
        goto fail;
    /* Make the rename itself durable; failure here is not fatal. */
    if (apr_file_open(&dir, dir_of(p, path), APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p)
        == APR_SUCCESS) {
        apr_file_sync(dir);
        apr_file_close(dir);
    }
    return APR_SUCCESS;

fail:
    apr_file_remove(tmpl, p);
fail_nofile:
    *why = apr_psprintf(p, "cannot %s %s: %s", step, path, apr_strerror(rv, err, sizeof(err)));
    return rv;
}

apr_status_t lenz_keyring_create_file(apr_pool_t *p, const char *path, const char **why)
{
    const char *line = lenz_keyring_generate_line(p, 1);
    const char *head = "# mod_lenz master keys: <version>:<64 hex digits>; "
                       "the highest version is current.\n";
    char *text;
    apr_size_t hl = strlen(head), ll;
    const char *ignored;

    if (!why)
        why = &ignored;
    if (!line) {
        *why = "cannot draw random bytes for a new master key";
        return LENZ_ECRYPTO;
    }
    ll = strlen(line);
    text = lenz_key_palloc(p, hl + ll + 1);
    memcpy(text, head, hl);
    memcpy(text + hl, line, ll);
    return lenz_keyring_write_file(p, path, text, hl + ll, 0, why);
}

apr_status_t lenz_keyring_add_version(apr_pool_t *p, const char *path,
                                      apr_uint32_t *new_version, const char **why)
{
    char *text, *out;
    apr_size_t len, ll, n;
    const char *line;
    lenz_keyring *kr;
    apr_status_t rv;
    apr_uint32_t v;
    const char *ignored;

    if (!why)
        why = &ignored;
    if ((rv = read_checked(p, path, &text, &len, why)) != APR_SUCCESS)
        return rv;
    if (!(kr = lenz_keyring_parse(p, text, len, path, why)))
        return LENZ_EFORMAT;
    if (kr->current >= LENZ_KEY_VERSION_MAX) {
        *why = apr_psprintf(p, "master key file %s: no version left after %u", path, kr->current);
        return LENZ_ETOOBIG;
    }
    v = kr->current + 1;
    if (!(line = lenz_keyring_generate_line(p, v))) {
        *why = "cannot draw random bytes for a new master key";
        return LENZ_ECRYPTO;
    }
    ll = strlen(line);
    out = lenz_key_palloc(p, len + 1 + ll);
    memcpy(out, text, len);
    n = len;
    if (n > 0 && out[n - 1] != '\n')
        out[n++] = '\n';
    memcpy(out + n, line, ll);
    rv = lenz_keyring_write_file(p, path, out, n + ll, 1, why);
    lenz_wipe(out, n + ll);
    lenz_wipe(text, len);
    if (rv == APR_SUCCESS)
        *new_version = v;
    return rv;
}

apr_status_t lenz_keyring_remove_version(apr_pool_t *p, const char *path,
                                         apr_uint32_t version, const char **why)
{
    char *text, *out;
    apr_size_t len, pos = 0, n = 0;
    lenz_keyring *kr;
    apr_status_t rv;
    int found = 0;
    const char *ignored;

    if (!why)
        why = &ignored;
    if ((rv = read_checked(p, path, &text, &len, why)) != APR_SUCCESS)
        return rv;
    if (!(kr = lenz_keyring_parse(p, text, len, path, why)))
        return LENZ_EFORMAT;
    if (version == kr->current) {
        *why = apr_psprintf(p, "master key file %s: version %u is the current key; "
                            "add a newer one first", path, version);
        return LENZ_ECONFLICT;
    }
    out = lenz_key_palloc(p, len + 1);
    /* Copy every line but the one holding that version (comments too). */
    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        apr_size_t ll = nl ? (apr_size_t)(nl - line) + 1 : len - pos;
        const char *s = line;
        apr_size_t sl = nl ? ll - 1 : ll;
        ring_entry e;
        pos += ll;
        while (sl > 0 && is_blank(*s)) {
            s++;
            sl--;
        }
        while (sl > 0 && is_blank(s[sl - 1]))
            sl--;
        if (sl > 0 && s[0] != '#' && parse_line(s, sl, &e) && e.version == version) {
            found = 1;
            lenz_wipe(&e, sizeof(e));
            continue;
        }
        lenz_wipe(&e, sizeof(e));
        memcpy(out + n, line, ll);
        n += ll;
    }
    if (!found) {
        *why = apr_psprintf(p, "master key file %s holds no version %u", path, version);
        rv = LENZ_ENOTFOUND;
    }
    else {
        rv = lenz_keyring_write_file(p, path, out, n, 1, why);
    }
    lenz_wipe(out, len);
    lenz_wipe(text, len);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Wrapping                                                            */

apr_status_t lenz_key_generate(unsigned char key[LENZ_KEY_LEN])
{
    return lenz_random(key, LENZ_KEY_LEN);
}

apr_status_t lenz_key_wrap_nonce(apr_pool_t *p, const unsigned char kek[LENZ_KEY_LEN],
                                 const char *context, const unsigned char key[LENZ_KEY_LEN],
                                 const unsigned char nonce[12],
                                 unsigned char blob[LENZ_WRAP_LEN])
{
    apr_pool_t *tmp;
    lenz_gcm *g;
    apr_status_t rv;

    if (!context || !*context)
        return APR_EINVAL;
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS)
        return rv;
    g = lenz_gcm_make(tmp, kek);
    blob[0] = LENZ_WRAP_VERSION;
    memcpy(blob + 1, nonce, LENZ_GCM_NONCE);
    rv = g ? lenz_gcm_seal(g, blob + 1, context, strlen(context), key, LENZ_KEY_LEN,
                           blob + 13, blob + 45)
           : LENZ_ECRYPTO;
    apr_pool_destroy(tmp);
    if (rv != APR_SUCCESS)
        lenz_wipe(blob, LENZ_WRAP_LEN);
    return rv;
}

apr_status_t lenz_key_wrap(apr_pool_t *p, const unsigned char kek[LENZ_KEY_LEN],
                           const char *context, const unsigned char key[LENZ_KEY_LEN],
                           unsigned char blob[LENZ_WRAP_LEN])
{
    unsigned char nonce[LENZ_GCM_NONCE];
    /* Random 96-bit nonces: each KEK wraps at most a few million keys,
     * far below the 2^32 messages GCM allows per key with random nonces. */
    apr_status_t rv = lenz_random(nonce, sizeof(nonce));
    if (rv != APR_SUCCESS)
        return rv;
    return lenz_key_wrap_nonce(p, kek, context, key, nonce, blob);
}

apr_status_t lenz_key_unwrap(apr_pool_t *p, const unsigned char kek[LENZ_KEY_LEN],
                             const char *context, const unsigned char *blob,
                             apr_size_t blob_len, unsigned char key[LENZ_KEY_LEN])
{
    apr_pool_t *tmp;
    lenz_gcm *g;
    apr_status_t rv;

    if (!context || !*context)
        return APR_EINVAL;
    if (!blob || blob_len != LENZ_WRAP_LEN || blob[0] != LENZ_WRAP_VERSION)
        return LENZ_EFORMAT;
    if ((rv = apr_pool_create(&tmp, p)) != APR_SUCCESS)
        return rv;
    g = lenz_gcm_make(tmp, kek);
    rv = g ? lenz_gcm_open(g, blob + 1, context, strlen(context), blob + 13, LENZ_KEY_LEN,
                           blob + 45, key)
           : LENZ_ECRYPTO;
    apr_pool_destroy(tmp);
    if (rv != APR_SUCCESS)
        lenz_wipe(key, LENZ_KEY_LEN);
    return rv;
}

/* Canonical lower-case copy of a 36-character UUID, or NULL. */
static char *canon_uuid(apr_pool_t *p, const char *u)
{
    char *c;
    int i;
    if (!u || strlen(u) != 36)
        return NULL;
    c = apr_pstrdup(p, u);
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c[i] != '-')
                return NULL;
        }
        else if (c[i] >= 'A' && c[i] <= 'F') {
            c[i] = (char)(c[i] - 'A' + 'a');
        }
        else if (!((c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'f'))) {
            return NULL;
        }
    }
    return c;
}

const char *lenz_key_context_kek(apr_pool_t *p, const char *user_uuid,
                                 apr_uint32_t master_version)
{
    const char *u = canon_uuid(p, user_uuid);
    if (!u || master_version == 0 || master_version > LENZ_KEY_VERSION_MAX)
        return NULL;
    return apr_psprintf(p, "lenz:kek:user=%s:mk=%u", u, master_version);
}

const char *lenz_key_context_dek(apr_pool_t *p, const char *file_uuid)
{
    const char *u = canon_uuid(p, file_uuid);
    return u ? apr_pstrcat(p, "lenz:dek:file=", u, NULL) : NULL;
}
