/* upload_init.c - POST .../initiate (plain and encrypted, guests,
 * members and file requests' uploaders): the request's checks, the policy and limits, the transfer and
 * its share link, the file's key, and S3's multipart upload.  The token it
 * answers with is read by uploads.c and upload_part.c. */
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uuid.h>

#include "httpd/lenz.h"
#include "uploads.h"
#include "httpd/quota.h"
#include "upload_common.h"
#include "httpd/config.h"
#include "httpd/auth.h"
#include "httpd/body.h"
#include "httpd/problem.h"
#include "httpd/rate.h"
#include "httpd/pwgate.h"
#include "httpd/links.h"
#include "httpd/keystore.h"
#include "httpd/s3glue.h"
#include "aead.h"
#include "keys.h"
#include "token.h"
#include "passwd.h"
#include "mail.h"
#include "names.h"
#include "crypto.h"
#include "codec.h"
#include "err.h"
#include "jobs/events.h"

#define MAX_RECIPIENTS 20

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
    /* "photo<U+202E>gpj.exe" would show as "photoexe.jpg" (names.h). */
    if (lenz_name_has_bidi(name))
        return lenz_field_bad(r, "filename", "no bidirectional text controls "
                              "(U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)");
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
    const char *folder_id;        /* members: where the file goes (NULL: the root) */
    const char *uploader_name, *message;      /* file requests: who sends, and a word */
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
    if (in->transfer_id && !lenz_uuid_ok(in->transfer_id))
        return lenz_field_bad(r, "transfer_id", "not a transfer id");
    if (!lenz_field_str(r, b, "folder_id", 0, 64, &in->folder_id))
        return 0;
    if (!lenz_field_str(r, b, "uploader_name", 0, 200, &in->uploader_name)
        || !lenz_field_str(r, b, "message", 0, 2000, &in->message))
        return 0;
    if (in->uploader_name && lenz_name_has_bidi(in->uploader_name))
        return lenz_field_bad(r, "uploader_name", "no bidirectional text controls");
    return recipients_ok(r, b, &in->recipients);
}

static int refuse(request_rec *r, int status, const char *slug, const char *title, const char *detail)
{
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2003), status, slug, title, detail);
    return 0;
}

/* Size limits: guests by LenzGuestLimits, members (and the owners of
 * file requests) by their quota. */
static int size_allowed(request_rec *r, lenz_req *lr, lenz_db *db, int who, const char *owner, int shared,
                        apr_int64_t size)
{
    if (who == LENZ_UP_GUEST) {
        apr_off_t max = lenz_cfg_guest_max_size(lr->srv);
        if (size > max)
            return refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "too-large", "File too large",
                          apr_psprintf(r->pool, "guests may upload files up to %" APR_OFF_T_FMT
                                       " bytes", max));
        return 1;
    }
    else {
        const char *args[1] = { owner };
        lenz_rows rows;
        apr_off_t quota = lenz_member_quota(r, db, args[0]);
        if (lenz_db_select(db, "lenz_up_quota", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
            return refuse(r, HTTP_SERVICE_UNAVAILABLE, "db-unavailable", "Service unavailable",
                          "try again shortly");
        if (apr_atoi64(rows.rows[0][0]) + size > quota)
            return refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "quota-exceeded", "Storage quota exceeded",
                          who == LENZ_UP_REQUEST ? "the owner of this request has no room for this file"
                          : shared ? "the owner of this shared folder has no room for this file"
                          : apr_psprintf(r->pool, "this upload would pass your quota of %" APR_OFF_T_FMT
                                         " bytes", quota));
        return 1;
    }
}

/* The transfer the file joins (a new one, with its share link, unless the
 * request names an open one this caller may add to). */
