"""Thin subcommand modules: parse flags, call the core, print results."""
