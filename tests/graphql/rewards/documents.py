"""GraphQL documents of the rewards catalogue tests."""

REWARD_FIELDS = """
  id code title description imageUrl category kind pointsPrice cashPrice currency
  couponTemplateCode partnerCode partnerUnits totalStock stockLeft redeemed
  perMemberLimit limitPeriod eligibleTiers validFrom validUntil status retiredAt
"""


def _mutation(field: str, input_type: str, error: str) -> str:
    return f"""
mutation ($input: {input_type}!) {{
  {field}(input: $input) {{
    __typename
    ... on RewardSuccess {{ reward {{ {REWARD_FIELDS} }} }}
    ... on {error} {{ errors {{ field code message }} }}
  }}
}}
"""


CREATE = _mutation("createReward", "CreateRewardInput", "CreateRewardError")
UPDATE = _mutation("updateReward", "UpdateRewardInput", "UpdateRewardError")
RETIRE = _mutation("retireReward", "RewardCodeInput", "RetireRewardError")
REWARD = f"query ($code: String!) {{ reward(code: $code) {{ {REWARD_FIELDS} }} }}"
REWARDS = """
query ($first: Int, $after: String, $last: Int, $before: String, $category: String,
       $affordable: Boolean! = false, $status: RewardStatus, $member: String) {
  rewards(first: $first, after: $after, last: $last, before: $before, category: $category,
          affordable: $affordable, status: $status, memberExternalId: $member) {
    edges { cursor node { code status pointsPrice stockLeft eligibleTiers } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
# The first 20 (a literal: a page size given as a variable is costed at 100 a page).
SHELF = REWARDS.replace("$first: Int, ", "").replace("first: $first", "first: 20")
FULL_SHELF = f"""
query ($member: String) {{
  rewards(first: 50, memberExternalId: $member) {{ edges {{ node {{ {REWARD_FIELDS} }} }} }}
}}
"""
NODE = "query ($id: ID!) { node(id: $id) { __typename ... on Reward { code } } }"
AUDIT = """
query ($op: String!) {
  auditLog(first: 10, operation: $op) { edges { node { operation outcome before after } } }
}
"""
