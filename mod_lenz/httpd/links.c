/* links.c - creating share links. */
#include <apr_strings.h>

#include "lenz.h"
#include "links.h"
#include "config.h"
#include "token.h"
#include "codec.h"
#include "outbox.h"

const lenz_stmt lenz_links_stmts[] = {
    { "lenz_link_new",
      "INSERT INTO links (token_hash, transfer_id, file_id, owner_id, expires_at, max_downloads, "
      "password_hash, folder_id, file_set) VALUES (decode(%s, 'hex'), %s::uuid, %s::uuid, %s::uuid, "
      "now() + make_interval(secs => %s::int), %s::int, %s, %s::uuid, %s::boolean) "
      "RETURNING id, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" },
    /* A member's links, newest first (lenz_link_row_json), and revoking
     * one by its token or id: the API (download/h_api_links.c) and the
     * file manager's Shared page (files/h_share_page.c). */
    { "lenz_links_mine",
      "SELECT l.id, l.file_id, l.transfer_id, "
      "to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "to_char(l.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "l.max_downloads, l.downloads, (l.password_hash IS NOT NULL), (l.revoked_at IS NOT NULL), "
      "(SELECT string_agg(email::text, ',' ORDER BY email) FROM link_recipients r WHERE r.link_id = l.id), "
      "l.bytes_served, l.folder_id, "
      "CASE WHEN l.file_id IS NOT NULL THEN 'file' WHEN l.transfer_id IS NOT NULL THEN 'transfer' "
      "WHEN l.folder_id IS NOT NULL THEN 'folder' ELSE 'files' END, "
      /* what it holds, in a word: the file's or folder's name, or a count */
      "coalesce((SELECT name FROM files WHERE id = l.file_id), (SELECT name FROM folders WHERE id = l.folder_id), "
      "(SELECT CASE WHEN count(*) = 1 THEN min(f.name) ELSE count(*) || ' files' END "
      "FROM lenz_link_files(l.id) x JOIN files f ON f.id = x.file_id WHERE f.state = 'ready')) "
      "FROM links l WHERE l.owner_id = %s::uuid ORDER BY l.created_at DESC LIMIT 500" },
    { "lenz_links_revoke",
      "UPDATE links SET revoked_at = now() WHERE owner_id = %s::uuid AND revoked_at IS NULL "
      "AND (token_hash = decode(%s, 'hex') OR id::text = %s)" },
    { "lenz_links_limits",
      "UPDATE links SET expires_at = CASE WHEN %s::int IS NULL THEN expires_at "
      "ELSE now() + make_interval(secs => %s::int) END, "
      "max_downloads = CASE WHEN %s::int IS NULL THEN max_downloads ELSE nullif(%s::int, 0) END, "
      /* A limit put on a link that had none: the downloads made so far
       * count as whole copies of its budget (budget.c). */
      "bytes_served = CASE WHEN max_downloads IS NULL AND nullif(%s::int, 0) IS NOT NULL "
      "THEN greatest(bytes_served, downloads * (SELECT coalesce(sum(f.size), 0) FROM files f "
      "JOIN lenz_link_files(links.id) x ON x.file_id = f.id WHERE f.state = 'ready')) "
      "ELSE bytes_served END "
      "WHERE owner_id = %s::uuid AND revoked_at IS NULL "
      "AND (token_hash = decode(%s, 'hex') OR id::text = %s) "
      "RETURNING id, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), max_downloads" },
    { "lenz_link_recipient",
      "INSERT INTO link_recipients (link_id, email) VALUES (%s::uuid, %s) ON CONFLICT DO NOTHING" },
    { "lenz_link_file",
      "INSERT INTO link_files (link_id, file_id) VALUES (%s::uuid, %s::uuid) ON CONFLICT DO NOTHING" },
    { NULL }
};

apr_status_t lenz_link_create(request_rec *r, lenz_db *db, const lenz_link_spec *spec,
                              const char **token, const char **link_id, const char **expires_at)
{
    unsigned char h[32];
    const char *args[9];
    lenz_rows rows;
    apr_status_t rv = lenz_token_new(r->pool, token, h);
    int i;

    if (rv != APR_SUCCESS)
        return rv;
    args[0] = lenz_hex(r->pool, h, 32);
    args[1] = spec->transfer_id;
    args[2] = spec->file_id;
    args[3] = spec->owner_id;
    args[4] = apr_itoa(r->pool, spec->ttl);
    args[5] = spec->max_downloads > 0 ? apr_itoa(r->pool, spec->max_downloads) : NULL;
    args[6] = spec->password_hash;
    args[7] = spec->folder_id;
    args[8] = spec->file_ids ? "t" : "f";
    if (lenz_db_select(db, "lenz_link_new", &rows, 9, args) != APR_SUCCESS || rows.nrows != 1)
        return APR_EGENERAL;
    *link_id = rows.rows[0][0];
    *expires_at = rows.rows[0][1];
    for (i = 0; spec->recipients && i < spec->recipients->nelts; i++) {
        args[0] = *link_id;
        args[1] = APR_ARRAY_IDX(spec->recipients, i, const char *);
        if (lenz_db_exec(db, "lenz_link_recipient", NULL, 2, args) != APR_SUCCESS)
            return APR_EGENERAL;
    }
    for (i = 0; spec->file_ids && i < spec->file_ids->nelts; i++) {
        args[0] = *link_id;
        args[1] = APR_ARRAY_IDX(spec->file_ids, i, const char *);
        if (lenz_db_exec(db, "lenz_link_file", NULL, 2, args) != APR_SUCCESS)
            return APR_EGENERAL;
    }
    {
        lenz_json *ev = lenz_json_new_object(r->pool);
        lenz_json_set_str(ev, "transfer_id", spec->transfer_id);
        lenz_json_set_str(ev, "file_id", spec->file_id);
        lenz_json_set_str(ev, "folder_id", spec->folder_id);
        if (spec->file_ids)
            lenz_json_set_int(ev, "files", spec->file_ids->nelts);
        lenz_json_set_str(ev, "expires_at", *expires_at);
        lenz_json_set_int(ev, "recipients", spec->recipients ? spec->recipients->nelts : 0);
        lenz_json_set_bool(ev, "password", spec->password_hash != NULL);
        if (spec->max_downloads > 0)
            lenz_json_set_int(ev, "max_downloads", spec->max_downloads);
        /* The caller's transaction holds the link and its event together. */
        return lenz_event_emit(db, "link.created", spec->owner_id, *link_id, ev);
    }
}

const char *lenz_link_url(request_rec *r, const char *token)
{
    return apr_pstrcat(r->pool, lenz_srv(r->server)->public_url, "/download/", token, NULL);
}

void lenz_link_row_json(apr_pool_t *p, const char **row, lenz_json *o)
{
    lenz_json *rec;
    char *list_copy, *tok, *state;
    lenz_json_set_str(o, "id", row[0]);
    lenz_json_set_str(o, "file_id", row[1]);
    lenz_json_set_str(o, "transfer_id", row[2]);
    lenz_json_set_str(o, "created_at", row[3]);
    lenz_json_set_str(o, "expires_at", row[4]);
    if (row[5])
        lenz_json_set_int(o, "max_downloads", apr_atoi64(row[5]));
    else
        lenz_json_set_null(o, "max_downloads");
    lenz_json_set_int(o, "downloads", apr_atoi64(row[6]));
    lenz_json_set_int(o, "bytes_served", apr_atoi64(row[10]));
    lenz_json_set_bool(o, "has_password", row[7][0] == 't');
    lenz_json_set_bool(o, "revoked", row[8][0] == 't');
    lenz_json_set_str(o, "folder_id", row[11]);
    lenz_json_set_str(o, "kind", row[12]);
    lenz_json_set_str(o, "name", row[13]);
    rec = lenz_json_obj_add_array(o, "recipients");
    list_copy = row[9] ? apr_pstrdup(p, row[9]) : NULL;
    for (tok = list_copy ? apr_strtok(list_copy, ",", &state) : NULL; tok; tok = apr_strtok(NULL, ",", &state))
        lenz_json_arr_add_str(rec, tok);
}
