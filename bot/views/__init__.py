"""Rendering: Persian text and keyboards for each screen. Pure functions, no I/O.

User text is always escaped for HTML here, so handlers and the outbox can send with
parse_mode HTML without thinking about it.
"""
