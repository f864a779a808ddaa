"""Data going out of Uplift: spreadsheet-safe CSV, the export log, backups (and, later, the weekly report)."""
