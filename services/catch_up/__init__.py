"""run-jobs' catch-up: orders past their return window, checkout holds that ran out, points
expiring and tier periods ending, member by member in the order they fell due. Modules are
imported by name: `runner` (run: every member with anything due, in batches on PostgreSQL),
`steps` (one member's steps, in time order), `batch` (many members' steps at once) with
`batch_state` (what the batch carries), `batch_expiry`, `batch_maturity` and `batch_tiers`
(each job's steps on the batch's state)."""
