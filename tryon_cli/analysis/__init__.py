"""Per-frame analysis shared by every command: faces (mesh, tracks, identity) and body."""
