"""Data going out of Uplift: formula-safe CSV, the export log, backups and the weekly report."""
