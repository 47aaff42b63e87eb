#!version:1.0.0.1
## provgate common boot file: each model fetches its own common file.
[T54W]include:config "y000000000096.cfg"
[T57W]include:config "y000000000097.cfg"
[T46U]include:config "y000000000108.cfg"
[T46S]include:config "y000000000066.cfg"
[W70B]include:config "y000000000146.cfg"
