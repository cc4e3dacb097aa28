"""Hot-path SQL the project writes itself (issue 16): one statement text per dialect, side by
side, run on tortoise's connection; rows are mapped once, not built by the ORM's queries."""
