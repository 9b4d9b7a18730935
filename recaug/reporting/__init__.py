"""Figures, the standalone HTML report, exports and the run store."""
