"""``python -m posegraph.app``: serve the web app (see :mod:`posegraph.app.server`)."""
from posegraph.app.server import main

if __name__ == "__main__":
    main()
