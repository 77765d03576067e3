"""Reporting: registration figures, shortages and exports for municipalities and Opgroeien.

Consumes every fact on the log and stores one row per fact, keyed by its natural
id, so its state can be rebuilt by replaying the topics from the start.
"""
