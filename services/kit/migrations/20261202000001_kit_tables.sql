-- The kit's own tables, applied to every service database before the service's own
-- migrations (see tribe_kit::db::migrate). IF NOT EXISTS: databases created before the
-- kit owned these tables already have them, from the service's first migration.

-- Transactional outbox (tribe_kit::outbox): events written in the same transaction as
-- the change they describe, published to Kafka by the relay.
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    topic        text NOT NULL,
    key          text NOT NULL,
    payload      bytea NOT NULL,
    traceparent  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    leased_until timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- AIP-155 request ids (tribe_kit::idempotency): the first response to a request id,
-- replayed to retries with the same request and refused to a different one.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    caller_id    text NOT NULL,
    method       text NOT NULL,
    request_id   text NOT NULL,
    request_hash bytea NOT NULL,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, method, request_id)
);

-- Events a consumer group has applied (tribe_kit::consumer), so a redelivery is a no-op.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
