"""What every page shares: the store and cache boundary, the sidebar filters, presenter mode, charts."""
