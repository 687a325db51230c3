/* transfer.c - a shared folder's ownership passed to one of its members
 * (transfer.h; docs/collab.md "Transferring ownership"; sql/031).
 *
 * The owner offers, the member accepts (the folder will count against
 * their quota) or declines, the owner may withdraw.  Accepting runs in one
 * transaction with the folder and its subtree locked: each encrypted
 * file's key is unwrapped with the KEK it was wrapped under and wrapped
 * again under the new owner's (docs/format.md, section 2: the key itself,
 * the ciphertext and the S3 objects do not change), then
 * lenz_transfer_move() moves the tree, files, links, requests and
 * activity and makes the former owner a co-owner.  Keys are read in
 * batches of REWRAP_BATCH rows in a pool cleared for each; unwrapped keys
 * live in wiped memory only. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "collab.h"
#include "shares.h"
#include "transfer.h"
#include "httpd/problem.h"
#include "httpd/dbd.h"
#include "httpd/body.h"
#include "httpd/auth.h"
#include "httpd/keystore.h"
#include "httpd/quota.h"
#include "codec.h"
#include "crypto.h"
#include "keys.h"
#include "mail.h"
#include "err.h"

#define REWRAP_BATCH 500
#define KEK_SLOTS    4
#define TS(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const lenz_stmt lenz_transfer_stmts[] = {
    { "lenz_tr_member",
      "SELECT user_id FROM shares WHERE folder_id = %s::uuid AND email = %s AND status = 'active'" },
    { "lenz_tr_offer",
      "INSERT INTO folder_transfers (folder_id, from_id, to_id) VALUES (%s::uuid, %s::uuid, %s::uuid) "
      "ON CONFLICT (folder_id) DO UPDATE SET from_id = EXCLUDED.from_id, to_id = EXCLUDED.to_id, "
      "created_at = now() RETURNING " TS("created_at") },
    /* The offer on a live folder the caller sees (locked for accept and
     * cancel): to whom, their address, from whom, when, the folder's
     * owner, name and the caller's rank. */
    { "lenz_tr_get",
      "SELECT t.to_id, u.email, t.from_id, " TS("t.created_at") ", f.owner_id, f.name, a.rk "
      "FROM folder_transfers t JOIN folders f ON f.id = t.folder_id JOIN users u ON u.id = t.to_id "
      "CROSS JOIN LATERAL (SELECT lenz_access(%s::uuid, 'folder', f.id) AS rk) a "
      "WHERE t.folder_id = %s::uuid AND a.rk > 0 AND f.trashed_at IS NULL AND left(f.path, 2) <> '//' "
      "FOR UPDATE OF t, f" },
    { "lenz_tr_delete", "DELETE FROM folder_transfers WHERE folder_id = %s::uuid" },
    { "lenz_tr_lock_subtree",
      "SELECT count(*) FROM (SELECT id FROM folders WHERE id IN (SELECT id FROM lenz_subtree(%s::uuid)) "
      "FOR UPDATE) s" },
    { "lenz_tr_size",
      "SELECT count(*), coalesce(sum(size), 0) FROM files "
      "WHERE folder_id IN (SELECT id FROM lenz_subtree(%s::uuid)) AND state <> 'deleted'" },
    { "lenz_tr_usage_row",
      "INSERT INTO storage_usage (user_id) VALUES (%s::uuid) ON CONFLICT (user_id) DO NOTHING" },
    { "lenz_tr_usage_lock", "SELECT used FROM storage_usage WHERE user_id = %s::uuid FOR UPDATE" },
    /* Keys still wrapped under another KEK, in id order from after. */
    { "lenz_tr_keys",
      "SELECT x.id, coalesce(x.crypt_id, x.id), encode(x.wrapped_dek, 'hex'), x.kek_user_id, x.kek_version "
      "FROM files x WHERE x.folder_id IN (SELECT id FROM lenz_subtree(%s::uuid)) "
      "AND x.wrapped_dek IS NOT NULL AND x.kek_user_id <> %s::uuid AND x.id > %s::uuid "
      "ORDER BY x.id LIMIT " APR_STRINGIFY(REWRAP_BATCH) },
    { "lenz_tr_rewrap",
      "UPDATE files SET wrapped_dek = decode(%s, 'hex'), kek_user_id = %s::uuid, kek_version = %s::int "
      "WHERE id = %s::uuid" },
    { "lenz_tr_move", "SELECT lenz_transfer_move(%s::uuid, %s::uuid)" },
    { "lenz_tr_user", "SELECT email FROM users WHERE id = %s::uuid" },
    { NULL }
};

