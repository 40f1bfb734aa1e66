"""The floor everything stands on: errors, atomic writes and locks, the environment and the
hardware fingerprint of the machine a job runs on.

May import the standard library only (and, lazily, probes of installed libraries'
versions).
"""
