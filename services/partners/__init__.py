"""Partner platforms: their terms and keys (admin), linked accounts (links), transfers in
(credits), transfers out (two-phase), gifts between members, and the day's statement."""
