"""The local cluster (scripts/cluster/cluster.py)."""
