"""Coupon use cases: templates, issuing into wallets, and the checkout flow."""
