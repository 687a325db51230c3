/* uploads.c - initiate, presigned part URLs, resume, abort and complete.
 * The encrypted part upload itself is upload_part.c. */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uuid.h>

#include "lenz.h"
#include "uploads.h"
#include "upload_common.h"
#include "config.h"
#include "auth.h"
#include "body.h"
#include "problem.h"
#include "rate.h"
#include "links.h"
#include "keystore.h"
#include "s3glue.h"
#include "sigv4.h"
#include "http.h"
#include "aead.h"
#include "keys.h"
#include "token.h"
#include "passwd.h"
#include "mail.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"
#include "events.h"

#define PRESIGN_TTL   900
#define MAX_RECIPIENTS 20

const lenz_stmt lenz_uploads_stmts[] = {
    { "lenz_up_quota",
      "SELECT coalesce(sum(size), 0) FROM files WHERE owner_id = %s::uuid AND state <> 'deleted'" },
    { "lenz_up_transfer_get",
      "SELECT t.owner_id, t.guest_ip, t.state, (t.created_at > now() - interval '1 day'), "
      "(SELECT count(*) FROM files f WHERE f.transfer_id = t.id AND f.state <> 'deleted'), "
      "t.link_token_sealed FROM transfers t WHERE t.id = %s::uuid FOR UPDATE" },
    { "lenz_up_transfer_new",
      "INSERT INTO transfers (owner_id, guest_ip, expires_at) VALUES (%s::uuid, %s, "
      "CASE WHEN %s::int > 0 THEN now() + make_interval(secs => %s::int) END) RETURNING id" },
    { "lenz_up_transfer_link",
      "UPDATE transfers SET link_id = %s::uuid, link_token_sealed = %s WHERE id = %s::uuid" },
    { "lenz_up_file_new",
      "INSERT INTO files (id, owner_id, transfer_id, name, content_type, size, storage, s3_key, "
      "format_version, segment_size, nonce_prefix, wrapped_dek, kek_user_id, kek_version, expires_at) "
      "VALUES (%s::uuid, %s::uuid, %s::uuid, %s, %s, %s::bigint, %s, %s, %s::smallint, %s::int, "
      "decode(%s, 'hex'), decode(%s, 'hex'), %s::uuid, %s::int, "
      "CASE WHEN %s::int > 0 THEN now() + make_interval(secs => %s::int) END)" },
    { "lenz_up_upload_new",
      "INSERT INTO uploads (file_id, s3_upload_id, part_size, part_count) "
      "VALUES (%s::uuid, %s, %s::bigint, %s::int)" },
    { "lenz_up_file_state",
      "SELECT f.state, f.name, f.size FROM files f WHERE f.id = %s::uuid FOR UPDATE" },
    { "lenz_up_parts_list",
      "SELECT part, size, etag FROM upload_parts WHERE file_id = %s::uuid ORDER BY part" },
    { "lenz_up_part_put",
      "INSERT INTO upload_parts (file_id, part, size, etag, sha256) "
      "VALUES (%s::uuid, %s::int, %s::bigint, %s, decode(%s, 'hex')) "
      "ON CONFLICT (file_id, part) DO UPDATE SET size = EXCLUDED.size, etag = EXCLUDED.etag, "
      "sha256 = EXCLUDED.sha256, created_at = now()" },
    { "lenz_up_ready",
      "UPDATE files SET state = 'ready', updated_at = now() WHERE id = %s::uuid AND state = 'uploading'" },
    { "lenz_up_done",
      "UPDATE uploads SET completed_at = now() WHERE file_id = %s::uuid" },
    { "lenz_up_deleted",
      "UPDATE files SET state = 'deleted', updated_at = now() WHERE id = %s::uuid AND state = 'uploading'" },
    { "lenz_up_file_keys",
      "SELECT f.state, encode(f.nonce_prefix, 'hex'), encode(f.wrapped_dek, 'hex'), f.kek_user_id, "
      "f.kek_version, f.segment_size, "
      /* the wrapping user key, so a part needs one query before S3 */
      "encode(k.wrapped_kek, 'hex'), k.master_key_version "
      "FROM files f LEFT JOIN user_keys k ON k.user_id = f.kek_user_id AND k.version = f.kek_version "
      "WHERE f.id = %s::uuid" },
    { "lenz_up_link_token",
      "SELECT link_token_sealed FROM transfers WHERE id = %s::uuid" },
    { NULL }
};

/* Shared helpers -------------------------------------------------------------- */

lenz_db *lenz_up_db(request_rec *r)
{
    lenz_db *db = lenz_db_open(r);
    if (!db)
        lenz_fail(r, APLOG_ERR, LENZLOGNO(2000), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                  "Service unavailable", "the database is unavailable; try again shortly");
    return db;
}

const char *lenz_up_subject(request_rec *r, lenz_req *lr, int member)
{
    return member ? apr_pstrcat(r->pool, "user:", lr->user->id, NULL) : "guest";
}

