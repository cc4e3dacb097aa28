"""Segments and product recommendations (DESIGN.md §7), pure: RFM and lifecycle, the
item-to-item co-purchase model, ranking for one member, and how quality is measured."""
