/* cmd_files.c - lenzctl import (a local file into a user's encrypted
 * storage) and decrypt (a stored file's plaintext to standard output, for
 * disaster recovery).  Both stream: memory stays a few segments whatever
 * the file size. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <apr_strings.h>
#include <apr_uuid.h>
#include <apr_lib.h>

#include "commands.h"
#include "pg.h"
#include "keys.h"
#include "aead.h"
#include "aead_pull.h"
#include "codec.h"
#include "crypto.h"
#include "names.h"
#include "http.h"
#include "s3.h"
#include "err.h"

#define SEGMENTS_PER_PART 128           /* 8 MiB of plaintext per S3 part */

/* Unwraps a user's KEK from hex under the master key version it names. */
static apr_status_t unwrap_kek(apr_pool_t *p, const lenz_keyring *kr, const char *user,
                               const char *hex, apr_uint32_t mkv, unsigned char kek[LENZ_KEY_LEN])
{
    unsigned char blob[LENZ_WRAP_LEN];
    const unsigned char *mk = lenz_keyring_get(kr, mkv);
    if (!mk || strlen(hex) != 2 * LENZ_WRAP_LEN
        || lenz_unhex(hex, strlen(hex), blob, sizeof(blob)) != APR_SUCCESS)
        return LENZ_EFORMAT;
    return lenz_key_unwrap(p, mk, lenz_key_context_kek(p, user, mkv), blob, sizeof(blob), kek);
}

typedef struct { FILE *f; apr_uint64_t left; } file_src;