apr_int64_t lenz_up_part_len(const lenz_up *u, int n)
{
    if (n < u->part_count)
        return u->part_size;
    return u->size - u->part_size * (apr_int64_t)(u->part_count - 1);
}

static int bad_token(request_rec *r, const char *detail)
{
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2001), HTTP_FORBIDDEN, "invalid-upload-token",
              "Invalid upload token", detail);
    return 0;
}

lenz_up *lenz_up_token(request_rec *r, lenz_req *lr, int member, const char *token)
{
    lenz_json *c;
    lenz_up *u;
    apr_int64_t v;
    apr_status_t rv;

    if (!token || !*token) {
        lenz_field_bad(r, "token", "is required");
        return NULL;
    }
    rv = lenz_token_open(r->pool, lr->srv->keyring, "upload", lenz_up_subject(r, lr, member),
                         apr_time_sec(apr_time_now()), token, &c);
    if (rv == LENZ_EEXPIRED) {
        lenz_fail(r, APLOG_INFO, LENZLOGNO(2002), HTTP_GONE, "upload-expired", "Upload expired",
                  "this upload's token has expired; start the upload again");
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        bad_token(r, "the upload token is not valid here (forged, damaged or someone else's)");
        return NULL;
    }
    u = apr_pcalloc(r->pool, sizeof(*u));
    if (lenz_json_get_str(c, "f", &u->file_id) != APR_SUCCESS
        || lenz_json_get_str(c, "t", &u->transfer_id) != APR_SUCCESS
        || lenz_json_get_str(c, "k", &u->key) != APR_SUCCESS
        || lenz_json_get_str(c, "u", &u->upload_id) != APR_SUCCESS
        || lenz_json_get_int(c, "s", &u->size) != APR_SUCCESS
        || lenz_json_get_int(c, "ps", &u->part_size) != APR_SUCCESS
        || lenz_json_get_int(c, "pc", &v) != APR_SUCCESS) {
        bad_token(r, "the upload token is incomplete");
        return NULL;
    }
    u->part_count = (int)v;
    u->encrypted = lenz_json_get_int(c, "g", &v) == APR_SUCCESS;
    u->segment_size = u->encrypted ? (int)v : 0;
    return u;
}

/* Input checks -------------------------------------------------------------------- */

static int filename_ok(request_rec *r, const char *name)
{
    const unsigned char *c;
    if (!*name || strlen(name) > 255)
        return lenz_field_bad(r, "filename", "1 to 255 bytes");
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return lenz_field_bad(r, "filename", "not a file name");
    for (c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '/' || *c == '\\')
            return lenz_field_bad(r, "filename", "no path separators or control characters");
    return 1;
}

static int content_type_ok(request_rec *r, const char *ct)
{
    const char *c;
    int slash = 0;
    if (strlen(ct) > 127)
        return lenz_field_bad(r, "content_type", "at most 127 bytes");
    for (c = ct; *c; c++) {
        if (*c == '/')
            slash++;
        else if (!(apr_isalnum(*c) || strchr("!#$&^_.+-", *c)))
            return lenz_field_bad(r, "content_type", "a media type such as image/jpeg");
    }
    if (slash != 1 || ct[0] == '/' || ct[strlen(ct) - 1] == '/')
        return lenz_field_bad(r, "content_type", "a media type such as image/jpeg");
    return 1;
}

static int recipients_ok(request_rec *r, const lenz_json *b, apr_array_header_t **out)
{
    lenz_json *a = lenz_json_get(b, "recipients");
    apr_size_t i, n;
    *out = NULL;
    if (!a || lenz_json_typeof(a) == LENZ_JSON_NULL)
        return 1;
    if (lenz_json_typeof(a) != LENZ_JSON_ARRAY)
        return lenz_field_bad(r, "recipients", "must be an array of e-mail addresses");
    n = lenz_json_array_len(a);
    if (n > MAX_RECIPIENTS)
        return lenz_field_bad(r, "recipients", apr_psprintf(r->pool, "at most %d", MAX_RECIPIENTS));
    *out = apr_array_make(r->pool, (int)n + 1, sizeof(const char *));
    for (i = 0; i < n; i++) {
        const char *e = lenz_json_string(lenz_json_array_get(a, i));
        if (!e || !lenz_mail_addr_ok(e))
            return lenz_field_bad(r, "recipients", apr_psprintf(r->pool, "entry %d is not an e-mail address",
                                                                (int)i + 1));
        APR_ARRAY_PUSH(*out, const char *) = e;
    }
    return 1;
}

static int uuid_ok(const char *s)
{
    apr_uuid_t u;
    return s && strlen(s) == 36 && apr_uuid_parse(&u, s) == APR_SUCCESS;
}

/* Parts of at least LenzUploadPartSize, whole segments for encrypted
 * files, grown so no file needs more than 10000 parts. */
static apr_int64_t plan_part_size(lenz_req *lr, apr_int64_t size, int encrypted)
{
    apr_int64_t ps = lenz_cfg_part_size(lr->srv), seg = LENZ_AEAD_SEGMENT_DEFAULT;
    if ((size + ps - 1) / ps > LENZ_S3_MAX_PARTS)
        ps = (size + LENZ_S3_MAX_PARTS - 1) / LENZ_S3_MAX_PARTS;
    if (encrypted)
        ps = (ps + seg - 1) / seg * seg;
    return ps;
}