static const char *NIL = "00000000-0000-0000-0000-000000000000";

static int no_offer(request_rec *r)
{
    return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_NOT_FOUND, "no-offer", "No ownership offer",
                     "this folder has no ownership offer for you");
}

static lenz_json *offer_json(apr_pool_t *p, const char *folder, const char *email, const char *when)
{
    lenz_json *o = lenz_json_new_object(p);
    lenz_json_set_str(o, "folder_id", folder);
    lenz_json_set_str(o, "email", email);
    lenz_json_set_str(o, "status", "offered");
    lenz_json_set_str(o, "created_at", when);
    return o;
}

int lenz_transfer_offer(request_rec *r, lenz_req *lr, const char *folder, const char *email, lenz_json **out)
{
    const char *args[3];
    lenz_rows f, m, t;
    lenz_db *db;

    if (!lenz_mail_addr_ok(email))
        return lenz_field_bad(r, "email", "not a valid e-mail address"), 0;
    email = lenz_ascii_lower(r->pool, email);
    if (!lenz_uuid_ok(folder))
        return lenz_fail_not_found(r, "folder"), 0;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2776)), 0;
    /* The folder as shares.c reads it (id, name, owner, the caller's rank, ...). */
    args[0] = lr->user->id;
    args[1] = folder;
    if (lenz_db_begin(db) != APR_SUCCESS || lenz_db_select(db, "lenz_sh_folder", &f, 2, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2776)), 0;
    }
    if (f.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_not_found(r, "folder"), 0;
    }
    if (apr_atoi64(f.rows[0][3]) < LENZ_COLLAB_OWNER) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail(r, APLOG_DEBUG, NULL, HTTP_FORBIDDEN, "role-forbids",
                                           "Not with your role", "only the folder's owner gives it away"), 0;
    }
    args[0] = folder;
    args[1] = email;
    if (lenz_db_select(db, "lenz_tr_member", &m, 2, args) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2776)), 0;
    }
    if (m.nrows != 1) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_field_bad(r, "email", "offer the folder to someone who has accepted "
                                                  "a share of it"), 0;
    }
    args[0] = folder;
    args[1] = lr->user->id;
    args[2] = m.rows[0][0];
    if (lenz_db_select(db, "lenz_tr_offer", &t, 3, args) != APR_SUCCESS || t.nrows != 1
        || lenz_share_event(db, lr, "share.transfer_offered", folder, folder, f.rows[0][1], lr->user->id, email,
                            m.rows[0][0], "owner") != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2776)), 0;
    }
    lenz_db_close(db);
    *out = offer_json(r->pool, folder, email, t.rows[0][0]);
    return 1;
}

/* In a transaction: the offer row (locked), or 0 with the answer given. */
static int get_offer(request_rec *r, lenz_req *lr, lenz_db *db, const char *folder, int quiet,
                     const char ***row)
{
    const char *args[2] = { lr->user->id, folder };
    lenz_rows t;
    if (!lenz_uuid_ok(folder))
        return quiet ? 0 : (lenz_fail_not_found(r, "folder"), 0);
    if (lenz_db_select(db, "lenz_tr_get", &t, 2, args) != APR_SUCCESS)
        return quiet ? 0 : (lenz_fail_db(r, LENZLOGNO(2777)), -1);
    /* Only the two people concerned see an offer; one made by an earlier
     * owner is void. */
    if (t.nrows != 1 || strcmp(t.rows[0][2], t.rows[0][4])
        || (strcmp(t.rows[0][0], lr->user->id) && strcmp(t.rows[0][2], lr->user->id)))
        return quiet ? 0 : (no_offer(r), 0);
    *row = t.rows[0];
    return 1;
}

int lenz_transfer_get(request_rec *r, lenz_req *lr, const char *folder, int quiet, lenz_json **out)
{
    const char **row;
    lenz_db *db;
    int ok;
    if (!(db = lenz_db_open(r)))
        return quiet ? 0 : (lenz_fail_db(r, LENZLOGNO(2777)), 0);
    lenz_db_begin(db);
    ok = get_offer(r, lr, db, folder, quiet, &row);
    lenz_db_end(db, 1);
    lenz_db_close(db);
    if (ok == 1)
        *out = offer_json(r->pool, folder, row[1], row[3]);
    return ok == 1;
}

