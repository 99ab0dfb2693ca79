"""Infrastructure: the S3 object store client, the embedded S3 server, the SQL claim store.

The domain core (`pipeline/`, `extractors/`, `validators/`) never imports these; the flows,
the CLI and the web app do.
"""
