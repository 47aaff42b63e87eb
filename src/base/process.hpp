// Process-wide hardening for a process that holds the master key.
#pragma once

#include "base/result.hpp"

namespace provgate {

// Makes the process non-dumpable (no core file, no ptrace by unprivileged users, no
// /proc/<pid>/mem for others) and sets the core-file size limit to 0, so a crash never
// writes the master key or clear secrets to disk. Unavailable when either call fails.
Status DisableCoreDumps();

}  // namespace provgate
