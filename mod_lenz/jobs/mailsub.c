/* mailsub.c - the e-mail subscriber: events that mail a member.
 *
 *   user.registered   -> a welcome mail with where to start
 *   link.downloaded   -> the link's owner, on its first download only
 *                        (later downloads are in-app notifications; a
 *                        mail per download would be noise)
 *   file_request.received -> the request's owner, once per uploader's
 *                        batch (jobs/requests.c)
 *
 * A member may turn the mails of a kind off, or have them wait for a
 * digest (sql/019, jobs/digest.c).  The welcome is always sent.
 *
 * The mail is a job queued on the dispatch connection, so it is sent if
 * and only if the dispatch commits, and once (the job's unique key is the
 * event id). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "mailsub.h"
#include "mailjob.h"
#include "httpd/config.h"
#include "err.h"

const lenz_stmt lenz_mailsub_stmts[] = {
    /* The member, whether they want mails of the kind (sql/019), and
     * their digest setting. */
    { "lenz_mailsub_user",
      "SELECT email, name, lenz_wants(id, %s, 'mail'), mail_digest FROM users "
      "WHERE id = %s::uuid AND status = 'active'" },
    /* With a digest on, the mail waits for lenz-mail-digest (digest.c). */
    { "lenz_mailsub_digest_add",
      "INSERT INTO digest_items (user_id, kind, title) VALUES (%s::uuid, %s, %s)" },
    { NULL }
};

/* kind: the member's notification preference it falls under (sql/019),
 * or NULL for mails that are always sent (the welcome). */
apr_status_t lenz_mailsub_to_user(lenz_eventctx *ec, const lenz_event *ev, const char *user, const char *kind,
                                  const char *tmpl, const char *subject, lenz_json *data)
{
    const char *args[3] = { kind, user, NULL };
    lenz_rows rows;
    apr_status_t rv;

    if (!user)
        return APR_SUCCESS;
    if (lenz_db_select(ec->db, "lenz_mailsub_user", &rows, 2, args) != APR_SUCCESS) {
        ec->error = "reading the member failed";
        return APR_EGENERAL;
    }
    if (rows.nrows != 1)
        return APR_SUCCESS;             /* gone or disabled: nobody to tell */
    if (kind && rows.rows[0][2][0] != 't')
        return APR_SUCCESS;             /* they turned these mails off */
    if (kind && strcmp(rows.rows[0][3], "off") != 0) {
        args[0] = user;
        args[1] = kind;
        args[2] = subject;
        if (lenz_db_exec(ec->db, "lenz_mailsub_digest_add", NULL, 3, args) != APR_SUCCESS) {
            ec->error = "adding to the digest failed";
            return APR_EGENERAL;
        }
        return APR_SUCCESS;
    }
    lenz_json_set_str(data, "name", rows.rows[0][1] && *rows.rows[0][1] ? rows.rows[0][1] : "there");
    lenz_json_set_str(data, "site_url", lenz_srv(ec->s)->public_url);
    rv = lenz_mail_enqueue_ex(ec->db, tmpl, rows.rows[0][0], subject, data,
                              apr_psprintf(ec->pool, "event:%" APR_INT64_T_FMT ":%s", ev->id, tmpl));
    if (rv == LENZ_EFORMAT)
        return APR_SUCCESS;             /* an address the mailer refuses: nothing to retry */
    if (rv != APR_SUCCESS)
        ec->error = "queueing the mail failed";
    return rv;
}

apr_status_t lenz_mailsub_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    lenz_json *data = lenz_json_new_object(ec->pool);

    if (strcmp(ev->type, "user.registered") == 0)
        return lenz_mailsub_to_user(ec, ev, ev->subject, NULL, "welcome", "Welcome to Lenzeye", data);
    if (strcmp(ev->type, "link.downloaded") == 0) {
        const char *owner = NULL, *name = NULL, *by = NULL;
        apr_int64_t n = 0;
        lenz_json_get_int(ev->payload, "downloads", &n);
        if (n != 1)
            return APR_SUCCESS;
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        lenz_json_get_str(ev->payload, "name", &name);
        lenz_json_get_str(ev->payload, "by", &by);
        lenz_json_set_str(data, "file", name ? name : "your files");
        if (by)
            lenz_json_set_str(data, "by", by);
        return lenz_mailsub_to_user(ec, ev, owner, "downloads", "downloaded",
                       apr_psprintf(ec->pool, "Downloaded: %s", name ? name : "your files"), data);
    }
    if (strcmp(ev->type, "file_request.received") == 0) {
        const char *owner = NULL, *title = NULL, *who = NULL, *msg = NULL, *folder = NULL;
        apr_int64_t n = 0;
        lenz_json *names = lenz_json_get(ev->payload, "names");
        lenz_json_get_str(ev->payload, "owner_id", &owner);
        lenz_json_get_str(ev->payload, "title", &title);
        lenz_json_get_str(ev->payload, "folder", &folder);
        lenz_json_get_str(ev->payload, "uploader_name", &who);
        lenz_json_get_str(ev->payload, "message", &msg);
        lenz_json_get_int(ev->payload, "files", &n);
        lenz_json_set_str(data, "title", title ? title : "");
        lenz_json_set_str(data, "folder", folder ? folder : "");
        lenz_json_set_int(data, "files", n);
        lenz_json_set_str(data, "files_text", apr_psprintf(ec->pool, "%d file%s", (int)n, n == 1 ? "" : "s"));
        if (who)
            lenz_json_set_str(data, "by", who);
        if (msg)
            lenz_json_set_str(data, "message", msg);
        if (names && lenz_json_array_len(names) > 0) {
            lenz_json_set_copy(data, "names", names);
            lenz_json_set_bool(data, "has_names", 1);
        }
        return lenz_mailsub_to_user(ec, ev, owner, "requests", "request_received",
                       apr_psprintf(ec->pool, "Received %d file%s for %s", (int)n, n == 1 ? "" : "s",
                                    title ? title : "your request"), data);
    }
    return APR_SUCCESS;
}
