// Every GraphQL document the member page sends, in one place: copy this file as it is.
// Each is sent to POST /graphql with `Authorization: Bearer <member token>`; a member token
// speaks for one member, so no document names the member (`viewer` is the token's member).
// Every mutation carries an idempotencyKey: the same key sent again answers what the first
// request did, so a retried click never checks in or redeems twice.

// The whole page in one request. Figures are integers: points, and money in minor units.
// Page sizes are written out: the request's cost (at most 5,000) counts a `first` given as a
// variable as 100.
export const MEMBER_PAGE = `
query MemberPage($expiringDays: Int!) {
  programme { name currency timezone }
  viewer {
    externalId
    displayName
    tierValidUntil
    tier { code name rank thresholdUnit entryThreshold }
    benefits { code title kind description }
    tierProgress {
      amountToNext
      amountToRetain
      nextTier { code name entryThreshold }
      willDowngradeTo { code name }
    }
    points {
      available
      pending
      held
      spendable
      expiringWithin(days: $expiringDays) { amount expiresAt }
    }
    coupons(first: 30) {
      edges { node { code status expiresAt template { code title } } }
    }
    recommendations(first: 8) { sku title category price reason }
    nextBestActions {
      __typename
      ... on UseExpiringPointsAction { priority points expiresAt }
      ... on RedeemPointsAction { priority pointsPrice template { code title } }
      ... on RedeemRewardAction { priority rewardCode title pointsPrice cashPrice }
      ... on ClaimCouponAction { priority template { code title } }
      ... on CompleteChallengeAction { priority challengeCode name current target endsAt }
      ... on ReachNextTierAction { priority amountToNext tier { code name } }
    }
    challenges { code name description current target deadline completedAt reward }
    badges { code title awardedAt }
    transactions(first: 8) {
      edges { node { id kind amount reason createdAt } }
    }
  }
  rewards(first: 12) {
    edges { node { code title description pointsPrice cashPrice stockLeft } }
  }
  couponTemplates(first: 20) {
    edges { node { code title claimable } }
  }
}
`;

// Daily check-in: one a day in the programme's time zone (else ALREADY_CHECKED_IN).
export const CHECK_IN = `
mutation CheckIn($input: CheckInInput!) {
  checkIn(input: $input) {
    __typename
    ... on CheckInSuccess { points campaignPoints streak }
    ... on CheckInError { errors { code message field } }
  }
}
`;

// Claim a free coupon into the wallet, by its template's code.
export const CLAIM_COUPON = `
mutation ClaimCoupon($input: ClaimCouponInput!) {
  claimCoupon(input: $input) {
    __typename
    ... on CouponSuccess { coupon { code template { title } } }
    ... on ClaimCouponError { errors { code message field } }
  }
}
`;

// Redeem a points-only reward (cash + points rewards are redeemed by the shop at checkout).
export const REDEEM_REWARD = `
mutation RedeemReward($input: RedeemRewardInput!) {
  redeemReward(input: $input) {
    __typename
    ... on RewardRedemptionSuccess { redemption { rewardTitle points status couponCode } }
    ... on RedeemRewardError { errors { code message field } }
  }
}
`;
