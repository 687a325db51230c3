-- 023_daily_traffic.sql - bytes served per day (UTC), for the admin
-- console's dashboard (issue 19); the job runners add each host's sum
-- (jobs/traffic.c).
CREATE TABLE daily_traffic (
    day       date PRIMARY KEY,
    bytes_out bigint NOT NULL DEFAULT 0 CHECK (bytes_out >= 0)
);