int lenz_transfer_cancel(request_rec *r, lenz_req *lr, const char *folder)
{
    const char **row, *args[1] = { folder };
    lenz_db *db;
    int ok, mine;
    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2777)), 0;
    lenz_db_begin(db);
    if ((ok = get_offer(r, lr, db, folder, 0, &row)) != 1) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), 0;
    }
    mine = !strcmp(row[0], lr->user->id);
    if (lenz_db_exec(db, "lenz_tr_delete", NULL, 1, args) != APR_SUCCESS
        || lenz_share_event(db, lr, mine ? "share.transfer_declined" : "share.transfer_withdrawn", folder, folder,
                            row[5], row[4], row[1], row[0], "owner") != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2777)), 0;
    }
    lenz_db_close(db);
    return 1;
}

typedef struct {
    const char *user;
    int version;
    unsigned char *key;
} kek_slot;

/* The KEK a file's key is wrapped under, unwrapped once per transfer
 * (KEK_SLOTS kept: a tree's files are nearly always under one or two). */
static const unsigned char *kek_for(request_rec *r, lenz_db *db, kek_slot *slots, int *n,
                                    const char *user, int version)
{
    kek_slot *s;
    int i;
    for (i = 0; i < *n; i++)
        if (slots[i].version == version && !strcmp(slots[i].user, user))
            return slots[i].key;
    s = &slots[*n < KEK_SLOTS ? (*n)++ : KEK_SLOTS - 1];
    if (!s->key)
        s->key = lenz_key_palloc(r->pool, LENZ_KEY_LEN);
    s->user = apr_pstrdup(r->pool, user);
    s->version = version;
    if (lenz_kek_get(r, db, user, version, s->key) != APR_SUCCESS) {
        s->version = 0;
        return NULL;
    }
    return s->key;
}

/* Every encrypted file of the subtree wrapped under the new owner's KEK;
 * *count: how many were re-wrapped. */
static apr_status_t rewrap(request_rec *r, lenz_db *db, const char *folder, const char *to, int *count)
{
    unsigned char *newkek = lenz_key_palloc(r->pool, LENZ_KEY_LEN), *dek = lenz_key_palloc(r->pool, LENZ_KEY_LEN);
    unsigned char blob[LENZ_WRAP_LEN];
    kek_slot slots[KEK_SLOTS];
    char after[37];
    apr_pool_t *bp;
    apr_status_t rv;
    int version, nslots = 0, i;

    memset(slots, 0, sizeof(slots));
    if ((rv = lenz_kek_current(r, db, to, newkek, &version)) != APR_SUCCESS)
        return rv;
    apr_cpystrn(after, NIL, sizeof(after));
    apr_pool_create(&bp, r->pool);
    for (;;) {
        const char *args[4] = { folder, to, after, NULL };
        lenz_rows rows;
        apr_pool_clear(bp);
        if ((rv = lenz_db_select_in(db, bp, "lenz_tr_keys", &rows, 3, args)) != APR_SUCCESS)
            break;
        for (i = 0; i < rows.nrows && rv == APR_SUCCESS; i++) {
            const char **row = rows.rows[i], *ctx = lenz_key_context_dek(bp, row[1]);
            const unsigned char *kek = kek_for(r, db, slots, &nslots, row[3], (int)apr_atoi64(row[4]));
            const char *u[4];
            if (!kek || !ctx || strlen(row[2]) != 2 * LENZ_WRAP_LEN
                || lenz_unhex(row[2], strlen(row[2]), blob, sizeof(blob)) != APR_SUCCESS
                || lenz_key_unwrap(bp, kek, ctx, blob, sizeof(blob), dek) != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(2779) "transfer of folder %s: the key of "
                              "file %s does not unwrap with user %s's key version %s; nothing was changed",
                              folder, row[0], row[3], row[4]);
                rv = LENZ_EAUTH;
                break;
            }
            rv = lenz_key_wrap(bp, newkek, ctx, dek, blob);
            lenz_wipe(dek, LENZ_KEY_LEN);
            u[0] = lenz_hex(bp, blob, sizeof(blob));
            u[1] = to;
            u[2] = apr_itoa(bp, version);
            u[3] = row[0];
            if (rv == APR_SUCCESS)
                rv = lenz_db_exec(db, "lenz_tr_rewrap", NULL, 4, u);
            if (rv == APR_SUCCESS)
                (*count)++;
        }
        if (rv != APR_SUCCESS || rows.nrows < REWRAP_BATCH)
            break;
        apr_cpystrn(after, rows.rows[rows.nrows - 1][0], sizeof(after));
    }
    apr_pool_destroy(bp);
    return rv;
}

