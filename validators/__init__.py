"""Field, document, completeness and cross-document checks; rules as data."""
