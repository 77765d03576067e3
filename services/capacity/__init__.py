"""Capacity speaks for organisers: locations and their licences, free places per
day-part, the organiser's answers to offers, enrolments, and confidential closures.

It validates what organisers announce (HTTP, or each organiser's own topic
loket.capacity.inbound.v1.<organiser_id>) and publishes the accepted facts on
loket.capacity.v1; it follows offers on loket.matches.v1 and the family's answers
on loket.requests.v1. It holds no personal data: offers and enrolments are pseudonymous.
"""