/* Initiate ------------------------------------------------------------------------ */

typedef struct init_req {
    const char *filename, *content_type, *password, *transfer_id;
    apr_int64_t size;
    apr_array_header_t *recipients;
} init_req;

static int read_init(request_rec *r, lenz_req *lr, init_req *in)
{
    lenz_json *b = lenz_body_json(r, lr);
    memset(in, 0, sizeof(*in));
    if (!b)
        return 0;
    if (!lenz_field_str(r, b, "filename", 1, 4096, &in->filename) || !filename_ok(r, in->filename))
        return 0;
    if (!lenz_field_int(r, b, "size", 1, 0, (apr_int64_t)LENZ_S3_MAX_OBJECT, &in->size))
        return 0;
    if (!lenz_field_str(r, b, "content_type", 0, 4096, &in->content_type))
        return 0;
    if (in->content_type && *in->content_type && !content_type_ok(r, in->content_type))
        return 0;
    if (!in->content_type || !*in->content_type)
        in->content_type = "application/octet-stream";
    if (!lenz_field_str(r, b, "password", 0, 1024, &in->password))
        return 0;
    if (in->password && !*in->password)
        in->password = NULL;
    if (!lenz_field_str(r, b, "transfer_id", 0, 64, &in->transfer_id))
        return 0;
    if (in->transfer_id && !uuid_ok(in->transfer_id))
        return lenz_field_bad(r, "transfer_id", "not a transfer id");
    return recipients_ok(r, b, &in->recipients);
}

static int refuse(request_rec *r, int status, const char *slug, const char *title, const char *detail)
{
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2003), status, slug, title, detail);
    return 0;
}

/* Size limits: guests by LenzGuestLimits, members by their quota. */
static int size_allowed(request_rec *r, lenz_req *lr, lenz_db *db, int member, apr_int64_t size)
{
    if (!member) {
        apr_off_t max = lenz_cfg_guest_max_size(lr->srv);
        if (size > max)
            return refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "too-large", "File too large",
                          apr_psprintf(r->pool, "guests may upload files up to %" APR_OFF_T_FMT
                                       " bytes", max));
        return 1;
    }
    else {
        const char *args[1] = { lr->user->id };
        lenz_rows rows;
        apr_off_t quota = lenz_cfg_member_quota(lr->srv);
        if (lenz_db_select(db, "lenz_up_quota", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
            return refuse(r, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
                          "try again shortly");
        if (apr_atoi64(rows.rows[0][0]) + size > quota)
            return refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "quota-exceeded", "Storage quota exceeded",
                          apr_psprintf(r->pool, "this upload would pass your quota of %" APR_OFF_T_FMT
                                       " bytes", quota));
        return 1;
    }
}

/* The transfer the file joins (a new one, with its share link, unless the
 * request names an open one this caller may add to). */
static const char *join_transfer(request_rec *r, lenz_req *lr, lenz_db *db, int member,
                                 const init_req *in, const char **link_token, int *fail)
{
    const char *args[4];
    lenz_rows rows;
    *fail = 0;
    if (in->transfer_id) {
        const char **row;
        args[0] = in->transfer_id;
        if (lenz_db_select(db, "lenz_up_transfer_get", &rows, 1, args) != APR_SUCCESS) {
            *fail = refuse(r, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
                           "try again shortly") + 1;
            return NULL;
        }
        row = rows.nrows == 1 ? rows.rows[0] : NULL;
        /* Someone else's, closed or unknown all look the same. */
        if (!row || strcmp(row[2], "open") != 0
            || (member ? !row[0] || strcmp(row[0], lr->user->id) != 0
                       : row[0] || !row[1] || strcmp(row[1], r->useragent_ip) != 0
                         || strcmp(row[3], "t") != 0)) {
            *fail = refuse(r, HTTP_NOT_FOUND, "no-transfer", "No such transfer",
                           "the transfer does not exist or cannot take more files") + 1;
            return NULL;
        }
        if (!member && apr_atoi64(row[4]) >= lenz_cfg_guest_max_files(lr->srv)) {
            *fail = refuse(r, HTTP_CONFLICT, "too-many-files", "Too many files",
                           apr_psprintf(r->pool, "a guest transfer holds at most %d files",
                                        lenz_cfg_guest_max_files(lr->srv))) + 1;
            return NULL;
        }
        *link_token = row[5];
        return in->transfer_id;
    }
    args[0] = member ? lr->user->id : NULL;
    args[1] = member ? NULL : r->useragent_ip;
    args[2] = args[3] = apr_itoa(r->pool, member ? 0 : lenz_cfg_guest_expiry(lr->srv));
    if (lenz_db_select(db, "lenz_up_transfer_new", &rows, 4, args) != APR_SUCCESS || rows.nrows != 1) {
        *fail = 1;
        return NULL;
    }
    *link_token = NULL;
    return rows.rows[0][0];
}

