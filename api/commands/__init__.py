"""The `loyalty` command line's commands, one module per area; `api.cli` parses the arguments
and dispatches to them."""
