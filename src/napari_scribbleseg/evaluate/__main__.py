"""``python -m napari_scribbleseg.evaluate``: see :mod:`napari_scribbleseg.evaluate.cli`."""

import sys

from napari_scribbleseg.evaluate.cli import main

if __name__ == "__main__":
    sys.exit(main())
