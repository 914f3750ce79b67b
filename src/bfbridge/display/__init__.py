"""What people see: notebook reprs (HTML tables, thumbnails) and progress bars.

One job a module:

- ``facts``: what a repr shows of a file or series, gathered without ever raising;
- ``text``: the plain ``__repr__`` of ImageFile and Series;
- ``html``: the ``_repr_html_`` of ImageFile, Series and ``jvm_info()``;
- ``thumbnail``: a small bounded read of a series, coloured per channel;
- ``png``: a minimal PNG encoder for the thumbnails;
- ``progress``: progress in bytes, as a tqdm bar, a callback, or nothing.

The reader classes delegate to these modules, importing them only when a repr is asked
for, so nothing here loads with bfbridge.
"""