/* A new transfer's share link, its token sealed into the transfer so every
 * later complete can hand it out again. */
static apr_status_t make_link(request_rec *r, lenz_req *lr, lenz_db *db, int member,
                              const char *transfer, const init_req *in, const char **sealed)
{
    lenz_link_spec spec;
    const char *token, *link_id, *expires, *args[3];
    lenz_json *claims = lenz_json_new_object(r->pool);
    apr_status_t rv;

    memset(&spec, 0, sizeof(spec));
    spec.transfer_id = transfer;
    spec.owner_id = member ? lr->user->id : NULL;
    spec.ttl = member ? lenz_cfg_link_expiry(lr->srv) : lenz_cfg_guest_expiry(lr->srv);
    spec.recipients = in->recipients;
    if (in->password && lenz_passwd_hash(r->pool, in->password, NULL, &spec.password_hash) != APR_SUCCESS)
        return APR_EGENERAL;
    if ((rv = lenz_link_create(r, db, &spec, &token, &link_id, &expires)) != APR_SUCCESS)
        return rv;
    lenz_json_set_str(claims, "link", token);
    rv = lenz_token_seal(r->pool, lr->srv->keyring, "transfer-link", transfer,
                         spec.ttl + 86400, apr_time_sec(apr_time_now()), claims, sealed);
    if (rv != APR_SUCCESS)
        return rv;
    args[0] = link_id;
    args[1] = *sealed;
    args[2] = transfer;
    return lenz_db_exec(db, "lenz_up_transfer_link", NULL, 3, args);
}

