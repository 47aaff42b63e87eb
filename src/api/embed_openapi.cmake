# Writes OUT, a C++ file defining Api::OpenApiDocument() as the bytes of IN.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "// Generated from api/openapi.json by src/api/embed_openapi.cmake; do not edit.\n"
  "#include \"api/api.hpp\"\n"
  "namespace provgate::api {\nnamespace {\nconst unsigned char kDocument[] = {${bytes}};\n}  // namespace\n"
  "std::string_view Api::OpenApiDocument() {\n"
  "  return {reinterpret_cast<const char*>(kDocument), sizeof(kDocument)};\n}\n}  // namespace provgate::api\n")
