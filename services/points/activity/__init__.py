"""Points for activity: daily check-in with a streak bonus (check_ins.py), reviews
(reviews.py), referrals (referrals.py), and how any of them is credited — abuse caps, ledger
row, campaigns and challenges (credits.py).
"""
