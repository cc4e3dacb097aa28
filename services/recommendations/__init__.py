"""Recommendation use cases: the catalogue, segments, the build job and the member page."""
