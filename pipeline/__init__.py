"""Domain core of Yidi Claims Intake: models, OCR engines, image preparation, PDF reading.

This package imports no Prefect and no web framework; heavy libraries are imported lazily.
"""
