-- 028_search.sql - search across everything a member may see (issue 18,
-- item 8): full text with weights (names and titles 'A' over bodies 'B'),
-- the 'simple' configuration (no stemming: the texts' language is not
-- known), GIN indexes for the words and pg_trgm for typos.  Files
-- (files.search, sql/012), topics and posts (sql/027) have theirs; folders
-- and comments get them here.  Access is lenz_access() inside the search
-- statement (collab/search.c).
ALTER TABLE folders ADD COLUMN search tsvector GENERATED ALWAYS AS
    (setweight(to_tsvector('simple', translate(name, '._-', '   ')), 'A')) STORED;
CREATE INDEX folders_search ON folders USING gin (search);
CREATE INDEX folders_name_trgm ON folders USING gin (name gin_trgm_ops);
ALTER TABLE comments ADD COLUMN search tsvector GENERATED ALWAYS AS
    (setweight(to_tsvector('simple', body), 'B')) STORED;
CREATE INDEX comments_search ON comments USING gin (search);
