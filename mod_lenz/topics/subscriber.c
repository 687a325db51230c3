/* subscriber.c - who hears of new posts (post.created):
 *   the members of the topic (its author and whoever joined), but not the
 *   poster: one entry per topic with a count while unread ("3 new posts
 *   in ...", kind "topics");
 *   the author of the post replied to: "X replied to you in ..." (kind
 *   "topics", and a mail by their preferences). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "jobs/notice.h"
#include "jobs/mailsub.h"
#include "httpd/config.h"
#include "names.h"

const lenz_stmt lenz_topic_sub_stmts[] = {
    /* The topic's members who can still read it (lenz_access). */
    { "lenz_tps_members",
      "SELECT m.user_id FROM topic_members m WHERE m.topic_id = %s::uuid AND m.user_id <> %s::uuid "
      "AND m.user_id IS DISTINCT FROM %s::uuid AND lenz_access(m.user_id, 'topic', m.topic_id) > 0" },
    { NULL }
};

apr_status_t lenz_topic_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *topic = NULL, *title = NULL, *by = NULL, *replied = NULL, *args[3];
    lenz_rows rows;
    int i;
    if (strcmp(ev->type, "post.created") || !ev->actor)
        return APR_SUCCESS;
    lenz_json_get_str(ev->payload, "topic_id", &topic);
    lenz_json_get_str(ev->payload, "title", &title);
    lenz_json_get_str(ev->payload, "by", &by);
    lenz_json_get_str(ev->payload, "reply_to_author", &replied);
    title = lenz_name_neutral(ec->pool, title ? title : "a topic");
    by = by ? by : "Someone";
    if (replied && strcmp(replied, ev->actor)) {
        const char *t = apr_psprintf(ec->pool, "%s replied to you in \u201c%s\u201d", by, title);
        lenz_json *data = lenz_json_new_object(ec->pool);
        lenz_json_set_str(data, "by", by);
        lenz_json_set_str(data, "item", title);
        lenz_json_set_copy(data, "excerpt", lenz_json_get(ev->payload, "excerpt"));
        lenz_json_set_str(data, "url", apr_pstrcat(ec->pool, lenz_srv(ec->s)->public_url, "/topics/", topic, NULL));
        if (lenz_notice_add(ec, ev, replied, "topics", t, ev->payload, 0) != APR_SUCCESS
            || lenz_mailsub_to_user(ec, ev, replied, "topics", "mentioned", t, data) != APR_SUCCESS)
            return APR_EGENERAL;
    }
    args[0] = topic;
    args[1] = ev->actor;
    args[2] = replied;
    if (lenz_db_select(ec->db, "lenz_tps_members", &rows, 3, args) != APR_SUCCESS) {
        ec->error = "reading the topic's members failed";
        return APR_EGENERAL;
    }
    for (i = 0; i < rows.nrows; i++)
        if (lenz_notice_add_counted(ec, ev, rows.rows[i][0], "topics", topic,
                                    apr_psprintf(ec->pool, "%s posted in \u201c%s\u201d", by, title), "",
                                    apr_psprintf(ec->pool, " new posts in \u201c%s\u201d", title), ev->payload)
            != APR_SUCCESS)
            return APR_EGENERAL;
    return APR_SUCCESS;
}
