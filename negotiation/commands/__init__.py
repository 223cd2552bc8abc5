"""Top stage, commands: argv in, exit code out. Thin: parses, calls the library, prints.

:mod:`negotiation.commands.main` is the entry point; each sub-command is a module here. May import
any stage except the dashboard, which ``negotiation dashboard`` starts in a separate process.
"""
