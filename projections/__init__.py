"""MongoDB read models built from the streams, rebuildable from the log at any time."""
