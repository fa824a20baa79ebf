"""`python -m qcindicators.docgen [DOCS_DIR]`: regenerate the reference pages (default: ./docs)."""
import sys

from . import write_pages

for p in write_pages(sys.argv[1] if len(sys.argv) > 1 else "docs"):
    print(p)
