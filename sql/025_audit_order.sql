-- 025_audit_order.sql - the audit log reads newest first by when each
-- event happened, (created_at, id): runners dispatch events in parallel,
-- so audit_log's ids need not follow the events' order.  This index
-- serves that order and its keyset paging; it replaces the one on
-- created_at alone.
CREATE INDEX audit_log_time_id ON audit_log (created_at, id);
DROP INDEX audit_log_time;
