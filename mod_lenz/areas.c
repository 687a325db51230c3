/* areas.c - the area table: every feature area (one folder and one content
 * handler each), the API area that mounts several areas' /api/v1 routes,
 * and the statements of shared services.  A new area is a folder with an
 * area.h and one line in lenz_areas[] below (docs/architecture.md). */
#include "httpd/lenz.h"
#include "httpd/router.h"
#include "httpd/keystore.h"
#include "httpd/auth.h"
#include "httpd/otp.h"
#include "httpd/links.h"
#include "httpd/outbox.h"
#include "httpd/idem.h"
#include "httpd/pat.h"
#include "httpd/devices.h"
#include "httpd/quota.h"
#include "jobs/jobs.h"
#include "jobs/events.h"
#include "jobs/schedule.h"
#include "jobs/jobkinds.h"
#include "jobs/audit.h"
#include "jobs/mailsub.h"
#include "jobs/traffic.h"
#include "jobs/notice.h"
#include "jobs/rooms.h"
#include "jobs/requests.h"
#include "account/area.h"
#include "account/accounts.h"
#include "account/settings.h"
#include "upload/area.h"
#include "upload/uploads.h"
#include "download/area.h"
#include "download/download.h"
#include "download/budget.h"
#include "notify/area.h"
#include "notify/notify.h"
#include "admin/area.h"
#include "status/area.h"
#include "files/area.h"
#include "collab/area.h"
#include "topics/area.h"
#include "search/area.h"
#include "home/area.h"

/* lenz-api: the REST API for mobile and script clients, mounted at
 * /api/v1.  Each resource's routes live with their area. */
static const lenz_route *const api_tables[] = {
    lenz_api_auth_routes,
    lenz_api_token_routes,
    lenz_api_settings_routes,
    lenz_api_prefs_routes,
    lenz_api_upload_routes,
    lenz_api_link_routes,
    lenz_api_admin_routes,
    lenz_api_admin_jobs_routes,
    lenz_api_admin_audit_routes,
    lenz_api_admin_links_routes,
    lenz_api_admin_system_routes,
    lenz_api_notify_routes,
    lenz_api_files_routes,
    lenz_api_request_routes,
    lenz_api_content_routes,
    lenz_api_share_routes,
    lenz_api_comment_routes,
    lenz_api_activity_routes,
    lenz_api_topic_routes,
    lenz_api_search_routes,
    lenz_api_message_routes,
    NULL
};

/* An API area: every error is problem+json. */
static const lenz_area lenz_area_api = { "lenz-api", "api", api_tables, NULL, 1 };

/* The order is the metrics' area index: add at the end. */
const lenz_area *const lenz_areas[] = {
    &lenz_area_status,
    &lenz_area_api,
    &lenz_area_account,
    &lenz_area_upload,
    &lenz_area_download,
    &lenz_area_events,
    &lenz_area_files,
    &lenz_area_home,
    &lenz_area_admin,
    &lenz_area_collab,
    &lenz_area_topics,
    &lenz_area_search,
    NULL
};

/* Prepared on every connection, besides each area's own. */
const lenz_stmt *const lenz_shared_stmts[] = {
    lenz_keystore_stmts,
    lenz_auth_stmts,
    lenz_pat_stmts,
    lenz_devices_stmts,
    lenz_quota_stmts,
    lenz_accounts_stmts,
    lenz_settings_stmts,
    lenz_prefs_stmts,
    lenz_email_change_stmts,
    lenz_otp_stmts,
    lenz_links_stmts,
    lenz_idem_stmts,
    lenz_outbox_stmts,
    lenz_uploads_stmts,
    lenz_request_stmts,
    lenz_requests_stmts,
    lenz_download_stmts,
    lenz_dl_limit_stmts,
    lenz_api_links_stmts,
    lenz_api_admin_stmts,
    lenz_admin_page_stmts,
    lenz_admin_users_stmts,
    lenz_admin_jobs_stmts,
    lenz_admin_audit_stmts,
    lenz_admin_links_stmts,
    lenz_admin_system_stmts,
    lenz_jobs_stmts,
    lenz_events_stmts,
    lenz_schedule_stmts,
    lenz_purge_stmts,
    lenz_digest_stmts,
    lenz_traffic_stmts,
    lenz_delete_account_stmts,
    lenz_s3abort_stmts,
    lenz_expire_stmts,
    lenz_trash_stmts,
    lenz_s3garbage_stmts,
    lenz_files_stmts,
    lenz_listing_stmts,
    lenz_copy_stmts,
    lenz_requests_api_stmts,
    lenz_share_page_stmts,
    lenz_shares_stmts,
    lenz_transfer_stmts,
    lenz_comments_stmts,
    lenz_activity_stmts,
    lenz_topics_stmts,
    lenz_search_stmts,
    lenz_messages_stmts,
    /* the event subscribers' (subscribers.c) */
    lenz_audit_stmts,
    lenz_notify_stmts,
    lenz_notice_stmts,
    lenz_rooms_stmts,
    lenz_mailsub_stmts,
    lenz_topic_sub_stmts,
    NULL
};
