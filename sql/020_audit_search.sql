-- 020_audit_search.sql - the admin console's audit log (issue 19): words
-- anywhere in an entry's type, subject or details (full text, 'simple'
-- configuration: names and addresses are not stemmed), and entries by
-- type and time.
CREATE INDEX audit_log_fts ON audit_log
    USING gin (to_tsvector('simple', type || ' ' || coalesce(subject, '') || ' ' || payload::text));
CREATE INDEX audit_log_type ON audit_log (type text_pattern_ops, id);
