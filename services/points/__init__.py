"""Points ledger use cases. `ledger` holds the posting primitives every other module uses."""
