"""GraphQL documents the campaign API tests send."""

ERRORS = "errors { field code message }"
CAMPAIGN_FIELDS = """
  id code name description status trigger stacking priority startsAt endsAt
  recurrence { weekdays monthDays dates }
  audience { tiers segments joinedWithinDays nthOrder birthdayMonth }
  conditions { minSpend categories skus excludedPaymentMethods channels }
  effects { multiplier bonusPerOrder bonusPerItem couponTemplate }
  limits { budget memberCap memberPeriodCap capPeriod maxRewardedOrders }
  budgetSpent budgetLeft createdAt activatedAt endedAt
"""
RESULTS_FIELDS = """
  pointsAwarded pointsPending pointsAvailable pointsReversed ordersRewarded membersRewarded
  budget budgetSpent budgetLeft spendOfRewardedOrders couponsIssued
"""


def _mutation(name: str, input_type: str) -> str:
    type_name = name[0].upper() + name[1:]
    return f"""
mutation ($input: {input_type}!) {{
  {name}(input: $input) {{
    __typename
    ... on CampaignSuccess {{ campaign {{ {CAMPAIGN_FIELDS} }} }}
    ... on {type_name}Error {{ {ERRORS} }}
  }}
}}
"""


CREATE = _mutation("createCampaign", "CreateCampaignInput")
UPDATE = _mutation("updateCampaign", "UpdateCampaignInput")
ACTIVATE = _mutation("activateCampaign", "CampaignCodeInput")
PAUSE = _mutation("pauseCampaign", "CampaignCodeInput")
END = _mutation("endCampaign", "CampaignCodeInput")

CAMPAIGNS = """
query ($first: Int, $after: String, $last: Int, $before: String, $status: CampaignStatus) {
  campaigns(first: $first, after: $after, last: $last, before: $before, status: $status) {
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor node { code status } }
  }
}
"""
CAMPAIGNS_WITH_RESULTS = f"""
query ($first: Int!) {{
  campaigns(first: $first) {{ edges {{ node {{ code results {{ {RESULTS_FIELDS} }} }} }} }}
}}
"""
CAMPAIGN_BY_CODE = f"""
query ($code: String!) {{
  campaign(code: $code) {{ {CAMPAIGN_FIELDS} results {{ {RESULTS_FIELDS} }} }}
}}
"""
CAMPAIGN_BY_ID = f"""
query ($id: ID!) {{ campaign(id: $id) {{ {CAMPAIGN_FIELDS} }} }}
"""
NODE = """
query ($id: ID!) { node(id: $id) { __typename ... on Campaign { code status } } }
"""
