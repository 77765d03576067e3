"""Plumbing every service uses the same way: settings, database, unit of work,
inbox (idempotent consumers), outbox and its relay, dead letters, health.

A library, not a service: it holds no domain and imports no service.
"""