static const char *join_transfer(request_rec *r, lenz_req *lr, lenz_db *db, int who, const char *shared_owner,
                                 const init_req *in, const char **link_token, int *fail)
{
    const lenz_up_fr *fr = who == LENZ_UP_REQUEST ? lr->ctx : NULL;
    int member = who == LENZ_UP_MEMBER;
    const char *args[6];
    lenz_rows rows;
    int max;
    *fail = 0;
    if (shared_owner) {
        /* Into a folder shared with the member: the owner's file, in a
         * transfer of the owner's without a link, naming the uploader. */
        args[0] = shared_owner;
        args[1] = r->useragent_ip;
        args[2] = NULL;
        args[3] = lr->user->name && *lr->user->name ? lr->user->name : lr->user->email;
        args[4] = NULL;
        if (lenz_db_select(db, "lenz_up_transfer_request", &rows, 5, args) != APR_SUCCESS || rows.nrows != 1) {
            *fail = 1;
            return NULL;
        }
        *link_token = "";
        return rows.rows[0][0];
    }
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
            || (fr ? !row[6] || strcmp(row[6], fr->id) != 0 || strcmp(row[3], "t") != 0
                : member ? !row[0] || strcmp(row[0], lr->user->id) != 0 || row[6]
                       : row[0] || !row[1] || strcmp(row[1], r->useragent_ip) != 0
                         || strcmp(row[3], "t") != 0)) {
            *fail = refuse(r, HTTP_NOT_FOUND, "no-transfer", "No such transfer",
                           "the transfer does not exist or cannot take more files") + 1;
            return NULL;
        }
        /* The row is locked (FOR UPDATE) until the file is recorded, so
         * initiates in parallel cannot all pass with the last place. */
        max = who != LENZ_UP_GUEST ? lenz_cfg_member_max_files(lr->srv) : lenz_cfg_guest_max_files(lr->srv);
        if (apr_atoi64(row[4]) >= max) {
            lenz_json *ext = lenz_json_new_object(r->pool);
            lenz_json_set_str(ext, "field", "transfer_id");
            lenz_json_set_int(ext, "max_files", max);
            lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2003), HTTP_CONFLICT, "too-many-files", "Too many files",
                          apr_psprintf(r->pool, "transfer_id: a %s transfer holds at most %d files; "
                                       "start a new transfer", member ? "member's" : "guest", max), ext);
            *fail = 1;
            return NULL;
        }
        *link_token = fr ? "" : row[5];
        return in->transfer_id;
    }
    if (fr) {
        /* An uploader's batch: a transfer of the owner's without a link,
         * naming the request, the sender and their message. */
        args[0] = fr->owner_id;
        args[1] = r->useragent_ip;
        args[2] = fr->id;
        args[3] = in->uploader_name && *in->uploader_name ? in->uploader_name : NULL;
        args[4] = in->message && *in->message ? in->message : NULL;
        if (lenz_db_select(db, "lenz_up_transfer_request", &rows, 5, args) != APR_SUCCESS || rows.nrows != 1) {
            *fail = 1;
            return NULL;
        }
        *link_token = "";
        return rows.rows[0][0];
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
    if (in->password && (rv = lenz_pw_hash(r, in->password, NULL, &spec.password_hash)) != APR_SUCCESS)
        return rv == LENZ_EUNAVAIL ? rv : APR_EGENERAL;
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

/* A file request takes the file's place and size under its row's lock:
 * uploads in parallel cannot pass max_files or max_bytes.  0 after
 * answering (the caller's transaction is rolled back). */
static int request_reserve(request_rec *r, lenz_req *lr, lenz_db *db, apr_int64_t size)
{
    const lenz_up_fr *fr = lr->ctx;
    const char *sz = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, size);
    const char *args[3] = { sz, fr->id, sz };
    lenz_rows rows;
    if (lenz_db_select(db, "lenz_up_request_take", &rows, 3, args) != APR_SUCCESS)
        return 0;
    if (rows.nrows == 1)
        return 1;
    {
        lenz_json *ext = lenz_json_new_object(r->pool);
        if (fr->max_files)
            lenz_json_set_int(ext, "max_files", fr->max_files);
        if (fr->max_bytes)
            lenz_json_set_int(ext, "max_bytes", fr->max_bytes);
        lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2023), HTTP_REQUEST_ENTITY_TOO_LARGE, "request-full",
                      "This request is full", "this file would pass what the request takes "
                      "(its number of files or its size)", ext);
    }
    return 0;
}

