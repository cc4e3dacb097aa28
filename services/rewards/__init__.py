"""The rewards catalogue's use cases (issue 20). Modules are imported by name: `holds` is
imported by the points checkout, so this package imports nothing itself."""
