#include "base/process.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace provgate {

Status DisableCoreDumps() {
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) {
    return Error::Unavailable(std::string("cannot disable core files: ") + std::strerror(errno));
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Error::Unavailable(std::string("cannot make the process non-dumpable: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace provgate
