-- Payment service schema (database tribe_payment): plans, payment methods (provider
-- references and display facts only, never card numbers), subscriptions and
-- transactions (the outbox and request ids are the kit's: services/kit/migrations).

CREATE TABLE plans (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    tier         text NOT NULL CHECK (tier IN ('PREMIUM', 'PRO')),
    tier_rank    integer NOT NULL,
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    monthly_minor bigint NOT NULL CHECK (monthly_minor > 0),
    yearly_minor  bigint NOT NULL CHECK (yearly_minor > 0),
    features     text[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT false,
    trial_days   integer NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 90),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX plans_list_idx ON plans (tier_rank, created_at, id);

CREATE TABLE payment_methods (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL,
    provider     text NOT NULL,
    provider_ref text NOT NULL,
    type         text NOT NULL,
    brand        text NOT NULL DEFAULT '',
    last4        text NOT NULL DEFAULT '' CHECK (last4 ~ '^[0-9]{0,4}$'),
    exp_month    integer NOT NULL DEFAULT 0,
    exp_year     integer NOT NULL DEFAULT 0,
    wallet       text NOT NULL DEFAULT '',
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    UNIQUE (provider, provider_ref)
);
CREATE UNIQUE INDEX payment_methods_one_default_idx ON payment_methods (user_id) WHERE is_default;
CREATE INDEX payment_methods_page_idx ON payment_methods (user_id, is_default DESC, created_at DESC, id DESC);

CREATE TABLE subscriptions (
    id                   uuid PRIMARY KEY,
    user_id              uuid NOT NULL,
    plan_id              uuid NOT NULL REFERENCES plans (id),
    status               text NOT NULL CHECK (status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELED', 'INCOMPLETE', 'EXPIRED')),
    billing_cycle        text NOT NULL CHECK (billing_cycle IN ('MONTHLY', 'YEARLY')),
    current_period_start timestamptz NOT NULL,
    current_period_end   timestamptz NOT NULL,
    trial_end            timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    canceled_at          timestamptz,
    ended_at             timestamptz,
    payment_method_id    uuid REFERENCES payment_methods (id) ON DELETE SET NULL,
    retry_attempt        integer NOT NULL DEFAULT 0,
    next_retry_at        timestamptz,
    scheduled_plan_id    uuid REFERENCES plans (id),
    scheduled_cycle      text CHECK (scheduled_cycle IN ('MONTHLY', 'YEARLY')),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
-- At most one non-terminal subscription per user.
CREATE UNIQUE INDEX subscriptions_one_live_idx ON subscriptions (user_id)
    WHERE status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'INCOMPLETE');
CREATE INDEX subscriptions_user_idx ON subscriptions (user_id, created_at DESC);
CREATE INDEX subscriptions_due_idx ON subscriptions (current_period_end) WHERE status IN ('TRIALING', 'ACTIVE');
CREATE INDEX subscriptions_retry_idx ON subscriptions (next_retry_at) WHERE status = 'PAST_DUE';

CREATE TABLE transactions (
    id                      uuid PRIMARY KEY,
    user_id                 uuid NOT NULL,
    subscription_id         uuid REFERENCES subscriptions (id),
    type                    text NOT NULL CHECK (type IN ('CHARGE', 'REFUND')),
    status                  text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
    currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor            bigint NOT NULL CHECK (amount_minor > 0),
    refunded_minor          bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    billing_reason          text NOT NULL DEFAULT '',
    refunded_transaction_id uuid REFERENCES transactions (id),
    refund_reason           text NOT NULL DEFAULT '',
    payment_method_id       uuid REFERENCES payment_methods (id) ON DELETE SET NULL,
    failure_code            text NOT NULL DEFAULT '',
    failure_message         text NOT NULL DEFAULT '',
    provider                text NOT NULL,
    provider_ref            text NOT NULL DEFAULT '',
    -- The idempotency key sent to the provider: one transaction per provider operation.
    provider_key            text NOT NULL UNIQUE,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);
CREATE INDEX transactions_user_idx ON transactions (user_id, created_at DESC, id DESC);
CREATE INDEX transactions_refunds_idx ON transactions (refunded_transaction_id) WHERE refunded_transaction_id IS NOT NULL;
