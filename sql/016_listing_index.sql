-- 016_listing_index.sql - a folder's files by name in the order the
-- listing shows them (files/listing.c sorts name_key COLLATE "C"), so a
-- page reads a page of this index instead of sorting the whole folder
-- (bench/storage: 75-96 ms a page in a folder of 100,000, ~1 ms after).
CREATE INDEX files_list_name_c ON files (folder_id, (name_key COLLATE "C"), id)
    WHERE trashed_at IS NULL AND state = 'ready';
DROP INDEX files_list_name;
