/* digest.c - the "lenz-mail-digest" job (every 10 minutes): a member who
 * chose an hourly or daily digest (sql/019) gets the mails of their
 * notification kinds as one mail, at most once an hour or a day.  What
 * waits is in digest_items (mailsub.c puts it there); one transaction per
 * member takes their items, queues the mail and marks the time, so a
 * crash sends either everything once or nothing yet.  A member who turned
 * the digest off meanwhile gets what was waiting at the next run. */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "jobkinds.h"
#include "mailjob.h"
#include "httpd/config.h"
#include "err.h"

#define MEMBERS_PER_RUN 200
#define ITEMS_SHOWN     50

const lenz_stmt lenz_digest_stmts[] = {
    { "lenz_digest_due",
      "SELECT u.id, u.email, u.name, u.mail_digest FROM users u "
      "WHERE EXISTS (SELECT 1 FROM digest_items d WHERE d.user_id = u.id) "
      "AND (u.mail_digest = 'off' OR u.digest_sent_at IS NULL OR u.digest_sent_at <= now() - "
      "CASE u.mail_digest WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END) "
      "ORDER BY u.digest_sent_at NULLS FIRST LIMIT " APR_STRINGIFY(MEMBERS_PER_RUN) },
    /* All of the member's waiting items go; the first ITEMS_SHOWN are listed. */
    { "lenz_digest_take",
      "WITH d AS (DELETE FROM digest_items WHERE user_id = %s::uuid RETURNING id, title, created_at) "
      "SELECT (SELECT count(*) FROM d), title, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"') FROM d "
      "ORDER BY id LIMIT " APR_STRINGIFY(ITEMS_SHOWN) },
    { "lenz_digest_sent",
      "UPDATE users SET digest_sent_at = now() WHERE id = %s::uuid" },
    { NULL }
};

static apr_status_t one(lenz_jobctx *jc, const char **u)
{
    const char *args[1] = { u[0] };
    lenz_json *data = lenz_json_new_object(jc->pool), *arr;
    lenz_rows items;
    apr_int64_t total;
    apr_status_t rv;
    int i;

    lenz_db_begin(jc->db);
    rv = lenz_db_select(jc->db, "lenz_digest_take", &items, 1, args);
    if (rv != APR_SUCCESS || items.nrows == 0) {
        lenz_db_end(jc->db, 1);
        return rv;
    }
    total = apr_atoi64(items.rows[0][0]);
    arr = lenz_json_obj_add_array(data, "items");
    for (i = 0; i < items.nrows; i++) {
        lenz_json *o = lenz_json_arr_add_object(arr);
        lenz_json_set_str(o, "title", items.rows[i][1]);
        lenz_json_set_str(o, "when", items.rows[i][2]);
    }
    if (total > items.nrows)
        lenz_json_set_int(data, "more", total - items.nrows);
    lenz_json_set_str(data, "name", u[2] && *u[2] ? u[2] : "there");
    lenz_json_set_str(data, "site_url", lenz_srv(jc->s)->public_url);
    lenz_json_set_str(data, "period", strcmp(u[3], "daily") == 0 ? "day" : "hour");
    rv = lenz_mail_enqueue_ex(jc->db, "digest", u[1],
                              apr_psprintf(jc->pool, "Lenzeye: %" APR_INT64_T_FMT " new notice%s", total,
                                           total == 1 ? "" : "s"),
                              data, apr_psprintf(jc->pool, "digest:%s:%" APR_TIME_T_FMT, u[0], apr_time_now()));
    if (rv == LENZ_EFORMAT)
        rv = APR_SUCCESS;               /* an address the mailer refuses: the items go anyway */
    if (rv == APR_SUCCESS)
        rv = lenz_db_exec(jc->db, "lenz_digest_sent", NULL, 1, args);
    lenz_db_end(jc->db, rv != APR_SUCCESS);
    return rv;
}

apr_status_t lenz_mail_digest_job(lenz_jobctx *jc)
{
    lenz_rows due;
    int i, sent = 0;

    if (lenz_db_select(jc->db, "lenz_digest_due", &due, 0, NULL) != APR_SUCCESS)
        return lenz_job_failed(jc, 0, "reading the members due a digest failed");
    for (i = 0; i < due.nrows; i++) {
        if (one(jc, due.rows[i]) != APR_SUCCESS)
            return lenz_job_failed(jc, 0, "the digest for member %s failed after %d sent", due.rows[i][0], sent);
        sent++;
    }
    ap_log_error(APLOG_MARK, sent ? APLOG_INFO : APLOG_DEBUG, 0, jc->s, "digest: %d sent", sent);
    return APR_SUCCESS;
}
