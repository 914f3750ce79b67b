"""Drop-in replacements for other Bio-Formats bindings.

``import bfbridge.compat.bioformats as bioformats`` gives code written for
python-bioformats (which needs the javabridge C extension) the same functions on
bfbridge's JPype-managed JVM.
"""
