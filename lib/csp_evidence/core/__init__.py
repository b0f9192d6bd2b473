"""Ground floor: project paths, file writes and hashes, financial years and periods, per-process memo, run parameters."""
