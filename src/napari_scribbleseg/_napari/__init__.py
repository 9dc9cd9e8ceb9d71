"""Everything napari, Qt and magicgui: widgets, layer adapters, readers, writers, sample data.

The only subpackage that imports napari or Qt; it turns layers into arrays, calls the core, and turns the
results back into layers, notifications and progress bars.
"""
