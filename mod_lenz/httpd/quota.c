/* quota.c - a member's storage quota (quota.h). */
#include <apr_strings.h>

#include "lenz.h"
#include "quota.h"
#include "config.h"

const lenz_stmt lenz_quota_stmts[] = {
    { "lenz_quota_own", "SELECT quota FROM users WHERE id = %s::uuid" },
    { NULL }
};

apr_off_t lenz_member_quota(request_rec *r, lenz_db *db, const char *user)
{
    const char *args[1] = { user };
    lenz_rows rows;
    if (db && user && lenz_db_select(db, "lenz_quota_own", &rows, 1, args) == APR_SUCCESS
        && rows.nrows == 1 && rows.rows[0][0])
        return (apr_off_t)apr_atoi64(rows.rows[0][0]);
    return lenz_cfg_member_quota(lenz_srv(r->server));
}