static apr_ssize_t read_file(void *baton, char *buf, apr_size_t len)
{
    file_src *fs = baton;
    size_t n;
    if (fs->left == 0) {
        /* The part is complete; one more byte would mean the file grew. */
        return 0;
    }
    if (len > fs->left)
        len = (apr_size_t)fs->left;
    n = fread(buf, 1, len, fs->f);
    if (n == 0)
        return ferror(fs->f) ? -1 : 0;
    fs->left -= n;
    return (apr_ssize_t)n;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The rules of an upload's filename (upload/upload_init.c): why not, or NULL. */
static const char *name_refused(const char *name)
{
    const unsigned char *c;
    if (!*name || strlen(name) > 255)
        return "must be 1 to 255 bytes";
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return "is . or ..";
    for (c = (const unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '/' || *c == '\\')
            return "holds a path separator or a control character";
    if (lenz_name_has_bidi(name))
        return "holds a bidirectional text control (U+061C, U+200E, U+200F, "
               "U+202A-U+202E, U+2066-U+2069), which can disguise its extension";
    return NULL;
}

int lenz_cmd_import(lenz_cli *cli, int argc, const char *const *argv)
{
    apr_pool_t *p = cli->pool;
    const char *owner = NULL, *path = NULL, *name = NULL, *ctype = "application/octet-stream";
    const char *params[13], *user, *kek_ver, *upload_id = NULL, *s3key;
    char fid[APR_UUID_FORMATTED_LENGTH + 1];
    unsigned char kek[LENZ_KEY_LEN], wrapped[LENZ_WRAP_LEN];
    lenz_aead_params pp;
    apr_uuid_t uuid;
    lenz_keyring *kr;
    lenz_s3 *s3;
    lenz_s3_error err;
    apr_array_header_t *parts;
    apr_table_t *meta;
    apr_uint64_t nparts, j;
    PGconn *db = NULL;
    PGresult *res;
    FILE *f = NULL;
    int i, rc = 1;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--owner") && i + 1 < argc) owner = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--type") && i + 1 < argc) ctype = argv[++i];
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return lenz_cli_usage(cli);
    }
    if (!owner || !path)
        return lenz_cli_usage(cli);
    if (name_refused(name ? name : base_name(path))) {
        fprintf(stderr, "lenzctl: the file name %s; give another with --name\n",
                name_refused(name ? name : base_name(path)));
        return 1;
    }
    if (!(f = fopen(path, "rb"))) {
        fprintf(stderr, "lenzctl: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    memset(&pp, 0, sizeof(pp));
    fseeko(f, 0, SEEK_END);
    pp.plain_size = (apr_uint64_t)ftello(f);
    pp.segment_size = LENZ_AEAD_SEGMENT_DEFAULT;
    if (!(kr = lenz_settings_keyring(p, cli->settings)) || !(s3 = lenz_settings_s3(p, cli->settings))
        || !(db = lenz_pg_connect(cli->settings->db)))
        goto out;

    params[0] = owner;
    res = lenz_pg(db, "SELECT u.id, k.version, encode(k.wrapped_kek, 'hex'), k.master_key_version "
                      "FROM users u JOIN user_keys k ON k.user_id = u.id "
                      "WHERE u.id::text = $1 OR u.email = $1 ORDER BY k.version DESC LIMIT 1", 1, params);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "lenzctl: no user %s (or the user has no key)\n", owner);
        PQclear(res);
        goto out;
    }
    user = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    kek_ver = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    if (unwrap_kek(p, kr, user, PQgetvalue(res, 0, 2),
                   (apr_uint32_t)strtoul(PQgetvalue(res, 0, 3), NULL, 10), kek) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: the user's key does not unwrap with the master key file\n");
        PQclear(res);
        goto out;
    }
    PQclear(res);

    apr_uuid_get(&uuid);
    apr_uuid_format(fid, &uuid);
    memcpy(pp.file_id, uuid.data, sizeof(pp.file_id));
    if (lenz_key_generate(pp.key) != APR_SUCCESS || lenz_random(pp.prefix, sizeof(pp.prefix)) != APR_SUCCESS
        || lenz_key_wrap(p, kek, lenz_key_context_dek(p, fid), pp.key, wrapped) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: cannot make the file's key\n");
        goto out;
    }
    s3key = apr_pstrcat(p, "files/", fid, NULL);
    params[0] = fid;
    params[1] = user;
    params[2] = name ? name : base_name(path);
    params[3] = ctype;
    params[4] = apr_psprintf(p, "%" APR_UINT64_T_FMT, pp.plain_size);
    params[5] = s3key;
    params[6] = apr_psprintf(p, "%u", pp.segment_size);
    params[7] = lenz_hex(p, pp.prefix, sizeof(pp.prefix));
    params[8] = lenz_hex(p, wrapped, sizeof(wrapped));
    params[9] = kek_ver;
    res = lenz_pg(db, "INSERT INTO files (id, owner_id, name, content_type, size, storage, s3_key, "
                      "format_version, segment_size, nonce_prefix, wrapped_dek, kek_user_id, kek_version) "
                      "VALUES ($1, $2, $3, $4, $5::bigint, 'enc', $6, 1, $7::int, decode($8, 'hex'), "
                      "decode($9, 'hex'), $2, $10::int)", 10, params);
    if (!res)
        goto out;
    PQclear(res);

    /* The object carries what recovery needs besides the keys. */
    meta = apr_table_make(p, 6);
    apr_table_set(meta, "lenz-file-id", fid);
    apr_table_set(meta, "lenz-format", "1");
    apr_table_set(meta, "lenz-segment-size", params[6]);
    apr_table_set(meta, "lenz-nonce-prefix", params[7]);
    apr_table_set(meta, "lenz-size", params[4]);
    if (lenz_s3_create_multipart(s3, cli->http, p, s3key, "application/octet-stream", meta,
                                 &upload_id, &err) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: S3 CreateMultipartUpload: %s %s\n", err.code, err.message);
        goto out;
    }
    nparts = lenz_aead_part_count(&pp, SEGMENTS_PER_PART);
    parts = apr_array_make(p, (int)nparts, sizeof(lenz_s3_part));
    for (j = 1; j <= nparts; j++) {
        lenz_aead_part_info pi;
        lenz_aead_pull *pl;
        file_src fs;
        lenz_s3_part *sp = apr_array_push(parts);
        lenz_aead_part(&pp, SEGMENTS_PER_PART, j, &pi);
        fseeko(f, (off_t)pi.plain_offset, SEEK_SET);
        fs.f = f;
        fs.left = pi.plain_size;
        lenz_aead_pull_make(&pl, p, &pp, pi.first_segment, pi.segments, read_file, &fs);
        sp->number = (int)j;
        sp->size = (apr_off_t)pi.cipher_size;
        if (lenz_s3_upload_part(s3, cli->http, p, s3key, upload_id, (int)j, (apr_off_t)pi.cipher_size,
                                lenz_aead_pull_read, pl, NULL, &sp->etag, &err) != APR_SUCCESS) {
            fprintf(stderr, "lenzctl: S3 UploadPart %d: %s %s (%s)\n", (int)j, err.code,
                    err.message, lenz_strerror(lenz_aead_pull_status(pl)));
            goto abort;
        }
    }
    if (lenz_s3_complete_multipart(s3, cli->http, p, s3key, upload_id, (lenz_s3_part *)parts->elts,
                                   parts->nelts, &params[11], &err) != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: S3 CompleteMultipartUpload: %s %s\n", err.code, err.message);
        goto abort;
    }
    params[0] = fid;
    res = lenz_pg(db, "UPDATE files SET state = 'ready', updated_at = now() WHERE id = $1", 1, params);
    if (!res)
        goto out;
    PQclear(res);
    printf("%s\n", fid);
    rc = 0;
    goto out;
