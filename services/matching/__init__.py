"""Matching: proposes free places to waiting requests under the priority rules.

Scales on its own: instances share a consumer group and each owns the
partitions (service areas) Kafka gives it.
"""