int lenz_up_initiate(request_rec *r, lenz_req *lr, int member, int encrypted)
{
    init_req in;
    lenz_aead_params pp;
    apr_uuid_t uuid;
    char fid[APR_UUID_FORMATTED_LENGTH + 1];
    const char *key, *upload_id = NULL, *transfer = NULL, *sealed = NULL, *kek_user = NULL;
    const char *token, *args[16];
    unsigned char kek[LENZ_KEY_LEN], wrapped[LENZ_WRAP_LEN];
    lenz_json *claims, *out;
    lenz_s3_error err;
    lenz_db *db;
    apr_table_t *meta;
    apr_int64_t ps;
    int kek_version = 0, fail = 0, pc;
    apr_status_t rv = APR_SUCCESS;

    if (!member && !lenz_cfg_guest_uploads(lr->srv))
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2004), HTTP_FORBIDDEN, "guest-uploads-off",
                         "Guest uploads are off", "sign in to upload");
    if (!read_init(r, lr, &in))
        return OK;
    {
        const char *why;
        if (!lenz_cfg_upload_path_ok(lr->srv, in.size, encrypted, &why))
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2005), HTTP_FORBIDDEN, "upload-policy",
                             "Not allowed by the upload policy", why);
    }
    /* Counted once the request is one that can go ahead. */
    if (!member && !lenz_rate_check(r, "guest-upload", r->useragent_ip,
                                    lenz_cfg_guest_per_hour(lr->srv), 3600))
        return OK;
    ps = plan_part_size(lr, in.size, encrypted);
    {
        const char *why;
        if (lenz_s3_check_plan((apr_uint64_t)in.size, (apr_uint64_t)ps, &why) != APR_SUCCESS)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2006), HTTP_REQUEST_ENTITY_TOO_LARGE, "too-large",
                             "File too large", why);
    }
    pc = in.size == 0 ? 1 : (int)((in.size + ps - 1) / ps);
    if (!(db = lenz_up_db(r)))
        return OK;
    if (!size_allowed(r, lr, db, member, in.size)) {
        lenz_db_close(db);
        return OK;
    }

    apr_uuid_get(&uuid);
    apr_uuid_format(fid, &uuid);
    key = apr_pstrcat(r->pool, "files/", fid, NULL);
    memset(&pp, 0, sizeof(pp));
    if (encrypted) {
        kek_user = member ? lr->user->id : lenz_guest_account(r, db);
        if (!kek_user || lenz_kek_current(r, db, kek_user, kek, &kek_version) != APR_SUCCESS
            || lenz_key_generate(pp.key) != APR_SUCCESS
            || lenz_random(pp.prefix, sizeof(pp.prefix)) != APR_SUCCESS
            || lenz_key_wrap(r->pool, kek, lenz_key_context_dek(r->pool, fid), pp.key, wrapped) != APR_SUCCESS) {
            lenz_wipe(kek, sizeof(kek));
            lenz_wipe(pp.key, sizeof(pp.key));
            lenz_db_close(db);
            return lenz_fail(r, APLOG_ERR, LENZLOGNO(2007), HTTP_SERVICE_UNAVAILABLE, "keys-unavailable",
                             "Service unavailable", "the file's key could not be made; try again shortly");
        }
        lenz_wipe(kek, sizeof(kek));
        lenz_wipe(pp.key, sizeof(pp.key));
    }

    /* S3 first: if it fails nothing is recorded; if the database then
     * fails, the S3 upload is aborted. */
    meta = apr_table_make(r->pool, 4);
    apr_table_set(meta, "lenz-file-id", fid);
    if (encrypted) {
        apr_table_set(meta, "lenz-format", "1");
        apr_table_set(meta, "lenz-segment-size", apr_itoa(r->pool, LENZ_AEAD_SEGMENT_DEFAULT));
        apr_table_set(meta, "lenz-nonce-prefix", lenz_hex(r->pool, pp.prefix, sizeof(pp.prefix)));
    }
    rv = lenz_s3_create_multipart(lr->srv->s3, lenz_process_http(), r->pool, key,
                                  encrypted ? "application/octet-stream" : in.content_type, meta,
                                  &upload_id, &err);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_s3_fail(r, "CreateMultipartUpload", rv, &err);
    }

    lenz_db_begin(db);
    transfer = join_transfer(r, lr, db, member, &in, &sealed, &fail);
    if (transfer && !sealed && make_link(r, lr, db, member, transfer, &in, &sealed) != APR_SUCCESS)
        transfer = NULL;
    if (transfer) {
        args[0] = fid;
        args[1] = member ? lr->user->id : NULL;
        args[2] = transfer;
        args[3] = in.filename;
        args[4] = in.content_type;
        args[5] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, in.size);
        args[6] = encrypted ? "enc" : "plain";
        args[7] = key;
        args[8] = encrypted ? "1" : NULL;
        args[9] = encrypted ? apr_itoa(r->pool, LENZ_AEAD_SEGMENT_DEFAULT) : NULL;
        args[10] = encrypted ? lenz_hex(r->pool, pp.prefix, sizeof(pp.prefix)) : NULL;
        args[11] = encrypted ? lenz_hex(r->pool, wrapped, sizeof(wrapped)) : NULL;
        args[12] = kek_user;
        args[13] = encrypted ? apr_itoa(r->pool, kek_version) : NULL;
        args[14] = args[15] = apr_itoa(r->pool, member ? 0 : lenz_cfg_guest_expiry(lr->srv));
        rv = lenz_db_exec(db, "lenz_up_file_new", NULL, 16, args);
        if (rv == APR_SUCCESS) {
            args[1] = upload_id;
            args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, ps);
            args[3] = apr_itoa(r->pool, pc);
            rv = lenz_db_exec(db, "lenz_up_upload_new", NULL, 4, args);
        }
    }
    else {
        rv = APR_EGENERAL;
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    lenz_db_close(db);
    if (rv != APR_SUCCESS) {
        lenz_s3_abort_multipart(lr->srv->s3, lenz_process_http(), r->pool, key, upload_id, &err);
        if (fail)
            return OK;      /* join_transfer answered */
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2008), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the upload could not be recorded; try again shortly");
    }

    claims = lenz_json_new_object(r->pool);
    lenz_json_set_str(claims, "f", fid);
    lenz_json_set_str(claims, "t", transfer);
    lenz_json_set_str(claims, "k", key);
    lenz_json_set_str(claims, "u", upload_id);
    lenz_json_set_int(claims, "s", in.size);
    lenz_json_set_int(claims, "ps", ps);
    lenz_json_set_int(claims, "pc", pc);
    if (encrypted)
        lenz_json_set_int(claims, "g", LENZ_AEAD_SEGMENT_DEFAULT);
    if (lenz_token_seal(r->pool, lr->srv->keyring, "upload", lenz_up_subject(r, lr, member),
                        LENZ_UPLOAD_TOKEN_TTL, apr_time_sec(apr_time_now()), claims, &token) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2009), HTTP_INTERNAL_SERVER_ERROR, "token",
                         "Internal error", "the upload token could not be made");

    out = lenz_json_new_object(r->pool);
    if (!encrypted)
        lenz_json_set_str(out, "upload_id", upload_id);
    lenz_json_set_str(out, "token", token);
    lenz_json_set_int(out, "part_size", ps);
    lenz_json_set_int(out, "part_count", pc);
    lenz_json_set_str(out, "expires_at", ap_ht_time(r->pool, apr_time_now()
                      + apr_time_from_sec(LENZ_UPLOAD_TOKEN_TTL), "%Y-%m-%dT%H:%M:%SZ", 1));
    lenz_json_set_str(out, "file_id", fid);
    lenz_json_set_str(out, "transfer_id", transfer);
    return lenz_send_json(r, HTTP_CREATED, out);
}

/* Part numbers ------------------------------------------------------------------- */

static int part_number(request_rec *r, const lenz_up *u, const char *s)
{
    char *end;
    long n;
    if (!s || !*s)
        return lenz_field_bad(r, "part", "is required");
    n = strtol(s, &end, 10);
    if (*end || n < 1 || n > u->part_count)
        return lenz_field_bad(r, "part", apr_psprintf(r->pool, "must be 1 to %d", u->part_count));
    return (int)n;
}

static int sha256_hex_ok(const char *s)
{
    int i;
    for (i = 0; i < 64; i++)
        if (!apr_isxdigit(s[i]))
            return 0;
    return s[64] == '\0';
}

