"""Recommendation quality on generated purchase data (domain/recommendations/synthetic.py):
each member's last order is held out, and we print hit rate@10 and NDCG@10 for our
recommender and for a global-popularity baseline. A script, not a test.

    make eval-recommendations            (5,000 members, seed 7)
    python scripts/eval_recommendations.py --members 20000 --seed 3
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from domain.recommendations.evaluation import evaluate
from domain.recommendations.synthetic import generate

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(members=args.members, seed=args.seed, now=NOW)
    generated = time.perf_counter() - started
    print(
        f"data: {len(data.members)} members, {len(data.products)} products, "
        f"{len(data.orders)} orders, {data.line_count} order lines (seed {args.seed}, "
        f"{generated:.1f} s)"
    )
    started = time.perf_counter()
    result = evaluate(data)
    print(f"held out: the last order of {result.ours.members} members with 2+ orders")
    print(f"{'':24}{'hit rate@10':>12}{'NDCG@10':>10}")
    for name, scores in (("ours", result.ours), ("popularity baseline", result.baseline)):
        print(f"{name:24}{scores.hit_rate:12.3f}{scores.ndcg:10.3f}")
    print(
        f"lift: hit rate x{result.lift:.2f}, NDCG x{result.ours.ndcg / result.baseline.ndcg:.2f} "
        f"(target: hit rate at least x1.5) — {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
