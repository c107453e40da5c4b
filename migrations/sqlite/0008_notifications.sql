-- Notifications: the notifier follows the log and writes one row per event,
-- channel, recipient and kind (the unique key: a crash or a restart never
-- adds a row twice), moving its checkpoint in the same transaction. The
-- delivery worker updates a row's status as it tries to send it. Times are
-- Unix milliseconds; ids are text. Reminders are rows due later.
CREATE TABLE notification_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    position         BIGINT  NOT NULL,
    channel          TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    proposal_id      TEXT,
    detail           TEXT    NOT NULL,
    digest           BOOLEAN NOT NULL,
    created_at       BIGINT  NOT NULL,
    due_at           BIGINT  NOT NULL,
    next_attempt_at  BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at BIGINT,
    last_error       TEXT,
    done_at          BIGINT,
    UNIQUE (position, channel, recipient, kind)
);
CREATE INDEX notification_outbox_next ON notification_outbox (status, next_attempt_at);

-- Where the notifier stands. A log that existed before notifications starts
-- at its head: nobody is told of the past.
CREATE TABLE notifier_checkpoint (
    name     TEXT   PRIMARY KEY,
    position BIGINT NOT NULL
);
INSERT INTO notifier_checkpoint (name, position)
    SELECT 'notifier', COALESCE(MAX(position), 0) FROM events;

-- Webhooks the worker disabled after a day of failed deliveries.
CREATE TABLE webhook_status (
    webhook_id  TEXT   PRIMARY KEY,
    disabled_at BIGINT NOT NULL,
    reason      TEXT   NOT NULL
);
