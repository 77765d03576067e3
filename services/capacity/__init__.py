"""Capacity: locations, free places and closures from organisers' systems and Opgroeien.

It validates what organisers announce and publishes the accepted facts on
loket.capacity.v1; it holds no personal data.
"""
