-- Renewals count periods from a fixed anchor so that monthly subscriptions keep their day
-- of the month (Jan 31 -> Feb 28 -> Mar 31) instead of drifting to the shortest month's.
ALTER TABLE subscriptions ADD COLUMN billing_anchor timestamptz;
UPDATE subscriptions SET billing_anchor = COALESCE(trial_end, current_period_start) WHERE billing_anchor IS NULL;
ALTER TABLE subscriptions ALTER COLUMN billing_anchor SET NOT NULL;

-- The billing worker looks for INCOMPLETE subscriptions on every run.
CREATE INDEX subscriptions_incomplete ON subscriptions (id) WHERE status = 'INCOMPLETE';
