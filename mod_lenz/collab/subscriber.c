/* subscriber.c - who is told about shares and comments, and how.
 *
 *   share.invited    -> a member: a notice and a mail (kind "shares");
 *                       an address without an account: a mail that leads
 *                       through sign-up to the invitation (always sent)
 *   share.accepted   -> the folder's owner: a notice
 *   share.transfer_offered -> the member offered the folder: a notice and
 *                       a mail (kind "shares"); share.transferred -> the
 *                       former owner, share.transfer_declined -> the
 *                       owner: a notice
 *   message.created  -> each other member of the conversation: a live row
 *                       (their open pages get "event: message"), no notice
 *   comment.created  -> each person mentioned who can see the item (the
 *                       comment's handler resolved them): a notice and a
 *                       mail (kind "comments"); the item's owner, when
 *                       neither author nor mentioned: a notice
 *
 * Runs in the event's dispatch transaction (jobs/events.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "area.h"
#include "httpd/config.h"
#include "jobs/notice.h"
#include "jobs/mailsub.h"
#include "jobs/mailjob.h"
#include "names.h"
#include "err.h"

static const char *str(const lenz_event *ev, const char *key)
{
    const char *v = NULL;
    lenz_json_get_str(ev->payload, key, &v);
    return v;
}

static apr_status_t invited(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *user = str(ev, "user_id"), *email = str(ev, "email"), *by = str(ev, "by");
    const char *folder = lenz_name_neutral(ec->pool, str(ev, "folder_name")), *role = str(ev, "role");
    const char *subject = apr_psprintf(ec->pool, "%s shared \u201c%s\u201d with you", by ? by : "Someone", folder);
    const char *base = lenz_srv(ec->s)->public_url;
    lenz_json *data = lenz_json_new_object(ec->pool);
    apr_status_t rv;

    lenz_json_set_str(data, "by", by ? by : "Someone");
    lenz_json_set_str(data, "folder", folder);
    lenz_json_set_str(data, "role", role);
    lenz_json_set_str(data, "url", apr_pstrcat(ec->pool, base, "/collab/shares", NULL));
    if (user) {
        if (lenz_notice_add(ec, ev, user, "shares", subject, ev->payload, 0) != APR_SUCCESS)
            return APR_EGENERAL;
        return lenz_mailsub_to_user(ec, ev, user, "shares", "share_invite", subject, data);
    }
    /* No account yet: sign up with this address, then the invitation waits. */
    lenz_json_set_str(data, "name", "there");
    lenz_json_set_str(data, "site_url", base);
    lenz_json_set_bool(data, "new_member", 1);
    lenz_json_set_str(data, "register_url",
                      apr_pstrcat(ec->pool, base, "/account/register?next=/collab/shares", NULL));
    rv = lenz_mail_enqueue_ex(ec->db, "share_invite", email, subject, data,
                              apr_psprintf(ec->pool, "event:%" APR_INT64_T_FMT ":share_invite", ev->id));
    if (rv == LENZ_EFORMAT)
        return APR_SUCCESS;
    if (rv != APR_SUCCESS)
        ec->error = "queueing the invitation failed";
    return rv;
}

