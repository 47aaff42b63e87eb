#!version:1.0.0.1
## provgate boot file: the model's common file, then this phone's file (later wins).
## No overwrite_mode: with it, a line whose password is omitted would lose its stored one.
## A model without its own common file name gets the model-independent one.
include:config "y000000000096.cfg"
include:config "001565aabbcc.cfg"
