//! Messages: bucketed message partitions, the once-per-request claim, history pages and
//! the scanning search.

use uuid::Uuid;

use super::*;

/// Messages scanned per conversation by a search (Scylla has no text index).
const SEARCH_SCAN: usize = 2000;

type MessageTuple = (
    Uuid,
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

fn message_row(t: MessageTuple) -> MessageRow {
    MessageRow {
        conversation_id: t.0,
        id: t.1,
        sender_id: t.2.unwrap_or_default(),
        text: t.3.unwrap_or_default(),
        media_url: t.4.unwrap_or_default(),
        created_at: from_micros(t.5.unwrap_or_default()),
    }
}

impl ScyllaMessageStore {
    async fn write_message(&self, m: &MessageRow) -> anyhow::Result<()> {
        let ms = id_ms(m.id);
        self.exec(
            &self.st.insert_message,
            (
                m.conversation_id,
                self.bucket(ms),
                ms,
                m.id,
                m.sender_id,
                &m.text,
                &m.media_url,
                micros(m.created_at),
            ),
        )
        .await?;
        // Last write wins by message time: a late, older message cannot hide a newer one.
        self.exec(
            &self.st.set_last,
            (
                micros(m.created_at),
                m.id,
                micros(m.created_at),
                m.conversation_id,
            ),
        )
        .await
    }

    /// Messages of one bucket, newest first, older than `before` when given.
    async fn bucket_page(
        &self,
        conversation: Uuid,
        bucket: i64,
        before: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<MessageRow>> {
        let limit = limit.min(i32::MAX as usize) as i32;
        let rows: Vec<MessageTuple> = match before {
            Some(id) => {
                self.rows(
                    &self.st.bucket_page_before,
                    (conversation, bucket, id_ms(id), id, limit),
                )
                .await?
            }
            None => {
                self.rows(&self.st.bucket_page, (conversation, bucket, limit))
                    .await?
            }
        };
        Ok(rows.into_iter().map(message_row).collect())
    }

    pub(super) async fn insert_message(&self, new: &NewMessage) -> StoreResult<Inserted> {
        let m = &new.message;
        self.exec(
            &self.st.claim_request,
            (
                m.sender_id,
                &new.request_id,
                m.conversation_id,
                m.id,
                &new.request_hash,
            ),
        )
        .await?;
        let (conversation, id, hash): (Uuid, Uuid, Vec<u8>) = self
            .rows(&self.st.read_request, (m.sender_id, &new.request_id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("request claim vanished"))?;
        if id == m.id {
            self.write_message(m).await?;
            return Ok(Inserted::Fresh(m.clone()));
        }
        if hash != new.request_hash || conversation != m.conversation_id {
            return Ok(Inserted::Reused);
        }
        match self.message(conversation, id).await? {
            Some(stored) => Ok(Inserted::Replayed(stored)),
            None => {
                // The first attempt died between its claim and its write: same parameters
                // (same hash), so complete it under the claimed id.
                let repaired = MessageRow {
                    id,
                    created_at: uuid_time(id),
                    ..m.clone()
                };
                self.write_message(&repaired).await?;
                Ok(Inserted::Replayed(repaired))
            }
        }
    }

    pub(super) async fn message(
        &self,
        conversation: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<MessageRow>> {
        let ms = id_ms(id);
        let rows: Vec<MessageTuple> = self
            .rows(&self.st.message, (conversation, self.bucket(ms), ms, id))
            .await?;
        Ok(rows.into_iter().next().map(message_row))
    }

    pub(super) async fn list_messages(
        &self,
        conversation: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        let Some(t) = self.conversation_tuple(conversation).await? else {
            return Ok(Vec::new());
        };
        let first = t.7.unwrap_or_default();
        let start = match (before, t.9) {
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => return Ok(Vec::new()),
        };
        let mut bucket = self.bucket(id_ms(start));
        let mut out = Vec::with_capacity(limit);
        let mut cursor = before;
        while bucket >= first && out.len() < limit {
            let page = self
                .bucket_page(conversation, bucket, cursor.take(), limit - out.len())
                .await?;
            out.extend(page);
            bucket -= 1;
        }
        Ok(out)
    }

    pub(super) async fn search(
        &self,
        conversations: &[Uuid],
        words: &[String],
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        let mut hits = Vec::new();
        for conversation in conversations {
            let mut cursor = before;
            let mut scanned = 0;
            loop {
                let page = self.list_messages(*conversation, cursor, 200).await?;
                let Some(last) = page.last() else { break };
                cursor = Some(last.id);
                scanned += page.len();
                let full = page.len() == 200;
                let mut found: Vec<MessageRow> = page
                    .into_iter()
                    .filter(|m| {
                        let text = m.text.to_lowercase();
                        words.iter().all(|w| text.contains(w.as_str()))
                    })
                    .collect();
                let enough = found.len() >= limit;
                hits.append(&mut found);
                if !full || enough || scanned >= SEARCH_SCAN {
                    break;
                }
            }
        }
        hits.sort_by_key(|b| std::cmp::Reverse(b.id));
        hits.truncate(limit);
        Ok(hits)
    }
}
