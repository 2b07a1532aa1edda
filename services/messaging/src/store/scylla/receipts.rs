//! Read receipts: read positions that only move forward, and unread counts.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;

impl ScyllaMessageStore {
    pub(super) async fn mark_read(
        &self,
        conversation: Uuid,
        user: Uuid,
        message: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ParticipantRow>> {
        for _ in 0..10 {
            let Some(current) = self.participant(conversation, user).await? else {
                return Ok(None);
            };
            if current.last_read_message_id.is_some_and(|r| r >= message) {
                return Ok(Some(current));
            }
            if self
                .applied(
                    &self.st.cas_read,
                    (
                        message,
                        micros(at),
                        conversation,
                        user,
                        current.last_read_message_id,
                    ),
                )
                .await?
            {
                return self.participant(conversation, user).await;
            }
        }
        anyhow::bail!("read position contention")
    }

    pub(super) async fn unread_count(
        &self,
        conversation: Uuid,
        user: Uuid,
        after: Option<Uuid>,
        cap: i64,
    ) -> StoreResult<i64> {
        let Some(t) = self.conversation_tuple(conversation).await? else {
            return Ok(0);
        };
        let Some(last) = t.9 else { return Ok(0) };
        let floor = after.unwrap_or(Uuid::nil());
        let stop = match after {
            Some(id) => self.bucket(id_ms(id)),
            None => t.7.unwrap_or_default(),
        };
        let (floor_ms, limit) = (
            if after.is_some() {
                id_ms(floor)
            } else {
                i64::MIN
            },
            cap.min(i32::MAX as i64) as i32,
        );
        let mut count = 0;
        let mut bucket = self.bucket(id_ms(last));
        while bucket >= stop && count < cap {
            let senders: Vec<(Option<Uuid>,)> = self
                .rows(
                    &self.st.senders_after,
                    (conversation, bucket, floor_ms, floor, limit),
                )
                .await?;
            count += senders.iter().filter(|(s,)| *s != Some(user)).count() as i64;
            bucket -= 1;
        }
        Ok(count.min(cap))
    }
}
