"""Page classification and per-document-type field extraction."""
