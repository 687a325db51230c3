/* download.c - share-link look-up, gates and grants. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "download.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "token.h"
#include "codec.h"
#include "err.h"
#include "jobs/events.h"

#define GRANT_TTL 3600
#define GRANT_COOKIE "lenz_grant"

/* A file's columns for serving it (lenz_dfile_from_row), with its user key. */
#define DFILE_COLS \
    "f.id, f.name, f.content_type, f.size, f.storage, f.s3_key, coalesce(f.segment_size, 0), " \
    "encode(f.nonce_prefix, 'hex'), encode(f.wrapped_dek, 'hex'), f.kek_user_id, " \
    "coalesce(f.kek_version, 0), extract(epoch FROM f.updated_at)::bigint, " \
    "encode(k.wrapped_kek, 'hex'), k.master_key_version, " \
    "coalesce(f.format_version, 0), coalesce(f.segments_per_part, 0), encode(f.part_prefixes, 'hex'), " \
    "coalesce(f.crypt_id, f.id)"
/* Not in a member's trash: neither the file itself nor a folder it is in
 * (a trashed folder's subtree lives under '//trash/'). */
#define DFILE_LIVE \
    "f.trashed_at IS NULL AND NOT EXISTS (SELECT 1 FROM folders p WHERE p.id = f.folder_id " \
    "AND left(p.path, 2) = '//')"

const lenz_stmt lenz_download_stmts[] = {
    /* The link and its files in one query (the files and their wrapping
     * user keys joined, so serving needs no further query before S3): one
     * row per file, or one row with NULL file columns when none is left. */
    { "lenz_dl_link",
      "SELECT l.id, l.transfer_id, l.file_id, l.owner_id, (l.expires_at <= now()), "
      "(l.revoked_at IS NOT NULL), coalesce(l.max_downloads, 0), l.downloads, l.password_hash, "
      "EXISTS (SELECT 1 FROM link_recipients r WHERE r.link_id = l.id), "
      "to_char(l.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), l.bytes_served, "
      /* a folder link: its folder's name and whether it is live (not in the trash) */
      "l.folder_id, lf.name, (lf.trashed_at IS NULL AND left(lf.path, 2) <> '//'), l.file_set, "
      DFILE_COLS ", x.dir "
      "FROM links l "
      "LEFT JOIN folders lf ON lf.id = l.folder_id "
      /* its files now (sql/014_sharing.sql); dir: a folder link's path below it */
      "LEFT JOIN LATERAL lenz_link_files(l.id) x ON true "
      "LEFT JOIN files f ON f.id = x.file_id "
      "AND f.state = 'ready' AND (f.expires_at IS NULL OR f.expires_at > now()) AND " DFILE_LIVE " "
      "LEFT JOIN user_keys k ON k.user_id = f.kek_user_id AND k.version = f.kek_version "
      "WHERE l.token_hash = decode(%s, 'hex') ORDER BY x.dir NULLS FIRST, CASE WHEN l.folder_id IS NOT NULL THEN f.name_key END, f.created_at, f.id "
      "LIMIT " APR_STRINGIFY(LENZ_LINK_MAX_FILES) " + 1" },
    /* A ready file the member may read (their own, or in a folder shared
     * with them: lenz_access, sql/024), without a link (files area's
     * /api/v1/files/{id}/content): anyone else's is no row.  The file's
     * own user key unwraps it, whoever reads. */
    { "lenz_dl_own_file",
      "SELECT " DFILE_COLS " FROM files f "
      "LEFT JOIN user_keys k ON k.user_id = f.kek_user_id AND k.version = f.kek_version "
      "WHERE f.id = %s::uuid AND lenz_access(%s::uuid, 'file', f.id) > 0 AND f.state = 'ready' AND " DFILE_LIVE },
    /* Links without a limit (limited ones reserve: budget.c). */
    { "lenz_dl_count",
      "UPDATE links SET downloads = downloads + 1 WHERE id = %s::uuid "
      "AND (max_downloads IS NULL OR downloads < max_downloads) RETURNING downloads" },
    { "lenz_dl_recipient",
      "SELECT 1 FROM link_recipients WHERE link_id = %s::uuid AND email = %s" },
    { NULL }
};

#define LINK_COLS 16     /* lenz_dl_link: the link's columns, then a file's */
#define DFILE_NCOLS 18   /* DFILE_COLS */

static int t(const char *v)
{
    return v && v[0] == 't';
}

