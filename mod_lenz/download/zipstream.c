/* zipstream.c - a transfer's files as one ZIP, written while it streams:
 * libarchive's ZIP writer (ZIP64 when needed, UTF-8 names, data
 * descriptors, so nothing must be known ahead but what the database
 * says) writes into a callback that passes each piece down the output
 * filters.  Encrypted files are decrypted on the way in.  No temporary
 * file, no whole file in memory: libarchive's buffer plus one segment.
 *
 * libarchive was chosen over a hand-written writer: it is well kept, in
 * Debian, writes to a callback, and handles ZIP64 and the UTF-8 flag.
 * Entries are stored (not deflated): shared files are mostly photos and
 * archives already, and deflate would cost far more CPU than it saves.
 */
#include <apr_strings.h>
#include <archive.h>
#include <archive_entry.h>

#include "httpd/lenz.h"
#include "serve.h"
#include "budget.h"
#include "httpd/config.h"
#include "httpd/problem.h"
#include "httpd/s3glue.h"
#include "http.h"
#include "crypto.h"
#include "names.h"
#include "zipnames.h"
#include "httpfmt.h"
#include "err.h"

typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
    apr_status_t failed;
    struct archive *a;
    apr_off_t out;          /* ZIP bytes handed to the client (a failed pass too) */
} zctx;

