/* devices.h - a member's devices: each live browser session and each app
 * sign-in (token family).  Listed and ended by the member (account area,
 * /account/settings and /api/v1/me/devices) and by administrators (admin
 * area).  Ending one deletes the session or revokes the family: every
 * process and host sees it at that device's next request. */
#ifndef LENZ_DEVICES_H
#define LENZ_DEVICES_H

#include "lenz.h"
#include "dbd.h"
#include "json.h"

extern const lenz_stmt lenz_devices_stmts[];

/* The user's live devices, most recently used first (at most 200): rows
 * for lenz_device_json.  session_hex/family name the caller's own device
 * ("" for none), marked current. */
apr_status_t lenz_devices_list(request_rec *r, lenz_db *db, const char *user, const char *session_hex,
                               const char *family, lenz_rows *rows);
/* id, kind ("session"|"app"), client, ip, created_at, last_used_at, current. */
void lenz_device_json(lenz_json *o, const char **row);
/* Ends the user's device id (in db's transaction, if any): APR_SUCCESS
 * with *client (its User-Agent, "" if none), LENZ_ENOTFOUND when the user
 * has no such live device, or a database error. */
apr_status_t lenz_device_end(lenz_db *db, const char *user, const char *id, const char *why,
                             const char **client);

#endif