abort:
    lenz_s3_abort_multipart(s3, cli->http, p, s3key, upload_id, &err);
    params[0] = fid;
    if ((res = lenz_pg(db, "DELETE FROM files WHERE id = $1", 1, params)))
        PQclear(res);
out:
    lenz_wipe(kek, sizeof(kek));
    lenz_wipe(pp.key, sizeof(pp.key));
    if (db)
        PQfinish(db);
    if (f)
        fclose(f);
    return rc;
}

typedef struct {
    lenz_aead_dec *dec;
    FILE *out;
    apr_status_t failed;
} dec_sink;

static apr_status_t to_stdout(void *baton, const unsigned char *data, apr_size_t len)
{
    dec_sink *ds = baton;
    return fwrite(data, 1, len, ds->out) == len ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t feed_dec(void *baton, const char *buf, apr_size_t len)
{
    dec_sink *ds = baton;
    apr_status_t rv = lenz_aead_dec_feed(ds->dec, buf, len);
    if (rv != APR_SUCCESS)
        ds->failed = rv;
    return rv;
}

static apr_status_t plain_out(void *baton, const char *buf, apr_size_t len)
{
    return fwrite(buf, 1, len, (FILE *)baton) == len ? APR_SUCCESS : APR_EGENERAL;
}

/* "A-B", "A-" or "-N" (the last N bytes) as in HTTP Range. */
static int parse_range(const char *s, apr_uint64_t size, apr_uint64_t *a, apr_uint64_t *b)
{
    char *end;
    if (*s == '-') {
        apr_uint64_t n = apr_strtoi64(s + 1, &end, 10);
        if (*end || n == 0 || size == 0)
            return 0;
        *a = n >= size ? 0 : size - n;
        *b = size - 1;
        return 1;
    }
    *a = (apr_uint64_t)apr_strtoi64(s, &end, 10);
    if (*end != '-')
        return 0;
    *b = end[1] ? (apr_uint64_t)apr_strtoi64(end + 1, &end, 10) : APR_UINT64_MAX;
    return *end == '\0';
}

int lenz_cmd_decrypt(lenz_cli *cli, int argc, const char *const *argv)
{
    apr_pool_t *p = cli->pool;
    const char *fid = NULL, *range = NULL, *params[1];
    unsigned char kek[LENZ_KEY_LEN], blob[LENZ_WRAP_LEN];
    lenz_aead_params pp;
    lenz_aead_span span;
    lenz_keyring *kr;
    lenz_s3 *s3;
    lenz_s3_error err;
    lenz_s3_object info;
    dec_sink ds = { NULL, stdout, APR_SUCCESS };
    PGconn *db = NULL;
    PGresult *res = NULL;
    apr_uuid_t uuid;
    apr_status_t rv;
    int i, rc = 1;

    for (i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--range") && i + 1 < argc) range = argv[++i];
        else if (argv[i][0] != '-' && !fid) fid = argv[i];
        else return lenz_cli_usage(cli);
    }
    if (!fid || apr_uuid_parse(&uuid, fid) != APR_SUCCESS)
        return lenz_cli_usage(cli);
    memset(&pp, 0, sizeof(pp));
    if (!(kr = lenz_settings_keyring(p, cli->settings)) || !(s3 = lenz_settings_s3(p, cli->settings))
        || !(db = lenz_pg_connect(cli->settings->db)))
        goto out;
    params[0] = fid;
    res = lenz_pg(db, "SELECT f.size, f.storage, f.s3_key, f.format_version, f.segment_size, "
                      "encode(f.nonce_prefix, 'hex'), encode(f.wrapped_dek, 'hex'), f.kek_user_id, "
                      "encode(k.wrapped_kek, 'hex'), k.master_key_version, f.state, "
                      "f.segments_per_part, encode(f.part_prefixes, 'hex'), coalesce(f.crypt_id, f.id) "
                      "FROM files f LEFT JOIN user_keys k "
                      "ON k.user_id = f.kek_user_id AND k.version = f.kek_version WHERE f.id = $1",
                  1, params);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "lenzctl: no file %s\n", fid);
        goto out;
    }
    pp.plain_size = (apr_uint64_t)apr_atoi64(PQgetvalue(res, 0, 0));
    if (strcmp(PQgetvalue(res, 0, 10), "ready") != 0)
        fprintf(stderr, "lenzctl: note: file %s is in state '%s'\n", fid, PQgetvalue(res, 0, 10));
    if (strcmp(PQgetvalue(res, 0, 1), "plain") == 0) {
        rv = lenz_s3_get_object(s3, cli->http, p, PQgetvalue(res, 0, 2), 0, -1, plain_out, stdout,
                                &info, &err);
        if (rv != APR_SUCCESS)
            fprintf(stderr, "lenzctl: S3 GetObject: %s %s\n", err.code, err.message);
        rc = rv == APR_SUCCESS ? 0 : 1;
        goto out;
    }
    pp.segment_size = (apr_uint32_t)strtoul(PQgetvalue(res, 0, 4), NULL, 10);
    /* A copy's encryption binds its original's id (files.crypt_id). */
    fid = apr_pstrdup(p, PQgetvalue(res, 0, 13));
    if (apr_uuid_parse(&uuid, fid) != APR_SUCCESS)
        goto out;
    memcpy(pp.file_id, uuid.data, sizeof(pp.file_id));
    if (strcmp(PQgetvalue(res, 0, 3), "1") == 0) {
        pp.version = LENZ_AEAD_VERSION;
        rv = lenz_unhex(PQgetvalue(res, 0, 5), strlen(PQgetvalue(res, 0, 5)), pp.prefix, sizeof(pp.prefix));
    }
    else if (strcmp(PQgetvalue(res, 0, 3), "2") == 0) {
        /* Format 2: a nonce prefix per part, in part order. */
        const char *hx = PQgetvalue(res, 0, 12);
        apr_size_t hl = strlen(hx);
        unsigned char *t = apr_palloc(p, hl / 2 + 1);
        pp.version = LENZ_AEAD_VERSION_PARTS;
        pp.segments_per_part = (apr_uint32_t)strtoul(PQgetvalue(res, 0, 11), NULL, 10);
        pp.part_prefixes = t;
        pp.part_count = hl / (2 * LENZ_AEAD_PREFIX_LEN);
        rv = hl && hl % (2 * LENZ_AEAD_PREFIX_LEN) == 0 ? lenz_unhex(hx, hl, t, hl / 2) : LENZ_EFORMAT;
        if (rv == APR_SUCCESS && lenz_aead_check(&pp) != APR_SUCCESS)
            rv = LENZ_EFORMAT;
    }
    else {
        fprintf(stderr, "lenzctl: file %s has format version %s, which this lenzctl cannot read\n",
                fid, PQgetvalue(res, 0, 3));
        goto out;
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: file %s: its nonce prefixes are missing or malformed%s\n", fid,
                pp.version == LENZ_AEAD_VERSION_PARTS ? " (an upload never completed?)" : "");
        goto out;
    }
    if (unwrap_kek(p, kr, PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8),
                      (apr_uint32_t)strtoul(PQgetvalue(res, 0, 9), NULL, 10), kek) != APR_SUCCESS
        || lenz_unhex(PQgetvalue(res, 0, 6), strlen(PQgetvalue(res, 0, 6)), blob, sizeof(blob))
           != APR_SUCCESS
        || lenz_key_unwrap(p, kek, lenz_key_context_dek(p, fid), blob, sizeof(blob), pp.key)
           != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: file %s: its keys do not unwrap with the master key file\n", fid);
        goto out;
    }
    if (range) {
        apr_uint64_t a, b;
        if (!parse_range(range, pp.plain_size, &a, &b) || lenz_aead_range(&pp, a, b, &span) != APR_SUCCESS) {
            fprintf(stderr, "lenzctl: range %s is not satisfiable for %" APR_UINT64_T_FMT " bytes\n",
                    range, pp.plain_size);
            goto out;
        }
    }
    else {
        lenz_aead_range_all(&pp, &span);
    }
    if (lenz_aead_dec_make(&ds.dec, p, &pp, &span, to_stdout, &ds) != APR_SUCCESS)
        goto out;
    rv = lenz_s3_get_object(s3, cli->http, p, PQgetvalue(res, 0, 2), (apr_off_t)span.cipher_offset,
                            (apr_off_t)(span.cipher_offset + span.cipher_length - 1), feed_dec, &ds,
                            &info, &err);
    if (rv == APR_SUCCESS)
        rv = lenz_aead_dec_finish(ds.dec);
    fflush(stdout);
    if (rv == LENZ_EAUTH || ds.failed == LENZ_EAUTH) {
        fprintf(stderr, "lenzctl: file %s: a segment failed authentication; output stopped "
                "before it\n", fid);
    }
    else if (rv == LENZ_EFORMAT || ds.failed == LENZ_EFORMAT) {
        fprintf(stderr, "lenzctl: file %s: the stored object is truncated or too long\n", fid);
    }
    else if (rv != APR_SUCCESS) {
        fprintf(stderr, "lenzctl: S3 GetObject: %s %s\n", err.code ? err.code : lenz_strerror(rv),
                err.message ? err.message : "");
    }
    else {
        rc = 0;
    }
out:
    lenz_wipe(kek, sizeof(kek));
    lenz_wipe(pp.key, sizeof(pp.key));
    if (res)
        PQclear(res);
    if (db)
        PQfinish(db);
    return rc;
}
