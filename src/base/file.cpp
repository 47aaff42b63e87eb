#include "base/file.hpp"

#include <fstream>
#include <sstream>

namespace provgate {

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound("cannot open " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Error::Unavailable("cannot read " + path.string());
  return bytes.str();
}

}  // namespace provgate
