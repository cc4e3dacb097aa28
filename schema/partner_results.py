"""Results of the partner mutations: a success type or the mutation's own error type."""

from __future__ import annotations

import strawberry

from schema.errors import error_type, result_union
from schema.partner_types import Partner, PartnerTransfer
from schema.partner_views import PartnerLink


@strawberry.type(description="The partner as it now is.")
class PartnerSuccess:
    partner: Partner = strawberry.field(description="The partner.")


@strawberry.type(description="A partner key, shown once.")
class IssuePartnerKeySuccess:
    secret: str = strawberry.field(description="The key (lk_partner_…); only its hash is kept.")
    display_prefix: str = strawberry.field(description="What key lists show; revoke by it.")


@strawberry.type(description="How many keys were revoked.")
class RevokePartnerKeySuccess:
    revoked: int = strawberry.field(description="1, or 0 when no active key had the prefix.")


@strawberry.type(description="The transfer, as stored.")
class PartnerTransferSuccess:
    transfer: PartnerTransfer = strawberry.field(description="The transfer.")


@strawberry.type(description="The link, as stored.")
class PartnerLinkSuccess:
    link: PartnerLink = strawberry.field(description="The link.")


CreatePartnerError = error_type("CreatePartnerError")
UpdatePartnerError = error_type("UpdatePartnerError")
SuspendPartnerError = error_type("SuspendPartnerError")
IssuePartnerKeyError = error_type("IssuePartnerKeyError")
RevokePartnerKeyError = error_type("RevokePartnerKeyError")
CreditFromPartnerError = error_type("CreditFromPartnerError")
LinkPartnerAccountError = error_type("LinkPartnerAccountError")
RequestPartnerLinkError = error_type("RequestPartnerLinkError")
UnlinkPartnerAccountError = error_type("UnlinkPartnerAccountError")
TransferToPartnerError = error_type("TransferToPartnerError")
ConfirmPartnerTransferError = error_type("ConfirmPartnerTransferError")
RejectPartnerTransferError = error_type("RejectPartnerTransferError")
ReversePartnerTransferError = error_type("ReversePartnerTransferError")
TransferToPartnerResult = result_union(
    "TransferToPartnerResult", PartnerTransferSuccess, TransferToPartnerError
)
ConfirmPartnerTransferResult = result_union(
    "ConfirmPartnerTransferResult", PartnerTransferSuccess, ConfirmPartnerTransferError
)
RejectPartnerTransferResult = result_union(
    "RejectPartnerTransferResult", PartnerTransferSuccess, RejectPartnerTransferError
)
ReversePartnerTransferResult = result_union(
    "ReversePartnerTransferResult", PartnerTransferSuccess, ReversePartnerTransferError
)
CreatePartnerResult = result_union("CreatePartnerResult", PartnerSuccess, CreatePartnerError)
UpdatePartnerResult = result_union("UpdatePartnerResult", PartnerSuccess, UpdatePartnerError)
SuspendPartnerResult = result_union("SuspendPartnerResult", PartnerSuccess, SuspendPartnerError)
IssuePartnerKeyResult = result_union(
    "IssuePartnerKeyResult", IssuePartnerKeySuccess, IssuePartnerKeyError
)
RevokePartnerKeyResult = result_union(
    "RevokePartnerKeyResult", RevokePartnerKeySuccess, RevokePartnerKeyError
)
CreditFromPartnerResult = result_union(
    "CreditFromPartnerResult", PartnerTransferSuccess, CreditFromPartnerError
)
LinkPartnerAccountResult = result_union(
    "LinkPartnerAccountResult", PartnerLinkSuccess, LinkPartnerAccountError
)
RequestPartnerLinkResult = result_union(
    "RequestPartnerLinkResult", PartnerLinkSuccess, RequestPartnerLinkError
)
UnlinkPartnerAccountResult = result_union(
    "UnlinkPartnerAccountResult", PartnerLinkSuccess, UnlinkPartnerAccountError
)
