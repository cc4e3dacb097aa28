"""The programmeInsights document the tests read, every field of the contract asked for."""

from __future__ import annotations

INSIGHTS = """
query ($from: Date!, $to: Date!, $g: InsightsGranularity! = MONTH) {
  programmeInsights(from: $from, to: $to, granularity: $g) {
    from to granularity currency
    members { total new active participationRate bySegment { segment members } }
    points {
      earned earnedBySource { source points }
      spent spentByUse { use points }
      expired forfeited redemptionRate breakage
      liability { available pending cashValue }
    }
    tiers {
      distribution { code name members }
      migrations { fromCode toCode direction members }
    }
    behaviour {
      repeatPurchaseRate
      byTier { code name orders members averageOrderValue ordersPerMember }
      referrals { invited rewarded conversionRate }
    }
    coupons { code title issued redeemed redemptionRate }
    campaigns { code name status awards members points }
    rewards { code title redemptions quantity points }
    series { start earned spent expired activeMembers }
  }
}
"""