static const char *lower_hex(apr_pool_t *p, const char *s)
{
    char *d = apr_pstrdup(p, s), *c;
    for (c = d; *c; c++)
        *c = (char)apr_tolower(*c);
    return d;
}

int lenz_up_presign(request_rec *r, lenz_req *lr, int member)
{
    lenz_up *u = lenz_up_token(r, lr, member, lenz_query(r, "token"));
    apr_array_header_t *hdrs = NULL;
    lenz_sigv4_hdr *h;
    const char *url, *sha;
    lenz_json *out;
    apr_time_t now = apr_time_now();
    int n;

    if (!u || !(n = part_number(r, u, lenz_query(r, "part"))))
        return OK;
    if (u->encrypted)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2010), HTTP_BAD_REQUEST, "wrong-path",
                         "Encrypted upload", "parts of an encrypted upload go through upload-part");
    /* With ?sha256= the URL is bound to the part's digest: S3 refuses any
     * other bytes (XAmzContentSHA256Mismatch), so the part is checked
     * before it is accepted although it never passes through here. */
    if ((sha = lenz_query(r, "sha256")) != NULL) {
        if (!sha256_hex_ok(sha))
            return lenz_field_bad(r, "sha256", "64 hex digits"), OK;
        sha = lower_hex(r->pool, sha);
        hdrs = apr_array_make(r->pool, 1, sizeof(lenz_sigv4_hdr));
        h = apr_array_push(hdrs);
        h->name = "x-amz-content-sha256";
        h->value = sha;
    }
    if (lenz_s3_presign_hdrs(lr->srv->s3, r->pool, "PUT", u->key,
                             apr_psprintf(r->pool, "partNumber=%d&uploadId=%s", n,
                                          lenz_sigv4_uri_encode(r->pool, u->upload_id, strlen(u->upload_id), 1)),
                             hdrs, PRESIGN_TTL, now, &url) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2011), HTTP_INTERNAL_SERVER_ERROR, "presign",
                         "Internal error", "the part URL could not be signed");
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "url", url);
    lenz_json_set_str(out, "method", "PUT");
    if (sha)
        lenz_json_set_str(lenz_json_obj_add_object(out, "headers"), "x-amz-content-sha256", sha);
    lenz_json_set_str(out, "expires_at", ap_ht_time(r->pool, now + apr_time_from_sec(PRESIGN_TTL),
                                                   "%Y-%m-%dT%H:%M:%SZ", 1));
    lenz_json_set_int(out, "part", n);
    lenz_json_set_int(out, "size", lenz_up_part_len(u, n));
    return lenz_send_json(r, HTTP_OK, out);
}

/* The parts received so far: recorded rows (encrypted) or S3's list (plain). */
static apr_status_t received(request_rec *r, lenz_req *lr, lenz_db *db, const lenz_up *u,
                             apr_array_header_t **parts, lenz_s3_error *err)
{
    if (!u->encrypted)
        return lenz_s3_list_parts(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id,
                                  parts, err);
    else {
        const char *args[1] = { u->file_id };
        lenz_rows rows;
        int i;
        memset(err, 0, sizeof(*err));
        if (lenz_db_select(db, "lenz_up_parts_list", &rows, 1, args) != APR_SUCCESS)
            return APR_EGENERAL;
        *parts = apr_array_make(r->pool, rows.nrows + 1, sizeof(lenz_s3_part));
        for (i = 0; i < rows.nrows; i++) {
            lenz_s3_part *p = apr_array_push(*parts);
            p->number = (int)apr_atoi64(rows.rows[i][0]);
            p->size = (apr_off_t)apr_atoi64(rows.rows[i][1]);
            p->etag = rows.rows[i][2];
        }
        return APR_SUCCESS;
    }
}

int lenz_up_parts(request_rec *r, lenz_req *lr, int member)
{
    lenz_up *u = lenz_up_token(r, lr, member, lenz_query(r, "token"));
    apr_array_header_t *parts;
    lenz_s3_error err;
    lenz_json *out, *arr;
    lenz_db *db;
    apr_status_t rv;
    int i;

    if (!u || !(db = lenz_up_db(r)))
        return OK;
    rv = received(r, lr, db, u, &parts, &err);
    lenz_db_close(db);
    if (rv == LENZ_ENOTFOUND)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2012), HTTP_GONE, "upload-gone", "Upload gone",
                         "this upload was completed or aborted");
    if (rv != APR_SUCCESS)
        return u->encrypted ? lenz_fail(r, APLOG_ERR, LENZLOGNO(2013), HTTP_SERVICE_UNAVAILABLE,
                                        "db-unavailable", "Service unavailable", "try again shortly")
                            : lenz_s3_fail(r, "ListParts", rv, &err);
    out = lenz_json_new_object(r->pool);
    lenz_json_set_int(out, "part_size", u->part_size);
    lenz_json_set_int(out, "part_count", u->part_count);
    arr = lenz_json_obj_add_array(out, "parts");
    for (i = 0; i < parts->nelts; i++) {
        lenz_s3_part *p = &APR_ARRAY_IDX(parts, i, lenz_s3_part);
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_int(o, "part", p->number);
        lenz_json_set_int(o, "size", p->size);
        lenz_json_set_str(o, "etag", p->etag);
    }
    return lenz_send_json(r, HTTP_OK, out);
}