int lenz_up_initiate(request_rec *r, lenz_req *lr, int who, int encrypted)
{
    int member = who == LENZ_UP_MEMBER;
    const lenz_up_fr *fr = who == LENZ_UP_REQUEST ? lr->ctx : NULL;
    int answered = 0;
    init_req in;
    lenz_aead_params pp;
    apr_uuid_t uuid;
    char fid[APR_UUID_FORMATTED_LENGTH + 1];
    const char *key, *upload_id = NULL, *transfer = NULL, *sealed = NULL, *kek_user = NULL;
    const char *token, *args[18];
    unsigned char kek[LENZ_KEY_LEN], wrapped[LENZ_WRAP_LEN];
    lenz_json *claims, *out;
    lenz_s3_error err;
    lenz_db *db;
    apr_table_t *meta;
    apr_int64_t ps;
    int kek_version = 0, fail = 0, over_quota = 0, moved = 0, pc;
    apr_off_t quota = 0;
    /* Whose file it is: the member's, a request's owner's, or the owner
     * of a folder shared with the member as editor (shared). */
    const char *owner = lenz_up_owner(lr, who);
    int shared = 0;
    apr_status_t rv = APR_SUCCESS;

    if (who == LENZ_UP_GUEST && !lenz_cfg_guest_uploads(lr->srv))
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
    if (who == LENZ_UP_GUEST && !lenz_rate_check(r, "guest-upload", lenz_rate_addr(r),
                                                 lenz_cfg_guest_per_hour(lr->srv), 3600))
        return OK;
    /* A request's own limits bound its files; this bounds one address. */
    if (fr && !lenz_rate_check(r, "request-upload", lenz_rate_addr(r),
                               10 * lenz_cfg_guest_per_hour(lr->srv), 3600))
        return OK;
    if (fr)
        in.folder_id = fr->folder_id;
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
    if (in.folder_id && member && lenz_uuid_ok(in.folder_id)) {
        /* A folder shared with the member (lenz_access, sql/024): editors
         * upload into it as its owner's files; viewers and commenters see
         * it but may not (403). */
        const char *sa[3] = { lr->user->id, in.folder_id, lr->user->id };
        lenz_rows srows;
        if (lenz_db_select(db, "lenz_up_shared_folder", &srows, 3, sa) != APR_SUCCESS) {
            lenz_db_close(db);
            return lenz_fail(r, APLOG_ERR, LENZLOGNO(2000), HTTP_SERVICE_UNAVAILABLE, "db-unavailable",
                             "Service unavailable", "the database is unavailable; try again shortly");
        }
        if (srows.nrows == 1 && strcmp(srows.rows[0][0], lr->user->id)) {
            if (apr_atoi64(srows.rows[0][1]) < 3) {
                lenz_db_close(db);
                return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids", "Not with your role",
                                 "your role in this shared folder does not allow uploads");
            }
            owner = srows.rows[0][0];
            shared = 1;
        }
    }
    if (!size_allowed(r, lr, db, who, owner, shared, in.size)) {
        lenz_db_close(db);
        return OK;
    }
    if (in.folder_id) {
        /* A folder of someone else's is as unknown as one that is not. */
        const char *fa[3] = { owner, in.folder_id, in.folder_id };
        lenz_rows frows;
        if (!fa[0] || lenz_db_select(db, "lenz_up_folder", &frows, 3, fa) != APR_SUCCESS || frows.nrows != 1) {
            lenz_db_close(db);
            if (fr)     /* the request's folder went to the trash meanwhile */
                return lenz_fail(r, APLOG_INFO, LENZLOGNO(2024), HTTP_GONE, "request-gone",
                                 "This request is closed", "the folder it uploads into is gone");
            if (member && !strcmp(in.folder_id, "root")) {
                in.folder_id = NULL;            /* no root yet: the file makes it */
            }
            else {
                lenz_json *ext = lenz_json_new_object(r->pool);
                lenz_json_set_str(ext, "field", "folder_id");
                return lenz_fail_ext(r, APLOG_INFO, LENZLOGNO(2022), member ? HTTP_NOT_FOUND : HTTP_BAD_REQUEST,
                                     member ? "not-found" : "invalid-field", member ? "No such folder" : "Invalid field",
                                     member ? "folder_id: no such folder" : "folder_id: only members have folders", ext);
            }
            if (!(db = lenz_up_db(r)))
                return OK;
        }
        else {
            in.folder_id = frows.rows[0][0];
        }
    }

    apr_uuid_get(&uuid);
    apr_uuid_format(fid, &uuid);
    key = apr_pstrcat(r->pool, "files/", fid, NULL);
    memset(&pp, 0, sizeof(pp));
    if (encrypted) {
        kek_user = who != LENZ_UP_GUEST ? owner : lenz_guest_account(r, db);
        /* Format 2: no file-wide nonce prefix; each part's is drawn when
         * it is sealed (upload_part.c). */
        if (!kek_user || lenz_kek_current(r, db, kek_user, kek, &kek_version) != APR_SUCCESS
            || lenz_key_generate(pp.key) != APR_SUCCESS
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
        apr_table_set(meta, "lenz-format", apr_itoa(r->pool, LENZ_AEAD_VERSION_PARTS));
        apr_table_set(meta, "lenz-segment-size", apr_itoa(r->pool, LENZ_AEAD_SEGMENT_DEFAULT));
        apr_table_set(meta, "lenz-segments-per-part",
                      apr_itoa(r->pool, (int)(ps / LENZ_AEAD_SEGMENT_DEFAULT)));
    }
    rv = lenz_s3_create_multipart(lr->srv->s3, lenz_process_http(), r->pool, key,
                                  encrypted ? "application/octet-stream" : in.content_type, meta,
                                  &upload_id, &err);
    if (rv != APR_SUCCESS) {
        lenz_db_close(db);
        return lenz_s3_fail(r, "CreateMultipartUpload", rv, &err);
    }

    lenz_db_begin(db);
    if (who != LENZ_UP_GUEST && in.folder_id && owner) {
        /* The folder is still the owner's, its row share-locked until the
         * file is recorded: giving a folder away (collab/transfer.c) locks
         * its rows, so a file is recorded before (and moves with it) or
         * after (and sees the new owner here: start again). */
        const char *ha[2] = { in.folder_id, owner };
        lenz_rows hrows;
        if (lenz_db_select(db, "lenz_up_folder_hold", &hrows, 2, ha) != APR_SUCCESS)
            over_quota = -1;
        else if (hrows.nrows != 1)
            moved = 1;
    }
    if (who != LENZ_UP_GUEST && !moved && over_quota == 0) {
        /* The quota, checked again with the member's usage row locked: two
         * initiates at once cannot both take the last bytes. */
        const char *ua[1] = { owner };
        lenz_rows urows;
        if (lenz_db_exec(db, "lenz_up_usage_row", NULL, 1, ua) != APR_SUCCESS
            || lenz_db_select(db, "lenz_up_usage_lock", &urows, 1, ua) != APR_SUCCESS || urows.nrows != 1) {
            over_quota = -1;
        }
        else if (apr_atoi64(urows.rows[0][0]) + in.size > (quota = lenz_member_quota(r, db, ua[0]))) {
            over_quota = 1;
        }
    }
    transfer = over_quota || moved ? NULL : join_transfer(r, lr, db, who, shared ? owner : NULL, &in, &sealed, &fail);
    if (transfer && fr && !request_reserve(r, lr, db, in.size)) {
        transfer = NULL;
        answered = 1;
    }
    if (transfer && !sealed && make_link(r, lr, db, member, transfer, &in, &sealed) != APR_SUCCESS)
        transfer = NULL;
    if (transfer) {
        args[0] = fid;
        args[1] = owner;
        args[2] = transfer;
        args[3] = in.filename;
        args[4] = in.content_type;
        args[5] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, in.size);
        args[6] = encrypted ? "enc" : "plain";
        args[7] = key;
        args[8] = encrypted ? apr_itoa(r->pool, LENZ_AEAD_VERSION_PARTS) : NULL;
        args[9] = encrypted ? apr_itoa(r->pool, LENZ_AEAD_SEGMENT_DEFAULT) : NULL;
        args[10] = NULL;        /* nonce_prefix: format 1 only */
        args[11] = encrypted ? lenz_hex(r->pool, wrapped, sizeof(wrapped)) : NULL;
        args[12] = kek_user;
        args[13] = encrypted ? apr_itoa(r->pool, kek_version) : NULL;
        args[14] = args[15] = apr_itoa(r->pool, member ? 0 : lenz_cfg_guest_expiry(lr->srv));
        args[16] = encrypted ? apr_itoa(r->pool, (int)(ps / LENZ_AEAD_SEGMENT_DEFAULT)) : NULL;
        args[17] = who != LENZ_UP_GUEST ? in.folder_id : NULL;
        rv = lenz_db_exec(db, "lenz_up_file_new", NULL, 18, args);
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
        if (over_quota > 0)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2003), HTTP_REQUEST_ENTITY_TOO_LARGE, "quota-exceeded",
                             "Storage quota exceeded", shared
                             ? "the owner of this shared folder has no room for this file"
                             : apr_psprintf(r->pool, "this upload would pass your quota of %" APR_OFF_T_FMT " bytes",
                                            quota));
        if (moved)
            return lenz_fail(r, APLOG_INFO, LENZLOGNO(2025), HTTP_CONFLICT, "folder-changed", "The folder changed",
                             "the folder changed owner or went away while the upload started; start it again");
        if (fail || answered)
            return OK;      /* join_transfer or request_reserve answered */
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
    if (shared)
        lenz_json_set_int(claims, "nl", 1);     /* the owner's file: completed without a link */
    if (lenz_token_seal(r->pool, lr->srv->keyring, "upload", lenz_up_subject(r, lr, who),
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
