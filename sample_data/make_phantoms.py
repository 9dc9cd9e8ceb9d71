"""Write the plugin's synthetic CT and MR sample volumes, with their labels, as NIfTI files.

The same volumes are what napari's File > Open Sample > ScribbleSeg shows (built in memory there); this
script puts them on disk for scripts, `evaluate` and other viewers:

    python sample_data/make_phantoms.py [OUT_DIR]      # default: sample_data/generated/

Writes ct_abdomen.nii.gz + ct_abdomen_labels.nii.gz and mr_brain.nii.gz + mr_brain_labels.nii.gz, spacing
kept (see napari_scribbleseg.phantoms for what they contain).
"""

from __future__ import annotations

import sys
from pathlib import Path

from napari_scribbleseg.io import write_labels
from napari_scribbleseg.phantoms import ct_abdomen, mr_brain


def main(out: Path) -> list[Path]:
    import SimpleITK as sitk

    from napari_scribbleseg.io import to_sitk

    written = []
    for name, build in (("ct_abdomen", ct_abdomen), ("mr_brain", mr_brain)):
        image, labels, spacing = build()
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{name}.nii.gz"
        sitk.WriteImage(to_sitk(image, spacing), str(path), useCompression=True)
        written += [path, write_labels(out / f"{name}_labels.nii.gz", labels, spacing=spacing)]
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "generated"
    for p in main(target):
        print(p)
