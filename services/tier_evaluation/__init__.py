"""Tier qualification at work: the measure every decision reads (measure.py), upgrades the
moment a completed order crosses a threshold and re-evaluation on returns
(qualifying_activity.py), the move itself with its history row and event (changes.py), and the
decision at the end of each validity period, the job (periods.py).

Callers hold the member's row lock inside their transaction; the member -> tier cache is
bumped by the caller after commit.
"""