void lenz_dfile_from_row(const char **row, lenz_dfile *f)
{
    memset(f, 0, sizeof(*f));
    f->id = row[0];
    f->name = row[1];
    f->content_type = row[2];
    f->size = apr_atoi64(row[3]);
    f->storage = row[4];
    f->s3_key = row[5];
    f->segment_size = (int)apr_atoi64(row[6]);
    f->prefix_hex = row[7];
    f->wrapped_hex = row[8];
    f->kek_user = row[9];
    f->kek_version = (int)apr_atoi64(row[10]);
    f->modified = apr_time_from_sec(apr_atoi64(row[11]));
    f->kek_wrapped_hex = row[12];
    f->kek_master_version = row[13];
    f->format_version = (int)apr_atoi64(row[14]);
    f->segments_per_part = (int)apr_atoi64(row[15]);
    f->part_prefixes_hex = row[16];
    f->crypt_id = row[17];
}

lenz_link *lenz_link_open(request_rec *r, lenz_req *lr, lenz_db *db, const char *token)
{
    unsigned char h[32];
    const char *args[1], **row;
    lenz_rows rows;
    lenz_link *l;
    int i;

    /* A token that cannot be one is unknown without asking the database. */
    if (!token || lenz_token_hash(token, strlen(token), h) != APR_SUCCESS) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2100), HTTP_NOT_FOUND, "no-link", "Link not found",
                  "this link does not exist");
        return NULL;
    }
    args[0] = lenz_hex(r->pool, h, 32);
    if (lenz_db_select(db, "lenz_dl_link", &rows, 1, args) != APR_SUCCESS) {
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2101), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "try again shortly");
        return NULL;
    }
    if (rows.nrows < 1) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2100), HTTP_NOT_FOUND, "no-link", "Link not found",
                  "this link does not exist");
        return NULL;
    }
    row = rows.rows[0];
    l = apr_pcalloc(r->pool, sizeof(*l));
    l->id = row[0];
    l->transfer_id = row[1];
    l->file_id = row[2];
    l->owner_id = row[3];
    l->expired = t(row[4]);
    l->revoked = t(row[5]);
    l->max_downloads = (int)apr_atoi64(row[6]);
    l->downloads = (int)apr_atoi64(row[7]);
    l->password_hash = row[8];
    l->has_recipients = t(row[9]);
    l->expires_at = row[10];
    l->bytes_served = apr_atoi64(row[11]);
    l->folder_id = row[12];
    l->folder_name = row[13];
    l->file_set = t(row[15]);
    l->token = token;
    if (rows.nrows > LENZ_LINK_MAX_FILES) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2104), HTTP_REQUEST_ENTITY_TOO_LARGE, "too-many-files",
                  "Too many files", apr_psprintf(r->pool, "a link serves at most %d files; this folder "
                  "holds more", LENZ_LINK_MAX_FILES));
        return NULL;
    }
    if (l->revoked || l->expired) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2102), HTTP_GONE, "link-gone", "Link no longer valid",
                  l->revoked ? "the owner revoked this link" : "this link has expired");
        return NULL;
    }
    l->files = apr_array_make(r->pool, rows.nrows, sizeof(lenz_dfile));
    for (i = 0; i < rows.nrows; i++) {
        lenz_dfile *f;
        row = rows.rows[i] + LINK_COLS;
        if (!row[0])
            continue;       /* the link's row without a file */
        f = apr_array_push(l->files);
        lenz_dfile_from_row(row, f);
        f->dir = row[DFILE_NCOLS];
        l->total_size += f->size;
    }
    /* A folder in the trash is gone; a live one may be empty. */
    if (l->folder_id && !t(rows.rows[0][14])) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2103), HTTP_GONE, "link-gone", "Link no longer valid",
                  "the folder behind this link is gone");
        return NULL;
    }
    if (l->files->nelts == 0 && !l->folder_id) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2103), HTTP_GONE, "link-gone", "Link no longer valid",
                  "the files behind this link are gone");
        return NULL;
    }
    if (l->max_downloads) {
        /* Used up: nothing left to send (a download cut short may still
         * be resumed with Range while its bytes last). */
        apr_int64_t dl, bytes;
        lenz_link_left(l, &dl, &bytes);
        if (l->total_size > 0 ? bytes == 0 : dl == 0) {
            lenz_fail(r, APLOG_INFO, LENZLOGNO(2102), HTTP_GONE, "link-gone", "Link no longer valid",
                      "this link's downloads are used up");
            return NULL;
        }
    }
    return l;
}

void lenz_link_left(const lenz_link *l, apr_int64_t *downloads, apr_int64_t *bytes)
{
    apr_int64_t budget;
    *downloads = *bytes = 0;
    if (l->max_downloads <= 0)
        return;
    budget = l->total_size > 0 && l->max_downloads > APR_INT64_MAX / l->total_size
             ? APR_INT64_MAX : (apr_int64_t)l->max_downloads * l->total_size;
    *bytes = budget > l->bytes_served ? budget - l->bytes_served : 0;
    *downloads = l->max_downloads > l->downloads ? l->max_downloads - l->downloads : 0;
    /* A download needs a whole copy's bytes too (ranges and a transfer's
     * files one by one take from the same bytes). */
    if (l->total_size > 0 && *bytes / l->total_size < *downloads)
        *downloads = *bytes / l->total_size;
}

