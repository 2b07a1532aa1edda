//! Full-text and tag search.

use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::content::v1 as pb;
use uuid::Uuid;

use super::{ContentService, bad_token};
use crate::domain::{Tag, Viewer};
use crate::store::posts;

const SEARCH: &str = "/trainertribe.content.v1.ContentService/SearchPosts";
const MAX_QUERY_CHARS: usize = 200;
const MAX_SEARCH_TAGS: usize = 10;

impl ContentService {
    pub async fn search_posts(
        &self,
        caller: &UserPrincipal,
        req: pb::SearchPostsRequest,
    ) -> Result<pb::SearchPostsResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let query = req.query.trim();
        if query.chars().count() > MAX_QUERY_CHARS {
            v.add(
                "query",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            );
        }
        if req.tags.len() > MAX_SEARCH_TAGS {
            v.add("tags", format!("at most {MAX_SEARCH_TAGS} tags"));
        }
        let mut tags: Vec<Tag> = Vec::new();
        for (i, raw) in req.tags.iter().enumerate() {
            match Tag::parse(raw) {
                Ok(t) if !tags.contains(&t) => tags.push(t),
                Ok(_) => {}
                Err(e) => v.add(format!("tags[{i}]"), e),
            }
        }
        if query.is_empty() && req.tags.is_empty() {
            v.add("query", "set a query or at least one tag");
        }
        let by_relevance = match pb::SearchPostsOrder::try_from(req.order) {
            Ok(pb::SearchPostsOrder::Recent) => false,
            Ok(_) => true,
            Err(_) => {
                v.add("order", "unknown order");
                true
            }
        };
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE) as usize;
        let tags: Vec<String> = tags.into_iter().map(Tag::into_string).collect();
        let mut sorted_tags = tags.clone();
        sorted_tags.sort();
        let hash = FilterHash::new()
            .add("query", query)
            .add("tags", sorted_tags.join(","))
            .add("order", [u8::from(by_relevance)])
            .add("premium", [u8::from(viewer.premium)])
            .finish();
        let scope = PageScope {
            method: SEARCH,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Float(rank), Key::Str(id)]) => {
                Some((*rank, Uuid::parse_str(id).map_err(|_| bad_token())?))
            }
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let search = posts::Search {
            query: if query.is_empty() { None } else { Some(query) },
            tags: &tags,
            by_relevance,
            after,
            limit: limit as i64 + 1,
        };
        let mut found = posts::search(&mut conn, &viewer, &search).await?;
        let token = self
            .pages
            .next_token(scope, &mut found, limit, |(r, rank)| {
                vec![Key::Float(*rank), Key::Str(r.id.to_string())]
            });
        let rows = self
            .with_bodies(&mut conn, found.into_iter().map(|(r, _)| r).collect())
            .await?;
        drop(conn);
        Ok(pb::SearchPostsResponse {
            posts: self.render(&viewer, rows).await,
            next_page_token: token,
        })
    }
}
