# Every parser of outside input has a libFuzzer target here: provgate_fuzz_target(NAME LIBS...)
# builds fuzz/NAME_fuzz.cpp; its seed corpus lives in fuzz/corpus/NAME/ and CTest replays it
# (fuzz/replay) in every build, so a crash once found stays fixed.
provgate_fuzz_target(mac_address provgate_core)
provgate_fuzz_target(file_name provgate_pipeline)
provgate_fuzz_target(cert_identity provgate_tls)
provgate_fuzz_target(mac_rule provgate_tls)
provgate_fuzz_target(template_parse provgate_render)
provgate_fuzz_target(vendor_route provgate_vendors)
provgate_fuzz_target(config_parse provgate_lint)
