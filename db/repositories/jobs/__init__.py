"""The SQL of run-jobs' batches (PostgreSQL): find a page of members with anything due, lock
and read them with what else is due for them, sum their qualifying activity over many windows
at once, and write the tier judgements back — a few statements per batch, however many
members are in it. The rules stay in domain/ and services/: this package reads and writes.
Modules are imported by name: `batch` (the page, the lock, the members written back, and the
helpers the others share), `ledger` (open lots and the ledger rows expiry and maturing orders
book), `orders` (orders past their return window) and `tiers` (qualifying sums and activity,
tier history)."""
