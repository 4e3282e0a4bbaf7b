"""One module per `factorengine` subcommand: its parser and what it runs."""
