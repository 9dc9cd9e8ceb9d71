"""Training and fine-tuning of the napari-scribbleseg model (repo level; imports the core, never ``_napari``).

Entry points: ``python -m training train --recipe R`` and ``python -m training finetune --from CKPT --data DIR``
(see :mod:`training.cli`), or :func:`training.trainer.train` from Python. A recipe (``training/recipes/*.yaml``)
names the data sources and their mixture, the scribble and previous-mask simulation, the losses and the
optimiser; every scribble comes from :mod:`napari_scribbleseg.simulate`, the one simulator the project has.
"""
