"""The claim service: one claim from its documents to a stored result.

Between the domain (pipeline/, extractors/, validators/) and the infrastructure (infra/):
it validates a bundle, hands a complete claim to the calculator and stores the result
through ports (`claims.ports`) that the SQL store implements. The Prefect flows, the CLI and
revalidation after a reviewer's correction all finish a claim here.
"""
