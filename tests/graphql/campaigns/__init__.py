"""Campaigns through the API (issue 19)."""