static la_ssize_t zip_out(struct archive *a, void *baton, const void *buf, size_t len)
{
    zctx *z = baton;
    apr_bucket *b;
    apr_status_t rv;
    if (z->failed != APR_SUCCESS)
        return -1;
    b = apr_bucket_transient_create(buf, len, z->r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(z->bb, b);
    rv = ap_pass_brigade(z->r->output_filters, z->bb);
    apr_brigade_cleanup(z->bb);
    z->out += (apr_off_t)len;
    if (rv != APR_SUCCESS || z->r->connection->aborted) {
        z->failed = APR_ECONNABORTED;
        return -1;
    }
    return (la_ssize_t)len;
}

static apr_status_t to_archive(void *baton, const char *buf, apr_size_t len)
{
    zctx *z = baton;
    while (len > 0) {
        la_ssize_t n = archive_write_data(z->a, buf, len);
        if (n <= 0) {
            if (z->failed == APR_SUCCESS)
                z->failed = APR_EGENERAL;
            return z->failed;
        }
        buf += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

int lenz_serve_zip(request_rec *r, lenz_req *lr, lenz_link *l, lenz_db *db)
{
    lenz_aead_params *pps;
    lenz_zipnames *names = lenz_zipnames_make(r->pool);
    lenz_dl_claim claim;
    zctx z;
    int i, ok = 1;

    /* Every file's key first, then the connection goes back. */
    pps = apr_pcalloc(r->pool, sizeof(*pps) * l->files->nelts);
    for (i = 0; i < l->files->nelts; i++) {
        lenz_dfile *f = &APR_ARRAY_IDX(l->files, i, lenz_dfile);
        if (strcmp(f->storage, "enc") == 0 && lenz_file_params(r, db, f, &pps[i]) != APR_SUCCESS) {
            lenz_db_close(db);
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(2120) "file %s: its key cannot be opened",
                          f->id);
            return lenz_fail(r, APLOG_DEBUG, NULL, HTTP_SERVICE_UNAVAILABLE, "keys-unavailable",
                             "Service unavailable", "the files cannot be opened right now");
        }
    }

    ap_set_content_type(r, "application/zip");
    apr_table_setn(r->headers_out, "Content-Disposition", l->folder_id
                   ? lenz_content_disposition(r->pool, "attachment",
                                              apr_pstrcat(r->pool, l->folder_name, ".zip", NULL))
                   : "attachment; filename=\"lenzeye-transfer.zip\"");
    apr_table_setn(r->headers_out, "Accept-Ranges", "none");
    /* A ZIP is a whole download: one of them and every file's bytes. */
    if (r->header_only || !lenz_dl_reserve(r, db, l, lenz_dl_starts_download(l, 1, 0), l->total_size, &claim)) {
        lenz_db_close(db);
        goto wipe;
    }
    lenz_db_close(db);

    memset(&z, 0, sizeof(z));
    z.r = r;
    z.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    z.a = archive_write_new();
    if (!z.a || archive_write_set_format_zip(z.a) != ARCHIVE_OK
        || archive_write_set_options(z.a, "zip:compression=store") != ARCHIVE_OK
        || archive_write_set_bytes_in_last_block(z.a, 1) != ARCHIVE_OK
        || archive_write_open(z.a, &z, NULL, zip_out, NULL) != ARCHIVE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(2121) "libarchive: %s",
                      z.a ? archive_error_string(z.a) : "no memory");
        if (z.a)
            archive_write_free(z.a);
        z.a = NULL;
        ok = 0;
    }
    for (i = 0; ok && i < l->files->nelts; i++) {
        lenz_dfile *f = &APR_ARRAY_IDX(l->files, i, lenz_dfile);
        struct archive_entry *e = archive_entry_new();
        apr_status_t rv;
        /* "a.jpg", "a (2).jpg", ...; no bidi control may reorder one (names.h) */
        /* a folder link's files keep their place below it: "a/b/c.jpg" */
        archive_entry_set_pathname_utf8(e, lenz_zipnames_add(names, lenz_name_neutral(r->pool,
                                        f->dir ? apr_pstrcat(r->pool, f->dir, "/", f->name, NULL) : f->name)));
        archive_entry_set_size(e, f->size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, apr_time_sec(f->modified), 0);
        if (archive_write_header(z.a, e) != ARCHIVE_OK) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LENZLOGNO(2122) "libarchive header for file %s: %s",
                          f->id, archive_error_string(z.a));
            archive_entry_free(e);
            ok = 0;
            break;
        }
        archive_entry_free(e);
        if (strcmp(f->storage, "enc") == 0) {
            lenz_aead_span span;
            apr_off_t sent = 0;
            lenz_aead_range_all(&pps[i], &span);
            rv = lenz_stream_decrypted(r, lr, f, &pps[i], &span, z.bb, to_archive, &z, &sent);
        }
        else {
            lenz_s3_error err;
            lenz_s3_object info;
            rv = lenz_s3_get_object(lr->srv->s3, lenz_process_http(), r->pool, f->s3_key, 0, -1,
                                    to_archive, &z, &info, &err);
            if (rv != APR_SUCCESS && z.failed == APR_SUCCESS)
                lenz_s3_status(r, "GetObject", rv, &err);
        }
        if (rv != APR_SUCCESS)
            ok = 0;
    }
    if (z.a) {
        if (ok && archive_write_close(z.a) != ARCHIVE_OK)
            ok = 0;
        archive_write_free(z.a);
    }
    /* The files' bytes that went out are at most the ZIP's. */
    if (l->max_downloads)
        lenz_dl_settle(r, l, &claim, ok ? l->total_size : z.out < l->total_size ? z.out : l->total_size);
    if (!ok) {
        if (!r->sent_bodyct && z.failed != APR_ECONNABORTED) {
            r->status = HTTP_OK;
            lenz_fail(r, APLOG_DEBUG, NULL, HTTP_BAD_GATEWAY, "storage-error", "Download failed",
                      "the transfer could not be read");
        }
        else {
            lenz_stream_broken(r, z.bb);
        }
    }
    else if (!l->max_downloads) {
        lenz_db *cdb = lenz_db_open(r);
        if (cdb) {
            lenz_link_count(r, cdb, l);
            lenz_db_close(cdb);
        }
    }
wipe:
    for (i = 0; i < l->files->nelts; i++)
        lenz_wipe(pps[i].key, sizeof(pps[i].key));
    return OK;
}
