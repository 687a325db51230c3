-- 003_jobs.sql - background work: the job queue, its run history and
-- schedules, the events outbox and the audit log.  docs/jobs.md explains
-- how the runner inside httpd uses them and what is guaranteed.

-- The queue.  A job is claimed by one runner at a time (FOR UPDATE SKIP
-- LOCKED, then state 'running' with a lease in locked_until); a runner
-- that dies leaves the lease to expire and the job runs again.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9._-]{0,62}$'),
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'dead')),
    last_error   text,
    -- What a handler recorded while running (the mail job: its Message-ID
    -- and when the server took the message), kept across attempts.
    result       jsonb,
    locked_by    text,                  -- runner id: host/pid/worker
    locked_until timestamptz,           -- the lease
    -- Enqueueing twice with one key gives one job (while the row exists).
    unique_key   text CHECK (length(unique_key) BETWEEN 1 AND 200),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,           -- when it became done or dead
    CHECK (state <> 'running' OR (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;
-- Claiming: the oldest due queued job.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
-- Expired leases.
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE state = 'running';
-- Purging.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done', 'dead');

-- Every execution of a job, whatever its outcome: what operators read to
-- see why a job failed and when each attempt ran.
CREATE TABLE job_runs (
    id          bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    runner      text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    ok          boolean NOT NULL,
    error       text
);
CREATE INDEX job_runs_job ON job_runs (job_id);

-- Cron-like jobs.  The module defines them (name, kind, period) and upserts
-- them here; this table holds their shared state, so that exactly one
-- runner on one host enqueues each period's run.  Runs are aligned to
-- multiples of the period since the epoch (hourly at :00, daily at 00:00
-- UTC).  `lenzctl run-schedule NAME` sets next_run_at to now.
CREATE TABLE job_schedules (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9._-]{0,62}$'),
    kind        text NOT NULL,
    period      interval NOT NULL CHECK (period >= interval '1 minute'),
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled     boolean NOT NULL DEFAULT true,
    next_run_at timestamptz NOT NULL DEFAULT now(),
    last_run_at timestamptz,
    last_job_id bigint
);

-- The outbox: domain events written in the transaction of the change that
-- caused them, dispatched to subscribers by the runner.  An event is
-- dispatched when every subscriber's work committed together with
-- dispatched_at; a failing event is retried with backoff, never dropped.
CREATE TABLE events (
    id                bigserial PRIMARY KEY,
    type              text NOT NULL
                      CHECK (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(type) <= 100),
    actor_id          uuid,             -- the user who acted; NULL for guests and the system
    subject           text CHECK (length(subject) <= 200),  -- what it is about (file, link, user id)
    payload           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    dispatched_at     timestamptz,
    dispatch_after    timestamptz NOT NULL DEFAULT now(),
    dispatch_attempts integer NOT NULL DEFAULT 0,
    dispatch_error    text
);
CREATE INDEX events_pending ON events (id) WHERE dispatched_at IS NULL;
CREATE INDEX events_dispatched ON events (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- One row per event, written by the audit subscriber in the event's
-- dispatch transaction (event_id unique: never two).  No foreign keys: the
-- audit log outlives purged events and deleted users on purpose.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    event_id    bigint NOT NULL UNIQUE,
    type        text NOT NULL,
    actor_id    uuid,
    subject     text,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,   -- when the event happened
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, created_at) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_subject ON audit_log (subject, created_at) WHERE subject IS NOT NULL;
CREATE INDEX audit_log_time ON audit_log (created_at);

-- The two calls the application makes, inside its own transaction.  The
-- module's prepared statements, lenzctl and psql all go through them.

-- A new job; NULL when unique_key names a job that exists already.
CREATE FUNCTION lenz_job_enqueue(p_kind text, p_payload jsonb, p_run_at timestamptz,
                                 p_unique_key text, p_max_attempts integer)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO jobs (kind, payload, run_at, unique_key, max_attempts)
    VALUES (p_kind, COALESCE(p_payload, '{}'::jsonb), COALESCE(p_run_at, now()), p_unique_key,
            COALESCE(p_max_attempts, 5))
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
    RETURNING id
$$;

CREATE FUNCTION lenz_event_emit(p_type text, p_actor uuid, p_subject text, p_payload jsonb)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO events (type, actor_id, subject, payload)
    VALUES (p_type, p_actor, p_subject, COALESCE(p_payload, '{}'::jsonb))
    RETURNING id
$$;

-- Runners LISTEN on lenz_jobs.  A notification is delivered at commit (and
-- never for a rolled-back insert); one per transaction and table.
CREATE FUNCTION lenz_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lenz_jobs', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION lenz_jobs_notify();
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION lenz_jobs_notify();
