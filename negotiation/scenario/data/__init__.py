"""The shipped default scenario (package data)."""
