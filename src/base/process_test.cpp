#include "base/process.hpp"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace provgate {
namespace {

// In a child process, so the test binary itself stays dumpable (LeakSanitizer attaches to
// it at exit).
TEST(DisableCoreDumps, LeavesNoCoreFileAndNoDumpableProcess) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!DisableCoreDumps()) ::_exit(2);
    rlimit core{};
    ::getrlimit(RLIMIT_CORE, &core);
    const bool ok = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 && core.rlim_cur == 0 && core.rlim_max == 0;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace provgate
