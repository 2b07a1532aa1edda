//! The generated `MessagingService` trait: identify the caller, call the use-case, map
//! errors. The only place an `ApiError` becomes a `Status`, the stream's included.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use tribe_kit::ApiError;
use tribe_kit::as_user;
use tribe_kit::auth::Principal;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::messaging_service_server::MessagingService as Api;

use crate::policy::ERROR_DOMAIN;
use crate::service::Messaging;

fn status(err: ApiError) -> Status {
    err.into_status(ERROR_DOMAIN)
}

/// The live stream as the generated trait wants it: every item error is a `Status`.
pub type StatusStream =
    Pin<Box<dyn Stream<Item = Result<pb::StreamEventsResponse, Status>> + Send>>;

#[derive(Debug, Clone)]
pub struct MessagingApi {
    svc: Messaging,
}

impl MessagingApi {
    pub fn new(svc: Messaging) -> Self {
        Self { svc }
    }
}

#[tonic::async_trait]
impl Api for MessagingApi {
    type StreamEventsStream = StatusStream;

    async fn create_conversation(
        &self,
        request: Request<pb::CreateConversationRequest>,
    ) -> Result<Response<pb::CreateConversationResponse>, Status> {
        as_user!(self, request, create_conversation)
    }

    async fn get_conversation(
        &self,
        request: Request<pb::GetConversationRequest>,
    ) -> Result<Response<pb::GetConversationResponse>, Status> {
        as_user!(self, request, get_conversation)
    }

    async fn list_conversations(
        &self,
        request: Request<pb::ListConversationsRequest>,
    ) -> Result<Response<pb::ListConversationsResponse>, Status> {
        as_user!(self, request, list_conversations)
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Result<Response<pb::SendMessageResponse>, Status> {
        as_user!(self, request, send_message)
    }

    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        as_user!(self, request, list_messages)
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> Result<Response<pb::MarkReadResponse>, Status> {
        as_user!(self, request, mark_read)
    }

    async fn search_messages(
        &self,
        request: Request<pb::SearchMessagesRequest>,
    ) -> Result<Response<pb::SearchMessagesResponse>, Status> {
        as_user!(self, request, search_messages)
    }

    async fn set_typing(
        &self,
        request: Request<pb::SetTypingRequest>,
    ) -> Result<Response<pb::SetTypingResponse>, Status> {
        as_user!(self, request, set_typing)
    }

    async fn create_group(
        &self,
        request: Request<pb::CreateGroupRequest>,
    ) -> Result<Response<pb::CreateGroupResponse>, Status> {
        as_user!(self, request, create_group)
    }

    async fn list_groups(
        &self,
        request: Request<pb::ListGroupsRequest>,
    ) -> Result<Response<pb::ListGroupsResponse>, Status> {
        as_user!(self, request, list_groups)
    }

    async fn update_group(
        &self,
        request: Request<pb::UpdateGroupRequest>,
    ) -> Result<Response<pb::UpdateGroupResponse>, Status> {
        as_user!(self, request, update_group)
    }

    async fn list_group_members(
        &self,
        request: Request<pb::ListGroupMembersRequest>,
    ) -> Result<Response<pb::ListGroupMembersResponse>, Status> {
        as_user!(self, request, list_group_members)
    }

    async fn add_group_member(
        &self,
        request: Request<pb::AddGroupMemberRequest>,
    ) -> Result<Response<pb::AddGroupMemberResponse>, Status> {
        as_user!(self, request, add_group_member)
    }

    async fn remove_group_member(
        &self,
        request: Request<pb::RemoveGroupMemberRequest>,
    ) -> Result<Response<pb::RemoveGroupMemberResponse>, Status> {
        as_user!(self, request, remove_group_member)
    }

    async fn leave_group(
        &self,
        request: Request<pb::LeaveGroupRequest>,
    ) -> Result<Response<pb::LeaveGroupResponse>, Status> {
        as_user!(self, request, leave_group)
    }

    async fn set_group_member_role(
        &self,
        request: Request<pb::SetGroupMemberRoleRequest>,
    ) -> Result<Response<pb::SetGroupMemberRoleResponse>, Status> {
        as_user!(self, request, set_group_member_role)
    }

    async fn stream_events(
        &self,
        request: Request<pb::StreamEventsRequest>,
    ) -> Result<Response<Self::StreamEventsStream>, Status> {
        let caller = Principal::user(&request).map_err(status)?;
        let events = self.svc.stream_events(&caller).await.map_err(status)?;
        Ok(Response::new(Box::pin(
            events.map(|item| item.map_err(status)),
        )))
    }

    async fn batch_get_presence(
        &self,
        request: Request<pb::BatchGetPresenceRequest>,
    ) -> Result<Response<pb::BatchGetPresenceResponse>, Status> {
        as_user!(self, request, batch_get_presence)
    }

    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        as_user!(self, request, list_notifications)
    }

    async fn mark_notifications_read(
        &self,
        request: Request<pb::MarkNotificationsReadRequest>,
    ) -> Result<Response<pb::MarkNotificationsReadResponse>, Status> {
        as_user!(self, request, mark_notifications_read)
    }

    async fn get_unread_counts(
        &self,
        request: Request<pb::GetUnreadCountsRequest>,
    ) -> Result<Response<pb::GetUnreadCountsResponse>, Status> {
        as_user!(self, request, get_unread_counts)
    }
}