static apr_status_t commented(lenz_eventctx *ec, const lenz_event *ev)
{
    lenz_json *m = lenz_json_get(ev->payload, "mentions"), *data = lenz_json_new_object(ec->pool);
    const char *owner = str(ev, "owner_id"), *by = str(ev, "by"), *excerpt = str(ev, "excerpt");
    const char *name = lenz_name_neutral(ec->pool, str(ev, "name"));
    const char *title = apr_psprintf(ec->pool, "%s mentioned you on \u201c%s\u201d", by ? by : "Someone", name);
    apr_size_t i, n = m ? lenz_json_array_len(m) : 0;
    int owner_told = !owner || (ev->actor && !strcmp(owner, ev->actor));

    lenz_json_set_str(data, "by", by ? by : "Someone");
    lenz_json_set_str(data, "item", name);
    lenz_json_set_str(data, "excerpt", excerpt ? excerpt : "");
    lenz_json_set_str(data, "url", apr_pstrcat(ec->pool, lenz_srv(ec->s)->public_url, "/files/", NULL));
    for (i = 0; i < n; i++) {
        const char *u = lenz_json_string(lenz_json_array_get(m, i));
        if (!u)
            continue;
        if (owner && !strcmp(u, owner))
            owner_told = 1;
        if (lenz_notice_add(ec, ev, u, "comments", title, ev->payload, 0) != APR_SUCCESS
            || lenz_mailsub_to_user(ec, ev, u, "comments", "mentioned", title, data) != APR_SUCCESS)
            return APR_EGENERAL;
    }
    if (owner_told)
        return APR_SUCCESS;
    /* Comments on one item within the window: one entry with a count. */
    return lenz_notice_add_counted(ec, ev, owner, "comments", str(ev, "item_id"),
                                   apr_psprintf(ec->pool, "%s commented on \u201c%s\u201d", by ? by : "Someone", name),
                                   "", apr_psprintf(ec->pool, " new comments on \u201c%s\u201d", name), ev->payload);
}

/* Ownership offered: the member is told (a notice, a mail by their
 * preferences for "shares"); taken: the former owner; declined: the
 * owner. */
static apr_status_t ownership(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *by = str(ev, "by"), *folder = lenz_name_neutral(ec->pool, str(ev, "folder_name"));
    const char *fid = str(ev, "folder_id");
    lenz_json *data;
    by = by ? by : "Someone";
    if (!strcmp(ev->type, "share.transferred"))
        return lenz_notice_add(ec, ev, str(ev, "user_id"), "shares",
                               apr_psprintf(ec->pool, "%s is now the owner of \u201c%s\u201d; you are a co-owner",
                                            by, folder), ev->payload, 0);
    if (!strcmp(ev->type, "share.transfer_declined"))
        return lenz_notice_add(ec, ev, str(ev, "owner_id"), "shares",
                               apr_psprintf(ec->pool, "%s declined ownership of \u201c%s\u201d", by, folder),
                               ev->payload, 0);
    data = lenz_json_new_object(ec->pool);
    lenz_json_set_str(data, "by", by);
    lenz_json_set_str(data, "folder", folder);
    lenz_json_set_str(data, "url", apr_pstrcat(ec->pool, lenz_srv(ec->s)->public_url, "/collab/folder/",
                                               fid ? fid : "", NULL));
    {
        const char *subject = apr_psprintf(ec->pool, "%s offers you ownership of \u201c%s\u201d", by, folder);
        if (lenz_notice_add(ec, ev, str(ev, "user_id"), "shares", subject, ev->payload, 0) != APR_SUCCESS)
            return APR_EGENERAL;
        return lenz_mailsub_to_user(ec, ev, str(ev, "user_id"), "shares", "share_transfer", subject, data);
    }
}

apr_status_t lenz_collab_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    if (!strcmp(ev->type, "share.transfer_offered") || !strcmp(ev->type, "share.transferred")
        || !strcmp(ev->type, "share.transfer_declined"))
        return ownership(ec, ev);
    if (!strcmp(ev->type, "share.invited"))
        return invited(ec, ev);
    if (!strcmp(ev->type, "share.accepted")) {
        const char *by = str(ev, "by");
        return lenz_notice_add(ec, ev, str(ev, "owner_id"), "shares",
                               apr_psprintf(ec->pool, "%s joined \u201c%s\u201d", by ? by : "Someone",
                                            lenz_name_neutral(ec->pool, str(ev, "folder_name"))),
                               ev->payload, 0);
    }
    if (!strcmp(ev->type, "comment.created"))
        return commented(ec, ev);
    if (!strcmp(ev->type, "message.created")) {
        lenz_json *to = lenz_json_get(ev->payload, "to");
        apr_size_t i, n = to ? lenz_json_array_len(to) : 0;
        for (i = 0; i < n; i++)
            if (lenz_notice_add(ec, ev, lenz_json_string(lenz_json_array_get(to, i)), NULL, "New message",
                                ev->payload, 1) != APR_SUCCESS)
                return APR_EGENERAL;
        return APR_SUCCESS;
    }
    return APR_SUCCESS;
}
