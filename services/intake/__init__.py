"""Intake: childcare requests from parents, loket staff and municipal systems.

The only service that holds personal data; it publishes pseudonymous events.
"""
