"""Servers Impressox starts itself when no URL is configured: Redis, MongoDB, a local chain.

Each runs as a child process on a free loopback port with its data in the data
directory, dies with its parent, and reports a failed start with its own log tail.
"""
