"""The rewards catalogue (issue 20): what a reward is and who may redeem it."""

from domain.rewards.model import LimitPeriod, Reward, RewardKind, RewardStatus

__all__ = ["LimitPeriod", "Reward", "RewardKind", "RewardStatus"]
