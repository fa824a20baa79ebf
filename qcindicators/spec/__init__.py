"""Definitions: the model, the expression grammar and the loader. No pandas here."""
