"""cpts-diag: territorial health diagnostics of French CPTS from official open data."""
__version__ = "0.1.0"