static const char *cookie_path(request_rec *r, const lenz_link *l)
{
    return apr_pstrcat(r->pool, "/download/", l->token, NULL);
}

static const char *read_cookie(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Cookie");
    apr_size_t nl = strlen(GRANT_COOKIE);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        if (strncmp(h, GRANT_COOKIE, nl) == 0 && h[nl] == '=') {
            const char *v = h + nl + 1, *e = strchr(v, ';');
            return apr_pstrmemdup(r->pool, v, e ? (apr_size_t)(e - v) : strlen(v));
        }
        h = strchr(h, ';');
    }
    return NULL;
}

void lenz_grant_read(request_rec *r, lenz_req *lr, lenz_link *l)
{
    const char *authz = apr_table_get(r->headers_in, "Authorization");
    const char *g = NULL;
    lenz_json *c;
    int b;

    if (authz && strncasecmp(authz, "Grant ", 6) == 0)
        g = authz + 6;
    if (!g) {
        const char *q = r->args ? ap_strstr_c(r->args, "grant=") : NULL;
        if (q && (q == r->args || q[-1] == '&')) {
            const char *e = strchr(q + 6, '&');
            g = apr_pstrmemdup(r->pool, q + 6, e ? (apr_size_t)(e - q - 6) : strlen(q + 6));
        }
    }
    if (!g)
        g = read_cookie(r);
    if (!g || lenz_token_open(r->pool, lr->srv->keyring, "grant", l->id,
                              apr_time_sec(apr_time_now()), g, &c) != APR_SUCCESS)
        return;
    if (lenz_json_get_bool(c, "pw", &b) == APR_SUCCESS)
        l->pw_ok = b;
    if (lenz_json_get_bool(c, "otp", &b) == APR_SUCCESS)
        l->otp_ok = b;
    lenz_json_get_str(c, "email", &l->grant_email);
}

const char *lenz_grant_issue(request_rec *r, lenz_req *lr, lenz_link *l, int pw, int otp,
                             const char *email)
{
    lenz_json *c = lenz_json_new_object(r->pool);
    const char *g, *pub = lr->srv->public_url;
    l->pw_ok = l->pw_ok || pw;
    l->otp_ok = l->otp_ok || otp;
    if (email)
        l->grant_email = email;
    lenz_json_set_bool(c, "pw", l->pw_ok);
    lenz_json_set_bool(c, "otp", l->otp_ok);
    if (l->grant_email)
        lenz_json_set_str(c, "email", l->grant_email);
    if (lenz_token_seal(r->pool, lr->srv->keyring, "grant", l->id, GRANT_TTL,
                        apr_time_sec(apr_time_now()), c, &g) != APR_SUCCESS)
        return NULL;
    /* The grant cookie only goes back to this link's own URLs. */
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool, GRANT_COOKIE "=%s; Path=%s; HttpOnly; SameSite=Lax%s; Max-Age=%d",
                                g, cookie_path(r, l), pub && !strncasecmp(pub, "https:", 6) ? "; Secure" : "",
                                GRANT_TTL));
    return g;
}

int lenz_link_open_to_caller(const lenz_link *l)
{
    return (!l->password_hash || l->pw_ok) && (!l->has_recipients || l->otp_ok);
}

apr_status_t lenz_link_event(request_rec *r, lenz_db *db, const lenz_link *l, apr_int64_t downloads)
{
    lenz_json *ev = lenz_json_new_object(r->pool);
    lenz_json_set_str(ev, "owner_id", l->owner_id);
    lenz_json_set_str(ev, "link_id", l->id);
    lenz_json_set_str(ev, "transfer_id", l->transfer_id);
    lenz_json_set_str(ev, "name", l->folder_id ? l->folder_name : l->files->nelts == 1
                                  ? APR_ARRAY_IDX(l->files, 0, lenz_dfile).name
                                  : apr_psprintf(r->pool, "%d files", l->files->nelts));
    lenz_json_set_int(ev, "downloads", downloads);
    if (l->grant_email)
        lenz_json_set_str(ev, "by", l->grant_email);
    return lenz_event_emit(db, "link.downloaded", NULL, l->id, ev);
}

int lenz_link_count(request_rec *r, lenz_db *db, const lenz_link *l)
{
    const char *args[1] = { l->id };
    lenz_rows rows;
    int ok;

    lenz_db_begin(db);
    ok = lenz_db_select(db, "lenz_dl_count", &rows, 1, args) == APR_SUCCESS && rows.nrows == 1
         && lenz_link_event(r, db, l, apr_atoi64(rows.rows[0][0])) == APR_SUCCESS;
    lenz_db_end(db, !ok);
    return ok;
}
