/* rooms.c - the rooms subscriber (rooms.h). */
#include <apr_strings.h>

#include "httpd/lenz.h"
#include "rooms.h"
#include "httpd/dbd.h"

const lenz_stmt lenz_rooms_stmts[] = {
    /* One writer at a time until commit: ids commit in order (sql/030). */
    { "lenz_rooms_lock", "SELECT pg_advisory_xact_lock(hashtext('lenz_rooms'))" },
    { "lenz_rooms_add", "INSERT INTO room_events (room, event, payload) VALUES (%s, %s, %s::jsonb)" },
    { NULL }
};

apr_status_t lenz_rooms_on_event(lenz_eventctx *ec, const lenz_event *ev)
{
    const char *id = NULL, *args[3];
    lenz_json *payload = lenz_json_new_object(ec->pool);
    if (!strcmp(ev->type, "post.created")) {
        lenz_json_get_str(ev->payload, "topic_id", &id);
        args[0] = apr_pstrcat(ec->pool, "topic:", id, NULL);
        args[1] = "post";
        lenz_json_set_copy(payload, "post", ev->payload);
    }
    else if (!strcmp(ev->type, "message.created")) {
        lenz_json_get_str(ev->payload, "conversation_id", &id);
        args[0] = apr_pstrcat(ec->pool, "chat:", id, NULL);
        args[1] = "chat";
        lenz_json_set_copy(payload, "message", ev->payload);
    }
    else
        return APR_SUCCESS;
    if (!id)
        return APR_SUCCESS;
    lenz_json_set_str(payload, "room", args[0]);
    args[2] = lenz_json_dump(ec->pool, payload);
    if (lenz_db_exec(ec->db, "lenz_rooms_lock", NULL, 0, args) != APR_SUCCESS
        || lenz_db_exec(ec->db, "lenz_rooms_add", NULL, 3, args) != APR_SUCCESS) {
        ec->error = "writing the room event failed";
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}
