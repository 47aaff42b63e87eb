/* Fault injection for the audit durability tests, preloaded into the real provgate binary
 * (LD_PRELOAD): fsync and fdatasync of a file whose path ends in $PROVGATE_FAULT_PATH
 *   - block while the file named by $PROVGATE_FAULT_GATE exists (a stalled disk), then
 *   - fail with EIO while the file named by $PROVGATE_FAULT_FAIL exists (a failing disk).
 * Other files (the database) sync as usual. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int exists(const char* env) {
  const char* path = getenv(env);
  return path != NULL && access(path, F_OK) == 0;
}

static int targeted(int fd) {
  const char* suffix = getenv("PROVGATE_FAULT_PATH");
  if (suffix == NULL) return 0;
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  const size_t len = strlen(suffix);
  return (size_t)n >= len && strcmp(target + n - len, suffix) == 0;
}

static int faulted(int fd) {
  if (!targeted(fd)) return 0;
  const struct timespec tick = {0, 1000000};
  while (exists("PROVGATE_FAULT_GATE")) nanosleep(&tick, NULL);
  if (exists("PROVGATE_FAULT_FAIL")) {
    errno = EIO;
    return 1;
  }
  return 0;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return faulted(fd) ? -1 : real(fd);
}

int fsync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return faulted(fd) ? -1 : real(fd);
}
