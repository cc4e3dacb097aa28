"""Coupons through the API: templates, issuing, the wallet and checkout. Money in fen."""
