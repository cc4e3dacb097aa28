"""Inputs of the partner mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from schema.partner_types import PartnerTermsInput


@strawberry.input(description="A new partner and its terms.")
class CreatePartnerInput:
    code: str = strawberry.field(description="1-32 letters, digits, '-' or '_'.")
    name: str = strawberry.field(description="Display name.")
    terms: PartnerTermsInput = strawberry.field(description="Rates, limits, directions.")
    idempotency_key: str = strawberry.field(description="Retry with the same key: created once.")


@strawberry.input(description="Change a partner; what is left out stays.")
class UpdatePartnerInput:
    code: str = strawberry.field(description="The partner's code.")
    name: str | None = strawberry.field(default=None, description="New display name.")
    terms: PartnerTermsInput | None = strawberry.field(
        default=None, description="New terms, replacing the old whole; for transfers from now on."
    )


@strawberry.input(description="Suspend a partner, or lift the suspension.")
class SuspendPartnerInput:
    code: str = strawberry.field(description="The partner's code.")
    suspended: bool = strawberry.field(default=True, description="False lifts the suspension.")


@strawberry.input(description="Issue an API key for a partner.")
class IssuePartnerKeyInput:
    partner_code: str = strawberry.field(description="The partner's code.")
    label: str = strawberry.field(default="", description="A note for the key list.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="Refused from then on; leave out for a key that lasts."
    )


@strawberry.input(description="Revoke a partner's key.")
class RevokePartnerKeyInput:
    display_prefix: str = strawberry.field(description="The key's displayed prefix.")


@strawberry.input(description="A partner credits points to a member linked to it.")
class CreditFromPartnerInput:
    partner_transfer_id: str = strawberry.field(
        description="Your id of this transfer: a retry with it credits once."
    )
    partner_member_id: str = strawberry.field(description="The member's id on your side.")
    partner_units: int = strawberry.field(description="Your units to convert at the inbound rate.")


@strawberry.input(description="Link the member's account at a partner (the member's consent).")
class LinkPartnerAccountInput:
    partner_code: str = strawberry.field(description="The partner's code.")
    partner_member_id: str = strawberry.field(description="The member's id at the partner.")
    member_external_id: str | None = strawberry.field(
        default=None, description="The member; a member token may leave it out for itself."
    )
    share_balance: bool = strawberry.field(
        default=False, description="Let the partner see the member's available points."
    )
    idempotency_key: str = strawberry.field(description="Retry with the same key: linked once.")


@strawberry.input(description="A partner asks to link one of our members, verifying them.")
class RequestPartnerLinkInput:
    partner_member_id: str = strawberry.field(description="The member's id on your side.")
    member_external_id: str = strawberry.field(description="Our externalId of the member.")
    verify_email: str | None = strawberry.field(
        default=None, description="The member's e-mail (one of this and verifyLastName)."
    )
    verify_last_name: str | None = strawberry.field(
        default=None, description="The member's last name (one of this and verifyEmail)."
    )
    share_balance: bool = strawberry.field(
        default=False, description="The member agreed to share their available points."
    )


@strawberry.input(description="End a link: by the member or storefront, or by the partner.")
class UnlinkPartnerAccountInput:
    partner_code: str | None = strawberry.field(
        default=None, description="Member or storefront: the partner's code."
    )
    member_external_id: str | None = strawberry.field(
        default=None, description="Storefront: the member; a member token leaves it out."
    )
    partner_member_id: str | None = strawberry.field(
        default=None, description="Partner key: the member's id on your side."
    )


@strawberry.input(description="Send the member's points to their linked partner account.")
class TransferToPartnerInput:
    partner_code: str = strawberry.field(description="The partner's code.")
    points: int = strawberry.field(
        description="Our points to send (held until the partner answers)."
    )
    member_external_id: str | None = strawberry.field(
        default=None, description="The member; a member token may leave it out for itself."
    )
    idempotency_key: str = strawberry.field(description="Retry with the same key: sent once.")


@strawberry.input(description="Partner key: you credited your side of a transfer out.")
class ConfirmPartnerTransferInput:
    id: relay.GlobalID = strawberry.field(description="The transfer's id.")
    partner_reference: str = strawberry.field(description="Your id of the credit on your side.")


@strawberry.input(description="Partner key: you could not credit your side of a transfer out.")
class RejectPartnerTransferInput:
    id: relay.GlobalID = strawberry.field(description="The transfer's id.")
    reason: str = strawberry.field(description="Why (1-200 characters).")


@strawberry.input(description="Admin: undo a completed transfer out by a new ledger row.")
class ReversePartnerTransferInput:
    id: relay.GlobalID = strawberry.field(description="The transfer's id.")
    reason: str = strawberry.field(description="Why (1-200 characters).")
    idempotency_key: str = strawberry.field(description="Retry with the same key: reversed once.")
