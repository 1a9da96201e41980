"""Module, containers and one file per layer family."""
