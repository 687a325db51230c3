/* directives.h - the names of mod_lenz's configuration directives, in one
 * place, so messages and the directive table can never disagree. */
#ifndef LENZ_DIRECTIVES_H
#define LENZ_DIRECTIVES_H

/* Server scope (main server or <VirtualHost>). */
#define LENZ_D_S3_ENDPOINT        "LenzS3Endpoint"
#define LENZ_D_S3_BUCKET          "LenzS3Bucket"
#define LENZ_D_S3_REGION          "LenzS3Region"
#define LENZ_D_S3_ACCESS_KEY      "LenzS3AccessKey"
#define LENZ_D_S3_SECRET_FILE     "LenzS3SecretKeyFile"
#define LENZ_D_S3_ADDRESSING      "LenzS3AddressingStyle"
#define LENZ_D_S3_TIMEOUTS        "LenzS3Timeouts"
#define LENZ_D_MASTER_KEY_FILE    "LenzMasterKeyFile"
#define LENZ_D_SMTP_URL           "LenzSMTPURL"
#define LENZ_D_MAIL_FROM          "LenzMailFrom"
#define LENZ_D_PUBLIC_URL         "LenzPublicURL"
#define LENZ_D_TEMPLATE_DIR       "LenzTemplateDir"
#define LENZ_D_S3_BREAKER         "LenzS3Breaker"
#define LENZ_D_SESSION_TIMEOUTS   "LenzSessionTimeouts"
#define LENZ_D_UPLOAD_POLICY      "LenzUploadPolicy"
#define LENZ_D_UPLOAD_PART_SIZE   "LenzUploadPartSize"
#define LENZ_D_UPLOAD_DIGEST      "LenzUploadPartDigest"
#define LENZ_D_NETWORK_READ       "LenzNetworkRead"
#define LENZ_D_GUEST_UPLOADS      "LenzGuestUploads"
#define LENZ_D_GUEST_LIMITS       "LenzGuestLimits"
#define LENZ_D_GUEST_EXPIRY       "LenzGuestExpiry"
#define LENZ_D_MEMBER_QUOTA       "LenzMemberQuota"
#define LENZ_D_LINK_EXPIRY        "LenzLinkExpiry"
#define LENZ_D_SMTP_AUTH_FILE     "LenzSMTPAuthFile"
#define LENZ_D_SMTP_TLS           "LenzSMTPTLS"
#define LENZ_D_SMTP_CA_FILE       "LenzSMTPCAFile"

/* Global (main server only). */
#define LENZ_D_SHARED_CACHE       "LenzSharedCache"
#define LENZ_D_JOBS               "LenzJobs"
#define LENZ_D_JOBS_DB            "LenzJobsDB"
#define LENZ_D_JOB_WORKERS        "LenzJobWorkers"
#define LENZ_D_EVENT_STREAMS      "LenzEventStreams"
#define LENZ_D_FOLDER_DEPTH       "LenzFolderDepth"
#define LENZ_D_COLLAB_LIMITS      "LenzCollabLimits"
#define LENZ_D_CONTENT_WORDS      "LenzContentWords"
#define LENZ_D_CONTENT_LINKS      "LenzContentLinks"
#define LENZ_D_TRASH_DAYS         "LenzTrashDays"
#define LENZ_D_REQUEST_NOTIFY     "LenzFileRequestNotifyDelay"
#define LENZ_D_PASSWORD_HASHES    "LenzPasswordHashes"
#define LENZ_D_JOB_POLL           "LenzJobPollInterval"
#define LENZ_D_JOB_BACKOFF        "LenzJobBackoff"
#define LENZ_D_JOB_RETENTION      "LenzJobRetention"
#define LENZ_D_UPLOAD_ABANDON     "LenzUploadAbandonAfter"

/* Directory scope (<Location>). */
#define LENZ_D_BASE               "LenzBase"
#define LENZ_D_JSON_LIMIT         "LenzJSONLimit"
#define LENZ_D_TRUST_REMOTE_USER  "LenzTrustRemoteUser"
#define LENZ_D_REMOTE_USER_CREATE "LenzRemoteUserCreate"

#endif
