"""GraphQL documents of the partner tests (UPPERCASE, as the operations they are)."""

CREATE_PARTNER = """
mutation ($input: CreatePartnerInput!) {
  createPartner(input: $input) {
    __typename
    ... on PartnerSuccess { partner { code name status timeoutMinutes eligibleTiers
      inbound { rate { source target } minPoints maxPoints dailyPointsPerMember dailyPointsTotal }
      outbound { rate { source target } minPoints maxPoints } } }
    ... on CreatePartnerError { errors { field code message } }
  }
}
"""
UPDATE_PARTNER = """
mutation ($input: UpdatePartnerInput!) {
  updatePartner(input: $input) {
    __typename
    ... on PartnerSuccess { partner { code name inbound { rate { source target } } } }
    ... on UpdatePartnerError { errors { field code } }
  }
}
"""
SUSPEND_PARTNER = """
mutation ($input: SuspendPartnerInput!) {
  suspendPartner(input: $input) {
    __typename
    ... on PartnerSuccess { partner { code status } }
    ... on SuspendPartnerError { errors { field code } }
  }
}
"""
ISSUE_KEY = """
mutation ($input: IssuePartnerKeyInput!) {
  issuePartnerKey(input: $input) {
    __typename
    ... on IssuePartnerKeySuccess { secret displayPrefix }
    ... on IssuePartnerKeyError { errors { field code } }
  }
}
"""
REVOKE_KEY = """
mutation ($input: RevokePartnerKeyInput!) {
  revokePartnerKey(input: $input) {
    __typename
    ... on RevokePartnerKeySuccess { revoked }
    ... on RevokePartnerKeyError { errors { field code } }
  }
}
"""
PARTNERS = "{ partners { code status } }"
PARTNER = "query ($code: String!) { partner(code: $code) { code name } }"
LINK = """
mutation ($input: LinkPartnerAccountInput!) {
  linkPartnerAccount(input: $input) {
    __typename
    ... on PartnerLinkSuccess { link { partnerCode partnerMemberId memberExternalId shareBalance
      linkedBy consentedAt } }
    ... on LinkPartnerAccountError { errors { field code } }
  }
}
"""
REQUEST_LINK = """
mutation ($input: RequestPartnerLinkInput!) {
  requestPartnerLink(input: $input) {
    __typename
    ... on PartnerLinkSuccess { link { partnerMemberId memberExternalId } }
    ... on RequestPartnerLinkError { errors { field code } }
  }
}
"""
UNLINK = """
mutation ($input: UnlinkPartnerAccountInput!) {
  unlinkPartnerAccount(input: $input) {
    __typename
    ... on PartnerLinkSuccess { link { partnerMemberId unlinkedAt } }
    ... on UnlinkPartnerAccountError { errors { field code } }
  }
}
"""
LINKED_MEMBERS = """
query ($first: Int!, $after: String) {
  linkedMembers(first: $first, after: $after) {
    edges { node { partnerMemberId displayName tierCode availablePoints } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREDIT = """
mutation ($input: CreditFromPartnerInput!) {
  creditFromPartner(input: $input) {
    __typename
    ... on PartnerTransferSuccess { transfer { id direction status partnerTransferId
      partnerMemberId partnerUnits points rate { source target } } }
    ... on CreditFromPartnerError { errors { field code message } }
  }
}
"""
TRANSFERS = """
query ($first: Int!, $status: PartnerTransferStatus, $partnerCode: String) {
  partnerTransfers(first: $first, status: $status, partnerCode: $partnerCode) {
    edges { node { id direction status points partnerUnits partnerMemberId } }
  }
}
"""
MEMBER_POINTS = """
query ($e: String!) { member(externalId: $e) { points { available } } }
"""
TRANSFER_OUT = """
mutation ($input: TransferToPartnerInput!) {
  transferToPartner(input: $input) {
    __typename
    ... on PartnerTransferSuccess { transfer { id direction status points partnerUnits
      partnerMemberId expiresAt } }
    ... on TransferToPartnerError { errors { field code message } }
  }
}
"""
CONFIRM = """
mutation ($input: ConfirmPartnerTransferInput!) {
  confirmPartnerTransfer(input: $input) {
    __typename
    ... on PartnerTransferSuccess { transfer { id status partnerReference closedAt } }
    ... on ConfirmPartnerTransferError { errors { field code message } }
  }
}
"""
REJECT = """
mutation ($input: RejectPartnerTransferInput!) {
  rejectPartnerTransfer(input: $input) {
    __typename
    ... on PartnerTransferSuccess { transfer { id status reason } }
    ... on RejectPartnerTransferError { errors { field code message } }
  }
}
"""
REVERSE = """
mutation ($input: ReversePartnerTransferInput!) {
  reversePartnerTransfer(input: $input) {
    __typename
    ... on PartnerTransferSuccess { transfer { id status reason reversedAt } }
    ... on ReversePartnerTransferError { errors { field code message } }
  }
}
"""
POINTS = """
query ($e: String!) { member(externalId: $e) { points { available held spendable } } }
"""
STATEMENT = """
query ($code: String!, $date: Date!) {
  partnerStatement(partnerCode: $code, date: $date) {
    partnerCode date timezone
    lines { at status memberExternalId transfer { id direction partnerTransferId
      partnerReference partnerUnits points rate { source target } } }
    totals { direction status count points partnerUnits }
  }
}
"""