int lenz_up_abort(request_rec *r, lenz_req *lr, int member)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *token, *args[1];
    lenz_s3_error err;
    lenz_up *u;
    lenz_db *db;
    int n = 0;

    if (!b || !lenz_field_str(r, b, "token", 1, 4096, &token) || !(u = lenz_up_token(r, lr, member, token)))
        return OK;
    if (!(db = lenz_up_db(r)))
        return OK;
    args[0] = u->file_id;
    lenz_db_exec(db, "lenz_up_deleted", &n, 1, args);
    lenz_db_close(db);
    if (n != 1)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2014), HTTP_CONFLICT, "not-uploading",
                         "Nothing to abort", "this upload was completed or aborted already");
    lenz_s3_abort_multipart(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id, &err);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* Complete ------------------------------------------------------------------------- */

static const char *strip_quotes(apr_pool_t *p, const char *e)
{
    apr_size_t n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
        return apr_pstrmemdup(p, e + 1, n - 2);
    return e;
}

/* The client's list for a plain upload: every part once, in any order,
 * each with its ETag and, optionally, the SHA-256 its URL was bound to. */
static int client_etags(request_rec *r, const lenz_json *b, const lenz_up *u, const char ***etags,
                        const char ***shas)
{
    lenz_json *a = lenz_json_get(b, "parts");
    apr_size_t i, n;
    if (!a || lenz_json_typeof(a) != LENZ_JSON_ARRAY)
        return lenz_field_bad(r, "parts", "must be an array of {\"part\", \"etag\"}");
    n = lenz_json_array_len(a);
    if (n > LENZ_S3_MAX_PARTS)
        return lenz_field_bad(r, "parts", "too many entries");
    *etags = apr_pcalloc(r->pool, sizeof(char *) * (u->part_count + 1));
    *shas = apr_pcalloc(r->pool, sizeof(char *) * (u->part_count + 1));
    for (i = 0; i < n; i++) {
        lenz_json *o = lenz_json_array_get(a, i);
        apr_int64_t num;
        const char *e, *sha = NULL;
        if (lenz_json_get_int(o, "part", &num) != APR_SUCCESS || num < 1 || num > u->part_count
            || lenz_json_get_str(o, "etag", &e) != APR_SUCCESS || !*e || strlen(e) > 200)
            return lenz_field_bad(r, "parts", apr_psprintf(r->pool, "entry %d needs a part 1-%d and an etag",
                                                          (int)i + 1, u->part_count));
        if (lenz_json_get_str(o, "sha256", &sha) == APR_EINVAL || (sha && !sha256_hex_ok(sha)))
            return lenz_field_bad(r, "parts", apr_psprintf(r->pool, "entry %d: sha256 must be 64 hex digits",
                                                          (int)i + 1));
        if ((*etags)[num])
            return lenz_field_bad(r, "parts", apr_psprintf(r->pool, "part %d is listed twice", (int)num));
        (*etags)[num] = strip_quotes(r->pool, e);
        (*shas)[num] = sha ? lower_hex(r->pool, sha) : NULL;
    }
    return 1;
}

static int link_answer(request_rec *r, lenz_req *lr, lenz_db *db, const lenz_up *u)
{
    const char *args[1] = { u->transfer_id }, *link;
    lenz_json *claims, *out;
    lenz_rows rows;

    if (lenz_db_select(db, "lenz_up_link_token", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1
        || !rows.rows[0][0]
        || lenz_token_open(r->pool, lr->srv->keyring, "transfer-link", u->transfer_id, apr_time_sec(apr_time_now()),
                           rows.rows[0][0], &claims) != APR_SUCCESS
        || lenz_json_get_str(claims, "link", &link) != APR_SUCCESS)
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2015), HTTP_INTERNAL_SERVER_ERROR, "link",
                         "Internal error", "the transfer's share link could not be read");
    out = lenz_json_new_object(r->pool);
    lenz_json_set_str(out, "file_id", u->file_id);
    lenz_json_set_str(out, "download_url", lenz_link_url(r, link));
    lenz_json_set_str(out, "token", link);
    lenz_json_set_str(out, "transfer_id", u->transfer_id);
    return lenz_send_json(r, HTTP_CREATED, out);
}

