"""GraphQL documents the coupon API tests send."""

ERRORS = "errors { field code message }"
TEMPLATE_FIELDS = """
  id code title kind amountOff percentOff cap threshold giftSku validFrom validUntil validDays
  totalStock stockLeft issued perMemberLimit eligibleTierCodes eligibleCategories eligibleSkus
  stackable pointsPrice claimable autoIssue status retiredAt
"""
COUPON_FIELDS = """
  id code status source issuedAt startsAt expiresAt orderId lockedUntil discount usedAt
  template { id code }
"""

CREATE_TEMPLATE = f"""
mutation ($input: CreateCouponTemplateInput!) {{
  createCouponTemplate(input: $input) {{
    __typename
    ... on CouponTemplateSuccess {{ template {{ {TEMPLATE_FIELDS} }} }}
    ... on CreateCouponTemplateError {{ {ERRORS} }}
  }}
}}
"""
RETIRE_TEMPLATE = f"""
mutation ($input: RetireCouponTemplateInput!) {{
  retireCouponTemplate(input: $input) {{
    __typename
    ... on CouponTemplateSuccess {{ template {{ {TEMPLATE_FIELDS} }} }}
    ... on RetireCouponTemplateError {{ {ERRORS} }}
  }}
}}
"""
TEMPLATES = """
query ($first: Int!, $after: String) {
  couponTemplates(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id code status claimable pointsPrice } }
  }
}
"""
TEMPLATE_NODE = f"""
query ($id: ID!) {{ node(id: $id) {{ __typename ... on CouponTemplate {{ {TEMPLATE_FIELDS} }} }} }}
"""
CLAIM = f"""
mutation ($input: ClaimCouponInput!) {{
  claimCoupon(input: $input) {{
    __typename
    ... on CouponSuccess {{ coupon {{ {COUPON_FIELDS} }} }}
    ... on ClaimCouponError {{ {ERRORS} }}
  }}
}}
"""
EXCHANGE = f"""
mutation ($input: ClaimCouponInput!) {{
  exchangePointsForCoupon(input: $input) {{
    __typename
    ... on ExchangePointsForCouponSuccess {{
      coupon {{ {COUPON_FIELDS} }} member {{ externalId points {{ available }} }}
    }}
    ... on ExchangePointsForCouponError {{ {ERRORS} }}
  }}
}}
"""
GRANT = f"""
mutation ($input: GrantCouponsInput!) {{
  grantCoupons(input: $input) {{
    __typename
    ... on GrantCouponsSuccess {{ coupons {{ {COUPON_FIELDS} }} }}
    ... on GrantCouponsError {{ {ERRORS} }}
  }}
}}
"""
WALLET = f"""
query ($e: String!, $first: Int!, $after: String, $status: CouponStatus) {{
  member(externalId: $e) {{
    coupons(first: $first, after: $after, status: $status) {{
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {COUPON_FIELDS} }} }}
    }}
  }}
}}
"""
COUPON = f"query ($code: String!) {{ coupon(code: $code) {{ {COUPON_FIELDS} }} }}"
COUPON_NODE = f"""
query ($id: ID!) {{ node(id: $id) {{ __typename ... on Coupon {{ {COUPON_FIELDS} }} }} }}
"""
VALIDATE = f"""
query ($cart: CartInput!, $codes: [String!]!) {{
  validateCoupons(cart: $cart, codes: $codes) {{
    __typename
    ... on CouponValidation {{
      discount shippingDiscount
      results {{
        code applies discount shippingDiscount giftSku reasons coupon {{ code status }}
      }}
    }}
    ... on ValidateCouponsError {{ {ERRORS} }}
  }}
}}
"""
LOCK = f"""
mutation ($input: LockCouponInput!) {{
  lockCoupon(input: $input) {{
    __typename
    ... on CouponSuccess {{ coupon {{ {COUPON_FIELDS} }} }}
    ... on LockCouponError {{ {ERRORS} }}
  }}
}}
"""
REDEEM = f"""
mutation ($input: CouponOrderInput!) {{
  redeemCoupon(input: $input) {{
    __typename
    ... on CouponSuccess {{ coupon {{ {COUPON_FIELDS} }} }}
    ... on RedeemCouponError {{ {ERRORS} }}
  }}
}}
"""
RELEASE = f"""
mutation ($input: CouponOrderInput!) {{
  releaseCoupon(input: $input) {{
    __typename
    ... on CouponSuccess {{ coupon {{ {COUPON_FIELDS} }} }}
    ... on ReleaseCouponError {{ {ERRORS} }}
  }}
}}
"""
