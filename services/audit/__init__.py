"""The audit trail (issue 18.1): every mutation by a staff credential leaves one row, written in
the transaction of the change, so the two commit or roll back together. `recording` runs an
audited mutation and writes its row (in an outer transaction, or inline in the change's own
statement), `snapshots` reads the configuration a mutation changes before and after it, and
`trail` reads the rows back (the GraphQL page, the JSON-lines export) and prunes them."""