static int refuse(request_rec *r, lenz_db *db, int status, const char *slug, const char *title,
                  const char *detail)
{
    lenz_db_end(db, 1);
    lenz_db_close(db);
    lenz_fail(r, APLOG_INFO, LENZLOGNO(2778), status, slug, title, detail);
    return 0;
}

int lenz_transfer_accept(request_rec *r, lenz_req *lr, const char *folder, lenz_json **out)
{
    const char **row, *args[3], *name, *from, *prev;
    apr_int64_t nfiles, bytes;
    apr_off_t quota;
    lenz_rows rows, u;
    lenz_db *db;
    int ok, rewrapped = 0;

    if (!(db = lenz_db_open(r)))
        return lenz_fail_db(r, LENZLOGNO(2778)), 0;
    lenz_db_begin(db);
    if ((ok = get_offer(r, lr, db, folder, 0, &row)) != 1 || strcmp(row[0], lr->user->id)) {
        lenz_db_end(db, 1);
        lenz_db_close(db);
        return ok == 1 ? (no_offer(r), 0) : 0;
    }
    from = row[2];
    args[0] = folder;
    if (lenz_db_select(db, "lenz_tr_lock_subtree", &rows, 1, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_tr_size", &rows, 1, args) != APR_SUCCESS || rows.nrows != 1)
        goto db_fail;
    nfiles = apr_atoi64(rows.rows[0][0]);
    bytes = apr_atoi64(rows.rows[0][1]);
    if (nfiles > LENZ_TRANSFER_MAX_FILES)
        return refuse(r, db, HTTP_REQUEST_ENTITY_TOO_LARGE, "too-many-files", "Too many files",
                      apr_psprintf(r->pool, "a transfer moves at most %d files; this folder holds %"
                                   APR_INT64_T_FMT, LENZ_TRANSFER_MAX_FILES, nfiles));
    args[0] = lr->user->id;
    quota = lenz_member_quota(r, db, lr->user->id);
    if (lenz_db_exec(db, "lenz_tr_usage_row", NULL, 1, args) != APR_SUCCESS
        || lenz_db_select(db, "lenz_tr_usage_lock", &u, 1, args) != APR_SUCCESS || u.nrows != 1)
        goto db_fail;
    if (apr_atoi64(u.rows[0][0]) + bytes > quota)
        return refuse(r, db, HTTP_REQUEST_ENTITY_TOO_LARGE, "quota-exceeded", "Storage quota exceeded",
                      apr_psprintf(r->pool, "the folder holds %" APR_INT64_T_FMT " bytes, more than is left "
                                   "of your quota of %" APR_OFF_T_FMT " bytes", bytes, quota));
    if (rewrap(r, db, folder, lr->user->id, &rewrapped) != APR_SUCCESS) {
        lenz_db_end(db, 1);
        return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2778)), 0;
    }
    args[0] = folder;
    args[1] = lr->user->id;
    if (lenz_db_select(db, "lenz_tr_move", &rows, 2, args) != APR_SUCCESS || rows.nrows != 1)
        goto db_fail;
    name = rows.rows[0][0];
    args[0] = from;
    if (lenz_db_select(db, "lenz_tr_user", &u, 1, args) != APR_SUCCESS || u.nrows != 1)
        goto db_fail;
    prev = u.rows[0][0];
    if (lenz_share_event(db, lr, "share.transferred", folder, folder, name, lr->user->id, prev, from,
                         "co-owner") != APR_SUCCESS
        || lenz_db_end(db, 0) != APR_SUCCESS)
        goto db_fail;
    lenz_db_close(db);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "folder %s now belongs to %s: %" APR_INT64_T_FMT " files, %"
                  APR_INT64_T_FMT " bytes, %d keys re-wrapped", folder, lr->user->id, nfiles, bytes, rewrapped);
    *out = lenz_json_new_object(r->pool);
    lenz_json_set_str(*out, "folder_id", folder);
    lenz_json_set_str(*out, "name", name);
    lenz_json_set_int(*out, "files", nfiles);
    lenz_json_set_int(*out, "bytes", bytes);
    lenz_json_set_str(*out, "previous_owner", prev);
    return 1;

db_fail:
    lenz_db_end(db, 1);
    return lenz_db_close(db), lenz_fail_db(r, LENZLOGNO(2778)), 0;
}