int lenz_up_complete(request_rec *r, lenz_req *lr, int member, int encrypted)
{
    lenz_json *b = lenz_body_json(r, lr);
    const char *token, **etags = NULL, **shas = NULL, *args[5];
    apr_array_header_t *parts;
    lenz_s3_part *list;
    lenz_s3_error err;
    lenz_rows rows;
    lenz_up *u;
    lenz_db *db;
    apr_status_t rv;
    const char *etag, *missing = NULL;
    int i, n, rc;

    if (!b || !lenz_field_str(r, b, "token", 1, 4096, &token) || !(u = lenz_up_token(r, lr, member, token)))
        return OK;
    if (u->encrypted != encrypted)
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2016), HTTP_BAD_REQUEST, "wrong-path", "Wrong path",
                         encrypted ? "this is a plain upload" : "this is an encrypted upload");
    if (!encrypted && !client_etags(r, b, u, &etags, &shas))
        return OK;
    if (!(db = lenz_up_db(r)))
        return OK;
    args[0] = u->file_id;
    if (lenz_db_select(db, "lenz_up_file_state", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1
        || strcmp(rows.rows[0][0], "uploading") != 0) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2017), HTTP_CONFLICT, "not-uploading", "Already finished",
                         "this upload was completed or aborted already");
    }
    rv = received(r, lr, db, u, &parts, &err);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        if (rv == LENZ_ENOTFOUND)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2012), HTTP_GONE, "upload-gone", "Upload gone",
                             "this upload was completed or aborted");
        return lenz_s3_fail(r, "ListParts", rv, &err);
    }
    /* Every part, exactly once, with its expected size (and, plain, the
     * ETag the client got from S3) before S3 is asked to assemble. */
    list = apr_pcalloc(r->pool, sizeof(lenz_s3_part) * (u->part_count + 1));
    n = 0;
    for (i = 0; i < parts->nelts; i++) {
        lenz_s3_part *p = &APR_ARRAY_IDX(parts, i, lenz_s3_part);
        if (p->number < 1 || p->number > u->part_count || p->size != lenz_up_part_len(u, p->number)
            || (etags && (!etags[p->number] || strcmp(strip_quotes(r->pool, p->etag), etags[p->number]) != 0)))
            continue;
        list[p->number] = *p;
    }
    for (i = 1; i <= u->part_count; i++) {
        if (!list[i].etag) {
            missing = missing ? apr_psprintf(r->pool, "%s, %d", missing, i) : apr_itoa(r->pool, i);
            if (++n >= 10)
                break;
        }
    }
    if (missing) {
        lenz_json *ext = lenz_json_new_object(r->pool);
        lenz_db_close(db);
        lenz_json_set_str(ext, "missing_parts", missing);
        return lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2018), HTTP_BAD_REQUEST, "parts-missing",
                             "Parts missing",
                             apr_psprintf(r->pool, "these parts are missing or have the wrong size%s: %s",
                                          etags ? " or ETag" : "", missing), ext);
    }
    rv = lenz_s3_complete_multipart(lr->srv->s3, lenz_process_http(), r->pool, u->key, u->upload_id,
                                    list + 1, u->part_count, &etag, &err);
    if (rv == LENZ_ENOTFOUND) {
        /* Completed before, but not recorded (the database failed after
         * S3 assembled the object)?  Then the object is there, whole. */
        lenz_s3_object info;
        apr_uint64_t want = u->encrypted ? lenz_aead_cipher_size((apr_uint64_t)u->size,
                                                                 (apr_uint32_t)u->segment_size)
                                         : (apr_uint64_t)u->size;
        if (lenz_s3_head_object(lr->srv->s3, lenz_process_http(), r->pool, u->key, &info, &err)
            == APR_SUCCESS && info.size >= 0 && (apr_uint64_t)info.size == want)
            rv = APR_SUCCESS;
    }
    if (rv == LENZ_ENOTFOUND) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_INFO, LENZLOGNO(2019), HTTP_CONFLICT, "not-uploading", "Already finished",
                         "S3 no longer has this upload (completed or aborted)");
    }
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_s3_fail(r, "CompleteMultipartUpload", rv, &err);
    }
    lenz_db_begin(db);
    rv = lenz_db_exec(db, "lenz_up_ready", NULL, 1, args);
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(db, "lenz_up_done", NULL, 1, args);
    for (i = 1; rv == APR_SUCCESS && !encrypted && i <= u->part_count; i++) {
        const char *pa[5] = { u->file_id, apr_itoa(r->pool, i),
                              apr_psprintf(r->pool, "%" APR_OFF_T_FMT, list[i].size), list[i].etag,
                              shas[i] };
        rv = lenz_db_exec(db, "lenz_up_part_put", NULL, 5, pa);
    }
    if (rv == APR_SUCCESS) {
        lenz_json *ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "name", rows.rows[0][1]);
        lenz_json_set_int(ev, "size", u->size);
        lenz_json_set_str(ev, "storage", u->encrypted ? "encrypted" : "plain");
        lenz_json_set_str(ev, "transfer_id", u->transfer_id);
        rv = lenz_event_emit(db, "file.uploaded", member ? lr->user->id : NULL, u->file_id, ev);
    }
    lenz_db_end(db, rv != APR_SUCCESS);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_fail(r, APLOG_ERR, LENZLOGNO(2020), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                         "Service unavailable", "the upload is stored but could not be recorded; "
                         "complete it again");
    }
    rc = link_answer(r, lr, db, u);
    lenz_db_close(db);
    return rc;
}
