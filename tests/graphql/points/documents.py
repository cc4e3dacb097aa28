"""GraphQL documents the points API tests send."""

ERRORS = "errors { field code message }"
ORDER_FIELDS = """
  id orderId status amount points pointsReversed
  lines { sku quantity points pointsReversed returnedQuantity rules { rule points } }
"""
POINTS_FIELDS = "points { available pending held spendable }"

RECORD_ORDER = f"""
mutation ($input: RecordOrderInput!) {{
  recordOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on RecordOrderError {{ {ERRORS} }}
  }}
}}
"""
PREVIEW_ORDER = """
query ($input: PreviewOrderInput!) {
  previewOrderPoints(input: $input) {
    total amount lines { sku quantity amount points rules { rule points } }
  }
}
"""
COMPLETE_ORDER = f"""
mutation ($input: OrderActionInput!) {{
  completeOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on CompleteOrderError {{ {ERRORS} }}
  }}
}}
"""
CANCEL_ORDER = f"""
mutation ($input: OrderActionInput!) {{
  cancelOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on CancelOrderError {{ {ERRORS} }}
  }}
}}
"""
RETURN_LINES = f"""
mutation ($input: ReturnOrderLinesInput!) {{
  returnOrderLines(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on ReturnOrderLinesError {{ {ERRORS} }}
  }}
}}
"""
ORDER = f"query ($o: String!) {{ order(orderId: $o) {{ {ORDER_FIELDS} }} }}"
MEMBER_POINTS = f"query ($e: String!) {{ member(externalId: $e) {{ {POINTS_FIELDS} }} }}"
TX_FIELDS = "id kind bucket amount reason reference referenceType actor reverses"
REDEEM = f"""
mutation ($input: RedeemPointsInput!) {{
  redeemPoints(input: $input) {{
    __typename
    ... on TransactionSuccess {{
      transaction {{ {TX_FIELDS} }} member {{ externalId {POINTS_FIELDS} }}
    }}
    ... on RedeemPointsError {{ {ERRORS} }}
  }}
}}
"""
REVERSE_REDEMPTION = f"""
mutation ($input: ReverseRedemptionInput!) {{
  reverseRedemption(input: $input) {{
    __typename
    ... on TransactionSuccess {{ transaction {{ {TX_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on ReverseRedemptionError {{ {ERRORS} }}
  }}
}}
"""
HOLD_FIELDS = "id orderId amount captured status expiresAt"
HOLD_POINTS = f"""
mutation ($input: HoldPointsInput!) {{
  holdPoints(input: $input) {{
    __typename
    ... on HoldSuccess {{ hold {{ {HOLD_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on HoldPointsError {{ {ERRORS} }}
  }}
}}
"""
CAPTURE_HOLD = f"""
mutation ($input: CaptureHoldInput!) {{
  captureHold(input: $input) {{
    __typename
    ... on HoldSuccess {{ hold {{ {HOLD_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on CaptureHoldError {{ {ERRORS} }}
  }}
}}
"""
RELEASE_HOLD = f"""
mutation ($input: ReleaseHoldInput!) {{
  releaseHold(input: $input) {{
    __typename
    ... on HoldSuccess {{ hold {{ {HOLD_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on ReleaseHoldError {{ {ERRORS} }}
  }}
}}
"""
CHECK_IN = f"""
mutation ($input: CheckInInput!) {{
  checkIn(input: $input) {{
    __typename
    ... on CheckInSuccess {{ streak points member {{ {POINTS_FIELDS} }} }}
    ... on CheckInError {{ {ERRORS} }}
  }}
}}
"""
REWARD_REVIEW = f"""
mutation ($input: RewardReviewInput!) {{
  rewardReview(input: $input) {{
    __typename
    ... on MemberSuccess {{ member {{ {POINTS_FIELDS} }} }}
    ... on RewardReviewError {{ {ERRORS} }}
  }}
}}
"""
ACCEPT_REFERRAL = f"""
mutation ($input: AcceptReferralInput!) {{
  acceptReferral(input: $input) {{
    __typename
    ... on MemberSuccess {{ member {{ externalId }} }}
    ... on AcceptReferralError {{ {ERRORS} }}
  }}
}}
"""
INVITE_CODE = "query ($e: String!) { member(externalId: $e) { inviteCode } }"
ADJUST_POINTS = f"""
mutation ($input: AdjustPointsInput!) {{
  adjustPoints(input: $input) {{
    __typename
    ... on TransactionSuccess {{ transaction {{ {TX_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on AdjustPointsError {{ {ERRORS} }}
  }}
}}
"""
GRANT_POINTS = f"""
mutation ($input: GrantPointsInput!) {{
  grantPoints(input: $input) {{
    __typename
    ... on GrantPointsSuccess {{ members {{ externalId {POINTS_FIELDS} }} }}
    ... on GrantPointsError {{ {ERRORS} }}
  }}
}}
"""
ADVANCE_CLOCK = """
mutation ($days: Int! = 0, $seconds: Int! = 0, $key: String!) {
  advanceTestClock(input: {days: $days, seconds: $seconds, idempotencyKey: $key}) {
    __typename
    ... on AdvanceTestClockSuccess { programme { now } }
    ... on AdvanceTestClockError { errors { field code message } }
  }
}
"""
TRANSACTIONS = f"""
query ($e: String!, $first: Int!, $after: String, $kinds: [TransactionKind!]) {{
  member(externalId: $e) {{
    transactions(first: $first, after: $after, kinds: $kinds) {{
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {TX_FIELDS} }} }}
    }}
  }}
}}
"""
EXPIRING = """
query ($e: String!, $days: Int!) {
  member(externalId: $e) { points { available expiringWithin(days: $days) { amount expiresAt } } }
}
"""
NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename id
    ... on PointTransaction { amount }
    ... on Order { orderId }
    ... on PointHold { amount }
  }
}
"""
PROGRAMME_NOW = "{ programme { now } }"
NODE_HOLD = "query ($id: ID!) { node(id: $id) { ... on PointHold { status captured } } }"
UPSERT_BENEFIT = """
mutation ($kind: BenefitKind!, $code: String!, $value: Int!) {
  upsertBenefit(input: {tierCode: "BRONZE", code: $code, title: "Bonus", kind: $kind,
                        value: $value, idempotencyKey: $code}) {
    __typename
  }
}
"""
