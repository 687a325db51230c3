/* quota.h - a member's storage quota: their own (users.quota, set by an
 * administrator) or, without one, LenzMemberQuota. */
#ifndef LENZ_QUOTA_H
#define LENZ_QUOTA_H

#include "lenz.h"
#include "dbd.h"

extern const lenz_stmt lenz_quota_stmts[];

/* The quota in bytes; the site's when the member has none of their own or
 * the database cannot say (the checks that matter run in SQL-locked
 * transactions right after, which fail on their own then). */
apr_off_t lenz_member_quota(request_rec *r, lenz_db *db, const char *user);

#endif
